// Original file: imprint/v1/publisher.proto

import type { UploadPart as _imprint_v1_UploadPart, UploadPart__Output as _imprint_v1_UploadPart__Output } from '../../imprint/v1/UploadPart.js';

export interface UploadTarget {
  'region'?: (string);
  'multipart'?: (boolean);
  'parts'?: (_imprint_v1_UploadPart)[];
}

export interface UploadTarget__Output {
  'region': (string);
  'multipart': (boolean);
  'parts': (_imprint_v1_UploadPart__Output)[];
}
