/**
 * Reading a version's payload: direct bytes from the record, or the blob from the closest
 * region that delivers it (stores in order of preference, closest first). A region that has
 * not answered within the hedge delay gets the next region started beside it, one silent past
 * the first-byte timeout is abandoned (hedge.ts); the first whole, verified copy wins. Every
 * byte is counted and hashed; a payload whose size or sha256 does not match the pointer is
 * rejected, whichever region served it.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataIntegrityError, ImprintError, sha256Hex, type BlobLocation, type VersionRecord } from '../core/index.js';
import { storeFor, type BlobStore } from './blob-store/blob-store.js';
import { firstToDeliver, readOptionsWithDefaults, type ReadOptions, type SlowRegionEvent } from './hedge.js';

export interface FetchOptions extends ReadOptions {
  readonly signal?: AbortSignal;
  /** Bytes received so far (of the copy furthest along, when regions are read side by side). */
  readonly onProgress?: (p: { bytes: number; total: number }) => void;
  /** Told when a region is slow to answer (the next one is started beside it) or abandoned. */
  readonly onSlowRegion?: (e: SlowRegionEvent) => void;
}

/** No region could serve the payload. */
export class PayloadUnavailableError extends ImprintError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

/** The locations of a blob pointer in the order of the stores given (closest region first). */
function orderedSources(record: VersionRecord, stores: readonly BlobStore[]): { store: BlobStore; loc: BlobLocation }[] {
  if (record.pointer.kind !== 'blob') return [];
  const locs = record.pointer.locations;
  return stores.flatMap((store) => {
    const loc = locs.find((l) => storeFor([store], l));
    return loc ? [{ store, loc }] : [];
  });
}

/** A transform that counts and hashes, and fails the stream at the end when either does not match. */
function verifier(record: VersionRecord, onBytes: (bytes: number) => void): Transform {
  const { size, sha256 } = record.pointer;
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > size) return cb(new DataIntegrityError(`payload of ${record.topic} v${record.version} is larger than its pointer's ${size} bytes`));
      hash.update(chunk);
      onBytes(bytes);
      cb(null, chunk);
    },
    flush(cb) {
      if (bytes !== size) return cb(new DataIntegrityError(`payload of ${record.topic} v${record.version} has ${bytes} bytes, its pointer says ${size}`));
      const got = hash.digest('hex');
      if (got !== sha256) return cb(new DataIntegrityError(`payload of ${record.topic} v${record.version} does not match its sha256 (got ${got.slice(0, 12)}…, want ${sha256.slice(0, 12)}…)`));
      cb();
    },
  });
}

/** Where one attempt's verified bytes go (each region read gets its own), what they make, and how to drop it. */
interface Sink<T> {
  readonly to: Writable | ((source: AsyncIterable<Buffer>) => Promise<void>);
  result(): T;
  discard(): Promise<void>;
}

/** The payload from the first region to deliver it whole and verified (see hedge.ts), through a sink opened per region read. */
async function fromFirstRegion<T>(record: VersionRecord, stores: readonly BlobStore[], opts: FetchOptions, open: () => Sink<T>): Promise<T> {
  const sources = orderedSources(record, stores);
  if (sources.length === 0) throw new PayloadUnavailableError(`no configured blob store holds a location of ${record.topic} v${record.version}`);
  const total = record.pointer.size;
  let reported = 0;
  const progress = (bytes: number): void => {
    if (bytes <= reported) return;
    reported = bytes;
    opts.onProgress?.({ bytes, total });
  };
  const what = `${record.topic} v${record.version}`;
  const r = await firstToDeliver(
    sources,
    (s) => s.store.region,
    async ({ store, loc }, ctx) => {
      // 1. The region's answer, 2. its bytes counted and hashed on their way to this read's own sink.
      const body = await store.get(loc, { signal: ctx.signal });
      const sink = open();
      try {
        let first = true;
        const onBytes = (bytes: number): void => {
          if (first) ctx.answered();
          first = false;
          progress(bytes);
        };
        if (typeof sink.to === 'function') await pipeline(body, verifier(record, onBytes), sink.to, { signal: ctx.signal });
        else await pipeline(body, verifier(record, onBytes), sink.to, { signal: ctx.signal });
        return sink.result();
      } catch (err) {
        await sink.discard();
        throw err;
      }
    },
    { ...readOptionsWithDefaults(opts), what, ...(opts.signal && { signal: opts.signal }), ...(opts.onSlowRegion && { onSlowRegion: opts.onSlowRegion }) },
  );
  if ('value' in r) return r.value;
  const reasons = r.failures.map((f) => `${f.region}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
  // Every copy was read and none matched: that is corruption, not unavailability.
  if (r.failures.every((f) => f.error instanceof DataIntegrityError)) throw new DataIntegrityError(`no copy of ${what} matches its pointer (${reasons})`);
  throw new PayloadUnavailableError(`cannot fetch ${what} from any region (${reasons})`, r.failures.at(-1)?.error);
}

/** The whole payload in memory, verified. */
export async function fetchPayload(record: VersionRecord, stores: readonly BlobStore[], opts: FetchOptions = {}): Promise<Buffer> {
  const p = record.pointer;
  if (p.kind === 'direct') {
    const bytes = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
    if (bytes.length !== p.size || sha256Hex(bytes) !== p.sha256) throw new DataIntegrityError(`direct payload of ${record.topic} v${record.version} does not match its pointer`);
    opts.onProgress?.({ bytes: bytes.length, total: p.size });
    return bytes;
  }
  return fromFirstRegion(record, stores, opts, () => {
    const out = Buffer.allocUnsafe(p.size);
    let at = 0;
    return {
      to: async (source) => {
        for await (const chunk of source) at += chunk.copy(out, at);
      },
      result: () => out,
      discard: async () => {},
    };
  });
}

/** Writes the verified payload to `file` (atomically: a temporary file per region read, the winner renamed at the end). */
export async function downloadPayload(record: VersionRecord, stores: readonly BlobStore[], file: string, opts: FetchOptions = {}): Promise<void> {
  const partial = (): string => path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomUUID()}.partial`);
  if (record.pointer.kind === 'direct') {
    const tmp = partial();
    try {
      await fs.promises.writeFile(tmp, await fetchPayload(record, stores, opts));
      await fs.promises.rename(tmp, file);
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
    return;
  }
  const tmp = await fromFirstRegion(record, stores, opts, () => {
    const name = partial();
    return { to: fs.createWriteStream(name), result: () => name, discard: () => fs.promises.rm(name, { force: true }) };
  });
  try {
    await fs.promises.rename(tmp, file);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
