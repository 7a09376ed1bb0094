// Original file: imprint/v1/consumer.proto


export interface ListVersionsRequest {
  'topic'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListVersionsRequest__Output {
  'topic': (string);
  'pageSize': (number);
  'pageToken': (string);
}
