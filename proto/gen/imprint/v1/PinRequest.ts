// Original file: imprint/v1/operator.proto

import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { Long } from '@grpc/proto-loader';

export interface PinRequest {
  'topic'?: (string);
  'scope'?: (_imprint_v1_Scope | null);
  'version'?: (number | string | Long);
  'reason'?: (string);
  'createdBy'?: (string);
}

export interface PinRequest__Output {
  'topic': (string);
  'scope': (_imprint_v1_Scope__Output | null);
  'version': (string);
  'reason': (string);
  'createdBy': (string);
}
