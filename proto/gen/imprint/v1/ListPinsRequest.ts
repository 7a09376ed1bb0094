// Original file: imprint/v1/operator.proto


export interface ListPinsRequest {
  'topic'?: (string);
}

export interface ListPinsRequest__Output {
  'topic': (string);
}
