/**
 * Payloads through the service's lent URLs (BeginUpload, CompleteUpload, GetDownload), for a
 * caller with no blob store of its own (no S3 credentials, not on the service's machine):
 *  - upload: the size and sha256 first (a file or bytes read once; a stream spooled to a
 *    temporary file as it is hashed), then every region's parts PUT with node:http(s), a few
 *    at a time, then CompleteUpload when a region took a multipart upload;
 *  - download: each URL is a BlobStore (`LentBlobStore`) that answers ranged GETs, so fetch.ts
 *    reads it in parallel parts, hashed in one pass, and hedges regions as it does for S3; its
 *    readInto has the socket read each part straight into place (client/range-get.ts, one
 *    pool of keep-alive sockets for the process, or per CA).
 * An https URL is checked against the CA the client trusts for the service (`httpsCa`: the
 * service's own URLs are under its certificate) as well as the system's roots.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImprintError, UnavailableError, type BlobLocation, type DataPointer, type VersionRecord } from '../core/index.js';
import { BlobNotFoundError, checkRange, type BlobStat, type BlobStore, type ByteRange, type GetOptions, type ReadIntoOptions } from './blob-store/blob-store.js';
import { RangeGetError, RangeGetter, sharedRangeGetter } from './range-get.js';

/** One PUT of an upload target: bytes [offset, offset + size) of the payload to `url`, with `headers`. */
export interface LentPart {
  readonly partNumber: number;
  readonly offset: number;
  readonly size: number;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Where one region takes the payload: one PUT, or the parts of a multipart upload. */
export interface LentTarget {
  readonly region: string;
  readonly multipart: boolean;
  readonly parts: readonly LentPart[];
}

/** BeginUpload's answer. */
export interface LentUpload {
  readonly uploadId: string;
  readonly pointer: Extract<DataPointer, { kind: 'blob' }>;
  readonly targets: readonly LentTarget[];
  readonly expiresAtMs: number;
}

/** GetDownload's answer: GET URLs, the caller's region first. */
export interface LentDownload {
  readonly urls: readonly { readonly region: string; readonly url: string }[];
  readonly expiresAtMs: number;
}

/** The parts one region's multipart upload was given (CompleteUpload). */
export interface CompletedRegion {
  readonly region: string;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string }[];
}

/** The calls of the service this file uses (ImprintClient has them). */
export interface LendApi {
  beginUpload(topic: string, size: number, sha256: string, partSize?: number): Promise<LentUpload>;
  completeUpload(topic: string, uploadId: string, regions: readonly CompletedRegion[]): Promise<DataPointer>;
  getDownload(topic: string, version: bigint, region?: string): Promise<LentDownload>;
  /** The CA(s) the client trusts for the service, which https lent URLs are checked against besides the system's roots. @default the system's roots only */
  httpsCa?(): string | Buffer | undefined;
}

/** A lent URL answered with a refusal (400: the bytes are not the declared ones; 403: expired or not valid). */
export class LentUrlError extends ImprintError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(status === 400 ? 'INVALID_ARGUMENT' : status === 403 ? 'PERMISSION_DENIED' : status === 404 ? 'NOT_FOUND' : 'UNAVAILABLE', message);
    this.status = status;
  }
}

/** An answer that is not 2xx, as an error (5xx and 429: the region is unavailable). */
async function refusal(res: http.IncomingMessage, what: string): Promise<Error> {
  const status = res.statusCode ?? 0;
  const text = await readText(res).catch(() => '');
  const message = `${what}: HTTP ${status}${text ? ` ${text}` : ''}`;
  return status >= 500 || status === 429 ? new UnavailableError(message) : new LentUrlError(status, message);
}

/** Up to 500 characters of a response's body (an error's explanation). */
async function readText(res: Readable): Promise<string> {
  let text = '';
  for await (const chunk of res) if (text.length < 500) text += String(chunk);
  return text.slice(0, 500);
}

/** The system's roots and `ca`: what an https lent URL's certificate must chain to. */
function trusted(ca: string | Buffer): string[] {
  return [...tls.rootCertificates, String(ca)];
}

/**
 * One request with node:http(s) (a Node stream body both ways, no web-stream layer), an https
 * URL checked against the system's roots and `ca`; resolves with the answer's head.
 */
