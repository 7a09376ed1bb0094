/**
 * Reading a version's payload: direct bytes from the record, or the blob from the closest
 * region that delivers it (stores in order of preference, closest first). A region that has
 * not answered within the hedge delay gets the next region started beside it, one silent past
 * the first-byte timeout is abandoned (hedge.ts); the first whole, verified copy wins.
 *
 * One region's read is one attempt in hedge.ts's terms: its parts (parts.ts: ranged GETs,
 * several at once, hashed in order as they arrive) go into that attempt's own sink, it has
 * answered when the first bytes of any part arrive, and a part that fails fails the attempt
 * (the next region is then read from its start). Every byte is counted and hashed; a copy whose
 * size or sha256 does not match the pointer is rejected, whichever region served it.
 *
 * A payload of HASH_OFF_THREAD_FROM bytes or more goes into a buffer over a SharedArrayBuffer,
 * and its sha256 is computed on a worker thread of its own (hash-worker.ts) as the parts land,
 * so the thread that receives the bytes only copies them, as a raw GetObject does.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataIntegrityError, ImprintError, sha256Hex, type BlobLocation, type VersionRecord } from '../core/index.js';
import { storeFor, type BlobStore } from './blob-store/blob-store.js';
import { firstToDeliver, readOptionsWithDefaults, type ReadOptions, type SlowRegionEvent } from './hedge.js';
import { partOptionsWithDefaults, readInParts, type PartOptions, type PartSink } from './parts.js';

const MiB = 1024 * 1024;
/**
 * Payloads of this size or more are read into a SharedArrayBuffer and hashed on a worker of
 * their own (hash-worker.ts); smaller ones on the reading thread, where starting a worker
 * (45-100 ms here) would cost more than it saves.
 */
export const HASH_OFF_THREAD_FROM = 64 * MiB;

