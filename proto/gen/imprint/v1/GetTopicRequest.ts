// Original file: imprint/v1/consumer.proto


export interface GetTopicRequest {
  'name'?: (string);
}

export interface GetTopicRequest__Output {
  'name': (string);
}
