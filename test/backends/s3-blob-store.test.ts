/**
 * S3BlobStore against a real MinIO (the first of the two the s3 project's global set-up
 * starts): the BlobStore conformance suite unchanged, then what is particular to S3 —
 * multipart uploads with the SDK's default checksums, aborted and torn multipart uploads that
 * leave neither an object nor pending parts, and unreachable regions as UnavailableError.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import { BlobNotFoundError } from '../../client/index.js';
import { InvalidArgumentError, UnavailableError } from '../../core/index.js';
import { blobStoreConformance } from '../conformance/blob-store.js';
import { dropBucket, s3Endpoints, storeOn, uniqueBucket } from './s3-util.js';

const MiB = 1024 * 1024;

/** Multipart uploads S3 still holds parts for, under `key`. */
async function pendingUploads(store: S3BlobStore, key: string): Promise<string[]> {
  const out = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: key }));
  return (out.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId ?? '');
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** S3's CRC32 checksum header value: the big-endian CRC32 in base64. */
function crc32Base64(bytes: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(bytes));
  return b.toString('base64');
}

blobStoreConformance('s3 (MinIO)', async () => {
  const store = storeOn(s3Endpoints()[0], 'us-east-1', uniqueBucket());
  await store.ensureBucket();
  return { store, cleanup: () => dropBucket(store) };
});

