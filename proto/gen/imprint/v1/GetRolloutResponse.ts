// Original file: imprint/v1/operator.proto

import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from '../../imprint/v1/Rollout.js';
import type { RolloutProgress as _imprint_v1_RolloutProgress, RolloutProgress__Output as _imprint_v1_RolloutProgress__Output } from '../../imprint/v1/RolloutProgress.js';

export interface GetRolloutResponse {
  'rollout'?: (_imprint_v1_Rollout | null);
  'progress'?: (_imprint_v1_RolloutProgress | null);
}

export interface GetRolloutResponse__Output {
  'rollout': (_imprint_v1_Rollout__Output | null);
  'progress': (_imprint_v1_RolloutProgress__Output | null);
}
