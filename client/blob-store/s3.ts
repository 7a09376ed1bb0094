/**
 * The production blob store: one bucket in one region of S3 (or an S3-compatible server such
 * as MinIO). One S3Client per store, i.e. per region. Uploads go through lib-storage's
 * `Upload` (multipart above one part, parts sent in parallel) with the SDK's default checksum
 * settings (CRC32 on every request body, response checksums validated when S3 has them).
 *
 * Behaviour mirrors the local store: a reader sees the whole object or none (S3 makes an
 * object visible only when its PutObject / CompleteMultipartUpload succeeds), a failed or
 * aborted upload leaves no object (lib-storage aborts the multipart upload; an object that
 * was already written when the abort came is deleted, best effort), a missing object is a
 * BlobNotFoundError, and locations of another kind, bucket or region are refused.
 * PutOptions.onProgress gets the bytes S3 has acknowledged, so it moves one part at a time.
 * A get with a range is a GET with a Range header; a range that starts at or past the end of
 * the object (S3 answers 416) is an empty body, as a read past the end of a local file is.
 * readInto (the ranged reads of fetch.ts) GETs a URL presigned with the store's own client and
 * credentials through client/range-get.ts, whose socket reads the body straight into the
 * destination; whatever that reader does not answer itself (a status other than 2xx, 404 and
 * 416, a connection that fails, an answer it cannot read) is read from where it stopped by
 * the SDK's GetObject, so the SDK's retries, clock-skew correction and errors apply as before.
 * Keys are written as given (the publisher makes them unique); there is no key prefix.
 *
 * A region that cannot be reached (connection refused or reset, DNS failure, timeouts,
 * 5xx/429 after the SDK's retries) is an UnavailableError, so callers such as fetch.ts move on
 * to the next region.
 */
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { FailedPreconditionError, ImprintError, InvalidArgumentError, UnavailableError, type BlobLocation } from '../../core/index.js';
import { RangeGetError, RangeGetter } from '../range-get.js';
import { BlobNotFoundError, checkRange, type BlobStat, type ByteRange, type GetOptions, type KeyedBlobStore, type PutOptions, type ReadIntoOptions } from './blob-store.js';

const MiB = 1024 * 1024;
/** S3's limits on multipart uploads. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
/** How long readInto's presigned GETs are valid (one is signed per part, just before it is read). */
const PRESIGN_SECONDS = 900;

export interface S3BlobStoreOptions {
  /** The AWS region the bucket is in; also the region this store serves and signs requests for. */
  readonly region: string;
  /** The bucket objects are written to (see ensureBucket()). */
  readonly bucket: string;
  /** An endpoint URL instead of AWS's for the region (MinIO, a VPC endpoint...). @default AWS's endpoint for `region` */
  readonly endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers and loopback endpoints need. @default false */
  readonly forcePathStyle?: boolean;
  /** Static credentials or a provider. @default the SDK's default chain (env, shared config, SSO, instance/container roles...) */
  readonly credentials?: S3ClientConfig['credentials'];
  /** Bytes per multipart part (at least 5 MiB); raised when PutOptions.size needs more than 10,000 parts. @default 8 MiB */
  readonly partSize?: number;
  /** Parts uploaded in parallel per object; an upload buffers at most partSize × queueSize bytes. @default 4 */
  readonly queueSize?: number;
  /** Attempts per request, including the first (the SDK's standard retry strategy). @default 3 */
  readonly maxAttempts?: number;
  /** How long connecting may take before the attempt fails. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** How long a connection may stay silent (no bytes either way) before the attempt fails. @default 30000 */
  readonly socketTimeoutMs?: number;
}

type Resolved = Required<Omit<S3BlobStoreOptions, 'endpoint' | 'credentials'>> & Pick<S3BlobStoreOptions, 'endpoint' | 'credentials'>;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function positiveInt(field: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(field, `must be a whole number in [${min}, ${max}]`, v);
  return v;
}

function withDefaults(o: S3BlobStoreOptions): Resolved {
  if (o.region.trim() === '') throw new InvalidArgumentError('region', 'must not be empty');
  if (!BUCKET_NAME.test(o.bucket)) throw new InvalidArgumentError('bucket', 'must be an S3 bucket name: 3-63 characters of [a-z0-9.-], starting and ending with a letter or digit', o.bucket);
  if (o.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(o.endpoint);
    } catch {
      throw new InvalidArgumentError('endpoint', 'must be an http(s) URL', o.endpoint);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('endpoint', 'must be an http(s) URL', o.endpoint);
  }
  return {
    region: o.region,
    bucket: o.bucket,
    endpoint: o.endpoint,
    credentials: o.credentials,
    forcePathStyle: o.forcePathStyle ?? false,
    partSize: positiveInt('partSize', o.partSize ?? 8 * MiB, MIN_PART_SIZE, MAX_PART_SIZE),
    queueSize: positiveInt('queueSize', o.queueSize ?? 4, 1, 64),
    maxAttempts: positiveInt('maxAttempts', o.maxAttempts ?? 3, 1, 20),
    connectionTimeoutMs: positiveInt('connectionTimeoutMs', o.connectionTimeoutMs ?? 5_000, 1),
    socketTimeoutMs: positiveInt('socketTimeoutMs', o.socketTimeoutMs ?? 30_000, 1),
  };
}

