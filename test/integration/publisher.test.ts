/** Publishing through the client: direct vs blob, streaming hash, and no leftovers on failure. */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore, Publisher, fetchPayload, type BlobStore } from '../../client/index.js';
import { MAX_DIRECT_BYTES, sha256Hex, type BlobLocation } from '../../core/index.js';
import { startTestServer, tempDir, type TestServer } from '../helpers.js';

/** A store that fails after taking some bytes, as a region outage would. */
class FailingStore implements BlobStore {
  readonly name = 'local';
  readonly bucket = 'local';
  constructor(readonly region: string) {}
  async put(_key: string, body: Readable): Promise<BlobLocation> {
    for await (const _ of body) throw new Error(`region ${this.region} is down`);
    throw new Error(`region ${this.region} is down`);
  }
  async get(): Promise<Readable> {
    throw new Error('down');
  }
  async stat(): Promise<{ size: number }> {
    throw new Error('down');
  }
  async delete(): Promise<void> {}
}

const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : []);

describe('Publisher', () => {
  let t: TestServer;
  let east: LocalBlobStore;
  let west: LocalBlobStore;
  beforeAll(async () => {
    east = new LocalBlobStore({ root: tempDir(), region: 'us-east-1' });
    west = new LocalBlobStore({ root: tempDir(), region: 'us-west-2' });
    t = await startTestServer({ blobStores: [east, west] });
    await t.client.createTopic({ name: 'pub' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('sends up to 1 MiB inside the record, and more to every region with one location each', async () => {
    const pub = new Publisher({ client: t.client, blobStores: [east, west] });
    const small = randomBytes(MAX_DIRECT_BYTES);
    const r1 = await pub.publish('pub', small);
    expect(r1.pointer.kind).toBe('direct');

    const big = randomBytes(MAX_DIRECT_BYTES + 1);
    const progress: number[] = [];
    const r2 = await pub.publish('pub', Readable.from([big.subarray(0, 100), big.subarray(100)]), { onProgress: (p) => progress.push(p.bytes) });
    expect(r2.pointer).toMatchObject({ kind: 'blob', size: big.length, sha256: sha256Hex(big) });
    expect(r2.pointer.kind === 'blob' && r2.pointer.locations.map((l) => l.region)).toEqual(['us-east-1', 'us-west-2']);
    expect(progress.at(-1)).toBe(big.length);
    expect((await fetchPayload(r2, [west])).equals(big)).toBe(true);
    expect((await fetchPayload(r2, [east])).equals(big)).toBe(true);
  });

  it('a file path over 1 MiB is streamed, not read whole', async () => {
    const pub = new Publisher({ client: t.client, blobStores: [east] });
    const file = path.join(tempDir(), 'm.bin');
    const bytes = randomBytes(3 * 1024 * 1024);
    fs.writeFileSync(file, bytes);
    const r = await pub.publish('pub', { path: file }, { metadata: { src: 'file' } });
    expect(r.pointer).toMatchObject({ kind: 'blob', size: bytes.length, sha256: sha256Hex(bytes) });
    expect(r.metadata).toEqual({ src: 'file' });
  });

  it('one region failing publishes nothing and removes what the other region stored', async () => {
    const root = tempDir();
    const ok = new LocalBlobStore({ root, region: 'ok' });
    const pub = new Publisher({ client: t.client, blobStores: [ok, new FailingStore('bad')] });
    const before = (await t.client.getTopic('pub')).latestVersion;
    await expect(pub.publish('pub', randomBytes(2 * 1024 * 1024))).rejects.toThrow(/region bad is down/);
    expect((await t.client.getTopic('pub')).latestVersion).toBe(before);
    expect(files(root)).toEqual([]);
  });

  it('a refused publish removes the uploaded objects', async () => {
    const pub = new Publisher({ client: t.client, blobStores: [east, west] });
    await expect(pub.publish('not-a-topic', randomBytes(2 * 1024 * 1024))).rejects.toThrow(/does not exist/);
    expect(files(path.join(east.root, 'not-a-topic'))).toEqual([]);
    expect(files(path.join(west.root, 'not-a-topic'))).toEqual([]);
  });

  it('a corrupted blob is rejected on fetch by its sha256', async () => {
    const store = east;
    const pub = new Publisher({ client: t.client, blobStores: [store] });
    const r = await pub.publish('pub', randomBytes(2 * 1024 * 1024));
    const loc = r.pointer.kind === 'blob' ? r.pointer.locations[0] : undefined;
    const file = path.join(store.root, loc?.key ?? 'x');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('corrupt'), 0, 7, 1000);
    fs.closeSync(fd);
    await expect(fetchPayload(r, [store])).rejects.toThrow(/does not match its sha256/);
  });
});
