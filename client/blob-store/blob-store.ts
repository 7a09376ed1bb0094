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

export interface BlobStore {
  /** "local", "s3". */
  readonly name: string;
  /** The region this store writes to and reads from. */
  readonly region: string;
  /** Writes the whole body under `key`; a reader never sees a partial object. */
  put(key: string, body: Readable, opts?: PutOptions): Promise<BlobLocation>;
  /** @throws BlobNotFoundError when there is no such object. */
  get(loc: BlobLocation, signal?: AbortSignal): Promise<Readable>;
  /** Deleting what is not there is not an error. */
  delete(loc: BlobLocation): Promise<void>;
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
