/** What the s3 project's files share: the two regions' endpoints, stores on fresh buckets, and cleaning them up. */
import { randomUUID } from 'node:crypto';
import { AbortMultipartUploadCommand, DeleteBucketCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3BlobStore, type S3BlobStoreOptions } from '../../client/blob-store/s3.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, type RunningBackend } from '../../scripts/backends/index.js';

/** The endpoints of the two S3 servers the s3 project's global set-up starts (two regions). */
export function s3Endpoints(): [string, string] {
  const [first, second] = (process.env['IMPRINT_S3'] ?? '').split(',').filter((e) => e !== '');
  if (first === undefined || second === undefined) throw new Error('IMPRINT_S3 must name two S3 endpoints: run with `npx vitest run --project s3`');
  return [first, second];
}

/** The two regions the s3 project's files publish to: us-east-1 on the first server, eu-west-1 on the second, each on a fresh bucket that exists. */
export async function twoRegions(): Promise<[S3BlobStore, S3BlobStore]> {
  const [first, second] = s3Endpoints();
  const regions: [S3BlobStore, S3BlobStore] = [storeOn(first, 'us-east-1'), storeOn(second, 'eu-west-1')];
  for (const s of regions) await s.ensureBucket();
  return regions;
}

export const uniqueBucket = (): string => `imprint-${randomUUID().slice(0, 13)}`;

/** A store on `endpoint` for `region`, on a fresh bucket unless one is named. */
export function storeOn(endpoint: string, region: string, bucket = uniqueBucket(), extra: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
  return new S3BlobStore({
    region,
    bucket,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    ...extra,
  });
}

export async function listKeys(store: S3BlobStore, prefix?: string): Promise<string[]> {
  const out = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, ...(prefix !== undefined && { Prefix: prefix }) }));
  return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
}

/** Empties and removes the store's bucket (objects and pending multipart uploads), then closes its client. */
export async function dropBucket(store: S3BlobStore): Promise<void> {
  const { client, bucket } = store;
  for (;;) {
    const keys = (await listKeys(store)).map((Key) => ({ Key }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  store.close();
}

/**
 * Runs `fn` with the server's process stopped (SIGSTOP): it keeps accepting connections (the
 * kernel does) but never answers, as a hung region does. Always continued (SIGCONT) after.
 */
export async function whileHung<T>(server: RunningBackend, fn: () => Promise<T>): Promise<T> {
  process.kill(server.pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(server.pid, 'SIGCONT');
  }
}
