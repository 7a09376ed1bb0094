/** The BlobStore conformance suite: the local directory store and S3 run it unchanged. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore } from '../../client/index.js';
import { InvalidArgumentError } from '../../core/index.js';

export interface BlobStoreHarness {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function blobStoreConformance(name: string, make: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let h: BlobStoreHarness;
    let prefix: string;
    let n = 0;
    beforeEach(async () => {
      h = await make();
      prefix = `conf-${Date.now().toString(36)}-${n++}`;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('reads back byte for byte what a stream put', async () => {
      const body = randomBytes(300_000);
      const loc = await h.store.put(`${prefix}/small`, Readable.from([body.subarray(0, 1000), body.subarray(1000)]));
      expect(loc.region).toBe(h.store.region);
      expect(loc.key).toBe(`${prefix}/small`);
      expect((await readAll(await h.store.get(loc))).equals(body)).toBe(true);
    });

    it('stores a large object streamed in many chunks, reporting progress', async () => {
      const chunk = randomBytes(1024 * 1024);
      const parts = 12;
      const seen: number[] = [];
      const loc = await h.store.put(
        `${prefix}/large`,
        Readable.from((function* () {
          for (let i = 0; i < parts; i++) yield chunk;
        })()),
        { size: parts * chunk.length, onProgress: (b) => seen.push(b) },
      );
      const back = await readAll(await h.store.get(loc));
      expect(back.length).toBe(parts * chunk.length);
      expect(await h.store.stat(loc)).toEqual({ size: parts * chunk.length });
      expect(back.subarray(5 * chunk.length, 6 * chunk.length).equals(chunk)).toBe(true);
      expect(seen.at(-1)).toBe(parts * chunk.length);
    });

    it('a range reads exactly its bytes: at the start, inside, up to the end, and past it', async () => {
      const body = randomBytes(1_000_003);
      const loc = await h.store.put(`${prefix}/ranged`, Readable.from([body]));
      const range = async (offset: number, length: number) => readAll(await h.store.get(loc, { range: { offset, length } }));
      expect((await range(0, 1)).equals(body.subarray(0, 1))).toBe(true);
      expect((await range(0, 65_536)).equals(body.subarray(0, 65_536))).toBe(true);
      expect((await range(123_457, 500_000)).equals(body.subarray(123_457, 623_457))).toBe(true);
      expect((await range(999_999, 4)).equals(body.subarray(999_999))).toBe(true);
      // Past the end: the bytes there are; from the end on: none.
      expect((await range(999_000, 10_000)).equals(body.subarray(999_000))).toBe(true);
      expect((await range(1_000_003, 1)).length).toBe(0);
      expect((await range(5_000_000, 100)).length).toBe(0);
    });

    it('a range that is not one is refused, naming its field', async () => {
      const loc = await h.store.put(`${prefix}/bad-range`, Readable.from([Buffer.from('abc')]));
      for (const [range, field] of [
        [{ offset: -1, length: 1 }, 'range.offset'],
        [{ offset: 0.5, length: 1 }, 'range.offset'],
        [{ offset: 0, length: 0 }, 'range.length'],
        [{ offset: 1, length: Number.MAX_SAFE_INTEGER }, 'range.length'],
      ] as const) {
        const err = await h.store.get(loc, { range }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as Error).message).toMatch(new RegExp(`^${field.replace('.', '\\.')} must be`));
      }
    });

    it('an abort while a range is read fails its stream; an aborted signal fails the call', async () => {
      const loc = await h.store.put(`${prefix}/abort-range`, Readable.from([randomBytes(4 * 1024 * 1024)]));
      await expect(h.store.get(loc, { signal: AbortSignal.abort(), range: { offset: 0, length: 10 } })).rejects.toMatchObject({ name: 'AbortError' });
      const abort = new AbortController();
      const body = await h.store.get(loc, { signal: abort.signal, range: { offset: 1024, length: 3 * 1024 * 1024 } });
      const read = (async () => {
        for await (const _ of body) abort.abort();
      })();
      await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('a missing object is a typed not-found error', async () => {
      const loc = await h.store.put(`${prefix}/exists`, Readable.from([Buffer.from('x')]));
      await expect(h.store.get({ ...loc, key: `${prefix}/does-not-exist` })).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(h.store.stat({ ...loc, key: `${prefix}/does-not-exist` })).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('stat tells the size of an object without reading it; a prefix of other keys is not an object', async () => {
      const body = randomBytes(123_457);
      const loc = await h.store.put(`${prefix}/sized/one`, Readable.from([body]));
      expect(loc.bucket).toBe(h.store.bucket);
      expect(await h.store.stat(loc)).toEqual({ size: body.length });
      await expect(h.store.stat({ ...loc, key: `${prefix}/sized` })).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('stat with an aborted signal fails as aborted', async () => {
      const loc = await h.store.put(`${prefix}/abort-stat`, Readable.from([Buffer.from('x')]));
      await expect(h.store.stat(loc, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('deletes, and deleting again is not an error', async () => {
      const loc = await h.store.put(`${prefix}/gone`, Readable.from([Buffer.from('bye')]));
      await h.store.delete(loc);
      await expect(h.store.get(loc)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(h.store.stat(loc)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(h.store.delete(loc)).resolves.toBeUndefined();
    });

    it('a body that fails half-way leaves no object', async () => {
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(64 * 1024, 1));
          this.destroy(new Error('source broke'));
        },
      });
      await expect(h.store.put(`${prefix}/torn`, failing)).rejects.toThrow(/source broke/);
      const loc = await h.store.put(`${prefix}/probe`, Readable.from([Buffer.from('p')]));
      await expect(h.store.get({ ...loc, key: `${prefix}/torn` })).rejects.toBeInstanceOf(BlobNotFoundError);
    });
  });
}
