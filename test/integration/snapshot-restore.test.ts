/**
 * The runbook's "restore from the fallback snapshot": the metadata store is lost (a new, empty
 * data dir), restore writes the snapshot back, and a server on the restored store serves the
 * same versions, byte for byte, with the pin still applying; the next publish goes above.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, Subscriber } from '../../client/index.js';
import { recordProblem, type VersionRecord } from '../../core/index.js';
import { findSnapshot, restoreSnapshot, writeSnapshot } from '../../janitor/index.js';
import { SqliteMetadataStore } from '../../server/store/sqlite.js';
import { identity, startTestServer, tempDir } from '../helpers.js';

describe('restore from the fallback snapshot', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** What a subscriber in `region` holds once ready, from the server at `address`. */
  async function held(address: string, blobs: LocalBlobStore, region: string): Promise<{ version: bigint; value: Buffer | undefined }> {
    const client = new ImprintClient({ address });
    const s = new Subscriber({ client, identity: identity({ app: 'scorer', region }), blobStores: [blobs], intervalMs: 100, startupBudgetMs: 10_000 });
    try {
      const sub = s.subscribe('model', { decode: (b) => Buffer.from(b) });
      await sub.ready();
      return { version: sub.version, value: sub.current };
    } finally {
      await s.close();
      client.close();
    }
  }

  it('a wiped store restored: the same versions byte for byte, the pin applies, the next publish is max+1', async () => {
    const blobs = new LocalBlobStore({ root: tempDir() });
    // 1. Publish (direct, and over 1 MiB to the blob store), pin one, write the snapshot.
    const before = await startTestServer({ blobStores: [blobs] });
    cleanups.push(() => before.stop());
    const publisher = new Publisher({ client: before.client, blobStores: [blobs] });
    await before.client.createTopic({ name: 'model', owner: 'trust-team', retention: { keepVersions: 10 } });
    const v1 = Buffer.from('small v1');
    const big = randomBytes(3 * 1024 * 1024);
    const v3 = Buffer.from('eu only v3');
    await publisher.publish('model', v1, { metadata: { build: '1' } });
    await publisher.publish('model', big, { metadata: { build: '2' } });
    await publisher.publish('model', v3, { scopes: [{ region: 'eu-west-1' }] });
    await before.client.pin('model', 1n, { scope: { region: 'ap-south-1' }, reason: 'v2 scores everything as spam in ap', createdBy: 'alice' });
    const answers = { us: await held(before.address, blobs, 'us-east-1'), eu: await held(before.address, blobs, 'eu-west-1'), ap: await held(before.address, blobs, 'ap-south-1') };
    expect([answers.us.version, answers.eu.version, answers.ap.version]).toEqual([2n, 3n, 1n]);
    const records = await Promise.all([1n, 2n, 3n].map((v) => before.server.store.getVersion('model', v)));
    const written = await writeSnapshot({ store: before.server.store, blobStores: [blobs] });
    await before.stop();

    // 2. The store is lost: a new, empty data dir. Restore into it.
    const dataDir = tempDir();
    const store = SqliteMetadataStore.open({ file: path.join(dataDir, 'imprint.db') });
    const found = await findSnapshot([blobs]);
    expect(found.pointer.key).toBe(written.key);
    const result = await restoreSnapshot({ store, blobStores: [blobs], found, by: { principal: 'bob', authenticated: false, peer: '' } });
    expect(result.topics).toEqual([{ topic: 'model', outcome: 'restored', records: 3, pins: 1, nextVersion: 4n, leftOut: [], missing: [], unchecked: [] }]);
    expect(result.summary).toEqual({ restored: 1, skipped: 0, failed: 0, records: 3, pins: 1, missingObjects: 0, uncheckedObjects: 0 });
    // Each record exactly as it was, and passing its digest check.
    for (const r of records) {
      const back = await store.getVersion('model', (r as VersionRecord).version);
      expect(back).toEqual(r);
      expect(back && recordProblem(back)).toBeUndefined();
    }
    await store.close();

    // 3. A server on the restored store: the same answers, byte for byte, the pin still applying.
    const after = await startTestServer({ dataDir, blobStores: [blobs] });
    cleanups.push(() => after.stop());
    const us = await held(after.address, blobs, 'us-east-1');
    const eu = await held(after.address, blobs, 'eu-west-1');
    const ap = await held(after.address, blobs, 'ap-south-1');
    expect([us.version, eu.version, ap.version]).toEqual([2n, 3n, 1n]);
    expect(us.value?.equals(big)).toBe(true);
    expect(eu.value?.equals(v3)).toBe(true);
    expect(ap.value?.equals(v1)).toBe(true);
    expect((await after.client.poll('model', identity({ app: 'scorer', region: 'ap-south-1' }), 0n)).pinned).toBe(true);
    expect(await after.client.listPins('model')).toMatchObject([{ version: 1n, reason: 'v2 scores everything as spam in ap', createdBy: 'alice' }]);

    // 4. The next publish goes above every restored version.
    const next = await new Publisher({ client: after.client, blobStores: [blobs] }).publish('model', Buffer.from('v4'));
    expect(next.version).toBe(4n);
  }, 60_000);

  it('a topic the store has is left alone, never overwritten; a missing object is reported, the record restored', async () => {
    const blobs = new LocalBlobStore({ root: tempDir() });
    const before = await startTestServer({ blobStores: [blobs] });
    cleanups.push(() => before.stop());
    const publisher = new Publisher({ client: before.client, blobStores: [blobs] });
    await before.client.createTopic({ name: 'model' });
    await before.client.createTopic({ name: 'other' });
    const published = await publisher.publish('model', randomBytes(2 * 1024 * 1024));
    await publisher.publish('other', Buffer.from('theirs'));
    const record = await before.server.store.getVersion('model', 1n);
    await writeSnapshot({ store: before.server.store, blobStores: [blobs] });
    await before.stop();
    // The object of model v1 is gone; "other" was made again by hand meanwhile.
    const pointer = published.pointer;
    if (pointer.kind !== 'blob' || !pointer.locations[0]) throw new Error('expected a blob pointer');
    await blobs.delete(pointer.locations[0]);
    const store = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
    cleanups.push(() => store.close());
    await store.createTopic({ name: 'other', owner: 'new-owner', description: '', retention: {} }, Date.now());

    const found = await findSnapshot([blobs]);
    const dry = await restoreSnapshot({ store, blobStores: [blobs], found, dryRun: true });
    expect(dry.topics.map((t) => [t.topic, t.outcome, t.missing.length])).toEqual([
      ['model', 'would restore', 1],
      ['other', 'skipped', 0],
    ]);
    expect(await store.getTopic('model')).toBeUndefined(); // a dry run writes nothing

    const result = await restoreSnapshot({ store, blobStores: [blobs], found });
    expect(result.topics.map((t) => [t.topic, t.outcome])).toEqual([
      ['model', 'restored'],
      ['other', 'skipped'],
    ]);
    expect(result.topics[0]?.missing).toEqual([expect.stringMatching(/^v1: .*must name an object that exists/)]);
    expect(result.summary).toMatchObject({ restored: 1, skipped: 1, missingObjects: 1 });
    expect(await store.getVersion('model', 1n)).toEqual(record);
    expect(await store.getTopic('other')).toMatchObject({ owner: 'new-owner', latestVersion: 0n });
    expect(await store.countVersions('other')).toBe(0);
  }, 60_000);
});
