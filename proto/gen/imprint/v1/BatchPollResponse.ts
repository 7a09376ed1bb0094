// Original file: imprint/v1/consumer.proto

import type { TopicPollResult as _imprint_v1_TopicPollResult, TopicPollResult__Output as _imprint_v1_TopicPollResult__Output } from '../../imprint/v1/TopicPollResult.js';

export interface BatchPollResponse {
  'results'?: (_imprint_v1_TopicPollResult)[];
}

export interface BatchPollResponse__Output {
  'results': (_imprint_v1_TopicPollResult__Output)[];
}
