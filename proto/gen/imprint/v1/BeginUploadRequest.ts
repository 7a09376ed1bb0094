// Original file: imprint/v1/publisher.proto

import type { Long } from '@grpc/proto-loader';

export interface BeginUploadRequest {
  'topic'?: (string);
  'size'?: (number | string | Long);
  'sha256'?: (string);
  'partSize'?: (number | string | Long);
}

export interface BeginUploadRequest__Output {
  'topic': (string);
  'size': (string);
  'sha256': (string);
  'partSize': (string);
}
