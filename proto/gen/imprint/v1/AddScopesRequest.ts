// Original file: imprint/v1/publisher.proto

import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { Long } from '@grpc/proto-loader';

export interface AddScopesRequest {
  'topic'?: (string);
  'version'?: (number | string | Long);
  'scopes'?: (_imprint_v1_Scope)[];
}

export interface AddScopesRequest__Output {
  'topic': (string);
  'version': (string);
  'scopes': (_imprint_v1_Scope__Output)[];
}
