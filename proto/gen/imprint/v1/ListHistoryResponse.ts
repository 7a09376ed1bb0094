// Original file: imprint/v1/operator.proto

import type { Change as _imprint_v1_Change, Change__Output as _imprint_v1_Change__Output } from '../../imprint/v1/Change.js';

export interface ListHistoryResponse {
  'changes'?: (_imprint_v1_Change)[];
  'nextPageToken'?: (string);
}

export interface ListHistoryResponse__Output {
  'changes': (_imprint_v1_Change__Output)[];
  'nextPageToken': (string);
}
