// Original file: imprint/v1/operator.proto

import type { ConsumerMove as _imprint_v1_ConsumerMove, ConsumerMove__Output as _imprint_v1_ConsumerMove__Output } from '../../imprint/v1/ConsumerMove.js';

export interface ListMovesResponse {
  'moves'?: (_imprint_v1_ConsumerMove)[];
  'truncated'?: (boolean);
}

export interface ListMovesResponse__Output {
  'moves': (_imprint_v1_ConsumerMove__Output)[];
  'truncated': (boolean);
}
