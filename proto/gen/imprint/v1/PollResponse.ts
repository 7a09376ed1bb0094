// Original file: imprint/v1/consumer.proto

import type { Update as _imprint_v1_Update, Update__Output as _imprint_v1_Update__Output } from '../../imprint/v1/Update.js';

export interface PollResponse {
  'update'?: (_imprint_v1_Update | null);
}

export interface PollResponse__Output {
  'update': (_imprint_v1_Update__Output | null);
}
