// Original file: imprint/v1/types.proto

import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { Long } from '@grpc/proto-loader';

export interface Pin {
  'topic'?: (string);
  'scope'?: (_imprint_v1_Scope | null);
  'version'?: (number | string | Long);
  'createdAtMs'?: (number | string | Long);
  'reason'?: (string);
  'createdBy'?: (string);
}

export interface Pin__Output {
  'topic': (string);
  'scope': (_imprint_v1_Scope__Output | null);
  'version': (string);
  'createdAtMs': (string);
  'reason': (string);
  'createdBy': (string);
}