function send(url: URL, o: { readonly method: string; readonly headers?: http.OutgoingHttpHeaders; readonly ca?: string | Buffer | undefined; readonly signal?: AbortSignal | undefined; readonly body?: Readable }): Promise<http.IncomingMessage> {
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const options: https.RequestOptions = { method: o.method, headers: o.headers ?? {}, ...(o.signal && { signal: o.signal }), ...(url.protocol === 'https:' && o.ca !== undefined && { ca: trusted(o.ca) }) };
    const req = (url.protocol === 'https:' ? https : http).request(url, options, resolve);
    req.on('error', reject);
    if (o.body) {
      o.body.on('error', (err: Error) => req.destroy(err));
      o.body.pipe(req);
    } else req.end();
  });
}

/** Range getters for https lent URLs under a CA of the client's (a pool of sockets each); the last few CAs are kept. */
const getters = new Map<string, RangeGetter>();
function getterFor(ca: string | Buffer | undefined): RangeGetter {
  if (ca === undefined) return sharedRangeGetter;
  const key = String(ca);
  let getter = getters.get(key);
  if (!getter) {
    getter = new RangeGetter({ ca: trusted(key).join('\n') });
    getters.set(key, getter);
    // More than a few: the oldest (a CA file since replaced) goes, with its sockets.
    const [oldest, old] = getters.entries().next().value ?? [];
    if (getters.size > 4 && oldest !== undefined && old) {
      getters.delete(oldest);
      old.close();
    }
  }
  return getter;
}

/** One location's lent GET URL as a read-only BlobStore, so fetch.ts reads it like any store (ranges, hedging). */
export class LentBlobStore implements BlobStore {
  readonly name: string;
  readonly region: string;
  readonly bucket: string;
  readonly url: string;
  /** What an https URL is checked against besides the system's roots (the service's CA). */
  private readonly ca: string | Buffer | undefined;

  constructor(loc: BlobLocation, url: string, ca?: string | Buffer) {
    this.name = loc.kind === 'file' ? 'local' : 's3';
    this.region = loc.region;
    this.bucket = loc.bucket;
    this.url = url;
    this.ca = ca;
  }

