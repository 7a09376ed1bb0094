// Original file: imprint/v1/publisher.proto

import type { Retention as _imprint_v1_Retention, Retention__Output as _imprint_v1_Retention__Output } from '../../imprint/v1/Retention.js';
import type { TrustedKeys as _imprint_v1_TrustedKeys, TrustedKeys__Output as _imprint_v1_TrustedKeys__Output } from '../../imprint/v1/TrustedKeys.js';
import type { RolloutPolicy as _imprint_v1_RolloutPolicy, RolloutPolicy__Output as _imprint_v1_RolloutPolicy__Output } from '../../imprint/v1/RolloutPolicy.js';
import type { Long } from '@grpc/proto-loader';

export interface UpdateTopicRequest {
  'name'?: (string);
  'owner'?: (string);
  'description'?: (string);
  'retention'?: (_imprint_v1_Retention | null);
  'expectEveryMs'?: (number | string | Long);
  'maxStalenessMs'?: (number | string | Long);
  'trustedKeys'?: (_imprint_v1_TrustedKeys | null);
  'rolloutPolicy'?: (_imprint_v1_RolloutPolicy | null);
  '_owner'?: "owner";
  '_description'?: "description";
  '_expectEveryMs'?: "expectEveryMs";
  '_maxStalenessMs'?: "maxStalenessMs";
}

export interface UpdateTopicRequest__Output {
  'name': (string);
  'owner'?: (string);
  'description'?: (string);
  'retention': (_imprint_v1_Retention__Output | null);
  'expectEveryMs'?: (string);
  'maxStalenessMs'?: (string);
  'trustedKeys': (_imprint_v1_TrustedKeys__Output | null);
  'rolloutPolicy': (_imprint_v1_RolloutPolicy__Output | null);
  '_owner'?: "owner";
  '_description'?: "description";
  '_expectEveryMs'?: "expectEveryMs";
  '_maxStalenessMs'?: "maxStalenessMs";
}
