/** Retention purge and janitor leases against the embedded store and local blob stores in two regions. */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore, Publisher, SnapshotReader } from '../../client/index.js';
import type { DataPointer, VersionRecord } from '../../core/index.js';
import { Janitor, purgeRetention, writeSnapshot } from '../../janitor/index.js';
import type { SqliteMetadataStore } from '../../server/index.js';
import { startTestServer, tempDir } from '../helpers.js';
import { FlakyBlobStore } from '../flaky-blob-store.js';

const DAY = 24 * 60 * 60 * 1000;

const exists = (store: LocalBlobStore, r: VersionRecord) =>
  r.pointer.kind === 'blob' && r.pointer.locations.filter((l) => l.region === store.region).every((l) => fs.existsSync(path.join(store.root, l.key)));

describe('retention purge', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });

  async function setup(clock: () => number) {
    const east = new LocalBlobStore({ root: tempDir(), region: 'us-east-1' });
    const west = new LocalBlobStore({ root: tempDir(), region: 'eu-west-1' });
    const t = await startTestServer({ clock, blobStores: [east, west] });
    stops.push(() => t.stop());
    return { t, east, west, publisher: new Publisher({ client: t.client, blobStores: [east, west] }), store: t.server.store as SqliteMetadataStore };
  }

  it('deletes only what retention, scopes and pins do not keep, objects in both regions included', async () => {
    let now = 100 * DAY;
    const { t, east, west, publisher, store } = await setup(() => now);
    await t.client.createTopic({ name: 'm', retention: { keepVersions: 2 } });
    const big = () => randomBytes(1024 * 1024 + 10);
    const v: VersionRecord[] = [];
    v.push(await publisher.publish('m', big())); // v1: pinned below
    v.push(await publisher.publish('m', big(), { scopes: [{ region: 'eu' }] })); // v2: latest of region=eu
    for (let i = 0; i < 4; i++) v.push(await publisher.publish('m', big())); // v3..v6
    await t.client.pin('m', 1n, { scope: { cluster: 'canary' } });
    now += DAY;

    const res = await purgeRetention({ store, blobStores: [east, west], clock: () => now });
    expect(res.failures).toEqual([]);
    expect(res.purged.map((p) => p.version)).toEqual([3n, 4n]);
    expect((await t.client.listVersions('m')).versions.map((r) => r.version)).toEqual([6n, 5n, 2n, 1n]);
    for (const r of v) {
      const kept = [1n, 2n, 5n, 6n].includes(r.version);
      expect(exists(east, r)).toBe(kept);
      expect(exists(west, r)).toBe(kept);
    }
    // A second run has nothing left to do.
    expect((await purgeRetention({ store, blobStores: [east, west], clock: () => now })).purged).toEqual([]);
  });

  it('keeps the row of a version whose objects could not be deleted, and purges it on a later run', async () => {
    let now = 10 * DAY;
    const { t, east, west, publisher, store } = await setup(() => now);
    await t.client.createTopic({ name: 'days', retention: { keepDays: 1 } });
    const old = await publisher.publish('days', randomBytes(2 * 1024 * 1024));
    now += 3 * DAY;
    await publisher.publish('days', randomBytes(10));
    const flaky = new FlakyBlobStore(west, 'deletes');
    const first = await purgeRetention({ store, blobStores: [east, flaky], clock: () => now });
    expect(first.purged).toEqual([]);
    expect(first.failures.map((f) => [f.version, f.location?.region, f.error])).toEqual([[1n, 'eu-west-1', 'region eu-west-1 refuses deletes']]);
    expect((await t.client.getVersion('days', 1n)).version).toBe(1n);
    expect(exists(east, old)).toBe(false);
    expect(exists(west, old)).toBe(true);

    flaky.down = false;
    const second = await purgeRetention({ store, blobStores: [east, flaky], clock: () => now });
    expect(second.purged).toEqual([{ topic: 'days', version: 1n }]);
    expect(exists(west, old)).toBe(false);
    await expect(t.client.getVersion('days', 1n)).rejects.toThrow(/does not exist/);
  });

  it("deletes only the topic's own objects: one named by a kept version, another topic's or a snapshot stays", async () => {
    let now = 10 * DAY;
    const { t, east, west, store } = await setup(() => now);
    await t.client.createTopic({ name: 'm', retention: { keepVersions: 1 } });
    await t.client.createTopic({ name: 'other' });
    const put = async (key: string, body: Buffer) => {
      await east.put(key, Readable.from([body]));
      await west.put(key, Readable.from([body]));
    };
    const theirs = randomBytes(1000);
    await put('other/theirs', theirs);
    await put('m/shared', randomBytes(2000));
    await writeSnapshot({ store, blobStores: [east, west], clock: () => now });
    const pointer = (key: string): DataPointer => {
      const size = fs.statSync(path.join(east.root, key)).size;
      return { kind: 'blob', size, sha256: 'c'.repeat(64), locations: [east.locationOf(key), west.locationOf(key)] };
    };
    // Records written before the service checked keys: straight into the store.
    const publish = (key: string) => store.publish({ topic: 'm', metadata: {}, pointer: pointer(key), scopes: [{}] }, now);
    await publish('other/theirs'); // v1: another topic's object
    await publish('imprint-snapshots/LATEST'); // v2: the snapshot pointer
    await publish('m/shared'); // v3: its own, also named by v4
    await publish('m/shared'); // v4: the latest, kept
    now += DAY;

    const res = await purgeRetention({ store, blobStores: [east, west], clock: () => now });
    expect(res.failures).toEqual([]);
    expect(res.purged.map((p) => p.version)).toEqual([1n, 2n, 3n]);
    for (const region of [east, west]) {
      expect(fs.readFileSync(path.join(region.root, 'other', 'theirs')).equals(theirs)).toBe(true);
      expect(fs.existsSync(path.join(region.root, 'imprint-snapshots', 'LATEST'))).toBe(true);
      expect(fs.existsSync(path.join(region.root, 'm', 'shared'))).toBe(true);
    }
    expect(res.kept.map((k) => [k.version, k.location.region, k.location.key, k.reason])).toEqual([
      [1n, 'us-east-1', 'other/theirs', 'outside-topic-prefix'],
      [1n, 'eu-west-1', 'other/theirs', 'outside-topic-prefix'],
      [2n, 'us-east-1', 'imprint-snapshots/LATEST', 'outside-topic-prefix'],
      [2n, 'eu-west-1', 'imprint-snapshots/LATEST', 'outside-topic-prefix'],
      [3n, 'us-east-1', 'm/shared', 'named-by-kept-version'],
      [3n, 'eu-west-1', 'm/shared', 'named-by-kept-version'],
    ]);
    expect((await t.client.listVersions('m')).versions.map((r) => r.version)).toEqual([4n]);
    // The snapshot is still readable whole.
    expect((await new SnapshotReader({ blobStores: [east, west] }).read()).topics.map((x) => x.topic.name).sort()).toEqual(['m', 'other']);
  });

  it('two janitors: only the lease holder runs a job', async () => {
    const { t, east, store } = await setup(Date.now);
    await t.client.createTopic({ name: 'leased' });
    const a = new Janitor({ store, blobStores: [east], holder: 'a' });
    const b = new Janitor({ store, blobStores: [east], holder: 'b' });
    expect(await store.acquireLease('janitor:snapshot', 'a', 60_000, Date.now())).toBe(true);
    expect(await b.runJob('snapshot')).toEqual({ job: 'snapshot', ran: false, outcome: 'skipped', durationMs: 0 });
    const ran = await a.runJob('snapshot');
    expect(ran.ran).toBe(true);
    expect(ran.error).toBeUndefined();
    // a released it after the job: b may run now.
    expect((await b.runJob('snapshot')).ran).toBe(true);
    const once = await a.runOnce();
    expect(once.map((o) => [o.job, o.ran, o.error])).toEqual([
      ['snapshot', true, undefined],
      ['purge', true, undefined],
      ['topic-purge', true, undefined],
    ]);
  });
});
