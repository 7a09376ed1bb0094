// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface ConsumerNode {
  'app'?: (string);
  'cluster'?: (string);
  'region'?: (string);
  'nodeId'?: (string);
  'version'?: (number | string | Long);
  'sinceMs'?: (number | string | Long);
  'lastSeenMs'?: (number | string | Long);
  'live'?: (boolean);
  'pinned'?: (boolean);
  'replica'?: (string);
}

export interface ConsumerNode__Output {
  'app': (string);
  'cluster': (string);
  'region': (string);
  'nodeId': (string);
  'version': (string);
  'sinceMs': (string);
  'lastSeenMs': (string);
  'live': (boolean);
  'pinned': (boolean);
  'replica': (string);
}
