// Original file: imprint/v1/consumer.proto

import type { ConsumerIdentity as _imprint_v1_ConsumerIdentity, ConsumerIdentity__Output as _imprint_v1_ConsumerIdentity__Output } from '../../imprint/v1/ConsumerIdentity.js';
import type { Rejection as _imprint_v1_Rejection, Rejection__Output as _imprint_v1_Rejection__Output } from '../../imprint/v1/Rejection.js';
import type { Long } from '@grpc/proto-loader';

export interface PollRequest {
  'topic'?: (string);
  'identity'?: (_imprint_v1_ConsumerIdentity | null);
  'lastSeenVersion'?: (number | string | Long);
  'rejected'?: (_imprint_v1_Rejection | null);
}

export interface PollRequest__Output {
  'topic': (string);
  'identity': (_imprint_v1_ConsumerIdentity__Output | null);
  'lastSeenVersion': (string);
  'rejected': (_imprint_v1_Rejection__Output | null);
}
