// Original file: imprint/v1/consumer.proto

import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from '../../imprint/v1/VersionRecord.js';

export interface Update {
  'record'?: (_imprint_v1_VersionRecord | null);
  'pinned'?: (boolean);
  'directOmitted'?: (boolean);
  'rolledBack'?: (boolean);
}

export interface Update__Output {
  'record': (_imprint_v1_VersionRecord__Output | null);
  'pinned': (boolean);
  'directOmitted': (boolean);
  'rolledBack': (boolean);
}
