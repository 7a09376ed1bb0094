// Original file: imprint/v1/operator.proto


export interface CancelRolloutRequest {
  'topic'?: (string);
  'reason'?: (string);
}

export interface CancelRolloutRequest__Output {
  'topic': (string);
  'reason': (string);
}
