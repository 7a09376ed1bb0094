/**
 * The embedded blob store: files under one directory. Written to a temporary name and
 * renamed, so a reader sees the whole object or none. Locations name the store's bucket (a
 * logical name), never a path: a reader only ever reads below its own configured root.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, type BlobLocation } from '../../core/index.js';
import { BlobNotFoundError, checkRange, type BlobStat, type GetOptions, type KeyedBlobStore, type PutOptions } from './blob-store.js';

export interface LocalBlobStoreOptions {
  /** The directory objects live under. */
  readonly root: string;
  /** The logical bucket name written into locations. @default "local" */
  readonly bucket?: string;
  /** @default "local" */
  readonly region?: string;
}

export class LocalBlobStore implements KeyedBlobStore {
  readonly name = 'local';
  readonly region: string;
  readonly root: string;
  readonly bucket: string;

  constructor(opts: LocalBlobStoreOptions) {
    this.root = path.resolve(opts.root);
    this.bucket = opts.bucket ?? 'local';
    this.region = opts.region ?? 'local';
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<BlobLocation> {
    const file = this.pathOf(key, 'key');
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomUUID()}.partial`;
    let written = 0;
    if (opts.onProgress) {
      const report = opts.onProgress;
      body.on('data', (chunk: Buffer) => {
        written += chunk.length;
        report(written);
      });
    }
    try {
      await pipeline(body, fs.createWriteStream(tmp, { flags: 'wx' }), ...(opts.signal ? [{ signal: opts.signal }] : []));
      await fs.promises.rename(tmp, file);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
    return { kind: 'file', region: this.region, bucket: this.bucket, key };
  }

  locationOf(key: string): BlobLocation {
    return { kind: 'file', region: this.region, bucket: this.bucket, key };
  }

  async get(loc: BlobLocation, opts: GetOptions = {}): Promise<Readable> {
    const file = this.pathOf(loc.key, 'location.key', loc);
    const { signal } = opts;
    const range = opts.range && checkRange(opts.range);
    signal?.throwIfAborted();
    try {
      const handle = await fs.promises.open(file, 'r');
      // `end` is inclusive; a range past the end of the file stops at its end.
      return handle.createReadStream({ ...(signal && { signal }), ...(range && { start: range.offset, end: range.offset + range.length - 1 }) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(loc);
      throw err;
    }
  }

  async stat(loc: BlobLocation, signal?: AbortSignal): Promise<BlobStat> {
    const file = this.pathOf(loc.key, 'location.key', loc);
    signal?.throwIfAborted();
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new BlobNotFoundError(loc);
      throw err;
    }
    // A directory is not an object (a key that is a prefix of other keys).
    if (!st.isFile()) throw new BlobNotFoundError(loc);
    return { size: st.size };
  }

  async delete(loc: BlobLocation): Promise<void> {
    await fs.promises.rm(this.pathOf(loc.key, 'location.key', loc), { force: true });
  }

  /** The file for a key, refusing keys that would leave the root and locations of other stores. */
  private pathOf(key: string, field: string, loc?: BlobLocation): string {
    if (loc && (loc.kind !== 'file' || loc.bucket !== this.bucket)) {
      throw new InvalidArgumentError('location', `must be a file location in bucket "${this.bucket}"`, `${loc.kind}://${loc.bucket}`);
    }
    const file = path.resolve(this.root, key);
    if (key === '' || !file.startsWith(this.root + path.sep)) throw new InvalidArgumentError(field, 'must be a relative path inside the blob store', key);
    return file;
  }
}
