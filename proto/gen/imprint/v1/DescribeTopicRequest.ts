// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface DescribeTopicRequest {
  'name'?: (string);
  'consumersSinceMs'?: (number | string | Long);
  'consumersNodeLimit'?: (number);
  'consumersVersion'?: (number | string | Long);
}

export interface DescribeTopicRequest__Output {
  'name': (string);
  'consumersSinceMs': (string);
  'consumersNodeLimit': (number);
  'consumersVersion': (string);
}
