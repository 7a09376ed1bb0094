// Original file: imprint/v1/operator.proto


export interface GetCallerAccessRequest {
  'topic'?: (string);
}

export interface GetCallerAccessRequest__Output {
  'topic': (string);
}
