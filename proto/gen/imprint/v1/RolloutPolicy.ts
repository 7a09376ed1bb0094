// Original file: imprint/v1/types.proto

import type { RolloutStep as _imprint_v1_RolloutStep, RolloutStep__Output as _imprint_v1_RolloutStep__Output } from '../../imprint/v1/RolloutStep.js';
import type { Long } from '@grpc/proto-loader';

export interface RolloutPolicy {
  'steps'?: (_imprint_v1_RolloutStep)[];
  'minHoldingPercent'?: (number);
  'maxRejections'?: (number);
  'webhookUrl'?: (string);
  'webhookTimeoutMs'?: (number | string | Long);
  '_minHoldingPercent'?: "minHoldingPercent";
  '_maxRejections'?: "maxRejections";
}

export interface RolloutPolicy__Output {
  'steps': (_imprint_v1_RolloutStep__Output)[];
  'minHoldingPercent'?: (number);
  'maxRejections'?: (number);
  'webhookUrl': (string);
  'webhookTimeoutMs': (string);
  '_minHoldingPercent'?: "minHoldingPercent";
  '_maxRejections'?: "maxRejections";
}
