// Original file: imprint/v1/consumer.proto

import type { Long } from '@grpc/proto-loader';

export interface TopicCursor {
  'topic'?: (string);
  'lastSeenVersion'?: (number | string | Long);
}

export interface TopicCursor__Output {
  'topic': (string);
  'lastSeenVersion': (string);
}
