// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface VersionHeld {
  'version'?: (number | string | Long);
  'nodeCount'?: (number);
  'lastSeenMs'?: (number | string | Long);
}

export interface VersionHeld__Output {
  'version': (string);
  'nodeCount': (number);
  'lastSeenMs': (string);
}
