// Original file: imprint/v1/types.proto

import type { ChangeKind as _imprint_v1_ChangeKind, ChangeKind__Output as _imprint_v1_ChangeKind__Output } from '../../imprint/v1/ChangeKind.js';
import type { Actor as _imprint_v1_Actor, Actor__Output as _imprint_v1_Actor__Output } from '../../imprint/v1/Actor.js';
import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from '../../imprint/v1/Scope.js';
import type { Long } from '@grpc/proto-loader';

export interface Change {
  'topic'?: (string);
  'kind'?: (_imprint_v1_ChangeKind);
  'atMs'?: (number | string | Long);
  'by'?: (_imprint_v1_Actor | null);
  'version'?: (number | string | Long);
  'scopes'?: (_imprint_v1_Scope)[];
  'reason'?: (string);
  'publishId'?: (string);
  'details'?: ({[key: string]: string});
}

export interface Change__Output {
  'topic': (string);
  'kind': (_imprint_v1_ChangeKind__Output);
  'atMs': (string);
  'by': (_imprint_v1_Actor__Output | null);
  'version': (string);
  'scopes': (_imprint_v1_Scope__Output)[];
  'reason': (string);
  'publishId': (string);
  'details': ({[key: string]: string});
}
