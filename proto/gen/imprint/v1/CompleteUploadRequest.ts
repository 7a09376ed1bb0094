// Original file: imprint/v1/publisher.proto

import type { CompletedUpload as _imprint_v1_CompletedUpload, CompletedUpload__Output as _imprint_v1_CompletedUpload__Output } from '../../imprint/v1/CompletedUpload.js';

export interface CompleteUploadRequest {
  'topic'?: (string);
  'uploadId'?: (string);
  'regions'?: (_imprint_v1_CompletedUpload)[];
}

export interface CompleteUploadRequest__Output {
  'topic': (string);
  'uploadId': (string);
  'regions': (_imprint_v1_CompletedUpload__Output)[];
}
