// Original file: imprint/v1/operator.proto

import type { AccessAction as _imprint_v1_AccessAction, AccessAction__Output as _imprint_v1_AccessAction__Output } from '../../imprint/v1/AccessAction.js';

export interface GetCallerAccessResponse {
  'principal'?: (string);
  'admin'?: (boolean);
  'actions'?: (_imprint_v1_AccessAction)[];
}

export interface GetCallerAccessResponse__Output {
  'principal': (string);
  'admin': (boolean);
  'actions': (_imprint_v1_AccessAction__Output)[];
}
