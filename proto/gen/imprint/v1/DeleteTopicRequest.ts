// Original file: imprint/v1/publisher.proto


export interface DeleteTopicRequest {
  'name'?: (string);
  'reason'?: (string);
}

export interface DeleteTopicRequest__Output {
  'name': (string);
  'reason': (string);
}
