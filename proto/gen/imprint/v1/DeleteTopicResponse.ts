// Original file: imprint/v1/publisher.proto

import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from '../../imprint/v1/Topic.js';

export interface DeleteTopicResponse {
  'topic'?: (_imprint_v1_Topic | null);
}

export interface DeleteTopicResponse__Output {
  'topic': (_imprint_v1_Topic__Output | null);
}
