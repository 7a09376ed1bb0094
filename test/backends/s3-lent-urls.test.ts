/**
 * Lent payload URLs against real MinIO, two servers standing for two regions: presigned PUTs
 * with the sha256 signed in (MinIO refuses other bytes), multipart uploads finished by
 * CompleteUpload (which reads the assembled object and deletes it when it does not match),
 * presigned GETs (the caller's region first, ranges), expiry, and the TypeScript client with
 * no S3 credentials of its own. Every region gets the bytes.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import { ImprintClient, Publisher, Subscriber } from '../../client/index.js';
import { sha256Hex } from '../../core/index.js';
import { curlRoundTrip } from '../curl-lent.js';
import { eventually, failure, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { dropBucket, twoRegions, listKeys, s3Endpoints, storeOn } from './s3-util.js';

const MiB = 1024 * 1024;
const small = randomBytes(3 * MiB);
const large = randomBytes(12 * MiB);

describe('lent payload URLs on S3 (MinIO, two regions)', () => {
  let t: TestServer;
  let east: S3BlobStore;
  let west: S3BlobStore;

  beforeAll(async () => {
    [east, west] = await twoRegions();
    t = await startTestServer({ blobStores: [east, west], lend: { partSize: 5 * MiB } });
    await t.client.createTopic({ name: 'model' });
  });
  afterAll(async () => {
    await t.stop();
    await dropBucket(east);
    await dropBucket(west);
  });

  /** Both regions' copies of `key`, read with the stores' own credentials. */
  const copies = async (key: string): Promise<Buffer[]> =>
    Promise.all(
      [east, west].map(async (s) => {
        const chunks: Buffer[] = [];
        for await (const c of await s.get(s.locationOf(key))) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      }),
    );

  it('a payload up to one part: one presigned PUT per region with its sha256 signed in; presigned GETs, the caller region first, with ranges', async () => {
    const lent = await t.client.beginUpload('model', small.length, sha256Hex(small));
    expect(lent.targets.map((x) => [x.region, x.multipart, x.parts.length])).toEqual([
      ['us-east-1', false, 1],
      ['eu-west-1', false, 1],
    ]);
    for (const target of lent.targets) {
      const part = target.parts[0];
      expect(part?.headers['x-amz-checksum-sha256']).toBe(Buffer.from(sha256Hex(small), 'hex').toString('base64'));
      const res = await fetch(part?.url ?? '', { method: 'PUT', body: small, headers: part?.headers ?? {} });
      expect(res.status).toBe(200);
    }
    const key = lent.pointer.locations[0]?.key ?? '';
    expect((await copies(key)).map((c) => c.equals(small))).toEqual([true, true]);
    const v = await t.client.publishPointer('model', lent.pointer);
    const down = await t.client.getDownload('model', v.version, 'eu-west-1');
    expect(down.urls.map((u) => u.region)).toEqual(['eu-west-1', 'us-east-1']);
    for (const u of down.urls) expect(Buffer.from(await (await fetch(u.url)).arrayBuffer()).equals(small)).toBe(true);
    const ranged = await fetch(down.urls[0]?.url ?? '', { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(small.subarray(100, 200))).toBe(true);
  });

  it('MinIO refuses a presigned PUT of other bytes (the signed sha256) and one without the signed header (400 AccessDenied); the pointer is then refused, no version', async () => {
    const lent = await t.client.beginUpload('model', small.length, sha256Hex(small));
    const part = lent.targets[0]?.parts[0];
    const other = Buffer.from(small);
    other[7] = (other[7] ?? 0) ^ 1;
    const wrong = await fetch(part?.url ?? '', { method: 'PUT', body: other, headers: part?.headers ?? {} });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/checksum|digest/i);
    const unsigned = await fetch(part?.url ?? '', { method: 'PUT', body: other });
    // MinIO: 400 AccessDenied, "There were headers present in the request which were not signed".
    expect([unsigned.status, await unsigned.text()]).toEqual([400, expect.stringMatching(/AccessDenied/)]);
    const key = lent.pointer.locations[0]?.key ?? '';
    expect(await listKeys(east, key)).toEqual([]);
    const before = (await t.client.listVersions('model')).versions.length;
    expect((await failure(t.client.publishPointer('model', lent.pointer))).code).toBe('INVALID_ARGUMENT');
    expect((await t.client.listVersions('model')).versions.length).toBe(before);
  });

  /** PUTs every part of every target (`body(offset, size)` gives each part's bytes); the ETags per region. */
  const putParts = async (lent: Awaited<ReturnType<ImprintClient['beginUpload']>>, body: (offset: number, size: number) => Buffer) =>
    Promise.all(
      lent.targets.map(async (target) => ({
        region: target.region,
        parts: await Promise.all(
          target.parts.map(async (p) => {
            const res = await fetch(p.url, { method: 'PUT', body: body(p.offset, p.size), headers: p.headers });
            expect(res.status).toBe(200);
            return { partNumber: p.partNumber, etag: res.headers.get('etag') ?? '' };
          }),
        ),
      })),
    );

  it('12 MiB in parts of 5 MiB: a multipart upload per region, finished by CompleteUpload, published and read back', async () => {
    const lent = await t.client.beginUpload('model', large.length, sha256Hex(large), 5 * MiB);
    expect(lent.targets.map((x) => [x.region, x.multipart, x.parts.map((p) => p.size)])).toEqual([
      ['us-east-1', true, [5 * MiB, 5 * MiB, 2 * MiB]],
      ['eu-west-1', true, [5 * MiB, 5 * MiB, 2 * MiB]],
    ]);
    const regions = await putParts(lent, (offset, size) => large.subarray(offset, offset + size));
    const pointer = await t.client.completeUpload('model', lent.uploadId, regions);
    expect(pointer).toEqual(lent.pointer);
    expect((await copies(lent.pointer.locations[0]?.key ?? '')).map((c) => c.equals(large))).toEqual([true, true]);
    const v = await t.client.publishPointer('model', pointer);
    const down = await t.client.getDownload('model', v.version);
    expect(Buffer.from(await (await fetch(down.urls[0]?.url ?? '')).arrayBuffer()).equals(large)).toBe(true);
  });

  it('a multipart upload of other bytes: CompleteUpload reads it, deletes it and answers INVALID_ARGUMENT; the pointer is then refused', async () => {
    const lent = await t.client.beginUpload('model', large.length, sha256Hex(large), 5 * MiB);
    const other = Buffer.from(large);
    other[6 * MiB] = (other[6 * MiB] ?? 0) ^ 1;
    const regions = await putParts(lent, (offset, size) => other.subarray(offset, offset + size));
    const err = await failure(t.client.completeUpload('model', lent.uploadId, regions));
    expect([err.code, err.message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/^regions must assemble the declared 12582912 bytes .*deleted/)]);
    const key = lent.pointer.locations[0]?.key ?? '';
    expect([await listKeys(east, key), await listKeys(west, key)]).toEqual([[], []]);
    expect((await failure(t.client.publishPointer('model', lent.pointer))).code).toBe('INVALID_ARGUMENT');
  });

  it('grpcurl and curl alone publish 20 MiB to both regions and fetch it back (the "any language" proof)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'payload.bin');
    const payload = randomBytes(20 * MiB);
    fs.writeFileSync(file, payload);
    await t.client.createTopic({ name: 'curl' });
    // Under the part size, so one PUT per region.
    const s = await startTestServer({ blobStores: [east, west], metadataStore: t.server.store });
    try {
      const got = await curlRoundTrip(s.address, 'curl', file, dir);
      expect(got.regions).toEqual(['us-east-1', 'eu-west-1']);
      expect(fs.readFileSync(got.downloaded).equals(payload)).toBe(true);
      expect(got.range.equals(payload.subarray(100, 116))).toBe(true);
      const record = await t.client.getVersion('curl', BigInt(got.version));
      expect((await copies(record.pointer.kind === 'blob' ? (record.pointer.locations[0]?.key ?? '') : '')).map((c) => c.equals(payload))).toEqual([true, true]);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('the TypeScript client with no S3 credentials publishes 12 MiB (multipart) and subscribes to it through the lent URLs', async () => {
    const client = new ImprintClient({ address: t.address });
    const subscriber = new Subscriber({ client, identity: identity({ app: 'lent-s3', region: 'eu-west-1' }), intervalMs: 100 });
    try {
      const published = await new Publisher({ client }).publish('model', large);
      expect(published.pointer.kind === 'blob' && published.pointer.locations.map((l) => l.region)).toEqual(['us-east-1', 'eu-west-1']);
      expect((await copies(published.pointer.kind === 'blob' ? (published.pointer.locations[0]?.key ?? '') : '')).map((c) => c.equals(large))).toEqual([true, true]);
      const sub = subscriber.subscribe('model', { decode: (b) => b });
      await sub.ready();
      expect(sub.version).toBe(published.version);
      expect(Buffer.from(sub.current ?? []).equals(large)).toBe(true);
    } finally {
      subscriber.close();
      client.close();
    }
  });
});

describe('lent S3 URLs expire', () => {
  it('a presigned GET answers 403 once its expiry (--lend-expiry-ms 1000) has passed', async () => {
    const [first] = s3Endpoints();
    const store = storeOn(first, 'us-east-1');
    await store.ensureBucket();
    const t = await startTestServer({ blobStores: [store], lend: { expiryMs: 1000 } });
    try {
      await t.client.createTopic({ name: 'model' });
      const v = await new Publisher({ client: t.client, blobStores: [store] }).publish('model', small);
      const down = await t.client.getDownload('model', v.version);
      expect(down.expiresAtMs - Date.now()).toBeLessThanOrEqual(1000);
      const url = down.urls[0]?.url ?? '';
      await eventually('the presigned GET to expire', async () => (await fetch(url)).status === 403);
    } finally {
      await t.stop();
      await dropBucket(store);
    }
  });
});
