/**
 * s3-download: download throughput of the client — fetchPayload with an S3BlobStore, which
 * streams the object into one buffer while counting and sha256-hashing it — against a raw SDK
 * GetObject read to the end (bytes counted, nothing kept), for the same 256 MiB object, in one
 * run, alternating A/B (the order flips every round). Prints the median MiB/s of both and
 * their ratio.
 *
 *   npx tsx bench/s3-download.ts          # or: npm run bench -- s3-download
 *
 * Uses the first endpoint of IMPRINT_S3 when set (credentials S3_ACCESS_KEY/S3_SECRET_KEY of
 * scripts/backends), else starts a MinIO of its own with scripts/backends and stops it at the
 * end. IMPRINT_BENCH_ROUNDS (default 5) sets the number of A/B rounds.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../client/blob-store/s3.js';
import { fetchPayload } from '../client/index.js';
import { recordDigest, type BlobLocation, type VersionRecord } from '../core/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, backends, createContext, type RunningBackend } from '../scripts/backends/index.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const ROUNDS = Number(process.env['IMPRINT_BENCH_ROUNDS'] ?? '5');

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

try {
  await store.ensureBucket();

  // Upload 256 MiB of random bytes in 16 MiB pieces, hashing on the way.
  const hash = createHash('sha256');
  const body = Readable.from(
    (function* () {
      for (let off = 0; off < SIZE; off += 16 * MiB) {
        const piece = randomBytes(16 * MiB);
        hash.update(piece);
        yield piece;
      }
    })(),
  );
  const loc: BlobLocation = await store.put('bench/256m', body, { size: SIZE });
  const pointer = { kind: 'blob' as const, size: SIZE, sha256: hash.digest('hex'), locations: [loc] };
  const fields = { topic: 'bench', version: 1n, publishedAtMs: Date.now(), metadata: {}, pointer };
  const record: VersionRecord = { ...fields, scopes: [{}], digest: recordDigest(fields) };

  /** A: the client library (fetch, count, sha256-verify, into one buffer). */
  const viaClient = async (): Promise<void> => {
    const bytes = await fetchPayload(record, [store]);
    if (bytes.length !== SIZE) throw new Error(`client read ${bytes.length} bytes`);
  };
  /** B: the SDK alone, reading the body to the end. */
  const raw = async (): Promise<void> => {
    const out = await store.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    if (!(out.Body instanceof Readable)) throw new Error('GetObject body is not a Node stream');
    let n = 0;
    for await (const chunk of out.Body) n += (chunk as Buffer).length;
    if (n !== SIZE) throw new Error(`raw GetObject read ${n} bytes`);
  };
  const mibPerSec = async (fn: () => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return SIZE / MiB / ((performance.now() - t0) / 1000);
  };

  await viaClient(); // warm-up: connections, JIT, page cache of the server
  await raw();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      a.push(await mibPerSec(viaClient));
      b.push(await mibPerSec(raw));
    } else {
      b.push(await mibPerSec(raw));
      a.push(await mibPerSec(viaClient));
    }
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  const ma = median(a);
  const mb = median(b);
  const all = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join('/');
  console.log(
    `s3-download 256 MiB from MinIO: client fetchPayload (sha256-verified) ${ma.toFixed(0)} MiB/s | raw SDK GetObject ${mb.toFixed(0)} MiB/s | ratio ${(ma / mb).toFixed(2)}x  (median of ${ROUNDS} alternating rounds: client ${all(a)}, raw ${all(b)})`,
  );

  await store.delete(loc);
  await store.client.send(new DeleteBucketCommand({ Bucket: store.bucket }));
} finally {
  store.close();
  await started?.stop();
}
