// Original file: imprint/v1/operator.proto

import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from '../../imprint/v1/Rollout.js';

export interface ResumeRolloutResponse {
  'rollout'?: (_imprint_v1_Rollout | null);
}

export interface ResumeRolloutResponse__Output {
  'rollout': (_imprint_v1_Rollout__Output | null);
}
