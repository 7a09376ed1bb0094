/**
 * A local blob store standing for a region that refuses one kind of request (deletes, or writes)
 * while `down` is set: the janitor's and the purge's tests put one region in trouble with it.
 */
import type { Readable } from 'node:stream';
import type { KeyedBlobStore, LocalBlobStore } from '../client/index.js';
import type { BlobLocation } from '../core/index.js';

export class FlakyBlobStore implements KeyedBlobStore {
  down = true;
  readonly name = 'local';
  constructor(
    private readonly inner: LocalBlobStore,
    private readonly refuses: 'deletes' | 'writes',
  ) {}
  get region(): string {
    return this.inner.region;
  }
  get bucket(): string {
    return this.inner.bucket;
  }
  locationOf(key: string): BlobLocation {
    return this.inner.locationOf(key);
  }
  stat(loc: BlobLocation): Promise<{ size: number }> {
    return this.inner.stat(loc);
  }
  get(loc: BlobLocation): Promise<Readable> {
    return this.inner.get(loc);
  }
  async put(key: string, body: Readable): Promise<BlobLocation> {
    this.check('writes');
    return this.inner.put(key, body);
  }
  async delete(loc: BlobLocation): Promise<void> {
    this.check('deletes');
    await this.inner.delete(loc);
  }
  private check(what: 'deletes' | 'writes'): void {
    if (this.down && this.refuses === what) throw new Error(`region ${this.region} refuses ${what}`);
  }
}
