// Original file: imprint/v1/operator.proto

import type { Pin as _imprint_v1_Pin, Pin__Output as _imprint_v1_Pin__Output } from '../../imprint/v1/Pin.js';

export interface PinResponse {
  'pin'?: (_imprint_v1_Pin | null);
}

export interface PinResponse__Output {
  'pin': (_imprint_v1_Pin__Output | null);
}
