/**
 * Lent payload URLs (BeginUpload, CompleteUpload, GetDownload): a caller with only the contract
 * and plain HTTP moves a payload's bytes itself, straight to and from the blob stores.
 *  - S3 regions: presigned URLs. A payload up to one part is one PUT with its sha256 signed in
 *    (x-amz-checksum-sha256: S3 refuses other bytes); a larger one is a multipart upload per
 *    region, a presigned URL per part, finished by CompleteUpload, which reads the assembled
 *    object once and deletes it when its size or sha256 is not the declared one.
 *  - The embedded local store: the service's own URLs on its HTTP server (http/blobs.ts), an
 *    HMAC over method, bucket, topic, key, size, sha256 and expiry in each; the PUT checks the
 *    bytes before the object appears.
 * upload_id is stateless: the upload's facts (topic, key, size, sha256, the S3 upload ids)
 * HMAC-signed, so it names one upload of one topic and nothing else.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { kindOf, storeFor, type BlobStore } from '../client/blob-store/blob-store.js';
import { LocalBlobStore } from '../client/blob-store/local.js';
import { S3BlobStore } from '../client/blob-store/s3.js';
import type { CompletedRegion, LentDownload, LentPart, LentTarget, LentUpload } from '../client/lent.js';
import { FailedPreconditionError, ImprintError, InvalidArgumentError, isTopicKey, newTopicKey, type BlobLocation, type DataPointer, type VersionRecord } from '../core/index.js';

const MiB = 1024 * 1024;
/** S3's multipart limits: parts of 5 MiB to 5 GiB, at most 10,000 of them. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
/** S3 presigned URLs live at most 7 days. */
const MAX_EXPIRY_MS = 7 * 24 * 60 * 60 * 1000;

export interface LendOptions {
  /** How long lent URLs (and an upload_id) stay valid, in ms: 1000 to 604800000 (7 days, S3's limit). @default 900000 (15 minutes) */
  readonly expiryMs?: number;
  /** The HMAC key of the local store's URLs and of upload ids; instances that serve one another's URLs share it. @default random per process */
  readonly secret?: Buffer;
  /** The base URL the local store's URLs start with (what callers reach the HTTP server at). @default http(s)://HOST:HTTP_PORT, 0.0.0.0 as 127.0.0.1 */
  readonly publicUrl?: string;
  /** Bytes per part of a multipart upload when the caller leaves part_size 0. @default 64 MiB */
  readonly partSize?: number;
}

export interface ResolvedLendOptions {
  readonly expiryMs: number;
  readonly secret: Buffer;
  readonly publicUrl?: string;
  readonly partSize: number;
}

export const LEND_DEFAULTS = { expiryMs: 15 * 60 * 1000, partSize: 64 * MiB } as const;

export function lendWithDefaults(o: LendOptions = {}): ResolvedLendOptions {
  const expiryMs = o.expiryMs ?? LEND_DEFAULTS.expiryMs;
  if (!Number.isSafeInteger(expiryMs) || expiryMs < 1000 || expiryMs > MAX_EXPIRY_MS) throw new InvalidArgumentError('lend-expiry-ms', `must be a whole number of milliseconds from 1000 to ${MAX_EXPIRY_MS} (7 days)`, expiryMs);
  const partSize = o.partSize ?? LEND_DEFAULTS.partSize;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) throw new InvalidArgumentError('lend-part-size', `must be a whole number of bytes from ${MIN_PART_SIZE} to ${MAX_PART_SIZE}`, partSize);
  if (o.secret !== undefined && o.secret.length < 16) throw new InvalidArgumentError('lend-secret-file', 'must hold at least 16 bytes', o.secret.length);
  let publicUrl: string | undefined;
  if (o.publicUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(o.publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new InvalidArgumentError('public-url', 'must be an http(s) URL, e.g. https://imprint.example.com:8080', o.publicUrl);
    publicUrl = o.publicUrl.replace(/\/+$/, '');
  }
  return { expiryMs, partSize, secret: o.secret ?? randomBytes(32), ...(publicUrl !== undefined && { publicUrl }) };
}

/** The secret in a --lend-secret-file: its bytes, trailing whitespace trimmed. */
export function readLendSecret(file: string): Buffer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError('lend-secret-file', `must be a readable file (${err instanceof Error ? err.message : String(err)})`, file);
  }
  return Buffer.from(text.trimEnd(), 'utf8');
}

export type { CompletedRegion, LentDownload, LentPart, LentTarget, LentUpload } from '../client/lent.js';

