// Original file: imprint/v1/operator.proto

import type { Long } from '@grpc/proto-loader';

export interface ListMovesRequest {
  'topic'?: (string);
  'sinceMs'?: (number | string | Long);
  'untilMs'?: (number | string | Long);
  'nodeId'?: (string);
  'pageSize'?: (number);
}

export interface ListMovesRequest__Output {
  'topic': (string);
  'sinceMs': (string);
  'untilMs': (string);
  'nodeId': (string);
  'pageSize': (number);
}
