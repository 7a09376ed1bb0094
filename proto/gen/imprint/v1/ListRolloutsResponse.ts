// Original file: imprint/v1/operator.proto

import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from '../../imprint/v1/Rollout.js';

export interface ListRolloutsResponse {
  'rollouts'?: (_imprint_v1_Rollout)[];
  'nextPageToken'?: (string);
}

export interface ListRolloutsResponse__Output {
  'rollouts': (_imprint_v1_Rollout__Output)[];
  'nextPageToken': (string);
}
