// Original file: imprint/v1/consumer.proto

import type { Update as _imprint_v1_Update, Update__Output as _imprint_v1_Update__Output } from '../../imprint/v1/Update.js';
import type { Long } from '@grpc/proto-loader';

export interface PollResponse {
  'update'?: (_imprint_v1_Update | null);
  'maxStalenessMs'?: (number | string | Long);
}

export interface PollResponse__Output {
  'update': (_imprint_v1_Update__Output | null);
  'maxStalenessMs': (string);
}
