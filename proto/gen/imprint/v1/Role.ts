// Original file: imprint/v1/operator.proto

export const Role = {
  ROLE_UNSPECIFIED: 'ROLE_UNSPECIFIED',
  ROLE_OWNER: 'ROLE_OWNER',
  ROLE_PUBLISHER: 'ROLE_PUBLISHER',
  ROLE_OPERATOR: 'ROLE_OPERATOR',
  ROLE_CONSUMER: 'ROLE_CONSUMER',
} as const;

export type Role =
  | 'ROLE_UNSPECIFIED'
  | 0
  | 'ROLE_OWNER'
  | 1
  | 'ROLE_PUBLISHER'
  | 2
  | 'ROLE_OPERATOR'
  | 3
  | 'ROLE_CONSUMER'
  | 4

export type Role__Output = typeof Role[keyof typeof Role]
