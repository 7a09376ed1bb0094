// Original file: imprint/v1/types.proto

import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { RolloutGate as _imprint_v1_RolloutGate, RolloutGate__Output as _imprint_v1_RolloutGate__Output } from '../../imprint/v1/RolloutGate.js';
import type { Long } from '@grpc/proto-loader';

export interface RolloutStep {
  'scopes'?: (_imprint_v1_Scope)[];
  'percent'?: (number);
  'bakeMs'?: (number | string | Long);
  'gates'?: (_imprint_v1_RolloutGate)[];
}

export interface RolloutStep__Output {
  'scopes': (_imprint_v1_Scope__Output)[];
  'percent': (number);
  'bakeMs': (string);
  'gates': (_imprint_v1_RolloutGate__Output)[];
}
