// Original file: imprint/v1/consumer.proto

import type { DownloadUrl as _imprint_v1_DownloadUrl, DownloadUrl__Output as _imprint_v1_DownloadUrl__Output } from '../../imprint/v1/DownloadUrl.js';
import type { Long } from '@grpc/proto-loader';

export interface GetDownloadResponse {
  'size'?: (number | string | Long);
  'sha256'?: (string);
  'urls'?: (_imprint_v1_DownloadUrl)[];
  'expiresAtMs'?: (number | string | Long);
}

export interface GetDownloadResponse__Output {
  'size': (string);
  'sha256': (string);
  'urls': (_imprint_v1_DownloadUrl__Output)[];
  'expiresAtMs': (string);
}
