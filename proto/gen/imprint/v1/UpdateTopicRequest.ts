// Original file: imprint/v1/publisher.proto

import type { Retention as _imprint_v1_Retention, Retention__Output as _imprint_v1_Retention__Output } from '../../imprint/v1/Retention.js';

export interface UpdateTopicRequest {
  'name'?: (string);
  'owner'?: (string);
  'description'?: (string);
  'retention'?: (_imprint_v1_Retention | null);
  '_owner'?: "owner";
  '_description'?: "description";
}

export interface UpdateTopicRequest__Output {
  'name': (string);
  'owner'?: (string);
  'description'?: (string);
  'retention': (_imprint_v1_Retention__Output | null);
  '_owner'?: "owner";
  '_description'?: "description";
}