  /** A GET with node:http(s), not fetch(): its body is a Node stream, with no web-stream layer to copy through (the lent bench measured fetch() at 0.73x of the SDK). */
  async get(loc: BlobLocation, opts: GetOptions = {}): Promise<Readable> {
    const range = opts.range && checkRange(opts.range);
    const url = new URL(this.url);
    let res: http.IncomingMessage;
    try {
      res = await send(url, { method: 'GET', ...(range && { headers: { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } }), ca: this.ca, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new UnavailableError(`lent URL of region ${this.region} cannot be reached: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const status = res.statusCode ?? 0;
    if (status === 200 || status === 206) return res;
    const text = await readText(res);
    if (status === 416) return Readable.from([]);
    throw this.refused(loc, status, text);
  }

  /** A GET's answer other than 2xx and 416 as an error: 404 the blob is not there, 5xx and 429 unavailable, else a LentUrlError. */
  private refused(loc: BlobLocation, status: number, text: string): Error {
    if (status === 404) return new BlobNotFoundError(loc);
    const message = `GET of ${loc.key} in region ${this.region}: HTTP ${status}${text ? ` ${text}` : ''}`;
    return status >= 500 || status === 429 ? new UnavailableError(message) : new LentUrlError(status, message);
  }

  async readInto(loc: BlobLocation, range: ByteRange, dest: Buffer, opts: ReadIntoOptions = {}): Promise<number> {
    checkRange(range);
    let answer;
    try {
      answer = await getterFor(this.ca).get({ url: new URL(this.url), range, dest, ...(opts.signal && { signal: opts.signal }), ...(opts.onBytes && { onBytes: opts.onBytes }) });
    } catch (err) {
      if (err instanceof RangeGetError) throw new UnavailableError(`lent URL of region ${this.region}: ${err.message}`, { cause: err });
      throw err;
    }
    if (answer.kind === 'body') return answer.length;
    if (answer.status === 416) return 0;
    throw this.refused(loc, answer.status, answer.text);
  }

  async stat(loc: BlobLocation): Promise<BlobStat> {
    const res = await send(new URL(this.url), { method: 'HEAD', ca: this.ca });
    const status = res.statusCode ?? 0;
    if (status === 404) throw new BlobNotFoundError(loc);
    if (status < 200 || status > 299) throw await refusal(res, `HEAD of ${loc.key} in region ${this.region}`);
    res.resume();
    return { size: Number(res.headers['content-length']) };
  }

  put(): Promise<BlobLocation> {
    return Promise.reject(new ImprintError('FAILED_PRECONDITION', 'a lent download URL is read-only'));
  }

  delete(): Promise<void> {
    return Promise.reject(new ImprintError('FAILED_PRECONDITION', 'a lent download URL is read-only'));
  }
}

/** Stores for `record`'s locations from GetDownload (`region`'s first), for fetch.ts. */
export async function lentStores(api: Pick<LendApi, 'getDownload' | 'httpsCa'>, record: VersionRecord, region = ''): Promise<LentBlobStore[]> {
  if (record.pointer.kind !== 'blob') return [];
  const { locations } = record.pointer;
  const lent = await api.getDownload(record.topic, record.version, region);
  return lent.urls.flatMap((u) => {
    const loc = locations.find((l) => l.region === u.region);
    return loc ? [new LentBlobStore(loc, u.url, api.httpsCa?.())] : [];
  });
}

/** What a lent upload reads: bytes in memory, or a file (read once for its sha256, then once per region). */
export type LentSource = { readonly bytes: Uint8Array } | { readonly path: string };

export interface LentUploadOptions {
  /** Bytes the service has acknowledged (all regions together, divided by the number of regions). */
  readonly onProgress?: (p: { bytes: number; total: number }) => void;
  /** PUTs in flight at once, over all regions. @default 4 */
  readonly concurrency?: number;
}

/** A stream spooled to a temporary file as it is read; `remove` deletes it. */
export async function spool(stream: Readable): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'imprint-upload-'));
  const file = path.join(dir, randomUUID());
  const remove = (): Promise<void> => fs.promises.rm(dir, { recursive: true, force: true });
  try {
    await pipeline(stream, fs.createWriteStream(file));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path: file, remove };
}

async function sizeAndSha256(src: LentSource): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  if ('bytes' in src) return { size: src.bytes.length, sha256: hash.update(src.bytes).digest('hex') };
  let size = 0;
  for await (const chunk of fs.createReadStream(src.path, { highWaterMark: 1024 * 1024 })) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Uploads `src` to every region through lent URLs and returns the pointer to publish:
 * 1. size and sha256; 2. BeginUpload; 3. every part of every region PUT, `concurrency` at a
 * time (a refused PUT fails the upload); 4. CompleteUpload when a region took a multipart upload.
 */
export async function uploadLent(api: LendApi, topic: string, src: LentSource, opts: LentUploadOptions = {}): Promise<DataPointer> {
  // 1.
  const { size, sha256 } = await sizeAndSha256(src);
  // 2.
  const lent = await api.beginUpload(topic, size, sha256);
  // 3.
  const regions = lent.targets.length;
  let sent = 0;
  const progress = (n: number): void => {
    sent += n;
    opts.onProgress?.({ bytes: Math.floor(sent / Math.max(1, regions)), total: size });
  };
  const jobs = lent.targets.flatMap((t) => t.parts.map((p) => ({ target: t, part: p })));
  const etags = new Map<string, { partNumber: number; etag: string }[]>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let job = jobs[next++]; job; job = jobs[next++]) {
      const etag = await putPart(src, job.part, api.httpsCa?.(), progress, `PUT of part ${job.part.partNumber} to region ${job.target.region}`);
      if (job.target.multipart) etags.set(job.target.region, [...(etags.get(job.target.region) ?? []), { partNumber: job.part.partNumber, etag }]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, jobs.length) }, worker));
  // 4.
  if (lent.targets.some((t) => t.multipart)) {
    return api.completeUpload(topic, lent.uploadId, [...etags].map(([region, parts]) => ({ region, parts })));
  }
  return lent.pointer;
}

/** One PUT of bytes [offset, offset + size) with the part's headers (an https URL checked against `ca` too); the ETag it answered. */
async function putPart(src: LentSource, part: LentPart, ca: string | Buffer | undefined, progress: (n: number) => void, what: string): Promise<string> {
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      progress(chunk.length);
      done(null, chunk);
    },
  });
  const body =
    'bytes' in src
      ? Readable.from([Buffer.from(src.bytes.buffer, src.bytes.byteOffset + part.offset, part.size)])
      : fs.createReadStream(src.path, { start: part.offset, end: part.offset + part.size - 1, highWaterMark: 1024 * 1024 });
  body.pipe(counted);
  body.on('error', (err: Error) => counted.destroy(err));
  let res: http.IncomingMessage;
  try {
    res = await send(new URL(part.url), { method: 'PUT', headers: { ...part.headers, 'content-length': String(part.size) }, ca, body: counted });
  } catch (err) {
    body.destroy();
    throw new UnavailableError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) throw await refusal(res, what);
  res.resume();
  const etag = res.headers.etag;
  return typeof etag === 'string' ? etag : '';
}
