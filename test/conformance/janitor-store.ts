/** What the janitor needs of a store (deleting versions, leases): SQLite and Cassandra run it. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planRestore, scopeKey, sha256Hex } from '../../core/index.js';
import type { JanitorStore } from '../../server/store/metadata-store.js';

export interface JanitorStoreHarness {
  readonly store: JanitorStore;
  cleanup(): Promise<void>;
}

export function janitorStoreConformance(name: string, make: () => Promise<JanitorStoreHarness>): void {
  describe(`JanitorStore conformance: ${name}`, () => {
    let h: JanitorStoreHarness;
    let topic: string;
    let n = 0;
    beforeEach(async () => {
      h = await make();
      topic = `j-${Date.now().toString(36)}-${n++}`;
      await h.store.createTopic({ name: topic, owner: '', description: '', retention: {} }, 1);
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const publish = (scopes: Record<string, string>[], at: number) => {
      const bytes = Buffer.from(`p${at}`);
      return h.store.publish({ topic, metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes }, at);
    };

    it('deletes a version with its scopes, and deleting again is not an error', async () => {
      await publish([{}], 10);
      await publish([{ region: 'eu' }], 20);
      await publish([{}], 30);
      await h.store.deleteVersion(topic, 1n);
      expect(await h.store.getVersion(topic, 1n)).toBeUndefined();
      expect((await h.store.listVersions(topic, { limit: 10 })).map((v) => v.version)).toEqual([3n, 2n]);
      expect(await h.store.countVersions(topic)).toBe(2);
      await h.store.deleteVersion(topic, 2n);
      expect((await h.store.scopeHeads(topic)).map((x) => [scopeKey(x.scope), x.version])).toEqual([['', 3n]]);
      await expect(h.store.deleteVersion(topic, 2n)).resolves.toBeUndefined();
      // Numbers are never reused.
      expect((await publish([{}], 40)).record.version).toBe(4n);
    });

    it('deleting a version forgets its publish id: a publish with it makes a new version', async () => {
      const bytes = Buffer.from('kept for a while');
      const v = { topic, metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{}], publishId: 'nightly-1' };
      expect((await h.store.publish(v, 10)).record.version).toBe(1n);
      expect((await h.store.publish(v, 20)).replayed).toBe(true);
      await h.store.deleteVersion(topic, 1n);
      expect(await h.store.publish(v, 30)).toMatchObject({ replayed: false, record: { version: 2n } });
      expect((await h.store.publish(v, 40)).replayed).toBe(true);
    });

    it('purges a deleted topic: versions, scopes, pins, publish ids and the topic go, its history stays, the name is free', async () => {
      const bytes = Buffer.from('one');
      await h.store.publish({ topic, metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{ region: 'eu' }], publishId: 'p-1' }, 10);
      await publish([{}], 20);
      await h.store.pin({ topic, scope: { region: 'eu' }, version: 1n, createdAtMs: 30, reason: '', createdBy: '' });
      await h.store.grant(topic, { role: 'consumer', grantee: 'group:scoring' }, 35);
      // A live topic is left alone.
      expect(await h.store.purgeTopic(topic)).toBe(false);
      expect(await h.store.countVersions(topic)).toBe(2);
      await h.store.deleteTopic(topic, 'gone', 40);
      expect(await h.store.purgeTopic(topic)).toBe(true);
      expect(await h.store.getTopic(topic)).toBeUndefined();
      expect((await h.store.listTopics()).map((t) => t.name)).not.toContain(topic);
      expect(await h.store.countVersions(topic)).toBe(0);
      expect(await h.store.getVersion(topic, 1n)).toBeUndefined();
      expect(await h.store.scopeHeads(topic)).toEqual([]);
      expect(await h.store.scopeHeads(topic, 1_000)).toEqual([]);
      expect(await h.store.listPins(topic)).toEqual([]);
      expect(await h.store.listGrants(topic)).toEqual([]);
      expect((await h.store.listHistory(topic, { limit: 10 })).map((c) => c.kind)).toEqual(['delete-topic', 'grant', 'pin', 'publish', 'publish', 'create-topic']);
      // Purging again is not an error (a janitor killed mid-purge finishes on its next run).
      expect(await h.store.purgeTopic(topic)).toBe(true);
      // The name is free: a new topic, numbered from 1, with no pins and its publish ids forgotten.
      const again = await h.store.createTopic({ name: topic, owner: 'new', description: '', retention: {} }, 50);
      expect(again).toEqual({ name: topic, owner: 'new', description: '', retention: {}, createdAtMs: 50, latestVersion: 0n });
      expect(await h.store.pollState(topic)).toMatchObject({ heads: [], pins: [], grants: [] });
      const republished = await h.store.publish({ topic, metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{}], publishId: 'p-1' }, 60);
      expect(republished).toMatchObject({ replayed: false, record: { version: 1n } });
      expect((await h.store.listHistory(topic, { limit: 10 })).map((c) => c.kind).slice(0, 3)).toEqual(['publish', 'create-topic', 'delete-topic']);
    });

    it('a purged topic leaves nothing of itself (its staleness contract included): its name is created or restored afresh', async () => {
      const name = `${topic}-c`;
      await h.store.createTopic({ name, owner: '', description: '', retention: {}, expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 }, 1);
      await h.store.deleteTopic(name, 'gone', 10);
      expect(await h.store.purgeTopic(name)).toBe(true);
      expect(await h.store.createTopic({ name, owner: 'new', description: '', retention: {} }, 20)).toEqual({ name, owner: 'new', description: '', retention: {}, createdAtMs: 20, latestVersion: 0n });
      await h.store.updateTopic(name, { expectEveryMs: 3_600_000 }, 25);
      await h.store.deleteTopic(name, 'gone again', 30);
      expect(await h.store.purgeTopic(name)).toBe(true);
      const snap = { topic: { name, owner: 'restored', description: '', retention: {}, createdAtMs: 5, latestVersion: 2n }, heads: [], pins: [], records: [] };
      expect(await h.store.restoreTopic(planRestore(snap), { key: 'imprint-snapshots/x.snapshot', writtenAtMs: 4 }, 40)).toEqual(snap.topic);
      expect(await h.store.pollState(name)).toEqual({ topic: snap.topic, heads: [], pins: [], grants: [], withdrawn: [] });
    });

    it('a lease has one holder at a time, renews for its holder, and frees on expiry or release', async () => {
      const lease = `lease-${topic}`;
      expect(await h.store.acquireLease(lease, 'a', 1_000, 10_000)).toBe(true);
      expect(await h.store.acquireLease(lease, 'b', 1_000, 10_500)).toBe(false);
      expect(await h.store.acquireLease(lease, 'a', 1_000, 10_900)).toBe(true); // renewed to 11_900
      expect(await h.store.acquireLease(lease, 'b', 1_000, 11_500)).toBe(false);
      expect(await h.store.acquireLease(lease, 'b', 1_000, 12_000)).toBe(true); // a's expired
      await h.store.releaseLease(lease, 'a'); // not a's any more: no effect
      expect(await h.store.acquireLease(lease, 'a', 1_000, 12_100)).toBe(false);
      await h.store.releaseLease(lease, 'b');
      expect(await h.store.acquireLease(lease, 'a', 1_000, 12_200)).toBe(true);
    });

    it("a job's last success is recorded, the newest kept, and every job listed", async () => {
      const snap = `snapshot-${topic}`;
      const purge = `purge-${topic}`;
      expect((await h.store.jobSuccesses()).has(snap)).toBe(false);
      await h.store.recordJobSuccess(snap, 10_000);
      await h.store.recordJobSuccess(snap, 30_000);
      await h.store.recordJobSuccess(snap, 20_000); // older than the one recorded: no effect
      await h.store.recordJobSuccess(purge, 15_000);
      const all = await h.store.jobSuccesses();
      expect(all.get(snap)).toBe(30_000);
      expect(all.get(purge)).toBe(15_000);
    });

    it('of many concurrent takers of a free lease exactly one wins', async () => {
      const lease = `race-${topic}`;
      const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => h.store.acquireLease(lease, `j${i}`, 60_000, 50_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });
  });
}
