// Original file: imprint/v1/operator.proto


export interface PromoteRolloutRequest {
  'topic'?: (string);
  'full'?: (boolean);
}

export interface PromoteRolloutRequest__Output {
  'topic': (string);
  'full': (boolean);
}
