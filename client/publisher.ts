/**
 * Publishing: small payloads go inside the record; larger ones are streamed to every
 * configured region's blob store at once, hashed on the way (one pass, never held whole in
 * memory), then recorded. A failed upload or a refused publish leaves no object behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import {
  ImprintError,
  InvalidArgumentError,
  MAX_DIRECT_BYTES,
  sha256Hex,
  topicKey,
  type BlobLocation,
  type DataPointer,
  type Scope,
  type Topic,
  type Version,
  type VersionRecord,
} from '../core/index.js';
import { storeFor, type BlobStore } from './blob-store/blob-store.js';
import type { ImprintClient } from './imprint-client.js';

/** Bytes, a stream, or a file path. */
export type PublishData = Uint8Array | Readable | { readonly path: string };

export interface PublishOptions {
  readonly metadata?: Record<string, string>;
  /** None: every consumer. */
  readonly scopes?: readonly Scope[];
  /** Upload progress: bytes read so far, and the total when known. */
  readonly onProgress?: (p: { bytes: number; total?: number }) => void;
}

export interface PublisherOptions {
  readonly client: ImprintClient;
  /** One store per region; every blob payload is written to all of them. @default [] (direct payloads only) */
  readonly blobStores?: readonly BlobStore[];
}

/** An upload to a blob store failed; nothing was published and uploaded objects were removed. */
export class UploadError extends ImprintError {
  constructor(message: string, cause: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

export class Publisher {
  private readonly client: ImprintClient;
  private readonly stores: readonly BlobStore[];

  constructor(opts: PublisherOptions) {
    this.client = opts.client;
    this.stores = opts.blobStores ?? [];
  }

  createTopic(t: Parameters<ImprintClient['createTopic']>[0]): Promise<Topic> {
    return this.client.createTopic(t);
  }

  updateTopic(name: string, patch: Parameters<ImprintClient['updateTopic']>[1]): Promise<Topic> {
    return this.client.updateTopic(name, patch);
  }

  /** Records a version whose payload is already uploaded (or direct bytes you hashed yourself). */
  publishPointer(topic: string, pointer: DataPointer, opts: Pick<PublishOptions, 'metadata' | 'scopes'> = {}): Promise<VersionRecord> {
    return this.client.publishPointer(topic, pointer, opts);
  }

  /** Widens who gets an existing version (the only change a version ever takes). */
  addScopes(topic: string, version: Version, scopes: readonly Scope[]): Promise<VersionRecord> {
    return this.client.addScopes(topic, version, scopes);
  }

  async publish(topic: string, data: PublishData, opts: PublishOptions = {}): Promise<VersionRecord> {
    // 1. Small enough to go direct? (Reads at most 1 MiB + 1 byte to find out.)
    const source = await openSource(data);
    if (source.kind === 'direct') {
      opts.onProgress?.({ bytes: source.bytes.length, total: source.bytes.length });
      const pointer: DataPointer = { kind: 'direct', size: source.bytes.length, sha256: sha256Hex(source.bytes), bytes: source.bytes };
      return this.client.publishPointer(topic, pointer, opts);
    }
    if (this.stores.length === 0) {
      throw new InvalidArgumentError('data', `is larger than ${MAX_DIRECT_BYTES} bytes and no blob store is configured`);
    }
    // 2. Upload to every region in parallel, hashing as the bytes pass.
    const key = topicKey(topic, `${new Date().toISOString().replace(/[:.]/g, '')}-${randomUUID()}`);
    const uploaded = await uploadEverywhere(this.stores, key, source.stream, source.total, opts.onProgress);
    // 3. Record it; a refused publish removes the uploaded objects.
    const pointer: DataPointer = { kind: 'blob', size: uploaded.size, sha256: uploaded.sha256, locations: uploaded.locations };
    try {
      return await this.client.publishPointer(topic, pointer, opts);
    } catch (err) {
      await removeAll(this.stores, uploaded.locations);
      throw err;
    }
  }
}

type Source = { kind: 'direct'; bytes: Uint8Array } | { kind: 'stream'; stream: Readable; total?: number };

async function openSource(data: PublishData): Promise<Source> {
  if (data instanceof Uint8Array) {
    return data.length <= MAX_DIRECT_BYTES ? { kind: 'direct', bytes: data } : { kind: 'stream', stream: Readable.from([data]), total: data.length };
  }
  if (data instanceof Readable) return peek(data);
  const stat = await fs.promises.stat(data.path);
  if (!stat.isFile()) throw new InvalidArgumentError('path', 'must be a regular file', data.path);
  if (stat.size <= MAX_DIRECT_BYTES) return { kind: 'direct', bytes: await fs.promises.readFile(data.path) };
  return { kind: 'stream', stream: fs.createReadStream(data.path, { highWaterMark: 1024 * 1024 }), total: stat.size };
}

/** Reads up to 1 MiB + 1 byte of a stream: all of it is a direct payload; more goes on as a stream. */
async function peek(stream: Readable): Promise<Source> {
  const head: Buffer[] = [];
  let length = 0;
  const it = stream[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) return { kind: 'direct', bytes: Buffer.concat(head, length) };
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
    head.push(chunk);
    length += chunk.length;
    if (length > MAX_DIRECT_BYTES) {
      const rest = Readable.from(
        (async function* () {
          yield* head;
          for (;;) {
            const n = await it.next();
            if (n.done) return;
            yield n.value as Buffer;
          }
        })(),
      );
      return { kind: 'stream', stream: rest };
    }
  }
}

async function uploadEverywhere(
  stores: readonly BlobStore[],
  key: string,
  source: Readable,
  total: number | undefined,
  onProgress: PublishOptions['onProgress'],
): Promise<{ size: number; sha256: string; locations: BlobLocation[] }> {
  const hash = createHash('sha256');
  let size = 0;
  const abort = new AbortController();
  const tees = stores.map(() => new PassThrough({ highWaterMark: 1024 * 1024 }));
  source.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
    onProgress?.({ bytes: size, ...(total !== undefined && { total }) });
  });
  source.on('error', (err) => tees.forEach((t) => t.destroy(err)));
  for (const t of tees) source.pipe(t);
  let firstFailure: unknown;
  const settled = await Promise.allSettled(
    stores.map((store, i) =>
      store.put(key, tees[i] as PassThrough, { signal: abort.signal, ...(total !== undefined && { size: total }) }).catch((err: unknown) => {
        // One region failed: stop the others and the source (their errors are consequences).
        if (firstFailure === undefined) firstFailure = err;
        abort.abort();
        source.unpipe();
        source.destroy();
        for (const t of tees) t.destroy();
        throw err;
      }),
    ),
  );
  const locations = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (firstFailure !== undefined) {
    await removeAll(stores, locations);
    const reason = firstFailure;
    throw new UploadError(`upload of ${key} failed: ${reason instanceof Error ? reason.message : String(reason)}`, reason);
  }
  if (size === 0) {
    await removeAll(stores, locations);
    throw new InvalidArgumentError('data', 'must not be empty');
  }
  return { size, sha256: hash.digest('hex'), locations };
}

async function removeAll(stores: readonly BlobStore[], locations: readonly BlobLocation[]): Promise<void> {
  await Promise.allSettled(locations.map((loc) => storeFor(stores, loc)?.delete(loc)));
}
