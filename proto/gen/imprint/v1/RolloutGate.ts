// Original file: imprint/v1/types.proto

export const RolloutGate = {
  ROLLOUT_GATE_UNSPECIFIED: 'ROLLOUT_GATE_UNSPECIFIED',
  ROLLOUT_GATE_CONSUMERS: 'ROLLOUT_GATE_CONSUMERS',
  ROLLOUT_GATE_WEBHOOK: 'ROLLOUT_GATE_WEBHOOK',
} as const;

export type RolloutGate =
  | 'ROLLOUT_GATE_UNSPECIFIED'
  | 0
  | 'ROLLOUT_GATE_CONSUMERS'
  | 1
  | 'ROLLOUT_GATE_WEBHOOK'
  | 2

export type RolloutGate__Output = typeof RolloutGate[keyof typeof RolloutGate]
