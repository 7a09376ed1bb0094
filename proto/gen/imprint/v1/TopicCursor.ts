// Original file: imprint/v1/consumer.proto

import type { Rejection as _imprint_v1_Rejection, Rejection__Output as _imprint_v1_Rejection__Output } from '../../imprint/v1/Rejection.js';
import type { Long } from '@grpc/proto-loader';

export interface TopicCursor {
  'topic'?: (string);
  'lastSeenVersion'?: (number | string | Long);
  'rejected'?: (_imprint_v1_Rejection | null);
}

export interface TopicCursor__Output {
  'topic': (string);
  'lastSeenVersion': (string);
  'rejected': (_imprint_v1_Rejection__Output | null);
}
