/**
 * lent: downloading a 256 MiB payload through the service's lent URLs (GetDownload) against
 * reading it straight from the store, in the same run:
 *   - S3 (MinIO): the client's fetchPayload through the presigned GET (ranged parts, 4 at a
 *     time, sha256-verified: what a Subscriber without credentials does), and one plain fetch()
 *     of the URL into a buffer (what any HTTP client does), vs a raw SDK GetObject to memory
 *     (the baseline; target >= 0.9x), and fetchPayload with the S3 store itself (what lending
 *     adds to the client's own path);
 *   - the local store: fetchPayload through the service's own URL (its HTTP server) vs
 *     reading the file into memory.
 * Median MiB/s of alternating rounds and the ratios.
 *
 *   npx tsx bench/lent.ts          # or: npm run bench -- lent
 *
 * Uses the first endpoint of IMPRINT_S3 when set, else starts a MinIO of its own with
 * scripts/backends and stops it at the end. IMPRINT_BENCH_ROUNDS (default 5) sets the rounds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DeleteBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { LocalBlobStore } from '../client/blob-store/local.js';
import { S3BlobStore } from '../client/blob-store/s3.js';
import { ImprintClient, Publisher, fetchPayload } from '../client/index.js';
import { lentStores } from '../client/lent.js';
import { silentLogger } from '../log/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, backends, createContext, type RunningBackend } from '../scripts/backends/index.js';
import { startImprintServer } from '../server/index.js';
import { tempDir } from './util.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const ROUNDS = Number(process.env['IMPRINT_BENCH_ROUNDS'] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const all = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join('/');

const fromEnv = (process.env['IMPRINT_S3'] ?? '').split(',').find((e) => e.trim() !== '');
let started: RunningBackend | undefined;
if (fromEnv === undefined) started = await backends.s3.start(createContext({ log: () => {} }));
const endpoint = fromEnv ?? (started as RunningBackend).endpoint;

const s3 = new S3BlobStore({ region: 'us-east-1', bucket: `imprint-bench-${randomUUID().slice(0, 8)}`, endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
const dir = tempDir();
const local = new LocalBlobStore({ root: path.join(dir, 'blobs'), region: 'local' });

/** The body of `res` into one buffer of `size` bytes. */
async function toBuffer(body: AsyncIterable<Uint8Array>, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const chunk of body) at += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).copy(out, at);
  if (at !== size) throw new Error(`read ${at} of ${size} bytes`);
  return out;
}

try {
  await s3.ensureBucket();
  const server = await startImprintServer({ dataDir: dir, port: 0, httpPort: 0, log: silentLogger, blobStores: [s3, local] });
  const client = new ImprintClient({ address: `127.0.0.1:${server.port}` });
  try {
    await client.createTopic({ name: 'bench' });
    const published = await new Publisher({ client, blobStores: [s3, local] }).publish('bench', randomBytes(SIZE));
    const record = await client.getVersion('bench', published.version);
    if (record.pointer.kind !== 'blob') throw new Error('expected a blob');
    const [s3Loc, localLoc] = record.pointer.locations;
    if (!s3Loc || !localLoc) throw new Error('expected two locations');
    const variants = {
      /** fetchPayload through the presigned GET (GetDownload once per read, as a Subscriber does). */
      lentS3: async () => fetchPayload(record, [], { lent: async (r) => (await lentStores(client, r, 'us-east-1')).filter((s) => s.region === 'us-east-1') }),
      /** fetchPayload with the S3 store itself (credentials): the client's own path, for what lending adds. */
      directS3: async () => fetchPayload(record, [s3]),
      /** One plain fetch() of the presigned GET into a buffer. */
      plainS3: async () => {
        const down = await client.getDownload('bench', record.version, 'us-east-1');
        const res = await fetch(down.urls[0]?.url ?? '');
        if (!res.ok || !res.body) throw new Error(`GET ${res.status}`);
        return toBuffer(res.body as unknown as AsyncIterable<Uint8Array>, SIZE);
      },
      /** The SDK alone: GetObject into one buffer (the baseline). */
      rawS3: async () => {
        const out = await s3.client.send(new GetObjectCommand({ Bucket: s3Loc.bucket, Key: s3Loc.key }));
        return toBuffer(out.Body as Readable, SIZE);
      },
      /** fetchPayload through the service's own URL for the local store. */
      lentLocal: async () => fetchPayload(record, [], { lent: async (r) => (await lentStores(client, r, 'local')).filter((s) => s.region === 'local') }),
      /** The file read into memory. */
      file: async () => fs.promises.readFile(path.join(local.root, localLoc.key)),
    };
    const names = Object.keys(variants) as (keyof typeof variants)[];
    for (const n of names) await variants[n](); // warm-up: connections, JIT, page cache
    const got = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<keyof typeof variants, number[]>;
    for (let i = 0; i < ROUNDS; i++) {
      for (const n of i % 2 === 0 ? names : [...names].reverse()) {
        gc();
        const t0 = performance.now();
        const bytes = await variants[n]();
        if (bytes.length !== SIZE) throw new Error(`${n} read ${bytes.length} bytes`);
        got[n].push(SIZE / MiB / ((performance.now() - t0) / 1000));
      }
    }
    const m = Object.fromEntries(names.map((n) => [n, median(got[n])])) as Record<keyof typeof variants, number>;
    console.log(
      `lent 256 MiB from MinIO: fetchPayload through the lent presigned GET (sha256-verified) ${m.lentS3.toFixed(0)} MiB/s | one plain fetch() of it ${m.plainS3.toFixed(0)} MiB/s | raw SDK GetObject to memory ${m.rawS3.toFixed(0)} MiB/s | ratios ${(m.lentS3 / m.rawS3).toFixed(2)}x and ${(m.plainS3 / m.rawS3).toFixed(2)}x (target >= 0.9x)` +
        ` | fetchPayload with the S3 store itself ${m.directS3.toFixed(0)} MiB/s (lent ${(m.lentS3 / m.directS3).toFixed(2)}x of it)`,
    );
    console.log(`lent 256 MiB from the local store: fetchPayload through the service's URL (sha256-verified) ${m.lentLocal.toFixed(0)} MiB/s | the file read into memory ${m.file.toFixed(0)} MiB/s | ratio ${(m.lentLocal / m.file).toFixed(2)}x`);
    console.log(`lent (median of ${ROUNDS} alternating rounds: ${names.map((n) => `${n} ${all(got[n])}`).join(', ')})`);
    await s3.delete(s3Loc);
  } finally {
    client.close();
    await server.stop();
  }
  await s3.client.send(new DeleteBucketCommand({ Bucket: s3.bucket }));
} finally {
  s3.close();
  await started?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
