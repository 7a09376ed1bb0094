// Original file: imprint/v1/publisher.proto

import type { DataPointer as _imprint_v1_DataPointer, DataPointer__Output as _imprint_v1_DataPointer__Output } from '../../imprint/v1/DataPointer.js';

export interface CompleteUploadResponse {
  'pointer'?: (_imprint_v1_DataPointer | null);
}

export interface CompleteUploadResponse__Output {
  'pointer': (_imprint_v1_DataPointer__Output | null);
}
