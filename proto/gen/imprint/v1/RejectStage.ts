// Original file: imprint/v1/types.proto

export const RejectStage = {
  REJECT_STAGE_UNSPECIFIED: 'REJECT_STAGE_UNSPECIFIED',
  REJECT_STAGE_FETCH: 'REJECT_STAGE_FETCH',
  REJECT_STAGE_VERIFY: 'REJECT_STAGE_VERIFY',
  REJECT_STAGE_DECODE: 'REJECT_STAGE_DECODE',
  REJECT_STAGE_VALIDATE: 'REJECT_STAGE_VALIDATE',
} as const;

export type RejectStage =
  | 'REJECT_STAGE_UNSPECIFIED'
  | 0
  | 'REJECT_STAGE_FETCH'
  | 1
  | 'REJECT_STAGE_VERIFY'
  | 2
  | 'REJECT_STAGE_DECODE'
  | 3
  | 'REJECT_STAGE_VALIDATE'
  | 4

export type RejectStage__Output = typeof RejectStage[keyof typeof RejectStage]
