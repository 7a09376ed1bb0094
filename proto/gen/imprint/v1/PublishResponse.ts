// Original file: imprint/v1/publisher.proto

import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from '../../imprint/v1/VersionRecord.js';
import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from '../../imprint/v1/Rollout.js';

export interface PublishResponse {
  'record'?: (_imprint_v1_VersionRecord | null);
  'replayed'?: (boolean);
  'rollout'?: (_imprint_v1_Rollout | null);
}

export interface PublishResponse__Output {
  'record': (_imprint_v1_VersionRecord__Output | null);
  'replayed': (boolean);
  'rollout': (_imprint_v1_Rollout__Output | null);
}
