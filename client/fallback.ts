/**
 * Reading the fallback snapshot the janitor writes: the pointer object names the current
 * snapshot; the snapshot carries its own sha256. Stores are read in order (closest region
 * first), with the hedge and first-byte timeout of payload fetches (hedge.ts): a hung region
 * costs the hedge delay, not its socket timeouts. A snapshot already read is not fetched again
 * until the pointer moves.
 */
import { Readable } from 'node:stream';
import { DataIntegrityError, ImprintError, SNAPSHOT_PREFIX, decodeSnapshot, validateSnapshotPrefix, type Snapshot, type SnapshotPointer } from '../core/index.js';
import { BlobNotFoundError, type KeyedBlobStore } from './blob-store/blob-store.js';
import { firstToDeliver, readOptionsWithDefaults, type AttemptContext, type ReadOptions, type SlowRegionEvent } from './hedge.js';

/** Where snapshots live in each region's store (a reserved topic name: see core/blob-keys.ts). */
export const DEFAULT_SNAPSHOT_PREFIX = SNAPSHOT_PREFIX;

export const pointerKey = (prefix: string): string => `${prefix}/LATEST`;

/** All of a stream's bytes; `onFirstBytes` is called when the first arrive. */
export async function readAllBytes(r: Readable, onFirstBytes?: () => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) {
    if (chunks.length === 0) onFirstBytes?.();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parsePointer(bytes: Buffer): SnapshotPointer {
  const p = JSON.parse(bytes.toString('utf8')) as Partial<SnapshotPointer>;
  if (p.format !== 'imprint.snapshot.v1' || typeof p.key !== 'string' || typeof p.sha256 !== 'string') throw new DataIntegrityError('snapshot pointer is malformed');
  return p as SnapshotPointer;
}

/**
 * One region's current snapshot, read whole and checked (its own sha256), with the pointer
 * that names it: for tools that must say which snapshot they read (`imprint snapshot`).
 * @throws SnapshotUnavailableError naming the object (the pointer, or the snapshot it names)
 *   that is missing, unreadable or damaged.
 */
export async function readCurrentSnapshot(store: KeyedBlobStore, prefix: string = DEFAULT_SNAPSHOT_PREFIX): Promise<{ pointer: SnapshotPointer; snapshot: Snapshot; size: number }> {
  const read = async <T>(key: string, decode: (bytes: Buffer) => T): Promise<T> => {
    try {
      return decode(await readAllBytes(await store.get(store.locationOf(key))));
    } catch (err) {
      throw new SnapshotUnavailableError(`region ${store.region}, ${key}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  };
  const pointer = await read(pointerKey(validateSnapshotPrefix(prefix)), parsePointer);
  return read(pointer.key, (bytes) => ({ pointer, snapshot: decodeSnapshot(bytes), size: bytes.length }));
}

/** No region had a readable, whole snapshot. */
export class SnapshotUnavailableError extends ImprintError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

export interface SnapshotReaderOptions extends ReadOptions {
  /** In order of preference: the closest region first. */
  readonly blobStores: readonly KeyedBlobStore[];
  /** Another prefix must start with a segment no topic can be named (e.g. "_snapshots"). @default "imprint-snapshots" */
  readonly prefix?: string;
}

export class SnapshotReader {
  private readonly stores: readonly KeyedBlobStore[];
  private readonly prefix: string;
  private readonly timing: Required<ReadOptions>;
  private cached: { key: string; snapshot: Snapshot } | undefined;

  constructor(opts: SnapshotReaderOptions) {
    this.stores = opts.blobStores;
    this.prefix = validateSnapshotPrefix(opts.prefix ?? DEFAULT_SNAPSHOT_PREFIX);
    this.timing = readOptionsWithDefaults(opts);
  }

  /**
   * The newest whole snapshot of the first region to deliver one. `onSlowRegion`: told of
   * regions hedged or abandoned; `signal` ends the read (e.g. at a subscriber's start-up deadline).
   */
  async read(opts: { readonly onSlowRegion?: (e: SlowRegionEvent) => void; readonly signal?: AbortSignal } = {}): Promise<Snapshot> {
    let r: Awaited<ReturnType<typeof firstToDeliver<KeyedBlobStore, Snapshot>>>;
    try {
      r = await firstToDeliver(this.stores, (s) => s.region, (store, ctx) => this.readFrom(store, ctx), {
        ...this.timing,
        what: 'the fallback snapshot',
        ...(opts.onSlowRegion && { onSlowRegion: opts.onSlowRegion }),
        ...(opts.signal && { signal: opts.signal }),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw new SnapshotUnavailableError(`reading the fallback snapshot was cut short: ${String(opts.signal.reason)}`, err);
      throw err;
    }
    if ('value' in r) return r.value;
    const failures = r.failures.map((f) => `${f.region}: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
    throw new SnapshotUnavailableError(`no region has a readable fallback snapshot (${failures.join('; ') || 'no stores configured'})`);
  }

  /** One region's snapshot; it has answered once the snapshot's first bytes arrive (or the pointer names the one held). */
  private async readFrom(store: KeyedBlobStore, ctx: AttemptContext): Promise<Snapshot> {
    // A writer may replace the pointer (and delete an old snapshot) between our two reads:
    // then read the pointer again.
    for (let attempt = 1; ; attempt++) {
      try {
        const pointer = parsePointer(await readAllBytes(await store.get(store.locationOf(pointerKey(this.prefix)), { signal: ctx.signal })));
        if (this.cached?.key === pointer.key) {
          ctx.answered();
          return this.cached.snapshot;
        }
        const snapshot = decodeSnapshot(await readAllBytes(await store.get(store.locationOf(pointer.key), { signal: ctx.signal }), ctx.answered));
        this.cached = { key: pointer.key, snapshot };
        return snapshot;
      } catch (err) {
        if (attempt === 3 || !(err instanceof BlobNotFoundError)) throw err;
      }
    }
  }
}
