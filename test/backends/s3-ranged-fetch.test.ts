/**
 * Payloads read in ranged parts from real MinIO (the s3 project's two servers as two
 * regions): exactly the bytes whatever the sizes of object and parts, a copy with a changed
 * range, the wrong size or a pointer with another sha256 rejected with nothing kept (the
 * intact region's copy wins when there is one), and an aborted fetch freeing its buffer.
 * The same on the local store: test/integration/fetch-parts.test.ts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import { HASH_OFF_THREAD_FROM, downloadPayload, fetchPayload, type FetchOptions } from '../../client/index.js';
import { DataIntegrityError, sha256Hex, type BlobLocation, type VersionRecord } from '../../core/index.js';
import { S3_ACCESS_KEY } from '../../scripts/backends/index.js';
import { tempDir } from '../helpers.js';
import { arrayBuffersLeftAbove, expectDamagedCopyRefused, gcFunction, settledArrayBuffers } from '../payload-checks.js';
import { dropBucket, s3Endpoints, storeOn } from './s3-util.js';

const MiB = 1024 * 1024;

/**
 * Memory held by ArrayBuffers once collections have nothing more to give back: V8 frees backing
 * stores in a background task after a collection, so collect and look again until it stops
 * falling (at most 10 s).
 */
function recordFor(bytes: Buffer, locations: readonly BlobLocation[], pointer: Partial<{ sha256: string }> = {}): VersionRecord {
  return { topic: 'model', version: 1n, publishedAtMs: 0, metadata: {}, scopes: [{}], digest: '', pointer: { kind: 'blob', size: bytes.length, sha256: sha256Hex(bytes), locations, ...pointer } };
}

