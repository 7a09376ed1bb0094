// Original file: imprint/v1/consumer.proto


export interface ListTopicsRequest {
  'includeDeleted'?: (boolean);
}

export interface ListTopicsRequest__Output {
  'includeDeleted': (boolean);
}
