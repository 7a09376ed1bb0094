// Original file: imprint/v1/types.proto

import type { BlobLocations as _imprint_v1_BlobLocations, BlobLocations__Output as _imprint_v1_BlobLocations__Output } from '../../imprint/v1/BlobLocations.js';
import type { Long } from '@grpc/proto-loader';

export interface DataPointer {
  'size'?: (number | string | Long);
  'sha256'?: (string);
  'direct'?: (Buffer | Uint8Array | string);
  'blob'?: (_imprint_v1_BlobLocations | null);
  'payload'?: "direct"|"blob";
}

export interface DataPointer__Output {
  'size': (string);
  'sha256': (string);
  'direct'?: (Buffer);
  'blob'?: (_imprint_v1_BlobLocations__Output | null);
  'payload'?: "direct"|"blob";
}
