// Original file: imprint/v1/publisher.proto


export interface TrustedKeys {
  'keys'?: (Buffer | Uint8Array | string)[];
}

export interface TrustedKeys__Output {
  'keys': (Buffer)[];
}
