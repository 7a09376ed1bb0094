// Original file: imprint/v1/publisher.proto

import type { Long } from '@grpc/proto-loader';

export interface UploadPart {
  'partNumber'?: (number);
  'offset'?: (number | string | Long);
  'size'?: (number | string | Long);
  'url'?: (string);
  'headers'?: ({[key: string]: string});
}

export interface UploadPart__Output {
  'partNumber': (number);
  'offset': (string);
  'size': (string);
  'url': (string);
  'headers': ({[key: string]: string});
}
