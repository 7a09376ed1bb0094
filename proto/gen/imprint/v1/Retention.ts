// Original file: imprint/v1/types.proto


export interface Retention {
  'keepVersions'?: (number);
  'keepDays'?: (number);
  '_keepVersions'?: "keepVersions";
  '_keepDays'?: "keepDays";
}

export interface Retention__Output {
  'keepVersions'?: (number);
  'keepDays'?: (number);
  '_keepVersions'?: "keepVersions";
  '_keepDays'?: "keepDays";
}
