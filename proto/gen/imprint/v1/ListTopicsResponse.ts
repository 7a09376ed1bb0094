// Original file: imprint/v1/consumer.proto

import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from '../../imprint/v1/Topic.js';

export interface ListTopicsResponse {
  'topics'?: (_imprint_v1_Topic)[];
}

export interface ListTopicsResponse__Output {
  'topics': (_imprint_v1_Topic__Output)[];
}
