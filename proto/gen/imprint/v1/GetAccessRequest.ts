// Original file: imprint/v1/operator.proto


export interface GetAccessRequest {
  'topic'?: (string);
}

export interface GetAccessRequest__Output {
  'topic': (string);
}
