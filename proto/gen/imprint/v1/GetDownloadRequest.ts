// Original file: imprint/v1/consumer.proto

import type { Long } from '@grpc/proto-loader';

export interface GetDownloadRequest {
  'topic'?: (string);
  'version'?: (number | string | Long);
  'region'?: (string);
}

export interface GetDownloadRequest__Output {
  'topic': (string);
  'version': (string);
  'region': (string);
}
