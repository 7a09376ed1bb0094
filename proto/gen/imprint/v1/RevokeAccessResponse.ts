// Original file: imprint/v1/operator.proto

import type { TopicGrant as _imprint_v1_TopicGrant, TopicGrant__Output as _imprint_v1_TopicGrant__Output } from '../../imprint/v1/TopicGrant.js';

export interface RevokeAccessResponse {
  'changed'?: (boolean);
  'grants'?: (_imprint_v1_TopicGrant)[];
}

export interface RevokeAccessResponse__Output {
  'changed': (boolean);
  'grants': (_imprint_v1_TopicGrant__Output)[];
}
