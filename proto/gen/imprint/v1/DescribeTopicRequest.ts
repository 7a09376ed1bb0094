// Original file: imprint/v1/operator.proto


export interface DescribeTopicRequest {
  'name'?: (string);
}

export interface DescribeTopicRequest__Output {
  'name': (string);
}
