// Original file: imprint/v1/consumer.proto

import type { ConsumerIdentity as _imprint_v1_ConsumerIdentity, ConsumerIdentity__Output as _imprint_v1_ConsumerIdentity__Output } from '../../imprint/v1/ConsumerIdentity.js';
import type { Long } from '@grpc/proto-loader';

export interface GetLatestAtRequest {
  'topic'?: (string);
  'identity'?: (_imprint_v1_ConsumerIdentity | null);
  'atMs'?: (number | string | Long);
  'applyPins'?: (boolean);
}

export interface GetLatestAtRequest__Output {
  'topic': (string);
  'identity': (_imprint_v1_ConsumerIdentity__Output | null);
  'atMs': (string);
  'applyPins': (boolean);
}
