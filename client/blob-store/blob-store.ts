/**
 * Where large payloads live. One small interface; the local-directory store is the embedded
 * default, S3 the production one, and both run test/conformance/blob-store.ts.
 */
import type { Readable } from 'node:stream';
import { ImprintError, InvalidArgumentError, type BlobLocation } from '../../core/index.js';

export interface PutOptions {
  /** Bytes expected, when known (lets stores pick multipart and report progress). */
  readonly size?: number;
  /** Called with the bytes written so far. */
  readonly onProgress?: (bytes: number) => void;
  readonly signal?: AbortSignal;
}

/** `length` bytes of an object, from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export interface GetOptions {
  /** An abort fails the call, or the stream once returned, at once (fetches abandon slow regions this way). */
  readonly signal?: AbortSignal;
  /**
   * Only these bytes (S3: a ranged GET). Where the object ends first, the stream ends there:
   * fewer bytes, or none when it ends before `offset`. @default the whole object
   */
  readonly range?: ByteRange;
}

export interface ReadIntoOptions {
  /** An abort fails the read at once. */
  readonly signal?: AbortSignal;
  /** Told of the bytes of every read as they land in the destination, in order. */
  readonly onBytes?: (n: number) => void;
}

/** The range, checked (every store's get calls this); the error names `range.offset` or `range.length`. */
export function checkRange(range: ByteRange): ByteRange {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) throw new InvalidArgumentError('range.offset', 'must be a whole number >= 0', range.offset);
  if (!Number.isSafeInteger(range.length) || range.length < 1 || range.offset + range.length > Number.MAX_SAFE_INTEGER) {
    throw new InvalidArgumentError('range.length', 'must be a whole number >= 1 (offset + length at most 2^53 - 1)', range.length);
  }
  return range;
}

/** What a store says about one object without reading it. */
export interface BlobStat {
  /** Bytes in the object. */
  readonly size: number;
}

export interface BlobStore {
  /** "local", "s3". */
  readonly name: string;
  /** The region this store writes to and reads from. */
  readonly region: string;
  /** The bucket its locations name (a logical name for the local store). */
  readonly bucket: string;
  /** Writes the whole body under `key`; a reader never sees a partial object. */
  put(key: string, body: Readable, opts?: PutOptions): Promise<BlobLocation>;
  /**
   * The object's body, or the bytes of `opts.range` (see GetOptions).
   * @throws BlobNotFoundError when there is no such object; InvalidArgumentError naming `range.offset` or `range.length` when the range is not one.
   */
  get(loc: BlobLocation, opts?: GetOptions): Promise<Readable>;
  /**
   * Reads the bytes of `range` into `dest` from its start, the socket writing them in place
   * (no chunk allocated and copied), telling `opts.onBytes` as they land. Resolves with the
   * body's length: fewer than `range.length` where the object ends first (0 when it ends before
   * `range.offset`); a body longer than `dest` is not read, and its length says so (the caller
   * decides what that means). Optional: a store without it is read through get().
   * @throws as get() does.
   */
  readInto?(loc: BlobLocation, range: ByteRange, dest: Buffer, opts?: ReadIntoOptions): Promise<number>;
  /**
   * The object's size, without reading it (S3: HeadObject). An abort of `signal` fails it at once.
   * @throws BlobNotFoundError when there is no such object; UnavailableError when the region cannot answer.
   */
  stat(loc: BlobLocation, signal?: AbortSignal): Promise<BlobStat>;
  /** Deleting what is not there is not an error. */
  delete(loc: BlobLocation): Promise<void>;
}

/** The kind of location a store writes. */
export function kindOf(store: BlobStore): BlobLocation['kind'] {
  return store.name === 'local' ? 'file' : 's3';
}

/** The store among `stores` that holds `loc` (same kind, region and bucket), if any. */
export function storeFor<S extends BlobStore>(stores: readonly S[], loc: BlobLocation): S | undefined {
  return stores.find((s) => kindOf(s) === loc.kind && s.region === loc.region && s.bucket === loc.bucket);
}

/** A store that can name the location of any key in it (snapshots are read by a well-known key). */
export interface KeyedBlobStore extends BlobStore {
  locationOf(key: string): BlobLocation;
}

export class BlobNotFoundError extends ImprintError {
  readonly location: BlobLocation;
  constructor(loc: BlobLocation) {
    super('NOT_FOUND', `blob ${loc.kind}://${loc.bucket}/${loc.key} (region ${loc.region}) does not exist`);
    this.location = loc;
  }
}
