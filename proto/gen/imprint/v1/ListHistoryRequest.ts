// Original file: imprint/v1/operator.proto


export interface ListHistoryRequest {
  'topic'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListHistoryRequest__Output {
  'topic': (string);
  'pageSize': (number);
  'pageToken': (string);
}
