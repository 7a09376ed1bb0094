// Original file: imprint/v1/consumer.proto

import type { Update as _imprint_v1_Update, Update__Output as _imprint_v1_Update__Output } from '../../imprint/v1/Update.js';
import type { Long } from '@grpc/proto-loader';

export interface TopicPollResult {
  'topic'?: (string);
  'update'?: (_imprint_v1_Update | null);
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'maxStalenessMs'?: (number | string | Long);
}

export interface TopicPollResult__Output {
  'topic': (string);
  'update': (_imprint_v1_Update__Output | null);
  'errorCode': (string);
  'errorMessage': (string);
  'maxStalenessMs': (string);
}
