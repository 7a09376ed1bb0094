/**
 * One region's copy of a blob, read in parts and verified as one: ranged GETs,
 * `partConcurrency` of them at a time, each part's bytes written straight where they belong
 * (the sink says where: one buffer of the pointer's size for fetchPayload, part buffers for a
 * file), while ONE sha256 is fed every byte in order:
 *  - the part at the hashing frontier (the first part not yet hashed whole) is hashed chunk by
 *    chunk as its bytes arrive;
 *  - a later part that is read first waits in place; when the frontier reaches it, what it
 *    already has is hashed at once, and the rest as it arrives.
 * So hashing runs while later parts are still downloading, and the last byte in is hashed a
 * moment after it arrives, not after a second pass over the whole. A sink whose buffers are
 * views of one SharedArrayBuffer (`shared`) has that sha256 computed on a worker thread
 * (hash-worker.ts) instead of this one; a worker that stops fails the read at once.
 *
 * A store with `readInto` (S3, lent URLs: client/range-get.ts) has its socket read each part
 * straight into its place and says how many bytes landed; any other is read through get(), its
 * chunks copied into place. Every part must deliver exactly its bytes; the last one asks for
 * one byte more, so an object longer than its pointer is caught as surely as a shorter one. At the end the sha256 must be
 * the pointer's. Any failure (a part, the sink, the caller's abort) stops every other part and
 * keeps nothing: the sink's buffers are dropped, and the caller discards what it wrote.
 */
import { createHash } from 'node:crypto';
import { DataIntegrityError, InvalidArgumentError, type BlobLocation } from '../core/index.js';
import type { BlobStore } from './blob-store/blob-store.js';
import { sharedHash, type HashWorkerError, type SharedHash } from './hash-worker.js';

const MiB = 1024 * 1024;

export interface PartOptions {
  /** Bytes per ranged GET: a blob larger than this is read in parts, several at once (1024 to 1 GiB). @default 8 MiB */
  readonly partSize?: number;
  /** Ranged GETs in flight per region read (1 to 64). @default 4 */
  readonly partConcurrency?: number;
}

export const PART_DEFAULTS: Readonly<Required<PartOptions>> = { partSize: 8 * MiB, partConcurrency: 4 };

/** Fills and checks PartOptions; `names` are the caller's names for the two fields (the CLI's flags). */
export function partOptionsWithDefaults(o: PartOptions, names: Readonly<Record<keyof PartOptions, string>> = { partSize: 'partSize', partConcurrency: 'partConcurrency' }): Required<PartOptions> {
  const partSize = o.partSize ?? PART_DEFAULTS.partSize;
  if (!Number.isSafeInteger(partSize) || partSize < 1024 || partSize > 1024 * MiB) throw new InvalidArgumentError(names.partSize, 'must be a whole number of bytes from 1024 to 1073741824', partSize);
  const partConcurrency = o.partConcurrency ?? PART_DEFAULTS.partConcurrency;
  if (!Number.isSafeInteger(partConcurrency) || partConcurrency < 1 || partConcurrency > 64) throw new InvalidArgumentError(names.partConcurrency, 'must be a whole number from 1 to 64', partConcurrency);
  return { partSize, partConcurrency };
}

/** Where one region read's bytes go. */
export interface PartSink {
  /** The buffer the part of `length` bytes at `offset` is read into. */
  bufferFor(offset: number, length: number): Buffer;
  /**
   * Told of each part once it is hashed, in order (every part before it was told first); a
   * file sink writes it here. The part's buffer is not touched again.
   */
  hashed?(offset: number, bytes: Buffer): Promise<void>;
  /** Parts that may be in memory at once, read or being read, not yet through `hashed` (bounds a file sink's memory). @default no bound */
  readonly maxHeld?: number;
  /**
   * The SharedArrayBuffer that every buffer of `bufferFor` is a view of, at the part's offset:
   * the sha256 is then computed on the hash worker (hash-worker.ts) beside the reads, rather
   * than on the reading thread. @default none: hashed on the reading thread
   */
  readonly shared?: SharedArrayBuffer;
}

/** What the copy must be, and the name errors give it ("model v42"). */
export interface Expected {
  readonly size: number;
  readonly sha256: string;
  readonly what: string;
}

export interface PartRead extends Required<PartOptions> {
  /** Ends the read at once (the attempt lost, was abandoned, or the caller gave up). */
  readonly signal: AbortSignal;
  /** Bytes as they arrive, in any order of parts. */
  readonly onBytes: (n: number) => void;
  /** Starts a shared sink's sha256 on a worker (tests wrap it to stop the worker). @default sharedHash */
  readonly startHash?: (buffer: SharedArrayBuffer, onFail: (err: HashWorkerError) => void) => SharedHash;
}

