// Original file: imprint/v1/types.proto

import type { RejectStage as _imprint_v1_RejectStage, RejectStage__Output as _imprint_v1_RejectStage__Output } from '../../imprint/v1/RejectStage.js';
import type { Long } from '@grpc/proto-loader';

export interface Rejection {
  'version'?: (number | string | Long);
  'stage'?: (_imprint_v1_RejectStage);
  'reason'?: (string);
}

export interface Rejection__Output {
  'version': (string);
  'stage': (_imprint_v1_RejectStage__Output);
  'reason': (string);
}
