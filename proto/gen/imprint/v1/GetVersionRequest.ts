// Original file: imprint/v1/consumer.proto

import type { Long } from '@grpc/proto-loader';

export interface GetVersionRequest {
  'topic'?: (string);
  'version'?: (number | string | Long);
}

export interface GetVersionRequest__Output {
  'topic': (string);
  'version': (string);
}
