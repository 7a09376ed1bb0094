// Original file: imprint/v1/consumer.proto

import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from '../../imprint/v1/VersionRecord.js';

export interface GetVersionResponse {
  'record'?: (_imprint_v1_VersionRecord | null);
}

export interface GetVersionResponse__Output {
  'record': (_imprint_v1_VersionRecord__Output | null);
}
