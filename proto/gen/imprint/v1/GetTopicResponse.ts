// Original file: imprint/v1/consumer.proto

import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from '../../imprint/v1/Topic.js';

export interface GetTopicResponse {
  'topic'?: (_imprint_v1_Topic | null);
}

export interface GetTopicResponse__Output {
  'topic': (_imprint_v1_Topic__Output | null);
}
