// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface ConsumerMove {
  'atMs'?: (number | string | Long);
  'app'?: (string);
  'cluster'?: (string);
  'region'?: (string);
  'nodeId'?: (string);
  'fromVersion'?: (number | string | Long);
  'toVersion'?: (number | string | Long);
  'pinned'?: (boolean);
  'replica'?: (string);
  'principal'?: (string);
}

export interface ConsumerMove__Output {
  'atMs': (string);
  'app': (string);
  'cluster': (string);
  'region': (string);
  'nodeId': (string);
  'fromVersion': (string);
  'toVersion': (string);
  'pinned': (boolean);
  'replica': (string);
  'principal': (string);
}
