// Original file: imprint/v1/types.proto


export interface Scope {
  'match'?: ({[key: string]: string});
}

export interface Scope__Output {
  'match': ({[key: string]: string});
}
