// Original file: imprint/v1/operator.proto

import type { Denial as _imprint_v1_Denial, Denial__Output as _imprint_v1_Denial__Output } from '../../imprint/v1/Denial.js';

export interface ListDenialsResponse {
  'denials'?: (_imprint_v1_Denial)[];
  'truncated'?: (boolean);
}

export interface ListDenialsResponse__Output {
  'denials': (_imprint_v1_Denial__Output)[];
  'truncated': (boolean);
}
