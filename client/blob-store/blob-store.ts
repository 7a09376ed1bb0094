/**
 * Where large payloads live. One small interface; the local-directory store is the embedded
 * default, S3 the production one, and both run test/conformance/blob-store.ts.
 */
import type { Readable } from 'node:stream';
import { ImprintError, type BlobLocation } from '../../core/index.js';

export interface PutOptions {
  /** Bytes expected, when known (lets stores pick multipart and report progress). */
  readonly size?: number;
  /** Called with the bytes written so far. */
  readonly onProgress?: (bytes: number) => void;
  readonly signal?: AbortSignal;
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
   * The object's body. An abort of `signal` fails the call, or the stream once returned, at
   * once (fetches abandon slow regions this way).
   * @throws BlobNotFoundError when there is no such object.
   */
  get(loc: BlobLocation, signal?: AbortSignal): Promise<Readable>;
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
