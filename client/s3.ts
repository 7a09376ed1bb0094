/**
 * client/s3: the S3 blob store, apart from the main entry so that importing the client never
 * loads the AWS SDK (an optional peer dependency of @imprint/client, needed only here).
 */
export { S3BlobStore, type S3BlobStoreOptions } from './blob-store/s3.js';
