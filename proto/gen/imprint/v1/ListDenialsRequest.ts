// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface ListDenialsRequest {
  'topic'?: (string);
  'sinceMs'?: (number | string | Long);
  'untilMs'?: (number | string | Long);
  'pageSize'?: (number);
}

export interface ListDenialsRequest__Output {
  'topic': (string);
  'sinceMs': (string);
  'untilMs': (string);
  'pageSize': (number);
}
