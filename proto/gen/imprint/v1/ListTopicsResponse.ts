// Original file: imprint/v1/consumer.proto

import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from '../../imprint/v1/Topic.js';
import type { PublishStatus as _imprint_v1_PublishStatus, PublishStatus__Output as _imprint_v1_PublishStatus__Output } from '../../imprint/v1/PublishStatus.js';

export interface ListTopicsResponse {
  'topics'?: (_imprint_v1_Topic)[];
  'publishStatus'?: (_imprint_v1_PublishStatus)[];
}

export interface ListTopicsResponse__Output {
  'topics': (_imprint_v1_Topic__Output)[];
  'publishStatus': (_imprint_v1_PublishStatus__Output)[];
}
