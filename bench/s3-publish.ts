/**
 * s3-publish: a 256 MiB publish to two regions through the client — Publisher.publish of the
 * bytes in memory: uploaded to both regions' S3BlobStore at once (lib-storage multipart, 8 MiB
 * parts, 4 at a time per region) while sha256-hashed, then recorded by an embedded server that
 * checks both objects (HeadObject) — against the SDK alone uploading the same bytes to both
 * regions at once, in the same run:
 *   - raw parallel Upload: lib-storage's Upload of the buffer to each region, same part size
 *     and parts in flight (what the store does, without the hash, the record or the check);
 *   - raw parallel PutObject: one PutObject of the whole buffer to each region.
 * Alternating rounds (the order flips every round); median MiB/s of payload published (each
 * region gets all of it) and the ratio to the faster raw upload.
 *
 *   npx tsx bench/s3-publish.ts          # or: npm run bench -- s3-publish
 *
 * Uses the first two endpoints of IMPRINT_S3 when set (credentials S3_ACCESS_KEY/S3_SECRET_KEY
 * of scripts/backends), else starts two MinIOs of its own and stops them at the end.
 * IMPRINT_BENCH_ROUNDS (default 3) sets the number of rounds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3BlobStore } from '../client/blob-store/s3.js';
import { ImprintClient, Publisher } from '../client/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, backends, createContext, type RunningBackend } from '../scripts/backends/index.js';
import { tempDir } from './util.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const ROUNDS = Number(process.env['IMPRINT_BENCH_ROUNDS'] ?? '3');
/** S3BlobStore's defaults, given to the raw Upload too. */
const PART_SIZE = 8 * MiB;
const QUEUE_SIZE = 4;

const fromEnv = (process.env['IMPRINT_S3'] ?? '').split(',').filter((e) => e.trim() !== '');
const started: RunningBackend[] = [];
while (fromEnv.length + started.length < 2) started.push(await backends.s3.start(createContext({ log: () => {} })));
const endpoints = [...fromEnv, ...started.map((s) => s.endpoint)].slice(0, 2);

const bucket = `imprint-bench-${randomUUID().slice(0, 8)}`;
const stores = ['us-east-1', 'eu-west-1'].map(
  (region, i) =>
    new S3BlobStore({
      region,
      bucket,
      endpoint: endpoints[i] as string,
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    }),
);
const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger, blobStores: stores });
const client = new ImprintClient({ address: `127.0.0.1:${server.port}`, deadlineMs: 60_000 });
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const all = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join('/');

try {
  for (const s of stores) await s.ensureBucket();
  await client.createTopic({ name: 'bench' });
  const publisher = new Publisher({ client, blobStores: stores });
  const bytes = randomBytes(SIZE);
  let n = 0;
  const variants = {
    /** The client: Publisher.publish (upload to both, hash, record with the server's check). */
    publish: async (): Promise<void> => {
      const v = await publisher.publish('bench', bytes);
      if (v.pointer.kind !== 'blob') throw new Error('not a blob publish');
      await Promise.all(v.pointer.locations.map((loc, i) => stores[i]?.delete(loc)));
    },
    /** lib-storage's Upload of the buffer to both regions, same part size and parts in flight. */
    upload: async (): Promise<void> => {
      const key = `raw/upload-${n++}`;
      await Promise.all(stores.map((s) => new Upload({ client: s.client, params: { Bucket: bucket, Key: key, Body: bytes }, partSize: PART_SIZE, queueSize: QUEUE_SIZE }).done()));
      await Promise.all(stores.map((s) => s.delete(s.locationOf(key))));
    },
    /** One PutObject of the whole buffer to each region. */
    put: async (): Promise<void> => {
      const key = `raw/put-${n++}`;
      await Promise.all(stores.map((s) => s.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }))));
      await Promise.all(stores.map((s) => s.delete(s.locationOf(key))));
    },
  };
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const mibPerSec = async (fn: () => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return SIZE / MiB / ((performance.now() - t0) / 1000);
  };
  // The delete after each upload is timed too: the same two deletes in every variant.
  for (const name of names) await variants[name](); // warm-up
  const got: Record<keyof typeof variants, number[]> = { publish: [], upload: [], put: [] };
  for (let i = 0; i < ROUNDS; i++) for (const name of i % 2 === 0 ? names : [...names].reverse()) got[name].push(await mibPerSec(variants[name]));
  const [p, u, r] = [median(got.publish), median(got.upload), median(got.put)];
  const best = Math.max(u, r);
  console.log(
    `s3-publish 256 MiB to 2 regions (MinIO): client Publisher.publish (sha256, both regions, recorded) ${p.toFixed(0)} MiB/s | raw parallel Upload (${PART_SIZE / MiB} MiB parts x ${QUEUE_SIZE}) ${u.toFixed(0)} MiB/s | raw parallel PutObject ${r.toFixed(0)} MiB/s | ratio to the faster raw ${(p / best).toFixed(2)}x` +
      `  (median of ${ROUNDS} alternating rounds: client ${all(got.publish)}, Upload ${all(got.upload)}, PutObject ${all(got.put)})`,
  );
  for (const s of stores) await s.client.send(new DeleteBucketCommand({ Bucket: bucket }));
} finally {
  client.close();
  await server.stop();
  for (const s of stores) s.close();
  for (const s of started) await s.stop();
}
