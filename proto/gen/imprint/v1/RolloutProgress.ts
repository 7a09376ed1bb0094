// Original file: imprint/v1/types.proto


export interface RolloutProgress {
  'reached'?: (number);
  'holding'?: (number);
  'rejections'?: (number);
}

export interface RolloutProgress__Output {
  'reached': (number);
  'holding': (number);
  'rejections': (number);
}
