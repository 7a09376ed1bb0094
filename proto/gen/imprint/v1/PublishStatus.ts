// Original file: imprint/v1/types.proto

import type { Long } from '@grpc/proto-loader';

export interface PublishStatus {
  'topic'?: (string);
  'lastPublishMs'?: (number | string | Long);
  'overdueSinceMs'?: (number | string | Long);
}

export interface PublishStatus__Output {
  'topic': (string);
  'lastPublishMs': (string);
  'overdueSinceMs': (string);
}