export interface FetchOptions extends ReadOptions, PartOptions {
  readonly signal?: AbortSignal;
  /** Bytes received so far (of the copy furthest along, when regions are read side by side); told from a microtask after they land. */
  readonly onProgress?: (p: { bytes: number; total: number }) => void;
  /** Told when a region is slow to answer (the next one is started beside it) or abandoned. */
  readonly onSlowRegion?: (e: SlowRegionEvent) => void;
  /**
   * Stores for the record when none of `stores` holds one of its locations: the service's lent
   * URLs (client/lent.ts lentStores), for a caller with no blob store of its own. @default none
   */
  readonly lent?: (record: VersionRecord) => Promise<readonly BlobStore[]>;
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

/** Where one attempt's verified bytes go (each region read gets its own), what they make, and how to drop it. */
interface Sink<T> extends PartSink {
  result(): Promise<T>;
  discard(): Promise<void>;
}

/** FetchOptions with the defaults of the hedge and of the parts filled in, checked (the error names the option). */
type Checked = FetchOptions & Required<ReadOptions> & Required<PartOptions>;
const checked = (opts: FetchOptions): Checked => ({ ...opts, ...readOptionsWithDefaults(opts), ...partOptionsWithDefaults(opts) });

/** The payload from the first region to deliver it whole and verified (see hedge.ts), through a sink opened per region read. */
async function fromFirstRegion<T>(record: VersionRecord, stores: readonly BlobStore[], opts: Checked, open: (o: Required<PartOptions>) => Promise<Sink<T>>): Promise<T> {
  const { hedgeDelayMs, firstByteTimeoutMs, partSize, partConcurrency } = opts;
  const parts = { partSize, partConcurrency };
  let sources = orderedSources(record, stores);
  if (sources.length === 0 && opts.lent) sources = orderedSources(record, await opts.lent(record));
  if (sources.length === 0) throw new PayloadUnavailableError(`no configured blob store holds a location of ${record.topic} v${record.version}`);
  const { size: total, sha256 } = record.pointer;
  let reported = 0;
  const progress = (bytes: number): void => {
    if (bytes <= reported) return;
    reported = bytes;
    // Told from a microtask, not from inside the socket's read: an error the caller makes there
    // (its abort) holds the frames it was made in, and those of the read would keep the
    // payload's buffer alive for as long as the error lives.
    const tell = opts.onProgress;
    if (tell) queueMicrotask(() => tell({ bytes, total }));
  };
  const what = `${record.topic} v${record.version}`;
  const r = await firstToDeliver(
    sources,
    (s) => s.store.region,
    async ({ store, loc }, ctx) => {
      // 1. This region's own sink, 2. its parts read into it, hashed in order and checked, 3. what the sink made.
      const sink = await open(parts);
      try {
        let received = 0;
        const onBytes = (n: number): void => {
          if (received === 0) ctx.answered();
          received += n;
          progress(received);
        };
        await readInParts(store, loc, { size: total, sha256, what }, { ...parts, signal: ctx.signal, onBytes }, sink);
        return await sink.result();
      } catch (err) {
        await sink.discard();
        throw err;
      }
    },
    { hedgeDelayMs, firstByteTimeoutMs, what, ...(opts.signal && { signal: opts.signal }), ...(opts.onSlowRegion && { onSlowRegion: opts.onSlowRegion }) },
  );
  if ('value' in r) return r.value;
  const reasons = r.failures.map((f) => `${f.region}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
  // Every copy was read and none matched: that is corruption, not unavailability.
  if (r.failures.every((f) => f.error instanceof DataIntegrityError)) throw new DataIntegrityError(`no copy of ${what} matches its pointer (${reasons})`);
  throw new PayloadUnavailableError(`cannot fetch ${what} from any region (${reasons})`, r.failures.at(-1)?.error);
}

/** The whole payload in memory, verified. */
export async function fetchPayload(record: VersionRecord, stores: readonly BlobStore[], opts: FetchOptions = {}): Promise<Buffer> {
  const o = checked(opts);
  const p = record.pointer;
  if (p.kind === 'direct') {
    const bytes = Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
    if (bytes.length !== p.size || sha256Hex(bytes) !== p.sha256) throw new DataIntegrityError(`direct payload of ${record.topic} v${record.version} does not match its pointer`);
    opts.onProgress?.({ bytes: bytes.length, total: p.size });
    return bytes;
  }
  // One buffer of the pointer's size per region read: each part is read straight into its place.
  // A large one is shared with the hash worker, which hashes it as the parts land.
  return fromFirstRegion(record, stores, o, async () => {
    const shared = p.size >= HASH_OFF_THREAD_FROM ? new SharedArrayBuffer(p.size) : undefined;
    const out = shared ? Buffer.from(shared) : Buffer.allocUnsafe(p.size);
    return {
      ...(shared && { shared }),
      bufferFor: (offset, length) => out.subarray(offset, offset + length),
      result: async () => out,
      discard: async () => {},
    };
  });
}

/** Writes the verified payload to `file` (atomically: a temporary file per region read, the winner renamed at the end). */
export async function downloadPayload(record: VersionRecord, stores: readonly BlobStore[], file: string, opts: FetchOptions = {}): Promise<void> {
  const o = checked(opts);
  const partial = (): string => path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomUUID()}.partial`);
  if (record.pointer.kind === 'direct') {
    const tmp = partial();
    try {
      await fs.promises.writeFile(tmp, await fetchPayload(record, stores, o));
      await fs.promises.rename(tmp, file);
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
    return;
  }
  // A partial file per region read; each part is written once it is hashed, so at most
  // 2 x partConcurrency parts are in memory.
  const tmp = await fromFirstRegion(record, stores, o, async ({ partConcurrency }) => {
    const name = partial();
    const handle = await fs.promises.open(name, 'wx');
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    return {
      maxHeld: 2 * partConcurrency,
      bufferFor: (_offset, length) => Buffer.allocUnsafe(length),
      hashed: async (offset, bytes) => {
        for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at, bytes.length - at, offset + at)).bytesWritten;
      },
      result: async () => {
        await close();
        return name;
      },
      discard: async () => {
        await close().catch(() => {});
        await fs.promises.rm(name, { force: true });
      },
    };
  });
  try {
    await fs.promises.rename(tmp, file);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
