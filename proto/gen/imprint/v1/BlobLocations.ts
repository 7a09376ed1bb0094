// Original file: imprint/v1/types.proto

import type { BlobLocation as _imprint_v1_BlobLocation, BlobLocation__Output as _imprint_v1_BlobLocation__Output } from '../../imprint/v1/BlobLocation.js';

export interface BlobLocations {
  'locations'?: (_imprint_v1_BlobLocation)[];
}

export interface BlobLocations__Output {
  'locations': (_imprint_v1_BlobLocation__Output)[];
}
