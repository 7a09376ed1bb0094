// Original file: imprint/v1/types.proto

import type { Retention as _imprint_v1_Retention, Retention__Output as _imprint_v1_Retention__Output } from '../../imprint/v1/Retention.js';
import type { RolloutPolicy as _imprint_v1_RolloutPolicy, RolloutPolicy__Output as _imprint_v1_RolloutPolicy__Output } from '../../imprint/v1/RolloutPolicy.js';
import type { Long } from '@grpc/proto-loader';

export interface Topic {
  'name'?: (string);
  'owner'?: (string);
  'description'?: (string);
  'retention'?: (_imprint_v1_Retention | null);
  'createdAtMs'?: (number | string | Long);
  'latestVersion'?: (number | string | Long);
  'expectEveryMs'?: (number | string | Long);
  'maxStalenessMs'?: (number | string | Long);
  'deletedAtMs'?: (number | string | Long);
  'trustedKeys'?: (Buffer | Uint8Array | string)[];
  'rolloutPolicy'?: (_imprint_v1_RolloutPolicy | null);
}

export interface Topic__Output {
  'name': (string);
  'owner': (string);
  'description': (string);
  'retention': (_imprint_v1_Retention__Output | null);
  'createdAtMs': (string);
  'latestVersion': (string);
  'expectEveryMs': (string);
  'maxStalenessMs': (string);
  'deletedAtMs': (string);
  'trustedKeys': (Buffer)[];
  'rolloutPolicy': (_imprint_v1_RolloutPolicy__Output | null);
}
