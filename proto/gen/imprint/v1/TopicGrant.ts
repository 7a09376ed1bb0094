// Original file: imprint/v1/operator.proto

import type { Role as _imprint_v1_Role, Role__Output as _imprint_v1_Role__Output } from '../../imprint/v1/Role.js';

export interface TopicGrant {
  'role'?: (_imprint_v1_Role);
  'grantee'?: (string);
}

export interface TopicGrant__Output {
  'role': (_imprint_v1_Role__Output);
  'grantee': (string);
}