describe('S3BlobStore', () => {
  let store: S3BlobStore;
  /** 5 MiB parts, two at a time: multipart starts above 5 MiB. */
  let small: S3BlobStore;
  beforeAll(async () => {
    const bucket = uniqueBucket();
    store = storeOn(s3Endpoints()[0], 'us-east-1', bucket);
    small = storeOn(s3Endpoints()[0], 'us-east-1', bucket, { partSize: 5 * MiB, queueSize: 2 });
    expect(await store.ensureBucket()).toBe(true);
  });
  afterAll(async () => {
    small.close();
    await dropBucket(store);
  });

  it('creates its bucket only when missing, in any region', async () => {
    expect(await store.ensureBucket()).toBe(false);
    const west = storeOn(s3Endpoints()[1], 'eu-west-1', uniqueBucket());
    try {
      expect(await west.ensureBucket()).toBe(true);
      expect(await west.ensureBucket()).toBe(false);
      const loc = await west.put('k', Readable.from([Buffer.from('in eu-west-1')]));
      expect(loc).toEqual({ kind: 's3', region: 'eu-west-1', bucket: west.bucket, key: 'k' });
      expect((await readAll(await west.get(loc))).toString()).toBe('in eu-west-1');
    } finally {
      await dropBucket(west);
    }
  });

  it("sends the SDK's default CRC32 checksum, which the server checks and keeps", async () => {
    const body = randomBytes(200_000);
    const loc = await store.put('crc/single', Readable.from([body]));
    const head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: loc.key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(crc32Base64(body));
    expect(head.ContentLength).toBe(body.length);
  });

  it('uploads in parts of partSize, reporting acknowledged bytes in order, and reads them back whole', async () => {
    const body = randomBytes(12 * MiB + 123);
    const seen: number[] = [];
    const loc = await small.put('multi/12m', Readable.from([body.subarray(0, 7 * MiB), body.subarray(7 * MiB)]), {
      size: body.length,
      onProgress: (b) => seen.push(b),
    });
    const head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: loc.key }));
    expect(head.ETag).toMatch(/-3"$/); // a 3-part multipart object: 5 + 5 + 2 MiB
    expect(head.ContentLength).toBe(body.length);
    expect(seen.at(-1)).toBe(body.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect((await readAll(await store.get(loc))).equals(body)).toBe(true);
  });

  it('a multipart upload whose source breaks is aborted: no object and no parts left', async () => {
    const key = 'torn/multipart';
    const chunk = randomBytes(MiB);
    let sawPending = false;
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 12; i++) yield chunk;
        // Parts are on their way by now: the multipart upload exists on the server...
        await waitFor('the multipart upload to start', async () => (await pendingUploads(small, key)).length === 1);
        sawPending = true;
        // ...and then the source fails.
        throw new Error('source broke after 12 MiB');
      })(),
    );
    await expect(small.put(key, source)).rejects.toThrow(/source broke after 12 MiB/);
    expect(sawPending).toBe(true);
    await expect(store.get({ kind: 's3', region: 'us-east-1', bucket: store.bucket, key })).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await pendingUploads(small, key)).toEqual([]);
  });

  it('an abort mid-upload stops it and destroys the source: no object and no parts left', async () => {
    const key = 'aborted/multipart';
    const chunk = randomBytes(MiB);
    const abort = new AbortController();
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 200; i++) yield chunk; // far more than is ever read
      })(),
    );
    const put = small.put(key, source, {
      onProgress: () => {
        // The first part is acknowledged: the upload is under way. Abort it.
        if (!abort.signal.aborted) void pendingUploads(small, key).then((p) => (p.length === 1 ? abort.abort() : abort.abort(new Error(`expected 1 pending upload, saw ${p.length}`))));
      },
      signal: abort.signal,
    });
    await expect(put).rejects.toMatchObject({ name: 'AbortError' });
    expect(source.destroyed).toBe(true);
    await expect(store.get({ kind: 's3', region: 'us-east-1', bucket: store.bucket, key })).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await pendingUploads(small, key)).toEqual([]);
  });

  it('an abort that comes after the whole body was read still leaves no object', async () => {
    const key = 'aborted/late';
    const abort = new AbortController();
    const source = Readable.from([randomBytes(300_000)]);
    // 'end': lib-storage has read everything and is sending the one PutObject.
    source.on('end', () => abort.abort());
    await expect(store.put(key, source, { signal: abort.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(store.get({ kind: 's3', region: 'us-east-1', bucket: store.bucket, key })).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('an already aborted signal uploads nothing', async () => {
    const source = Readable.from([Buffer.from('never')]);
    await expect(store.put('aborted/early', source, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(source.destroyed).toBe(true);
    await expect(store.get({ kind: 's3', region: 'us-east-1', bucket: store.bucket, key: 'aborted/early' })).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('an abort while reading fails the body stream', async () => {
    const loc = await store.put('read/abort', Readable.from([randomBytes(4 * MiB)]));
    const abort = new AbortController();
    const body = await store.get(loc, { signal: abort.signal });
    const read = (async () => {
      let n = 0;
      for await (const c of body) {
        n += (c as Buffer).length;
        if (n > 0) abort.abort();
      }
      return n;
    })();
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses locations of another kind, bucket or region, bad keys and bad options', async () => {
    const loc = { kind: 's3' as const, region: 'us-east-1', bucket: store.bucket, key: 'x' };
    await expect(store.get({ ...loc, kind: 'file' })).rejects.toThrow(/location must be an s3 location in bucket/);
    await expect(store.get({ ...loc, bucket: 'other-bucket' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.delete({ ...loc, region: 'eu-west-1' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.put('a/../b', Readable.from([Buffer.from('x')]))).rejects.toThrow(/key must be 1-1024 characters/);
    expect(() => storeOn('http://127.0.0.1:1', 'us-east-1', store.bucket, { partSize: MiB })).toThrow(/partSize must be a whole number in \[5242880/);
    expect(() => storeOn('http://127.0.0.1:1', 'us-east-1', 'Not_A_Bucket')).toThrow(/bucket must be an S3 bucket name/);
    expect(() => storeOn('ftp://127.0.0.1:1', 'us-east-1', store.bucket)).toThrow(/endpoint must be an http\(s\) URL/);
  });

  it('deleting a missing object, even in a missing bucket, is not an error', async () => {
    await expect(store.delete({ kind: 's3', region: 'us-east-1', bucket: store.bucket, key: 'never/was' })).resolves.toBeUndefined();
    const ghost = storeOn(s3Endpoints()[0], 'us-east-1', uniqueBucket());
    try {
      await expect(ghost.delete({ kind: 's3', region: 'us-east-1', bucket: ghost.bucket, key: 'k' })).resolves.toBeUndefined();
    } finally {
      ghost.close();
    }
  });

  it('a region that refuses connections is UnavailableError for every call', async () => {
    // A port nothing listens on: bind, note it, close.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const down = storeOn(`http://127.0.0.1:${port}`, 'us-east-1', 'down-bucket');
    const loc = { kind: 's3' as const, region: 'us-east-1', bucket: 'down-bucket', key: 'k' };
    try {
      const get = down.get(loc);
      await expect(get).rejects.toBeInstanceOf(UnavailableError);
      await expect(get).rejects.toThrow(/s3 region us-east-1 \(http:\/\/127\.0\.0\.1:\d+\) is unavailable: GetObject down-bucket\/k failed: .*ECONNREFUSED/);
      await expect(down.put('k', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(UnavailableError);
      await expect(down.delete(loc)).rejects.toBeInstanceOf(UnavailableError);
      await expect(down.ensureBucket()).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      down.close();
    }
  });

  it('a region that accepts connections but never answers times out as UnavailableError', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    const port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as net.AddressInfo).port)));
    const hung = storeOn(`http://127.0.0.1:${port}`, 'us-east-1', 'hung-bucket', { socketTimeoutMs: 300, maxAttempts: 1 });
    try {
      const t0 = Date.now();
      await expect(hung.get({ kind: 's3', region: 'us-east-1', bucket: 'hung-bucket', key: 'k' })).rejects.toBeInstanceOf(UnavailableError);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      hung.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
