// Original file: imprint/v1/publisher.proto


export interface CompletedPart {
  'partNumber'?: (number);
  'etag'?: (string);
}

export interface CompletedPart__Output {
  'partNumber': (number);
  'etag': (string);
}