/** What an upload_id carries, signed. */
interface UploadFacts {
  readonly topic: string;
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  readonly expiresAtMs: number;
  /** The multipart uploads: region, bucket, S3 upload id. */
  readonly multipart: readonly { readonly region: string; readonly bucket: string; readonly id: string }[];
}

/** What a local-store URL was signed for (http/blobs.ts checks it). */
export interface LocalGrant {
  readonly method: 'GET' | 'PUT';
  readonly bucket: string;
  readonly topic: string;
  readonly key: string;
  readonly expiresAtMs: number;
  /** PUT: the bytes the URL takes. */
  readonly size?: number;
  readonly sha256?: string;
}

/** A lent URL that is expired, tampered with or not for this request: HTTP 403. */
export class LentUrlRefusedError extends ImprintError {
  constructor(why: string) {
    super('PERMISSION_DENIED', `this URL is not valid: ${why}`);
  }
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** The base URL of the local store's URLs when --public-url is not given: the HTTP server's own address. */
export function defaultPublicUrl(scheme: 'http' | 'https', host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}

export class Lender {
  private readonly o: ResolvedLendOptions;
  private readonly stores: readonly BlobStore[];
  private readonly now: () => number;
  private baseUrl: string | undefined;

  constructor(stores: readonly BlobStore[], options: ResolvedLendOptions, clock: () => number = Date.now) {
    this.stores = stores;
    this.o = options;
    this.now = clock;
    this.baseUrl = options.publicUrl;
  }

  /** The HTTP server is up at `url`: the local store's URLs start there (unless --public-url said otherwise). */
  servedAt(url: string): void {
    this.baseUrl ??= url;
  }

  /** The local store that holds `bucket`, for http/blobs.ts. */
  localStore(bucket: string): LocalBlobStore | undefined {
    return this.stores.find((s): s is LocalBlobStore => s instanceof LocalBlobStore && s.bucket === bucket);
  }

