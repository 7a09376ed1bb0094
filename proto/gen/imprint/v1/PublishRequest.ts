// Original file: imprint/v1/publisher.proto

import type { DataPointer as _imprint_v1_DataPointer, DataPointer__Output as _imprint_v1_DataPointer__Output } from '../../imprint/v1/DataPointer.js';
import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { Signature as _imprint_v1_Signature, Signature__Output as _imprint_v1_Signature__Output } from '../../imprint/v1/Signature.js';

export interface PublishRequest {
  'topic'?: (string);
  'metadata'?: ({[key: string]: string});
  'pointer'?: (_imprint_v1_DataPointer | null);
  'scopes'?: (_imprint_v1_Scope)[];
  'publishId'?: (string);
  'signature'?: (_imprint_v1_Signature | null);
  'noRollout'?: (boolean);
}

export interface PublishRequest__Output {
  'topic': (string);
  'metadata': ({[key: string]: string});
  'pointer': (_imprint_v1_DataPointer__Output | null);
  'scopes': (_imprint_v1_Scope__Output)[];
  'publishId': (string);
  'signature': (_imprint_v1_Signature__Output | null);
  'noRollout': (boolean);
}
