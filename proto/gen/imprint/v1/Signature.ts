// Original file: imprint/v1/types.proto


export interface Signature {
  'keyId'?: (string);
  'signature'?: (Buffer | Uint8Array | string);
}

export interface Signature__Output {
  'keyId': (string);
  'signature': (Buffer);
}
