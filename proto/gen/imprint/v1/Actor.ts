// Original file: imprint/v1/types.proto


export interface Actor {
  'principal'?: (string);
  'authenticated'?: (boolean);
  'peer'?: (string);
}

export interface Actor__Output {
  'principal': (string);
  'authenticated': (boolean);
  'peer': (string);
}
