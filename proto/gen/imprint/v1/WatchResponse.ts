// Original file: imprint/v1/consumer.proto

import type { TopicPollResult as _imprint_v1_TopicPollResult, TopicPollResult__Output as _imprint_v1_TopicPollResult__Output } from '../../imprint/v1/TopicPollResult.js';
import type { WatchHeartbeat as _imprint_v1_WatchHeartbeat, WatchHeartbeat__Output as _imprint_v1_WatchHeartbeat__Output } from '../../imprint/v1/WatchHeartbeat.js';

export interface WatchResponse {
  'result'?: (_imprint_v1_TopicPollResult | null);
  'heartbeat'?: (_imprint_v1_WatchHeartbeat | null);
  'kind'?: "result"|"heartbeat";
}

export interface WatchResponse__Output {
  'result'?: (_imprint_v1_TopicPollResult__Output | null);
  'heartbeat'?: (_imprint_v1_WatchHeartbeat__Output | null);
  'kind'?: "result"|"heartbeat";
}
