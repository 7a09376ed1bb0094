/**
 * Publishing: small payloads go inside the record; larger ones are uploaded to every
 * configured region's blob store at once and sha256-hashed beside the uploads (a stream or a
 * file as its chunks pass, read once and never held whole in memory; bytes already in memory a
 * slice per turn of the event loop while every region reads them whole), then recorded under
 * a publish id. A publish whose outcome is unknown is sent again
 * with the same id (the service makes one version of it, whatever the number of attempts), and
 * uploaded objects are removed only when the service said for certain that nothing was
 * published: a committed version never loses its payload.
 */
import { createHash, createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import pRetry from 'p-retry';
import {
  ImprintError,
  InvalidArgumentError,
  MAX_DIRECT_BYTES,
  sha256Hex,
  signContent,
  newTopicKey,
  validatePublishId,
  type BlobLocation,
  type DataPointer,
  type ErrorCode,
  type Scope,
  type Topic,
  type Version,
  type VersionRecord,
} from '../core/index.js';
import { storeFor, type BlobStore } from './blob-store/blob-store.js';
import type { ImprintClient, PublishedVersion } from './imprint-client.js';
import { spool, uploadLent } from './lent.js';

/** Bytes, a stream, or a file path. */
export type PublishData = Uint8Array | Readable | { readonly path: string };

export interface PublishOptions {
  readonly metadata?: Record<string, string>;
  /** None: every consumer. */
  readonly scopes?: readonly Scope[];
  /** Upload progress: bytes read so far, and the total when known. */
  readonly onProgress?: (p: { bytes: number; total?: number }) => void;
  /**
   * Names this publish for retries (1-128 characters of A-Z a-z 0-9 . _ : -): a publish whose
   * id the topic has already recorded returns the version it made (`replayed`) instead of
   * making another. A build job that repeats its whole publish step passes the same id every
   * time (its build number, say) and gets the same version, never a duplicate.
   * @default a new random id per call: retries within the call are covered, a repeated call is a new publish
   */
  readonly publishId?: string;
  /**
   * On a topic with a rollout policy, reach every consumer at once instead of starting a
   * rollout (an owner's choice; explicit `scopes` do the same). Either way the publish
   * supersedes a running rollout. @default false
   */
  readonly noRollout?: boolean;
}

export interface PublisherOptions {
  readonly client: ImprintClient;
  /** One store per region; every blob payload is written to all of them. @default [] (payloads over 1 MiB go through the service's lent URLs: client/lent.ts) */
  readonly blobStores?: readonly BlobStore[];
  /**
   * How long a publish whose outcome is unknown (no answer, lost connection, UNAVAILABLE) keeps
   * being sent again with its publish id, in ms from the first attempt. @default 60000
   */
  readonly retryBudgetMs?: number;
  /** The first wait before sending again, in ms; it doubles (with jitter) up to retryMaxMs. @default 250 */
  readonly retryMinMs?: number;
  /** The longest wait between two attempts, in ms. @default 5000 */
  readonly retryMaxMs?: number;
  /**
   * Signs every version this publisher records (docs/SIGNING.md): an Ed25519 private key as a
   * KeyObject, PEM text, or `{ path }` of a PEM file (`imprint keygen` writes one). A topic
   * with trusted keys takes only publishes signed by one of them. @default none (unsigned)
   */
  readonly signKey?: KeyObject | string | { readonly path: string };
}

interface ResolvedPublisherOptions {
  readonly client: ImprintClient;
  readonly signKey: KeyObject | undefined;
  readonly blobStores: readonly BlobStore[];
  readonly retryBudgetMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/** The defaults of PublisherOptions (read by publisherWithDefaults, and by the CLI's help). */
export const PUBLISHER_DEFAULTS = { retryBudgetMs: 60_000, retryMinMs: 250, retryMaxMs: 5_000 } as const;

/** The Publisher's options with their defaults, checked; errors name the option. */
export function publisherWithDefaults(o: PublisherOptions): ResolvedPublisherOptions {
  const ms = (field: string, v: number | undefined, dflt: number, min: number): number => {
    const x = v ?? dflt;
    if (!Number.isSafeInteger(x) || x < min) throw new InvalidArgumentError(field, `must be a whole number of milliseconds >= ${min}`, x);
    return x;
  };
  const retryMinMs = ms('retryMinMs', o.retryMinMs, PUBLISHER_DEFAULTS.retryMinMs, 1);
  return {
    client: o.client,
    signKey: o.signKey === undefined ? undefined : signingKeyOf(o.signKey),
    blobStores: o.blobStores ?? [],
    retryBudgetMs: ms('retryBudgetMs', o.retryBudgetMs, PUBLISHER_DEFAULTS.retryBudgetMs, 0),
    retryMinMs,
    retryMaxMs: ms('retryMaxMs', o.retryMaxMs, PUBLISHER_DEFAULTS.retryMaxMs, retryMinMs),
  };
}

/** The signing key as a KeyObject: an Ed25519 private key, or an error naming `signKey`. */
function signingKeyOf(k: KeyObject | string | { readonly path: string }): KeyObject {
  let key: KeyObject;
  if (typeof k === 'string' || 'path' in k) {
    let pem: string;
    try {
      pem = typeof k === 'string' ? k : fs.readFileSync(k.path, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError('signKey', `must be a readable PEM file (${err instanceof Error ? err.message : String(err)})`);
    }
    try {
      key = createPrivateKey(pem);
    } catch (err) {
      throw new InvalidArgumentError('signKey', `must be an Ed25519 private key in PEM (${err instanceof Error ? err.message : String(err)})`);
    }
  } else key = k;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new InvalidArgumentError('signKey', 'must be an Ed25519 private key', `${key.type} ${key.asymmetricKeyType ?? ''}`.trim());
  return key;
}

/** An upload to a blob store failed; nothing was published and uploaded objects were removed. */
export class UploadError extends ImprintError {
  constructor(message: string, cause: unknown) {
    super('UNAVAILABLE', message, { cause });
  }
}

/**
 * The service never said for certain whether the publish was recorded: no answer within the
 * retry budget, an answer that is no refusal (INTERNAL, or one that cannot be read), or a
 * refusal after an attempt whose outcome was unknown. The version may exist, pointing at the
 * uploaded objects, so they were kept (`kept`). Publish again with the same `publishId` to
 * settle it: the answer is the version if there is one (replayed), else a new one.
 */
export class PublishOutcomeUnknownError extends ImprintError {
  readonly topic: string;
  readonly publishId: string;
  readonly kept: readonly BlobLocation[];
  constructor(topic: string, publishId: string, kept: readonly BlobLocation[], attempts: number, cause: unknown) {
    const where = kept.length > 0 ? `; its uploaded objects were kept (${kept.map((l) => `${l.kind}://${l.bucket}/${l.key} (${l.region})`).join(', ')})` : '';
    super(
      'UNAVAILABLE',
      `publish to topic "${topic}" may or may not have been recorded: no certain answer in ${attempts} attempt(s) (${cause instanceof Error ? cause.message : String(cause)})${where}; publish again with publish id ${JSON.stringify(publishId)}: it returns the version if there is one, and makes it otherwise`,
      { cause },
    );
    this.topic = topic;
    this.publishId = publishId;
    this.kept = kept;
  }
}

/**
 * THE rule for uploaded objects: they are deleted only when the service refused the publish
 * for certain, that is, it answered the FIRST attempt with one of these codes, each decided
 * before anything is written (bad input, no such topic or version, the publish id made another
 * publish, a call this server does not serve). Once an attempt's outcome is unknown, no later
 * answer proves that attempt wrote nothing, so the objects stay. Everything else (no answer,
 * INTERNAL, an answer that cannot be read) is an unknown outcome: the objects stay, and
 * UNAVAILABLE (no answer, DEADLINE_EXCEEDED, CANCELLED, a lost connection) is sent again.
 */
const REFUSED: ReadonlySet<ErrorCode> = new Set(['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'NOT_FOUND', 'ALREADY_EXISTS']);
const isRefusal = (err: unknown): boolean => err instanceof ImprintError && REFUSED.has(err.code);
const isNoAnswer = (err: unknown): boolean => err instanceof ImprintError && err.code === 'UNAVAILABLE';

export class Publisher {
  private readonly client: ImprintClient;
  private readonly stores: readonly BlobStore[];
  private readonly o: ResolvedPublisherOptions;

  constructor(opts: PublisherOptions) {
    this.o = publisherWithDefaults(opts);
    this.client = this.o.client;
    this.stores = this.o.blobStores;
  }

  createTopic(t: Parameters<ImprintClient['createTopic']>[0]): Promise<Topic> {
    return this.client.createTopic(t);
  }

  updateTopic(name: string, patch: Parameters<ImprintClient['updateTopic']>[1]): Promise<Topic> {
    return this.client.updateTopic(name, patch);
  }

  /**
   * Records a version whose payload is already uploaded (or direct bytes you hashed yourself),
   * retried with its publish id like `publish`; the objects are yours and never deleted here.
   */
  publishPointer(topic: string, pointer: DataPointer, opts: Pick<PublishOptions, 'metadata' | 'scopes' | 'publishId' | 'noRollout'> = {}): Promise<PublishedVersion> {
    return this.record(topic, pointer, opts, publishIdOf(opts), []);
  }

  /** Widens who gets an existing version (the only change a version ever takes). */
  addScopes(topic: string, version: Version, scopes: readonly Scope[]): Promise<VersionRecord> {
    return this.client.addScopes(topic, version, scopes);
  }

  async publish(topic: string, data: PublishData, opts: PublishOptions = {}): Promise<PublishedVersion> {
    const publishId = publishIdOf(opts);
    // 1. Small enough to go direct? (Reads at most 1 MiB + 1 byte to find out.)
    const source = await openSource(data);
    if (source.kind === 'direct') {
      opts.onProgress?.({ bytes: source.bytes.length, total: source.bytes.length });
      const pointer: DataPointer = { kind: 'direct', size: source.bytes.length, sha256: sha256Hex(source.bytes), bytes: source.bytes };
      return this.record(topic, pointer, opts, publishId, []);
    }
    if (this.stores.length === 0) {
      // 2'. No store of our own: the service's lent URLs (client/lent.ts); they are not ours to delete.
      const pointer = await this.uploadLent(topic, data, source, opts.onProgress);
      return this.record(topic, pointer, opts, publishId, []);
    }
    // 2. Upload to every region in parallel, hashing the bytes beside the uploads.
    const key = newTopicKey(topic, new Date(), randomUUID());
    const uploaded = await uploadEverywhere(this.stores, key, source, opts.onProgress);
    // 3. Record it under the publish id (objects removed only on a certain refusal).
    const pointer: DataPointer = { kind: 'blob', size: uploaded.size, sha256: uploaded.sha256, locations: uploaded.locations };
    return this.record(topic, pointer, opts, publishId, uploaded.locations);
  }

  /** Uploads through the service's lent URLs: a file or bytes as they are, a stream spooled to a temporary file first. */
  private async uploadLent(topic: string, data: PublishData, source: Exclude<Source, { kind: 'direct' }>, onProgress: PublishOptions['onProgress']): Promise<DataPointer> {
    const progress = onProgress && ((p: { bytes: number; total: number }) => onProgress(p));
    const o = progress ? { onProgress: progress } : {};
    if (source.kind === 'bytes') return uploadLent(this.client, topic, { bytes: source.bytes }, o);
    if (!(data instanceof Readable) && !(data instanceof Uint8Array)) {
      source.stream.destroy();
      return uploadLent(this.client, topic, { path: data.path }, o);
    }
    const spooled = await spool(source.stream);
    try {
      return await uploadLent(this.client, topic, { path: spooled.path }, o);
    } finally {
      await spooled.remove();
    }
  }

  /**
   * Sends the publish until the service answers for certain, within the retry budget:
   * 1. send it with its publish id;
   * 2. no answer (UNAVAILABLE): wait (capped, doubling, with jitter) and send it again, same id;
   * 3. answered with a version: when it is a replay of an earlier call, that call's objects
   *    hold the payload, so ours (`uploaded`) are removed;
   * 4. a refusal of the first attempt (REFUSED) removes them; anything else leaves them and
   *    says the outcome is unknown (PublishOutcomeUnknownError).
   */
  private async record(topic: string, pointer: DataPointer, opts: Pick<PublishOptions, 'metadata' | 'scopes' | 'noRollout'>, publishId: string, uploaded: readonly BlobLocation[]): Promise<PublishedVersion> {
    let attempts = 0;
    let unknown = 0;
    // Signed once, over what every attempt sends (docs/SIGNING.md).
    const signature = this.o.signKey && signContent({ topic, metadata: opts.metadata ?? {}, pointer }, this.o.signKey);
    try {
      const published = await pRetry(() => this.client.publishPointer(topic, pointer, { metadata: opts.metadata ?? {}, scopes: opts.scopes ?? [], noRollout: opts.noRollout ?? false, publishId, ...(signature && { signature }) }), {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: this.o.retryMinMs,
        maxTimeout: this.o.retryMaxMs,
        randomize: true,
        maxRetryTime: this.o.retryBudgetMs,
        onFailedAttempt: ({ error }) => {
          attempts++;
          if (!isRefusal(error)) unknown++;
        },
        shouldRetry: ({ error }) => isNoAnswer(error),
      });
      if (published.replayed && uploaded.length > 0 && !pointsAtAny(published, uploaded)) await removeAll(this.stores, uploaded);
      return published;
    } catch (err) {
      if (unknown === 0 && isRefusal(err)) {
        await removeAll(this.stores, uploaded);
        throw err;
      }
      throw new PublishOutcomeUnknownError(topic, publishId, uploaded, attempts, err);
    }
  }
}

/** The caller's publish id (checked, named as the option), or a new random one. */
function publishIdOf(opts: Pick<PublishOptions, 'publishId'>): string {
  if (opts.publishId === undefined) return randomUUID();
  if (opts.publishId === '') throw new InvalidArgumentError('publishId', 'must not be empty (leave it out for a random one)');
  return validatePublishId(opts.publishId, 'publishId');
}

/** Whether the record's payload is (also) at one of these locations. */
function pointsAtAny(r: VersionRecord, locations: readonly BlobLocation[]): boolean {
  return r.pointer.kind === 'blob' && r.pointer.locations.some((l) => locations.some((u) => u.region === l.region && u.bucket === l.bucket && u.key === l.key));
}

type Source =
  | { kind: 'direct'; bytes: Uint8Array }
  /** Over 1 MiB and already in memory: each region reads it whole (no copy), hashed beside the uploads. */
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'stream'; stream: Readable; total?: number };

async function openSource(data: PublishData): Promise<Source> {
  if (data instanceof Uint8Array) {
    return { kind: data.length <= MAX_DIRECT_BYTES ? 'direct' : 'bytes', bytes: data };
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

/** What the regions' uploads read (one body each), and the size and sha256 of what was read. */
interface Feed {
  readonly bodies: readonly Readable[];
  /** Settles once the source is read whole (rejects when it fails or is stopped). */
  readonly digest: Promise<{ size: number; sha256: string }>;
  /** Stops reading the source (an upload failed). */
  stop(): void;
}

/** Bytes hashed per turn of the event loop, so that hashing in-memory bytes leaves the uploads room to run. */
const HASH_SLICE = 8 * 1024 * 1024;

/** In-memory bytes: every region reads the same bytes, while they are hashed a slice per turn. */
function feedBytes(bytes: Uint8Array, regions: number, onProgress: PublishOptions['onProgress']): Feed {
  const stopped = new AbortController();
  const digest = (async () => {
    const hash = createHash('sha256');
    for (let off = 0; off < bytes.length; off += HASH_SLICE) {
      await setImmediate();
      stopped.signal.throwIfAborted();
      const end = Math.min(bytes.length, off + HASH_SLICE);
      hash.update(bytes.subarray(off, end));
      onProgress?.({ bytes: end, total: bytes.length });
    }
    return { size: bytes.length, sha256: hash.digest('hex') };
  })();
  return { bodies: Array.from({ length: regions }, () => Readable.from([bytes])), digest, stop: () => stopped.abort() };
}

/** A stream, read once: hashed as its chunks pass on their way to every region. */
function feedStream(source: Readable, regions: number, total: number | undefined, onProgress: PublishOptions['onProgress']): Feed {
  const hash = createHash('sha256');
  let size = 0;
  const tees = Array.from({ length: regions }, () => new PassThrough({ highWaterMark: 1024 * 1024 }));
  source.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
    onProgress?.({ bytes: size, ...(total !== undefined && { total }) });
  });
  source.on('error', (err) => tees.forEach((t) => t.destroy(err)));
  for (const t of tees) source.pipe(t);
  const digest = finished(source).then(() => ({ size, sha256: hash.digest('hex') }));
  return {
    bodies: tees,
    digest,
    stop: () => {
      source.unpipe();
      source.destroy();
      for (const t of tees) t.destroy();
    },
  };
}

async function uploadEverywhere(
  stores: readonly BlobStore[],
  key: string,
  source: Exclude<Source, { kind: 'direct' }>,
  onProgress: PublishOptions['onProgress'],
): Promise<{ size: number; sha256: string; locations: BlobLocation[] }> {
  const total = source.kind === 'bytes' ? source.bytes.length : source.total;
  const feed = source.kind === 'bytes' ? feedBytes(source.bytes, stores.length, onProgress) : feedStream(source.stream, stores.length, total, onProgress);
  feed.digest.catch(() => {}); // awaited below only when every upload succeeded; a failure is the uploads' to report
  const abort = new AbortController();
  let firstFailure: unknown;
  const settled = await Promise.allSettled(
    stores.map((store, i) =>
      store.put(key, feed.bodies[i] as Readable, { signal: abort.signal, ...(total !== undefined && { size: total }) }).catch((err: unknown) => {
        // One region failed: stop the others and the source (their errors are consequences).
        if (firstFailure === undefined) firstFailure = err;
        abort.abort();
        feed.stop();
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
  const { size, sha256 } = await feed.digest;
  if (size === 0) {
    await removeAll(stores, locations);
    throw new InvalidArgumentError('data', 'must not be empty');
  }
  return { size, sha256, locations };
}

async function removeAll(stores: readonly BlobStore[], locations: readonly BlobLocation[]): Promise<void> {
  await Promise.allSettled(locations.map((loc) => storeFor(stores, loc)?.delete(loc)));
}
