/**
 * s3-download: download throughput of the client — fetchPayload with an S3BlobStore at its
 * defaults (8 MiB ranged parts, 4 at a time, presigned GETs whose sockets read each part straight
 * into its place in one buffer of the payload's size (client/range-get.ts), sha256-hashed in
 * order as they arrive, on a worker thread for these sizes) — against the SDK
 * alone on the same object in the same run:
 *   - raw GetObject to memory: one GetObject, its body copied into one buffer of its
 *     Content-Length (the least a program does to hold the object; the target's baseline);
 *   - raw GetObject, nothing kept: the body read to the end and dropped (no buffer to fill).
 * For 256 MiB and 1 GiB, alternating (the order flips every round); median MiB/s of each and
 * the ratios. Also measured in each round: sha256 over a buffer in memory on one core, and
 * from it the ceiling of any reader that receives, copies and hashes on one thread:
 * 1 / (1/raw-to-memory + 1/sha256). When the bench starts its own MinIO it also counts CPU
 * seconds per GiB of this process (and of its main thread, the one that receives the bytes)
 * and of MinIO for each variant, and from them the ceiling of
 * any verifying reader however it spreads its work over this machine's cores:
 * cores / (CPU per GiB of the raw read to memory, client and server + sha256's CPU per GiB).
 *
 *   npx tsx bench/s3-download.ts          # or: npm run bench -- s3-download
 *
 * Uses the first endpoint of IMPRINT_S3 when set (credentials S3_ACCESS_KEY/S3_SECRET_KEY of
 * scripts/backends), else starts a MinIO of its own with scripts/backends and stops it at the
 * end. IMPRINT_BENCH_ROUNDS (default 5; 3 for 1 GiB) sets the number of rounds. Run with
 * --expose-gc (bench/run.ts does) so the buffers of one round are freed before the next.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { Readable } from 'node:stream';
import { DeleteBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../client/blob-store/s3.js';
import { HASH_OFF_THREAD_FROM, PART_DEFAULTS, fetchPayload } from '../client/index.js';
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

/** CPU seconds MinIO has used, when this bench started it (its pid is known): utime + stime of /proc/PID/stat, in ticks of 1/100 s (USER_HZ on Linux). */
const serverCpu = (): number => {
  if (!started) return NaN;
  const fields = fs.readFileSync(`/proc/${started.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** CPU seconds this process has used. */
const clientCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of this process's main thread alone (the one that receives the bytes), from /proc/self/task/PID/stat. */
const readingThreadCpu = (): number => {
  const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
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
  /** CPU seconds per GiB read, of this process and of MinIO, per variant. */
  const cpu: Record<keyof typeof variants, { client: number[]; reading: number[]; server: number[] }> = {
    client: { client: [], reading: [], server: [] },
    toMemory: { client: [], reading: [], server: [] },
    dropped: { client: [], reading: [], server: [] },
  };
  const mibPerSec = async (name: keyof typeof variants): Promise<number> => {
    gc();
    const [c0, r0, s0] = [clientCpu(), readingThreadCpu(), serverCpu()];
    const t0 = performance.now();
    await variants[name]();
    const seconds = (performance.now() - t0) / 1000;
    const gib = size / (1024 * MiB);
    cpu[name].client.push((clientCpu() - c0) / gib);
    cpu[name].reading.push((readingThreadCpu() - r0) / gib);
    cpu[name].server.push((serverCpu() - s0) / gib);
    return size / MiB / seconds;
  };
  /** sha256 over 256 MiB in memory, 1 MiB per update, on this thread: MiB/s, and CPU seconds per GiB. */
  const hashInput = randomBytes(256 * MiB);
  const shaCpu: number[] = [];
  const sha256Speed = (): number => {
    const h = createHash('sha256');
    const [t0, c0] = [performance.now(), clientCpu()];
    for (let off = 0; off < hashInput.length; off += MiB) h.update(hashInput.subarray(off, off + MiB));
    h.digest();
    shaCpu.push((clientCpu() - c0) * (1024 * MiB / hashInput.length));
    return hashInput.length / MiB / ((performance.now() - t0) / 1000);
  };
  // Warm-up: connections, JIT, the server's page cache.
  for (const n of names) await variants[n]();
  sha256Speed();
  const got: Record<keyof typeof variants | 'sha256', number[]> = { client: [], toMemory: [], dropped: [], sha256: [] };
  for (let i = 0; i < rounds; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) got[n].push(await mibPerSec(n));
    got.sha256.push(sha256Speed());
  }
  const [c, m, d, s] = [median(got.client), median(got.toMemory), median(got.dropped), median(got.sha256)];
  const ceiling = 1 / (1 / m + 1 / s);
  const label = size >= 1024 * MiB ? `${size / 1024 / MiB} GiB` : `${size / MiB} MiB`;
  console.log(
    `s3-download ${label} from MinIO: client fetchPayload (${PART_DEFAULTS.partSize / MiB} MiB parts x ${PART_DEFAULTS.partConcurrency} read into place, sha256-verified${size >= HASH_OFF_THREAD_FROM ? ' on a worker thread' : ''}) ${c.toFixed(0)} MiB/s | raw SDK GetObject to memory ${m.toFixed(0)} MiB/s | ratio ${(c / m).toFixed(2)}x` +
      ` | raw GetObject, nothing kept ${d.toFixed(0)} MiB/s (${(c / d).toFixed(2)}x)`,
  );
  console.log(
    `s3-download ${label}: sha256 on one core ${s.toFixed(0)} MiB/s; ceiling of a reader that receives, copies and hashes on one thread 1/(1/${m.toFixed(0)} + 1/${s.toFixed(0)}) = ${ceiling.toFixed(0)} MiB/s = ${(ceiling / m).toFixed(2)}x raw to memory` +
      `  (median of ${rounds} alternating rounds: client ${all(got.client)}, to memory ${all(got.toMemory)}, nothing kept ${all(got.dropped)}, sha256 ${all(got.sha256)})`,
  );
  if (started) {
    const perGiB = (n: keyof typeof variants): string => `client ${median(cpu[n].client).toFixed(2)} (its main thread ${median(cpu[n].reading).toFixed(2)}) + MinIO ${median(cpu[n].server).toFixed(2)}`;
    const rawCpu = median(cpu.toMemory.client) + median(cpu.toMemory.server);
    const sha = median(shaCpu);
    const cores = os.availableParallelism();
    const anyDesign = (cores / (rawCpu + sha)) * 1024;
    console.log(
      `s3-download ${label}: CPU seconds per GiB: client fetchPayload ${perGiB('client')} | raw to memory ${perGiB('toMemory')} | raw, nothing kept ${perGiB('dropped')} | sha256 ${sha.toFixed(2)};` +
        ` ceiling on ${cores} cores with MinIO beside it, however the hashing is spread: ${cores} / (${rawCpu.toFixed(2)} + ${sha.toFixed(2)}) GiB/s = ${anyDesign.toFixed(0)} MiB/s = ${(anyDesign / m).toFixed(2)}x raw to memory`,
    );
  }
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
