/**
 * Reading a version's payload: direct bytes from the record, or the blob from the first
 * region that has it (stores in order of preference, closest first). Every byte is counted
 * and hashed; a payload whose size or sha256 does not match the pointer is rejected.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataIntegrityError, ImprintError, sha256Hex, type BlobLocation, type VersionRecord } from '../core/index.js';
import type { BlobStore } from './blob-store/blob-store.js';

export interface FetchOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { bytes: number; total: number }) => void;
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
    const loc = locs.find((l) => l.region === store.region && (l.kind === 'file') === (store.name === 'local'));
    return loc ? [{ store, loc }] : [];
  });
}

/** A transform that counts and hashes, and fails the stream at the end when either does not match. */
function verifier(record: VersionRecord, onProgress?: FetchOptions['onProgress']): Transform {
  const { size, sha256 } = record.pointer;
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > size) return cb(new DataIntegrityError(`payload of ${record.topic} v${record.version} is larger than its pointer's ${size} bytes`));
      hash.update(chunk);
      onProgress?.({ bytes, total: size });
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

/** Where verified bytes go: a fresh writable per attempt, or a function that reads them all. */
type Sink = () => Writable | ((source: AsyncIterable<Buffer>) => Promise<void>);

/** Streams the payload through the verifier into the sink, trying each region in turn until one succeeds. */
async function withPayload(record: VersionRecord, stores: readonly BlobStore[], opts: FetchOptions, sink: Sink): Promise<void> {
  const sources = orderedSources(record, stores);
  if (sources.length === 0) throw new PayloadUnavailableError(`no configured blob store holds a location of ${record.topic} v${record.version}`);
  const failures: string[] = [];
  let last: unknown;
  let allCorrupt = true;
  for (const { store, loc } of sources) {
    try {
      const body = await store.get(loc, opts.signal);
      const to = sink();
      if (typeof to === 'function') await pipeline(body, verifier(record, opts.onProgress), to);
      else await pipeline(body, verifier(record, opts.onProgress), to);
      return;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      last = err;
      if (!(err instanceof DataIntegrityError)) allCorrupt = false;
      failures.push(`${store.region}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // Every copy was read and none matched: that is corruption, not unavailability.
  if (allCorrupt) throw new DataIntegrityError(`no copy of ${record.topic} v${record.version} matches its pointer (${failures.join('; ')})`);
  throw new PayloadUnavailableError(`cannot fetch ${record.topic} v${record.version} from any region (${failures.join('; ')})`, last);
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
  const out = Buffer.allocUnsafe(p.size);
  await withPayload(record, stores, opts, () => async (source) => {
    let at = 0;
    for await (const chunk of source) at += chunk.copy(out, at);
  });
  return out;
}

/** Writes the verified payload to `file` (atomically: a temporary file renamed at the end). */
export async function downloadPayload(record: VersionRecord, stores: readonly BlobStore[], file: string, opts: FetchOptions = {}): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${randomUUID()}.partial`);
  try {
    if (record.pointer.kind === 'direct') {
      await fs.promises.writeFile(tmp, await fetchPayload(record, stores, opts));
    } else {
      await withPayload(record, stores, opts, () => fs.createWriteStream(tmp));
    }
    await fs.promises.rename(tmp, file);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
