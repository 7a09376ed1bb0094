// Original file: imprint/v1/types.proto

import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { Long } from '@grpc/proto-loader';

export interface ScopeHead {
  'scope'?: (_imprint_v1_Scope | null);
  'version'?: (number | string | Long);
}

export interface ScopeHead__Output {
  'scope': (_imprint_v1_Scope__Output | null);
  'version': (string);
}