describe('payloads read in ranged parts from MinIO', () => {
  let east: S3BlobStore;
  let west: S3BlobStore;
  let n = 0;
  /** `bytes` in both regions under a new key; `eastBody` replaces the east copy (a damaged one), written with a plain PutObject. */
  const inBoth = async (bytes: Buffer, eastBody?: Buffer): Promise<VersionRecord> => {
    const key = `model/${n++}`;
    const locs = [await east.put(key, Readable.from([bytes]), { size: bytes.length }), await west.put(key, Readable.from([bytes]), { size: bytes.length })];
    if (eastBody) await east.client.send(new PutObjectCommand({ Bucket: east.bucket, Key: key, Body: eastBody }));
    return recordFor(bytes, locs);
  };

  beforeAll(async () => {
    east = storeOn(s3Endpoints()[0], 'us-east-1');
    west = storeOn(s3Endpoints()[1], 'eu-west-1');
    await east.ensureBucket();
    await west.ensureBucket();
  });
  afterAll(async () => {
    await dropBucket(east);
    await dropBucket(west);
  });

  it('returns exactly the bytes, in memory and to a file, whatever the sizes of object and parts', async () => {
    for (const size of [1, 5 * MiB - 1, 5 * MiB, 12 * MiB + 3]) {
      const bytes = randomBytes(size);
      const record = await inBoth(bytes);
      for (const opts of [{ partSize: MiB, partConcurrency: 1 }, { partSize: MiB, partConcurrency: 4 }, { partSize: 1024 * 1024 + 1, partConcurrency: 3 }, {}] as FetchOptions[]) {
        const what = `${size} bytes, ${JSON.stringify(opts)}`;
        expect((await fetchPayload(record, [east], opts)).equals(bytes), what).toBe(true);
        const file = path.join(tempDir(), 'out.bin');
        await downloadPayload(record, [west], file, opts);
        expect(fs.readFileSync(file).equals(bytes), what).toBe(true);
        expect(fs.readdirSync(path.dirname(file)), what).toEqual(['out.bin']);
      }
    }
  });

  it('reads every part into place over kept-alive sockets (presigned GETs), an empty object too', async () => {
    const bytes = randomBytes(12 * MiB + 3);
    const record = await inBoth(bytes);
    const opened = east.getter.connections;
    for (let i = 0; i < 2; i++) expect((await fetchPayload(record, [east], { partSize: MiB, partConcurrency: 4 })).equals(bytes)).toBe(true);
    // 26 parts, 4 at a time: at most 4 sockets, each reused.
    expect(east.getter.connections).toBeGreaterThan(0);
    expect(east.getter.connections - opened).toBeLessThanOrEqual(4);
    const empty = await inBoth(Buffer.alloc(0));
    expect((await fetchPayload(empty, [east])).length).toBe(0);
  });

  it('a presigned GET refused (wrong credentials) is read through the SDK\'s GetObject: the same error as get()', async () => {
    const record = await inBoth(randomBytes(1000));
    const loc = record.pointer.kind === 'blob' ? record.pointer.locations[0] : undefined;
    if (!loc) throw new Error('expected a blob');
    const wrong = storeOn(s3Endpoints()[0], 'us-east-1', east.bucket, { credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
    try {
      const refusal = (p: Promise<unknown>): Promise<Error> => p.then(() => new Error('answered'), (e: unknown) => e as Error);
      const viaSdk = await refusal(wrong.get(loc));
      const viaReader = await refusal(wrong.readInto(loc, { offset: 0, length: 1000 }, Buffer.alloc(1000)));
      expect(viaSdk.name).toBe('SignatureDoesNotMatch');
      expect([viaReader.name, viaReader.message]).toEqual([viaSdk.name, viaSdk.message]);
      expect(wrong.getter.connections).toBe(1);
    } finally {
      wrong.close();
    }
  });

  describe('a bad copy is rejected, and nothing of it is kept', () => {
    const size = 6 * MiB + 5;
    const opts: FetchOptions = { partSize: MiB, partConcurrency: 3 };
    const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
      ['one byte changed in a middle part', (b) => Buffer.concat([b.subarray(0, 3 * MiB + 10), Buffer.from([(b[3 * MiB + 10] ?? 0) ^ 1]), b.subarray(3 * MiB + 11)]), /does not match its sha256/],
      ['shorter than its pointer', (b) => b.subarray(0, 4 * MiB), /is shorter than its pointer's 6291461 bytes \(bytes \d+-\d+ gave 0 of \d+\)/],
      ['one byte short', (b) => b.subarray(0, size - 1), /is shorter than its pointer's 6291461 bytes \(bytes 6291456-6291460 gave 4 of 5\)/],
      ['longer than its pointer', (b) => Buffer.concat([b, Buffer.from('x')]), /is larger than its pointer's 6291461 bytes/],
    ];
    for (const [name, damage, message] of cases) {
      it(name, async () => {
        const bytes = randomBytes(size);
        const record = await inBoth(bytes, damage(bytes));
        // Beside the intact copy of the next region, that one is the answer.
        await expectDamagedCopyRefused(record, east, west, bytes, message, opts);
      });
    }

    it('a pointer whose sha256 is not the bytes, in every region', async () => {
      const bytes = randomBytes(size);
      const good = await inBoth(bytes);
      const record = { ...good, pointer: { ...good.pointer, sha256: sha256Hex(Buffer.from('something else')) } };
      await expect(fetchPayload(record, [east, west], opts)).rejects.toThrow(/^no copy of model v1 matches its pointer \(us-east-1: .*does not match its sha256.*; eu-west-1: .*does not match its sha256/);
      const dir = tempDir();
      await expect(downloadPayload(record, [east, west], path.join(dir, 'out.bin'), opts)).rejects.toBeInstanceOf(DataIntegrityError);
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });

  it('an aborted fetch stops every part and frees its buffer', async () => {
    const gc = gcFunction();
    // Just under the size hashed on a worker: this isolate's arrayBuffers count does not reliably
    // include a SharedArrayBuffer shared with a worker (one CI run saw 50.6 of 64 MiB), so the
    // buffer is measured where it is a plain one. The worker path's abort: fetch-parts.test.ts.
    const bytes = randomBytes(HASH_OFF_THREAD_FROM - MiB);
    const record = await inBoth(bytes);
    const before = await settledArrayBuffers(gc);
    const abort = new AbortController();
    let during = 0;
    const fetched = fetchPayload(record, [east], {
      signal: abort.signal,
      onProgress: ({ bytes: got }) => {
        if (got < 16 * MiB || during !== 0) return;
        during = process.memoryUsage().arrayBuffers;
        abort.abort(new Error('caller gave up'));
      },
    });
    await expect(fetched).rejects.toThrow('caller gave up');
    expect(during - before).toBeGreaterThan(60 * MiB);
    // Freed memory is given back by a background task after the collection: look until it is, or 10 s have passed.
    expect(await arrayBuffersLeftAbove(before, 8 * MiB, gc)).toBeLessThan(8 * MiB);
  });
});
