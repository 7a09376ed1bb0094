// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface Denial {
  'atMs'?: (number | string | Long);
  'principal'?: (string);
  'action'?: (string);
  'method'?: (string);
  'app'?: (string);
  'count'?: (number | string | Long);
  'replica'?: (string);
}

export interface Denial__Output {
  'atMs': (string);
  'principal': (string);
  'action': (string);
  'method': (string);
  'app': (string);
  'count': (string);
  'replica': (string);
}
