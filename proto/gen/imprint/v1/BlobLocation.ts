// Original file: imprint/v1/types.proto

import type { BlobKind as _imprint_v1_BlobKind, BlobKind__Output as _imprint_v1_BlobKind__Output } from '../../imprint/v1/BlobKind.js';

export interface BlobLocation {
  'kind'?: (_imprint_v1_BlobKind);
  'region'?: (string);
  'bucket'?: (string);
  'key'?: (string);
}

export interface BlobLocation__Output {
  'kind': (_imprint_v1_BlobKind__Output);
  'region': (string);
  'bucket': (string);
  'key': (string);
}
