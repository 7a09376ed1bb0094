/**
 * s3-download: download throughput of the client — fetchPayload with an S3BlobStore at its
 * defaults (8 MiB ranged parts, 4 at a time, written into one buffer of the payload's size and
 * sha256-hashed in order as they arrive) — against the SDK alone on the same object in the
 * same run:
 *   - raw GetObject to memory: one GetObject, its body copied into one buffer of its
 *     Content-Length (the least a program does to hold the object; the target's baseline);
 *   - raw GetObject, nothing kept: the body read to the end and dropped (no buffer to fill).
 * For 256 MiB and 1 GiB, alternating (the order flips every round); median MiB/s of each and
 * the ratios. Also measured in each round: sha256 over a buffer in memory on one core, and
 * from it the ceiling of any reader that receives, copies and hashes on one thread:
 * 1 / (1/raw-to-memory + 1/sha256).
 *
 *   npx tsx bench/s3-download.ts          # or: npm run bench -- s3-download
 *
 * Uses the first endpoint of IMPRINT_S3 when set (credentials S3_ACCESS_KEY/S3_SECRET_KEY of
 * scripts/backends), else starts a MinIO of its own with scripts/backends and stops it at the
 * end. IMPRINT_BENCH_ROUNDS (default 5; 3 for 1 GiB) sets the number of rounds. Run with
 * --expose-gc (bench/run.ts does) so the buffers of one round are freed before the next.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../client/blob-store/s3.js';
import { PART_DEFAULTS, fetchPayload } from '../client/index.js';
import { recordDigest, type BlobLocation, type VersionRecord } from '../core/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, backends, createContext, type RunningBackend } from '../scripts/backends/index.js';

const MiB = 1024 * 1024;
const ROUNDS = process.env['IMPRINT_BENCH_ROUNDS'] ? Number(process.env['IMPRINT_BENCH_ROUNDS']) : undefined;
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});

const fromEnv = (process.env['IMPRINT_S3'] ?? '').split(',').find((e) => e.trim() !== '');
let started: RunningBackend | undefined;
if (fromEnv === undefined) started = await backends.s3.start(createContext({ log: () => {} }));
const endpoint = fromEnv ?? (started as RunningBackend).endpoint;

const store = new S3BlobStore({
  region: 'us-east-1',
  bucket: `imprint-bench-${randomUUID().slice(0, 8)}`,
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
});

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const all = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join('/');

/** Uploads `size` random bytes in 16 MiB pieces, hashing on the way; the record that points at them. */
async function upload(size: number): Promise<{ record: VersionRecord; loc: BlobLocation }> {
  const hash = createHash('sha256');
  const body = Readable.from(
    (function* () {
      for (let off = 0; off < size; off += 16 * MiB) {
        const piece = randomBytes(16 * MiB);
        hash.update(piece);
        yield piece;
      }
    })(),
  );
  const loc = await store.put(`bench/${size}`, body, { size });
  const pointer = { kind: 'blob' as const, size, sha256: hash.digest('hex'), locations: [loc] };
  const fields = { topic: 'bench', version: 1n, publishedAtMs: Date.now(), metadata: {}, pointer };
  return { record: { ...fields, scopes: [{}], digest: recordDigest(fields) }, loc };
}

async function run(size: number, rounds: number): Promise<void> {
  const { record, loc } = await upload(size);
  const getBody = async (): Promise<{ body: Readable; length: number }> => {
    const out = await store.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    if (!(out.Body instanceof Readable) || out.ContentLength === undefined) throw new Error('GetObject gave no Node stream with a length');
    return { body: out.Body, length: out.ContentLength };
  };
  const variants = {
    /** The client library: ranged parts, one buffer, sha256-verified. */
    client: async (): Promise<void> => {
      const bytes = await fetchPayload(record, [store]);
      if (bytes.length !== size) throw new Error(`client read ${bytes.length} bytes`);
    },
    /** The SDK alone, into one buffer of the object's length. */
    toMemory: async (): Promise<void> => {
      const { body, length } = await getBody();
      const out = Buffer.allocUnsafe(length);
      let at = 0;
      for await (const chunk of body) at += (chunk as Buffer).copy(out, at);
      if (at !== size) throw new Error(`raw GetObject read ${at} bytes`);
    },
    /** The SDK alone, reading the body to the end and keeping nothing. */
    dropped: async (): Promise<void> => {
      const { body } = await getBody();
      let n = 0;
      for await (const chunk of body) n += (chunk as Buffer).length;
      if (n !== size) throw new Error(`raw GetObject read ${n} bytes`);
    },
  };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const mibPerSec = async (fn: () => Promise<void>): Promise<number> => {
    gc();
    const t0 = performance.now();
    await fn();
    return size / MiB / ((performance.now() - t0) / 1000);
  };
  /** sha256 over 256 MiB in memory, 1 MiB per update, on this thread. */
  const hashInput = randomBytes(256 * MiB);
  const sha256Speed = (): number => {
    const h = createHash('sha256');
    const t0 = performance.now();
    for (let off = 0; off < hashInput.length; off += MiB) h.update(hashInput.subarray(off, off + MiB));
    h.digest();
    return hashInput.length / MiB / ((performance.now() - t0) / 1000);
  };

  // Warm-up: connections, JIT, the server's page cache.
  for (const n of names) await variants[n]();
  sha256Speed();
  const got: Record<keyof typeof variants | 'sha256', number[]> = { client: [], toMemory: [], dropped: [], sha256: [] };
  for (let i = 0; i < rounds; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) got[n].push(await mibPerSec(variants[n]));
    got.sha256.push(sha256Speed());
  }
  const [c, m, d, s] = [median(got.client), median(got.toMemory), median(got.dropped), median(got.sha256)];
  const ceiling = 1 / (1 / m + 1 / s);
  const label = size >= 1024 * MiB ? `${size / 1024 / MiB} GiB` : `${size / MiB} MiB`;
  console.log(
    `s3-download ${label} from MinIO: client fetchPayload (${PART_DEFAULTS.partSize / MiB} MiB parts x ${PART_DEFAULTS.partConcurrency}, sha256-verified) ${c.toFixed(0)} MiB/s | raw SDK GetObject to memory ${m.toFixed(0)} MiB/s | ratio ${(c / m).toFixed(2)}x` +
      ` | raw GetObject, nothing kept ${d.toFixed(0)} MiB/s (${(c / d).toFixed(2)}x)`,
  );
  console.log(
    `s3-download ${label}: sha256 on one core ${s.toFixed(0)} MiB/s; ceiling of a reader that receives, copies and hashes on one thread 1/(1/${m.toFixed(0)} + 1/${s.toFixed(0)}) = ${ceiling.toFixed(0)} MiB/s = ${(ceiling / m).toFixed(2)}x raw to memory` +
      `  (median of ${rounds} alternating rounds: client ${all(got.client)}, to memory ${all(got.toMemory)}, nothing kept ${all(got.dropped)}, sha256 ${all(got.sha256)})`,
  );
  await store.delete(loc);
}

try {
  await store.ensureBucket();
  await run(256 * MiB, ROUNDS ?? 5);
  gc();
  await run(1024 * MiB, ROUNDS ?? 3);
  console.log(`s3-download peak RSS of the bench process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  await store.client.send(new DeleteBucketCommand({ Bucket: store.bucket }));
} finally {
  store.close();
  await started?.stop();
}
