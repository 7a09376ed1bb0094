/**
 * Reading the fallback snapshot the janitor writes: the pointer object names the current
 * snapshot; the snapshot carries its own sha256. Stores are tried in order (closest region
 * first); a snapshot already read is not fetched again until the pointer moves.
 */
import { Readable } from 'node:stream';
import { DataIntegrityError, ImprintError, decodeSnapshot, type Snapshot, type SnapshotPointer } from '../core/index.js';
import { BlobNotFoundError, type KeyedBlobStore } from './blob-store/blob-store.js';

/** Where snapshots live in each region's store. @default "imprint-snapshots" */
export const DEFAULT_SNAPSHOT_PREFIX = 'imprint-snapshots';

export const pointerKey = (prefix: string): string => `${prefix}/LATEST`;

export async function readAllBytes(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function parsePointer(bytes: Buffer): SnapshotPointer {
  const p = JSON.parse(bytes.toString('utf8')) as Partial<SnapshotPointer>;
  if (p.format !== 'imprint.snapshot.v1' || typeof p.key !== 'string' || typeof p.sha256 !== 'string') throw new DataIntegrityError('snapshot pointer is malformed');
  return p as SnapshotPointer;
}

/** No region had a readable, whole snapshot. */
export class SnapshotUnavailableError extends ImprintError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

export interface SnapshotReaderOptions {
  /** In order of preference: the closest region first. */
  readonly blobStores: readonly KeyedBlobStore[];
  /** @default "imprint-snapshots" */
  readonly prefix?: string;
}

export class SnapshotReader {
  private readonly stores: readonly KeyedBlobStore[];
  private readonly prefix: string;
  private cached: { key: string; snapshot: Snapshot } | undefined;

  constructor(opts: SnapshotReaderOptions) {
    this.stores = opts.blobStores;
    this.prefix = opts.prefix ?? DEFAULT_SNAPSHOT_PREFIX;
  }

  /** The newest whole snapshot any region has. `signal` ends the read (e.g. at a subscriber's start-up deadline). */
  async read(signal?: AbortSignal): Promise<Snapshot> {
    const failures: string[] = [];
    for (const store of this.stores) {
      // A writer may replace the pointer (and delete an old snapshot) between our two reads:
      // then read the pointer again.
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          const pointer = parsePointer(await readAllBytes(await store.get(store.locationOf(pointerKey(this.prefix)), signal)));
          if (this.cached?.key === pointer.key) return this.cached.snapshot;
          const snapshot = decodeSnapshot(await readAllBytes(await store.get(store.locationOf(pointer.key), signal)));
          this.cached = { key: pointer.key, snapshot };
          return snapshot;
        } catch (err) {
          if (signal?.aborted) throw new SnapshotUnavailableError(`reading the fallback snapshot was cut short: ${String(signal.reason)}`, err);
          if (attempt === 3 || !(err instanceof BlobNotFoundError)) {
            failures.push(`${store.region}: ${err instanceof Error ? err.message : String(err)}`);
            break;
          }
        }
      }
    }
    throw new SnapshotUnavailableError(`no region has a readable fallback snapshot (${failures.join('; ') || 'no stores configured'})`);
  }
}
