// Original file: imprint/v1/publisher.proto

import type { DataPointer as _imprint_v1_DataPointer, DataPointer__Output as _imprint_v1_DataPointer__Output } from '../../imprint/v1/DataPointer.js';
import type { UploadTarget as _imprint_v1_UploadTarget, UploadTarget__Output as _imprint_v1_UploadTarget__Output } from '../../imprint/v1/UploadTarget.js';
import type { Long } from '@grpc/proto-loader';

export interface BeginUploadResponse {
  'uploadId'?: (string);
  'pointer'?: (_imprint_v1_DataPointer | null);
  'targets'?: (_imprint_v1_UploadTarget)[];
  'expiresAtMs'?: (number | string | Long);
}

export interface BeginUploadResponse__Output {
  'uploadId': (string);
  'pointer': (_imprint_v1_DataPointer__Output | null);
  'targets': (_imprint_v1_UploadTarget__Output)[];
  'expiresAtMs': (string);
}
