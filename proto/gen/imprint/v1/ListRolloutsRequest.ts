// Original file: imprint/v1/operator.proto


export interface ListRolloutsRequest {
  'topic'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListRolloutsRequest__Output {
  'topic': (string);
  'pageSize': (number);
  'pageToken': (string);
}
