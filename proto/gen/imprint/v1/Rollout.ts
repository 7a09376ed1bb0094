// Original file: imprint/v1/types.proto

import type { RolloutPolicy as _imprint_v1_RolloutPolicy, RolloutPolicy__Output as _imprint_v1_RolloutPolicy__Output } from '../../imprint/v1/RolloutPolicy.js';
import type { RolloutState as _imprint_v1_RolloutState, RolloutState__Output as _imprint_v1_RolloutState__Output } from '../../imprint/v1/RolloutState.js';
import type { Long } from '@grpc/proto-loader';

export interface Rollout {
  'topic'?: (string);
  'version'?: (number | string | Long);
  'policy'?: (_imprint_v1_RolloutPolicy | null);
  'state'?: (_imprint_v1_RolloutState);
  'step'?: (number);
  'stepStartedAtMs'?: (number | string | Long);
  'bakeLeftMs'?: (number | string | Long);
  'startedAtMs'?: (number | string | Long);
  'updatedAtMs'?: (number | string | Long);
  'endedAtMs'?: (number | string | Long);
  'reason'?: (string);
  'rejected'?: (boolean);
  'webhookPassedStep'?: (number);
}

export interface Rollout__Output {
  'topic': (string);
  'version': (string);
  'policy': (_imprint_v1_RolloutPolicy__Output | null);
  'state': (_imprint_v1_RolloutState__Output);
  'step': (number);
  'stepStartedAtMs': (string);
  'bakeLeftMs': (string);
  'startedAtMs': (string);
  'updatedAtMs': (string);
  'endedAtMs': (string);
  'reason': (string);
  'rejected': (boolean);
  'webhookPassedStep': (number);
}
