// Original file: imprint/v1/operator.proto

import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';

export interface UnpinRequest {
  'topic'?: (string);
  'scope'?: (_imprint_v1_Scope | null);
}

export interface UnpinRequest__Output {
  'topic': (string);
  'scope': (_imprint_v1_Scope__Output | null);
}
