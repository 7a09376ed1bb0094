// Original file: imprint/v1/consumer.proto


export interface DownloadUrl {
  'region'?: (string);
  'url'?: (string);
}

export interface DownloadUrl__Output {
  'region': (string);
  'url': (string);
}
