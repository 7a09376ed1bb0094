// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface GetRolloutRequest {
  'topic'?: (string);
  'version'?: (number | string | Long);
}

export interface GetRolloutRequest__Output {
  'topic': (string);
  'version': (string);
}
