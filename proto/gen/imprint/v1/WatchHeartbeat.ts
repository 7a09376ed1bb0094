// Original file: imprint/v1/consumer.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchHeartbeat {
  'sentAtMs'?: (number | string | Long);
}

export interface WatchHeartbeat__Output {
  'sentAtMs': (string);
}
