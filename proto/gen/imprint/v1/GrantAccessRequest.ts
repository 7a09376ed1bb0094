// Original file: imprint/v1/operator.proto

import type { TopicGrant as _imprint_v1_TopicGrant, TopicGrant__Output as _imprint_v1_TopicGrant__Output } from '../../imprint/v1/TopicGrant.js';

export interface GrantAccessRequest {
  'topic'?: (string);
  'grant'?: (_imprint_v1_TopicGrant | null);
}

export interface GrantAccessRequest__Output {
  'topic': (string);
  'grant': (_imprint_v1_TopicGrant__Output | null);
}
