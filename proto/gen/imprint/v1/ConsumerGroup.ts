// Original file: imprint/v1/operator.proto

import type { VersionHeld as _imprint_v1_VersionHeld, VersionHeld__Output as _imprint_v1_VersionHeld__Output } from '../../imprint/v1/VersionHeld.js';
import type { Long } from '@grpc/proto-loader';

export interface ConsumerGroup {
  'app'?: (string);
  'cluster'?: (string);
  'nodeCount'?: (number);
  'versions'?: (_imprint_v1_VersionHeld)[];
  'lastSeenMs'?: (number | string | Long);
  'region'?: (string);
}

export interface ConsumerGroup__Output {
  'app': (string);
  'cluster': (string);
  'nodeCount': (number);
  'versions': (_imprint_v1_VersionHeld__Output)[];
  'lastSeenMs': (string);
  'region': (string);
}
