// Original file: imprint/v1/consumer.proto

import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from '../../imprint/v1/VersionRecord.js';

export interface ListVersionsResponse {
  'versions'?: (_imprint_v1_VersionRecord)[];
  'nextPageToken'?: (string);
}

export interface ListVersionsResponse__Output {
  'versions': (_imprint_v1_VersionRecord__Output)[];
  'nextPageToken': (string);
}
