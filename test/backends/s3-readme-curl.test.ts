/**
 * The README's curl walkthrough against a service whose payloads live in S3 (MinIO, two
 * servers standing for two regions): the same block, unchanged, puts the model in both
 * regions through presigned URLs and fetches it back, printing what the README says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import { readmeCurl, runReadmeCurl } from '../readme-curl.js';
import { startTestServer, type TestServer } from '../helpers.js';
import { dropBucket, twoRegions } from './s3-util.js';

describe("README's walkthrough with curl, on S3 in two regions", () => {
  let t: TestServer;
  let east: S3BlobStore;
  let west: S3BlobStore;
  beforeAll(async () => {
    [east, west] = await twoRegions();
    t = await startTestServer({ blobStores: [east, west], httpPort: 0 });
  });
  afterAll(async () => {
    await t?.stop();
    await dropBucket(east);
    await dropBucket(west);
  });

  it('runs as written and prints what the README says; both regions hold the model, and the scorer (eu-west-1) read its own region', async () => {
    const run = await runReadmeCurl(`http://127.0.0.1:${t.server.http?.port}`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(readmeCurl().prints);
    const model = fs.readFileSync(path.join(run.dir, 'model.bin'));
    const v1 = await t.client.getVersion('fraud-model', 1n);
    if (v1.pointer.kind !== 'blob') throw new Error('v1 must be a blob');
    expect(v1.pointer.locations.map((l) => l.region)).toEqual(['us-east-1', 'eu-west-1']);
    const copies = await Promise.all(v1.pointer.locations.map(async (loc, i) => Buffer.concat((await (await [east, west][i]!.get(loc)).toArray()) as Buffer[])));
    expect(copies.map((c) => c.equals(model))).toEqual([true, true]);
    const download = JSON.parse(fs.readFileSync(path.join(run.dir, 'download.json'), 'utf8')) as { urls: { region: string }[] };
    expect(download.urls.map((u) => u.region)).toEqual(['eu-west-1', 'us-east-1']);
  });
});
