// Original file: imprint/v1/publisher.proto

import type { CompletedPart as _imprint_v1_CompletedPart, CompletedPart__Output as _imprint_v1_CompletedPart__Output } from '../../imprint/v1/CompletedPart.js';

export interface CompletedUpload {
  'region'?: (string);
  'parts'?: (_imprint_v1_CompletedPart)[];
}

export interface CompletedUpload__Output {
  'region': (string);
  'parts': (_imprint_v1_CompletedPart__Output)[];
}
