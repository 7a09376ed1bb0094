/**
 * Publishing through the client: direct vs blob, streaming hash, no leftovers when the service
 * refused, publish ids (a repeated publish step gets the same version), and uploaded objects
 * kept whenever the outcome is unknown.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, PublishOutcomeUnknownError, Publisher, fetchPayload, publisherWithDefaults, type BlobStore } from '../../client/index.js';
import { AlreadyExistsError, InvalidArgumentError, MAX_DIRECT_BYTES, sha256Hex, type BlobLocation } from '../../core/index.js';
import { freePort } from '../../scripts/backends/launcher.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer } from '../../server/index.js';
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

  it('bytes in memory go to every region whole while they are hashed, not after', async () => {
    const bytes = randomBytes(64 * 1024 * 1024 + 3);
    let hashedAtFirstChunk: number | undefined;
    let lastProgress = 0;
    /** East, noting how much was hashed (the publish's progress) when its upload got its first bytes. */
    class Watching extends LocalBlobStore {
      override async put(key: string, body: Readable): Promise<BlobLocation> {
        const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const first = await it.next();
        hashedAtFirstChunk ??= lastProgress;
        return super.put(
          key,
          Readable.from(
            (async function* () {
              if (!first.done) yield first.value;
              for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
            })(),
          ),
        );
      }
    }
    const watched = new Watching({ root: east.root, region: east.region });
    const pub = new Publisher({ client: t.client, blobStores: [watched, west] });
    const r = await pub.publish('pub', bytes, { onProgress: (p) => (lastProgress = p.bytes) });
    expect(r.pointer).toMatchObject({ kind: 'blob', size: bytes.length, sha256: sha256Hex(bytes) });
    expect(lastProgress).toBe(bytes.length);
    // It had the whole payload before the hash had seen any of it.
    expect(hashedAtFirstChunk).toBe(0);
    expect((await fetchPayload(r, [west])).equals(bytes)).toBe(true);
    expect((await fetchPayload(r, [east])).equals(bytes)).toBe(true);
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

  // The tests below write to `east`, a region the server knows, each under a topic of its own.
  const objectsOf = (topic: string) => files(path.join(east.root, topic));

  it('a build job that repeats its publish step with the same publishId gets the same version; the repeat\'s upload is removed', async () => {
    await t.client.createTopic({ name: 'repeat' });
    const pub = new Publisher({ client: t.client, blobStores: [east] });
    const payload = randomBytes(2 * 1024 * 1024);
    const first = await pub.publish('repeat', payload, { publishId: 'build-77', metadata: { build: '77' } });
    expect(first.replayed).toBe(false);
    const again = await pub.publish('repeat', payload, { publishId: 'build-77', metadata: { build: '77' } });
    expect(again).toMatchObject({ replayed: true, version: first.version, pointer: first.pointer });
    expect((await t.client.getTopic('repeat')).latestVersion).toBe(first.version);
    // The version's objects stay, the repeat's second upload is gone.
    expect(objectsOf('repeat')).toHaveLength(1);
    expect((await fetchPayload(again, [east])).equals(payload)).toBe(true);
    // Small payloads too (direct, nothing uploaded).
    const d1 = await pub.publish('repeat', Buffer.from('small'), { publishId: 'build-78' });
    expect(await pub.publish('repeat', Buffer.from('small'), { publishId: 'build-78' })).toMatchObject({ replayed: true, version: d1.version });
  });

  it('the same publishId with other content is refused (ALREADY_EXISTS) and its upload removed', async () => {
    await t.client.createTopic({ name: 'conflict' });
    const pub = new Publisher({ client: t.client, blobStores: [east] });
    const made = await pub.publish('conflict', randomBytes(2 * 1024 * 1024), { publishId: 'build-79' });
    const err: unknown = await pub.publish('conflict', randomBytes(2 * 1024 * 1024), { publishId: 'build-79' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as Error).message).toContain(`publish_id "build-79" already made version ${made.version} of topic "conflict", with other payload`);
    expect(objectsOf('conflict')).toHaveLength(1);
  });

  it('checks the publishId option, by its name, before uploading anything; and its retry options', async () => {
    const pub = new Publisher({ client: t.client, blobStores: [east] });
    for (const publishId of ['has space', '', 'x'.repeat(129)]) {
      const err: unknown = await pub.publish('unchecked', randomBytes(2 * 1024 * 1024), { publishId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ field: 'publishId' });
    }
    expect(objectsOf('unchecked')).toEqual([]);
    expect(publisherWithDefaults({ client: t.client })).toMatchObject({ retryBudgetMs: 60_000, retryMinMs: 250, retryMaxMs: 5_000 });
    expect(() => new Publisher({ client: t.client, retryBudgetMs: -1 })).toThrow(/retryBudgetMs must be a whole number of milliseconds >= 0 \(got -1\)/);
    expect(() => new Publisher({ client: t.client, retryMinMs: 500, retryMaxMs: 100 })).toThrow(/retryMaxMs must be a whole number of milliseconds >= 500/);
  });

  it('no answer within the retry budget: the uploaded objects are kept and the error says so, with the publish id', async () => {
    const root = tempDir();
    const nobody = new ImprintClient({ address: `127.0.0.1:${await freePort()}`, deadlineMs: 500 });
    try {
      const pub = new Publisher({ client: nobody, blobStores: [new LocalBlobStore({ root })], retryBudgetMs: 1_000, retryMinMs: 50, retryMaxMs: 200 });
      const err: unknown = await pub.publish('pub', randomBytes(2 * 1024 * 1024), { publishId: 'build-80' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishOutcomeUnknownError);
      const e = err as PublishOutcomeUnknownError;
      expect(e).toMatchObject({ code: 'UNAVAILABLE', topic: 'pub', publishId: 'build-80' });
      expect(e.kept).toHaveLength(1);
      expect(e.message).toMatch(/may or may not have been recorded: no certain answer in \d+ attempt\(s\)/);
      expect(e.message).toContain('publish again with publish id "build-80"');
      expect(files(root)).toHaveLength(1);
    } finally {
      nobody.close();
    }
  });

  it('a refusal after an attempt whose outcome was unknown proves nothing: the objects are kept', async () => {
    // The first attempt goes to an address that does not answer; the client moves on to the next
    // address, a consume instance, which refuses a publish (UNIMPLEMENTED). The first attempt could
    // have been recorded, for all the publisher knows.
    const dataDir = tempDir();
    const consume = await startImprintServer({ dataDir, port: 0, role: 'consume', log: silentLogger });
    const client = new ImprintClient({ address: `127.0.0.1:${await freePort()},127.0.0.1:${consume.port}`, random: () => 0, deadlineMs: 1_000 });
    const root = tempDir();
    try {
      const pub = new Publisher({ client, blobStores: [new LocalBlobStore({ root })], retryMinMs: 10, retryMaxMs: 50 });
      const err: unknown = await pub.publish('pub', randomBytes(2 * 1024 * 1024)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishOutcomeUnknownError);
      expect((err as Error).message).toMatch(/in 2 attempt\(s\).*does not serve this call/);
      expect(files(root)).toHaveLength(1);
    } finally {
      client.close();
      await consume.stop();
    }
  });
});
