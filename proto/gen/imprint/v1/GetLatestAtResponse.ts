// Original file: imprint/v1/consumer.proto

import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from '../../imprint/v1/VersionRecord.js';
import type { Pin as _imprint_v1_Pin, Pin__Output as _imprint_v1_Pin__Output } from '../../imprint/v1/Pin.js';

export interface GetLatestAtResponse {
  'record'?: (_imprint_v1_VersionRecord | null);
  'pinned'?: (boolean);
  'pin'?: (_imprint_v1_Pin | null);
}

export interface GetLatestAtResponse__Output {
  'record': (_imprint_v1_VersionRecord__Output | null);
  'pinned': (boolean);
  'pin': (_imprint_v1_Pin__Output | null);
}
