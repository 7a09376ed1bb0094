// Original file: imprint/v1/operator.proto


export interface ResumeRolloutRequest {
  'topic'?: (string);
}

export interface ResumeRolloutRequest__Output {
  'topic': (string);
}
