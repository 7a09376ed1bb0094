// Original file: imprint/v1/operator.proto


export interface PauseRolloutRequest {
  'topic'?: (string);
  'reason'?: (string);
}

export interface PauseRolloutRequest__Output {
  'topic': (string);
  'reason': (string);
}
