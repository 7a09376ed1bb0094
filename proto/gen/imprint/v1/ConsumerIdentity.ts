// Original file: imprint/v1/types.proto


export interface ConsumerIdentity {
  'app'?: (string);
  'cluster'?: (string);
  'region'?: (string);
  'nodeId'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface ConsumerIdentity__Output {
  'app': (string);
  'cluster': (string);
  'region': (string);
  'nodeId': (string);
  'labels': ({[key: string]: string});
}
