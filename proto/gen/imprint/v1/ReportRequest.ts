// Original file: imprint/v1/consumer.proto

import type { ConsumerIdentity as _imprint_v1_ConsumerIdentity, ConsumerIdentity__Output as _imprint_v1_ConsumerIdentity__Output } from '../../imprint/v1/ConsumerIdentity.js';
import type { TopicCursor as _imprint_v1_TopicCursor, TopicCursor__Output as _imprint_v1_TopicCursor__Output } from '../../imprint/v1/TopicCursor.js';

export interface ReportRequest {
  'identity'?: (_imprint_v1_ConsumerIdentity | null);
  'topics'?: (_imprint_v1_TopicCursor)[];
}

export interface ReportRequest__Output {
  'identity': (_imprint_v1_ConsumerIdentity__Output | null);
  'topics': (_imprint_v1_TopicCursor__Output)[];
}