/** Node error codes of a peer that is down or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** The fields of SDK and Node errors this file branches on. */
interface ErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function shape(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

function statusOf(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

/** The region could not serve the request: down, unreachable, too slow, or failing on its side. */
function isUnavailable(err: unknown): boolean {
  const e = shape(err);
  if (e.name === 'TimeoutError') return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = statusOf(err);
  return status !== undefined && (status >= 500 || status === 429);
}

function isNotFound(err: unknown): boolean {
  const name = shape(err).name;
  return name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound' || statusOf(err) === 404;
}

function isRangeNotSatisfiable(err: unknown): boolean {
  return shape(err).name === 'InvalidRange' || statusOf(err) === 416;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why an aborted operation stopped: the signal's reason when it is an Error, else an AbortError. */
function abortReason(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return Object.assign(new Error('the operation was aborted', { cause: signal.reason }), { name: 'AbortError' });
}

export class S3BlobStore implements KeyedBlobStore {
  readonly name = 's3';
  readonly region: string;
  readonly bucket: string;
  /** The store's client: one per store (= per region). Closed by close(). */
  readonly client: S3Client;
  private readonly o: Resolved;
  /** readInto's sockets (closed by close()). */
  readonly getter: RangeGetter;

  constructor(opts: S3BlobStoreOptions) {
    this.o = withDefaults(opts);
    this.getter = new RangeGetter({ connectTimeoutMs: this.o.connectionTimeoutMs, idleTimeoutMs: this.o.socketTimeoutMs });
    this.region = this.o.region;
    this.bucket = this.o.bucket;
    this.client = new S3Client({
      region: this.o.region,
      forcePathStyle: this.o.forcePathStyle,
      maxAttempts: this.o.maxAttempts,
      requestHandler: { connectionTimeout: this.o.connectionTimeoutMs, socketTimeout: this.o.socketTimeoutMs },
      ...(this.o.endpoint !== undefined && { endpoint: this.o.endpoint }),
      ...(this.o.credentials !== undefined && { credentials: this.o.credentials }),
    });
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<BlobLocation> {
    if (key === '' || key.length > 1024 || key.startsWith('/') || key.split('/').includes('..')) {
      throw new InvalidArgumentError('key', 'must be 1-1024 characters, not starting with "/", with no ".." segment', key);
    }
    const { signal, onProgress, size } = opts;
    if (signal?.aborted) {
      body.destroy();
      throw abortReason(signal);
    }
    const partSize = size !== undefined && size > this.o.partSize * MAX_PARTS ? Math.min(MAX_PART_SIZE, Math.ceil(size / MAX_PARTS)) : this.o.partSize;
    // No `ContentLength` from opts.size: lib-storage would then trust it over the bytes read.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body },
      partSize,
      queueSize: this.o.queueSize,
      leavePartsOnError: false,
    });
    if (onProgress) {
      // lib-storage reports the bytes S3 has acknowledged, part by part; parts can finish out of order.
      let reported = 0;
      upload.on('httpUploadProgress', (p) => {
        if (p.loaded !== undefined && p.loaded > reported) {
          reported = p.loaded;
          onProgress(reported);
        }
      });
    }
    // An abort destroys the body rather than calling upload.abort(): done() then settles only
    // after every part request has finished and the multipart upload has been aborted, so no
    // part lands after we return. (upload.abort() makes done() reject at once, with parts still
    // in flight; the multipart upload was then found still pending on MinIO.)
    // Destroyed without an error: lib-storage's reader fails on the premature close, and a
    // body nobody listens to for errors does not crash the process.
    const onAbort = (): void => {
      body.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      throw this.translate(err, 'upload', key);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) {
      // The whole body was read before the abort came and the object got written: remove it.
      await this.removeQuietly(key);
      throw abortReason(signal);
    }
    return { kind: 's3', region: this.region, bucket: this.bucket, key };
  }

  locationOf(key: string): BlobLocation {
    return { kind: 's3', region: this.region, bucket: this.bucket, key };
  }

  async get(loc: BlobLocation, opts: GetOptions = {}): Promise<Readable> {
    this.check(loc);
    const { signal } = opts;
    const range = opts.range && checkRange(opts.range);
    let body: unknown;
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, ...(range && { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }) }),
        signal ? { abortSignal: signal } : {},
      );
      body = out.Body;
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (isNotFound(err)) throw new BlobNotFoundError(loc);
      // A range that starts at or past the end of the object (S3: 416 InvalidRange) has no bytes.
      if (range && isRangeNotSatisfiable(err)) return Readable.from([]);
      throw this.translate(err, 'GetObject', loc.key);
    }
    // In Node the SDK's body is an IncomingMessage (wrapped in a checksum-validating stream when S3 has a checksum).
    if (!(body instanceof Readable)) {
      throw new ImprintError('INTERNAL', `GetObject ${loc.bucket}/${loc.key} returned a body that is not a Node stream (${typeof body})`);
    }
    if (signal) {
      const stream = body;
      const onAbort = (): void => {
        stream.destroy(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return body;
  }

  async readInto(loc: BlobLocation, range: ByteRange, dest: Buffer, opts: ReadIntoOptions = {}): Promise<number> {
    this.check(loc);
    checkRange(range);
    const { signal } = opts;
    let landed = 0;
    const onBytes = (n: number): void => {
      landed += n;
      opts.onBytes?.(n);
    };
    try {
      const url = new URL(await getSignedUrl(this.client, new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), { expiresIn: PRESIGN_SECONDS }));
      const answer = await this.getter.get({ url, range, dest, onBytes, ...(signal && { signal }) });
      if (answer.kind === 'body') return answer.length;
      if (answer.status === 404) throw new BlobNotFoundError(loc);
      if (answer.status === 416) return 0;
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (!(err instanceof RangeGetError)) throw err;
    }
    // The SDK reads the rest (see the top of this file); a body longer than dest is counted, not kept.
    const rest = await this.get(loc, { range: { offset: range.offset + landed, length: range.length - landed }, ...(signal && { signal }) });
    let total = landed;
    for await (const chunk of rest as AsyncIterable<Buffer>) {
      if (total + chunk.length > dest.length) {
        rest.destroy();
        return total + chunk.length;
      }
      chunk.copy(dest, total);
      total += chunk.length;
      opts.onBytes?.(chunk.length);
    }
    return total;
  }

  async stat(loc: BlobLocation, signal?: AbortSignal): Promise<BlobStat> {
    this.check(loc);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }), signal ? { abortSignal: signal } : {});
      if (out.ContentLength === undefined) throw new ImprintError('INTERNAL', `HeadObject ${loc.bucket}/${loc.key} answered without a Content-Length`);
      return { size: out.ContentLength };
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (isNotFound(err)) throw new BlobNotFoundError(loc);
      throw this.translate(err, 'HeadObject', loc.key);
    }
  }

  async delete(loc: BlobLocation): Promise<void> {
    this.check(loc);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (err) {
      if (isNotFound(err)) return; // S3 answers 204 for a missing key; a missing bucket holds nothing either
      throw this.translate(err, 'DeleteObject', loc.key);
    }
  }

  /**
   * Creates the bucket when it does not exist (in this store's region). Returns whether it
   * created it. A bucket that exists and is ours is fine; one owned by someone else is an error.
   */
  async ensureBucket(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return false;
    } catch (err) {
      if (!isNotFound(err)) {
        if (statusOf(err) === 403) throw new FailedPreconditionError(`bucket ${this.bucket} exists but these credentials may not use it (HeadBucket: 403)`);
        throw this.translate(err, 'HeadBucket', '');
      }
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the default location and must not be named; every other region must be.
          // (The SDK's union of region names lags new regions and S3-compatible servers' names.)
          ...(this.region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } }),
        }),
      );
      return true;
    } catch (err) {
      if (shape(err).name === 'BucketAlreadyOwnedByYou') return false; // created concurrently
      throw this.translate(err, 'CreateBucket', '');
    }
  }

  /** Closes the client's connections. The store is unusable afterwards. */
  close(): void {
    this.getter.close();
    this.client.destroy();
  }

  /** Unavailable regions become UnavailableError; everything else is passed on as it is. */
  private translate(err: unknown, op: string, key: string): unknown {
    if (!isUnavailable(err)) return err;
    const where = this.o.endpoint ?? 'AWS';
    return new UnavailableError(`s3 region ${this.region} (${where}) is unavailable: ${op} ${this.bucket}/${key} failed: ${messageOf(err)}`, { cause: err });
  }

  private async removeQuietly(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch {
      // best effort: the caller is already failing with the abort
    }
  }

  /** Refuses locations this store does not hold (another kind, bucket or region). */
  private check(loc: BlobLocation): void {
    if (loc.kind !== 's3' || loc.bucket !== this.bucket || loc.region !== this.region) {
      throw new InvalidArgumentError('location', `must be an s3 location in bucket "${this.bucket}", region "${this.region}"`, `${loc.kind}://${loc.bucket} (region ${loc.region})`);
    }
    if (loc.key === '') throw new InvalidArgumentError('location.key', 'must not be empty');
  }
}
