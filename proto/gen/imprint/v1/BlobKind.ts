// Original file: imprint/v1/types.proto

export const BlobKind = {
  BLOB_KIND_UNSPECIFIED: 'BLOB_KIND_UNSPECIFIED',
  BLOB_KIND_FILE: 'BLOB_KIND_FILE',
  BLOB_KIND_S3: 'BLOB_KIND_S3',
} as const;

export type BlobKind =
  | 'BLOB_KIND_UNSPECIFIED'
  | 0
  | 'BLOB_KIND_FILE'
  | 1
  | 'BLOB_KIND_S3'
  | 2

export type BlobKind__Output = typeof BlobKind[keyof typeof BlobKind]