  /**
   * URLs for `size` bytes with `sha256` under a new key of `topic`, in every region:
   * 1. a new key under the topic's prefix (the Publisher's rule);
   * 2. per region: a single PUT up to one part, else a multipart upload and a URL per part;
   * 3. the upload_id: the facts CompleteUpload needs, signed.
   */
  async beginUpload(topic: string, size: number, sha256: string, partSizeAsked: number): Promise<LentUpload> {
    if (this.stores.length === 0) throw new FailedPreconditionError('this service has no blob store to lend upload URLs for');
    const partSize = partSizeAsked === 0 ? Math.max(this.o.partSize, Math.ceil(size / MAX_PARTS)) : partSizeAsked;
    if (Math.ceil(size / partSize) > MAX_PARTS) throw new InvalidArgumentError('part_size', `must make at most ${MAX_PARTS} parts of the payload (at least ${Math.ceil(size / MAX_PARTS)} bytes)`, partSize);
    // 1.
    const key = newTopicKey(topic, new Date(this.now()), randomUUID());
    const expiresAtMs = this.now() + this.o.expiryMs;
    const locations: BlobLocation[] = [];
    const targets: LentTarget[] = [];
    const multipart: { region: string; bucket: string; id: string }[] = [];
    // 2.
    for (const store of this.stores) {
      const loc: BlobLocation = { kind: kindOf(store), region: store.region, bucket: store.bucket, key };
      locations.push(loc);
      if (store instanceof S3BlobStore) {
        if (size <= partSize) {
          const checksum = Buffer.from(sha256, 'hex').toString('base64');
          const url = await getSignedUrl(store.client, new PutObjectCommand({ Bucket: store.bucket, Key: key, ChecksumSHA256: checksum }), {
            expiresIn: this.expiresInS(),
            // Signed as a header, so the PUT must send it and S3 checks the bytes against it.
            unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
          });
          targets.push({ region: store.region, multipart: false, parts: [{ partNumber: 1, offset: 0, size, url, headers: { 'x-amz-checksum-sha256': checksum } }] });
        } else {
          const created = await store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key }));
          if (!created.UploadId) throw new ImprintError('INTERNAL', `CreateMultipartUpload ${store.bucket}/${key} answered no upload id`);
          const id = created.UploadId;
          multipart.push({ region: store.region, bucket: store.bucket, id });
          const parts: LentPart[] = [];
          for (let n = 1, offset = 0; offset < size; n++, offset += partSize) {
            const url = await getSignedUrl(store.client, new UploadPartCommand({ Bucket: store.bucket, Key: key, UploadId: id, PartNumber: n }), { expiresIn: this.expiresInS() });
            parts.push({ partNumber: n, offset, size: Math.min(partSize, size - offset), url, headers: {} });
          }
          targets.push({ region: store.region, multipart: true, parts });
        }
      } else if (store instanceof LocalBlobStore) {
        const url = this.localUrl({ method: 'PUT', bucket: store.bucket, topic, key, expiresAtMs, size, sha256 });
        targets.push({ region: store.region, multipart: false, parts: [{ partNumber: 1, offset: 0, size, url, headers: {} }] });
      } else {
        throw new FailedPreconditionError(`the ${store.name} blob store of region ${store.region} cannot lend URLs`);
      }
    }
    // 3.
    const uploadId = this.seal({ topic, key, size, sha256, expiresAtMs, multipart });
    return { uploadId, pointer: { kind: 'blob', size, sha256, locations }, targets, expiresAtMs };
  }

  /**
   * Finishes the multipart uploads of `uploadId` (which must be `topic`'s):
   * 1. the upload_id is ours and the topic's, and not expired past one more expiry;
   * 2. per multipart region: complete it with the caller's ETags;
   * 3. read the assembled object once: size and sha256 must be the declared ones, else it is
   *    deleted and the call refused.
   */
  async completeUpload(topic: string, uploadId: string, regions: readonly CompletedRegion[]): Promise<Extract<DataPointer, { kind: 'blob' }>> {
    // 1.
    const f = this.open(uploadId);
    if (f.topic !== topic) throw new InvalidArgumentError('upload_id', `must be an upload begun for topic "${topic}" (it is for another topic)`);
    if (this.now() > f.expiresAtMs + this.o.expiryMs) throw new FailedPreconditionError(`upload ${f.key} expired at ${new Date(f.expiresAtMs).toISOString()}; begin another`);
    for (const [i, r] of regions.entries()) {
      if (!f.multipart.some((m) => m.region === r.region)) throw new InvalidArgumentError(`regions[${i}].region`, `must be a region of this upload that took a multipart upload (${f.multipart.map((m) => m.region).join(', ') || 'none'})`, r.region);
    }
    const failures: string[] = [];
    await Promise.all(
      f.multipart.map(async (m) => {
        const i = regions.findIndex((r) => r.region === m.region);
        const asked = regions[i];
        if (!asked) throw new InvalidArgumentError('regions', `must name region ${m.region} (every multipart target) with its parts' ETags`);
        const store = storeFor(this.stores, { kind: 's3', region: m.region, bucket: m.bucket, key: f.key });
        if (!(store instanceof S3BlobStore)) throw new FailedPreconditionError(`this service no longer has the s3 store of region ${m.region}, bucket ${m.bucket}`);
        // 2.
        const parts = [...asked.parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ PartNumber: p.partNumber, ETag: p.etag }));
        try {
          await store.client.send(new CompleteMultipartUploadCommand({ Bucket: m.bucket, Key: f.key, UploadId: m.id, MultipartUpload: { Parts: parts } }));
        } catch (err) {
          await store.client.send(new AbortMultipartUploadCommand({ Bucket: m.bucket, Key: f.key, UploadId: m.id })).catch(() => {});
          throw new InvalidArgumentError(`regions[${i}].parts`, `must be every part's number and the ETag its PUT answered (region ${m.region}: ${err instanceof Error ? err.message : String(err)}); the upload was aborted, begin another`);
        }
        // 3.
        const got = await digestOf(store, { kind: 's3', region: m.region, bucket: m.bucket, key: f.key });
        if (got.size !== f.size || got.sha256 !== f.sha256) {
          await store.delete({ kind: 's3', region: m.region, bucket: m.bucket, key: f.key });
          failures.push(`region ${m.region} assembled ${got.size} bytes with sha256 ${got.sha256}`);
        }
      }),
    );
    if (failures.length > 0) throw new InvalidArgumentError('regions', `must assemble the declared ${f.size} bytes with sha256 ${f.sha256} (${failures.join('; ')}); those objects were deleted, upload again`);
    return { kind: 'blob', size: f.size, sha256: f.sha256, locations: this.stores.map((s) => ({ kind: kindOf(s), region: s.region, bucket: s.bucket, key: f.key })) };
  }

  /** GET URLs for a blob record's locations this service has a store for, `region`'s first. */
  async downloadUrls(record: VersionRecord, region: string): Promise<LentDownload> {
    const expiresAtMs = this.now() + this.o.expiryMs;
    if (record.pointer.kind !== 'blob') return { urls: [], expiresAtMs: 0 };
    const locs = [...record.pointer.locations].sort((a, b) => Number(b.region === region) - Number(a.region === region));
    const urls: { region: string; url: string }[] = [];
    for (const loc of locs) {
      const store = storeFor(this.stores, loc);
      if (store instanceof S3BlobStore) {
        urls.push({ region: loc.region, url: await getSignedUrl(store.client, new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), { expiresIn: this.expiresInS() }) });
      } else if (store instanceof LocalBlobStore) {
        urls.push({ region: loc.region, url: this.localUrl({ method: 'GET', bucket: loc.bucket, topic: record.topic, key: loc.key, expiresAtMs }) });
      }
    }
    if (urls.length === 0) throw new FailedPreconditionError(`this service has no blob store holding a location of ${record.topic} v${record.version}`);
    return { urls, expiresAtMs };
  }

  /**
   * The grant a local-store URL carries, checked: signed by us, for this method, not expired,
   * its key under its topic's prefix. @throws LentUrlRefusedError
   */
  checkLocal(method: 'GET' | 'PUT', bucket: string, key: string, query: Readonly<Record<string, string | undefined>>): LocalGrant {
    const expiresAtMs = Number(query.expires);
    const topic = query.topic ?? '';
    const size = query.size === undefined ? undefined : Number(query.size);
    const grant: LocalGrant = { method, bucket, topic, key, expiresAtMs, ...(size !== undefined && { size }), ...(query.sha256 !== undefined && { sha256: query.sha256 }) };
    const sig = Buffer.from(query.sig ?? '', 'base64url');
    const want = this.mac(localSigned(grant));
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) throw new LentUrlRefusedError('its signature does not match (tampered with, for another method or object, or from another instance without the same --lend-secret-file)');
    if (!Number.isSafeInteger(expiresAtMs) || this.now() > expiresAtMs) throw new LentUrlRefusedError(`it expired at ${Number.isSafeInteger(expiresAtMs) ? new Date(expiresAtMs).toISOString() : query.expires}`);
    if (!isTopicKey(topic, key)) throw new LentUrlRefusedError(`its key is not under topic "${topic}"'s prefix`);
    return grant;
  }

  private localUrl(g: LocalGrant): string {
    if (this.baseUrl === undefined) {
      throw new FailedPreconditionError('the local blob store lends URLs on the HTTP server, which is off: serve with --http-port (IMPRINT_HTTP_PORT)');
    }
    const q = new URLSearchParams({ topic: g.topic, expires: String(g.expiresAtMs), ...(g.size !== undefined && { size: String(g.size) }), ...(g.sha256 !== undefined && { sha256: g.sha256 }), sig: b64url(this.mac(localSigned(g))) });
    return `${this.baseUrl}${BLOB_ROUTE}/${encodeURIComponent(g.bucket)}/${g.key.split('/').map(encodeURIComponent).join('/')}?${q.toString()}`;
  }

  private expiresInS(): number {
    return Math.ceil(this.o.expiryMs / 1000);
  }

  private mac(text: string): Buffer {
    return createHmac('sha256', this.o.secret).update(text).digest();
  }

  private seal(f: UploadFacts): string {
    const body = b64url(Buffer.from(JSON.stringify(f)));
    return `${body}.${b64url(this.mac(`upload\n${body}`))}`;
  }

  private open(uploadId: string): UploadFacts {
    const [body = '', sig = ''] = uploadId.split('.');
    const want = this.mac(`upload\n${body}`);
    const got = Buffer.from(sig, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw new InvalidArgumentError('upload_id', "must be a BeginUpload answer's upload_id, as it was given (from this service, or one sharing its --lend-secret-file)");
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as UploadFacts;
  }
}

/** Where http/blobs.ts serves the local store's objects: /blobs/BUCKET/KEY. */
export const BLOB_ROUTE = '/blobs';

/** What a local-store URL's signature covers. */
function localSigned(g: LocalGrant): string {
  return ['local', g.method, g.bucket, g.topic, g.key, String(g.expiresAtMs), String(g.size ?? ''), g.sha256 ?? ''].join('\n');
}

/** Size and sha256 of an object, read once. */
async function digestOf(store: BlobStore, loc: BlobLocation): Promise<{ size: number; sha256: string }> {
  const body: Readable = await store.get(loc);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    hash.update(b);
  }
  return { size, sha256: hash.digest('hex') };
}