/** One sha256 fed in order, on this thread or on the hash worker. */
interface Hasher {
  update(bytes: Buffer): void;
  digest(): Promise<string>;
  drop(): void;
}

/** A sha256 on this thread. */
function localHash(): Hasher {
  const hash = createHash('sha256');
  return { update: (b) => void hash.update(b), digest: async () => hash.digest('hex'), drop: () => {} };
}

interface Part {
  readonly offset: number;
  readonly length: number;
  /** Set while the part is read and until it is hashed whole. */
  buf?: Buffer;
  filled: number;
  hashed: number;
  done: boolean;
}

/** The parts of `size` bytes; at least one, so that an empty blob is still asked for (and checked to be empty). */
function partsOf(size: number, partSize: number): Part[] {
  const parts: Part[] = [];
  for (let offset = 0; offset < size || parts.length === 0; offset += partSize) parts.push({ offset, length: Math.min(partSize, size - offset), filled: 0, hashed: 0, done: false });
  return parts;
}

/** Slots for parts held in memory: take() waits for one when none is free; fail() ends every wait. */
class Slots {
  private readonly waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private failure: { readonly err: unknown } | undefined;
  constructor(private free: number) {}
  take(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.free++;
  }
  fail(err: unknown): void {
    this.failure ??= { err };
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

/**
 * Reads `loc` from `store` into `sink` in parts (see the top of this file), checked against
 * `want`. Resolves once every byte is read, hashed and through the sink.
 * @throws DataIntegrityError when the copy's size or sha256 is not the pointer's; the store's error when a part fails; the signal's reason on abort.
 */
export async function readInParts(store: BlobStore, loc: BlobLocation, want: Expected, o: PartRead, sink: PartSink): Promise<void> {
  o.signal.throwIfAborted();
  const parts = partsOf(want.size, o.partSize);
  const stop = new AbortController();
  const held = new Slots(sink.maxHeld ?? parts.length);
  let frontier = 0;
  let writes: Promise<void> = Promise.resolve();
  const fail = (err: unknown): void => {
    stop.abort(err);
    held.fail(err);
  };
  // A worker that fails stops the read at once (its digest would never come).
  const hash = sink.shared ? (o.startHash ?? sharedHash)(sink.shared, fail) : localHash();
  const onAbort = (): void => fail(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });

  /** Feeds the hash what the frontier part has; moves the frontier past every part hashed whole. */
  const hashReady = (): void => {
    for (let p = parts[frontier]; p?.buf; p = parts[frontier]) {
      if (p.filled > p.hashed) hash.update(p.buf.subarray(p.hashed, p.filled));
      p.hashed = p.filled;
      if (!p.done) return;
      frontier++;
      const { offset, buf } = p;
      delete p.buf;
      if (sink.hashed) {
        const tell = sink.hashed.bind(sink);
        writes = writes.then(() => tell(offset, buf)).then(() => held.release());
        writes.catch(fail);
      } else held.release();
    }
  };

  const readPart = async (p: Part): Promise<void> => {
    const buf = sink.bufferFor(p.offset, p.length);
    p.buf = buf;
    const last = p.offset + p.length === want.size;
    const range = { offset: p.offset, length: last ? p.length + 1 : p.length };
    const larger = (): DataIntegrityError => new DataIntegrityError(`payload of ${want.what} is larger than its pointer's ${want.size} bytes`);
    const landed = (n: number): void => {
      p.filled += n;
      o.onBytes(n);
      hashReady();
    };
    if (store.readInto) {
      // The store's socket reads into the part's place; a body longer than it is not read.
      if ((await store.readInto(loc, range, buf, { signal: stop.signal, onBytes: landed })) > p.length) throw larger();
    } else {
      const body = await store.get(loc, { signal: stop.signal, range });
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (p.filled + chunk.length > p.length) throw larger();
        chunk.copy(buf, p.filled);
        landed(chunk.length);
      }
    }
    if (p.filled < p.length) {
      throw new DataIntegrityError(`payload of ${want.what} is shorter than its pointer's ${want.size} bytes (bytes ${p.offset}-${p.offset + p.length - 1} gave ${p.filled} of ${p.length})`);
    }
    p.done = true;
    hashReady();
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      await held.take();
      const p = parts[next++];
      if (!p) return held.release();
      await readPart(p);
    }
  };
  const workers = Array.from({ length: Math.min(o.partConcurrency, parts.length) }, worker);
  let got: string;
  try {
    await Promise.all(workers);
    await writes;
    got = await hash.digest();
  } catch (err) {
    fail(err);
    hash.drop();
    await Promise.allSettled([...workers, writes]);
    // The first cause, not the abort it set off in the other parts.
    throw stop.signal.reason;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
  if (got !== want.sha256) throw new DataIntegrityError(`payload of ${want.what} does not match its sha256 (got ${got.slice(0, 12)}…, want ${want.sha256.slice(0, 12)}…)`);
}
