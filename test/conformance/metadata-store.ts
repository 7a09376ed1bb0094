/**
 * The MetadataStore conformance suite: every implementation (SQLite, Cassandra) runs it
 * unchanged, so the embedded default and production behave alike.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  keyIdOf,
  PublishIdConflictError,
  planRestore,
  recordDigest,
  restoredFrom,
  recordProblem,
  scopeKey,
  sha256Hex,
  type Actor,
  type Change,
  type DataPointer,
  type NewVersion,
  type Scope,
  type SnapshotTopic,
  type VersionRecord,
} from '../../core/index.js';
import type { FeedCursor, FeedEntry } from '../../server/store/change-feed.js';
import type { MetadataStore } from '../../server/store/metadata-store.js';

export interface StoreHarness {
  readonly store: MetadataStore;
  /** Changes a stored record's metadata behind the store's back (a torn or tampered write). */
  damageRecord(topic: string, version: bigint): Promise<void>;
  /** Another store on the same data, as after a restart (the harness may close `store`); cleanup closes it. */
  reopen(): Promise<MetadataStore>;
  /** A cursor of this kind of store that `store`'s feed cannot continue from (older than it keeps, or of another database). */
  staleCursor(): Promise<FeedCursor>;
  cleanup(): Promise<void>;
}

/** Reads the feed from `cursor` until a page says nothing more is ready. */
export async function drain(store: MetadataStore, cursor: FeedCursor): Promise<{ entries: FeedEntry[]; cursor: FeedCursor }> {
  const entries: FeedEntry[] = [];
  for (;;) {
    const page = await store.readFeed(cursor, { limit: 1000 });
    expect(page.tooOld).toBe(false);
    entries.push(...page.entries);
    cursor = page.cursor;
    if (!page.more) return { entries, cursor };
  }
}

/** An entry as the tests compare it: kind and version (what a change did, whatever the store's hints). */
export const acted = (e: FeedEntry) => `${e.kind} ${e.version}`;

const direct = (text: string): DataPointer => {
  const bytes = Buffer.from(text);
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
};

const blob: Extract<DataPointer, { kind: 'blob' }> = {
  kind: 'blob',
  size: 5_000_000,
  sha256: 'a'.repeat(64),
  locations: [
    { kind: 's3', region: 'us-east-1', bucket: 'models', key: 'ip-reputation/v1' },
    { kind: 's3', region: 'eu-west-1', bucket: 'models-eu', key: 'ip-reputation/v1' },
  ],
};

function newVersion(topic: string, over: Partial<NewVersion> = {}): NewVersion {
  return { topic, metadata: { build: '1' }, pointer: direct('payload'), scopes: [{}], ...over };
}

const ops: Actor = { principal: 'ops@example.com', authenticated: false, peer: '10.0.0.7:53412' };

/** A history entry as the tests compare it: what, which version, which scopes, why, which publish id, who. */
const entry = (c: Change) => [c.kind, c.version, c.scopes.map(scopeKey), c.reason, c.publishId, c.by.principal];

export function metadataStoreConformance(name: string, make: () => Promise<StoreHarness>): void {
  describe(`MetadataStore conformance: ${name}`, () => {
    let h: StoreHarness;
    let store: MetadataStore;
    let n = 0;
    // Topic names unique per test, so suites may share one backend.
    let topic: string;
    beforeEach(async () => {
      h = await make();
      store = h.store;
      topic = `t-${Date.now().toString(36)}-${n++}`;
      await store.createTopic({ name: topic, owner: 'team', description: 'd', retention: { keepVersions: 3 } }, 1_000);
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('creates, reads, lists and updates topics', async () => {
      const t = await store.getTopic(topic);
      expect(t).toEqual({ name: topic, owner: 'team', description: 'd', retention: { keepVersions: 3 }, createdAtMs: 1_000, latestVersion: 0n });
      expect((await store.listTopics()).map((x) => x.name)).toContain(topic);
      const u = await store.updateTopic(topic, { owner: 'other', retention: { keepDays: 7 } }, 2_000);
      expect(u).toMatchObject({ owner: 'other', description: 'd', retention: { keepDays: 7 } });
      expect(u.retention.keepVersions).toBeUndefined();
      expect(await store.getTopic(`${topic}-missing`)).toBeUndefined();
    });

    it('keeps a staleness contract: created with it, each limit changed or removed (0) alone, in the history and the poll state', async () => {
      const name = `${topic}-contract`;
      const c = await store.createTopic({ name, owner: 'team', description: '', retention: {}, expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 }, 1_000);
      expect(c).toMatchObject({ expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 });
      expect(await store.getTopic(name)).toMatchObject({ expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 });
      expect((await store.listTopics()).find((t) => t.name === name)).toMatchObject({ expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 });
      // One limit changed leaves the other; 0 removes one; other fields leave both.
      expect(await store.updateTopic(name, { maxStalenessMs: 10_800_000 }, 2_000)).toMatchObject({ expectEveryMs: 3_600_000, maxStalenessMs: 10_800_000 });
      expect(await store.updateTopic(name, { owner: 'other' }, 3_000)).toMatchObject({ owner: 'other', expectEveryMs: 3_600_000, maxStalenessMs: 10_800_000 });
      const cleared = await store.updateTopic(name, { expectEveryMs: 0 }, 4_000);
      expect(cleared.expectEveryMs).toBeUndefined();
      expect(cleared.maxStalenessMs).toBe(10_800_000);
      expect((await store.pollState(name))?.topic).toMatchObject({ maxStalenessMs: 10_800_000 });
      expect((await store.pollState(name))?.topic.expectEveryMs).toBeUndefined();
      // A topic without one has neither field.
      const plain = await store.getTopic(topic);
      expect(plain && 'expectEveryMs' in plain).toBe(false);
      expect(plain && 'maxStalenessMs' in plain).toBe(false);
      // The history says what each change set ("" for a limit removed).
      const details = (await store.listHistory(name, { limit: 10 })).map((e) => e.details);
      expect(details).toEqual([
        { expect_every_ms: '' },
        { owner: 'other' },
        { max_staleness_ms: '10800000' },
        { owner: 'team', description: '', keep_versions: '', keep_days: '', expect_every_ms: '3600000', max_staleness_ms: '7200000' },
      ]);
    });

    it('keeps a topic\'s trusted keys and each record\'s signature: created with, replaced, removed ([]), in the history, poll state and restore', async () => {
      const [k1, k2] = [Buffer.alloc(32, 1).toString('base64'), Buffer.alloc(32, 2).toString('base64')];
      const name = `${topic}-signed`;
      expect(await store.createTopic({ name, owner: 'team', description: '', retention: {}, trustedKeys: [k1] }, 1_000)).toMatchObject({ trustedKeys: [k1] });
      expect(await store.getTopic(name)).toMatchObject({ trustedKeys: [k1] });
      expect((await store.listTopics()).find((t) => t.name === name)).toMatchObject({ trustedKeys: [k1] });
      // Other fields leave them; a patch replaces them; [] removes them (the field goes).
      expect(await store.updateTopic(name, { owner: 'other' }, 2_000)).toMatchObject({ trustedKeys: [k1] });
      expect(await store.updateTopic(name, { trustedKeys: [k2, k1] }, 3_000)).toMatchObject({ trustedKeys: [k2, k1] });
      expect((await store.pollState(name))?.topic).toMatchObject({ trustedKeys: [k2, k1] });
      // A signed record reads back with its signature; an unsigned one has none.
      const signature = { keyId: keyIdOf(k2), signature: Buffer.alloc(64, 7).toString('base64') };
      const { record: signed } = await store.publish(newVersion(name, { signature }), 3_500);
      expect(signed.signature).toEqual(signature);
      expect(await store.getVersion(name, signed.version)).toEqual(signed);
      expect((await store.listVersions(name, { limit: 10 }))[0]).toEqual(signed);
      const cleared = await store.updateTopic(name, { trustedKeys: [] }, 4_000);
      expect(cleared.trustedKeys).toBeUndefined();
      const { record: plain } = await store.publish(newVersion(name), 4_500);
      expect(await store.getVersion(name, plain.version)).toEqual(plain);
      expect('signature' in plain).toBe(false);
      const plainTopic = await store.getTopic(topic);
      expect(plainTopic && 'trustedKeys' in plainTopic).toBe(false);
      // The history names the keys by id ("" when none are required any more).
      const details = (await store.listHistory(name, { limit: 10 })).filter((e) => e.kind !== 'publish').map((e) => e.details['trusted_keys']);
      expect(details).toEqual(['', `${keyIdOf(k2)},${keyIdOf(k1)}`, undefined, keyIdOf(k1)]);
      // A restore writes them back as the snapshot had them.
      const r = { topic: `${name}-r`, version: 1n, publishedAtMs: 100, metadata: {}, pointer: direct('x'), scopes: [{}], digest: '', signature };
      const record = { ...r, digest: recordDigest(r) };
      const snap: SnapshotTopic = { topic: { name: `${name}-r`, owner: 'o', description: '', retention: {}, createdAtMs: 50, latestVersion: 1n, trustedKeys: [k2] }, heads: [{ scope: {}, version: 1n, sinceMs: 100 }], pins: [], records: [record] };
      expect(await store.restoreTopic(planRestore(snap), { key: 'k', writtenAtMs: 1 }, 5_000, ops)).toMatchObject({ trustedKeys: [k2] });
      expect((await store.getVersion(`${name}-r`, 1n))?.signature).toEqual(signature);
    });

    it('refuses a second topic of the same name and updates of unknown ones', async () => {
      await expect(store.createTopic({ name: topic, owner: 'x', description: '', retention: {} }, 2_000)).rejects.toBeInstanceOf(AlreadyExistsError);
      expect((await store.getTopic(topic))?.owner).toBe('team');
      await expect(store.updateTopic(`${topic}-missing`, { owner: 'x' }, 3_000)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('assigns versions 1, 2, 3 and reads back exactly what was published (invariant 1)', async () => {
      const { record: a } = await store.publish(newVersion(topic, { metadata: { build: '1', commit: 'abc' } }), 10);
      const { record: b } = await store.publish(newVersion(topic, { pointer: blob, scopes: [{ region: 'us-east-1' }] }), 20);
      const { record: c } = await store.publish(newVersion(topic, { pointer: direct('third') }), 30);
      expect([a.version, b.version, c.version]).toEqual([1n, 2n, 3n]);
      for (const rec of [a, b, c]) {
        const back = await store.getVersion(topic, rec.version);
        expect(back).toEqual(rec);
        expect(back && recordProblem(back)).toBeUndefined();
        expect(back?.digest).toBe(recordDigest(rec));
      }
      expect((await store.getTopic(topic))?.latestVersion).toBe(3n);
      expect(await store.countVersions(topic)).toBe(3);
    });

    it('writes nothing for a publish to a topic that does not exist', async () => {
      const missing = `${topic}-missing`;
      await expect(store.publish(newVersion(missing), 10)).rejects.toBeInstanceOf(FailedPreconditionError);
      expect(await store.getTopic(missing)).toBeUndefined();
      expect(await store.countVersions(missing)).toBe(0);
      expect(await store.getVersion(missing, 1n)).toBeUndefined();
    });

    it('adds scopes to a version and changes nothing else', async () => {
      const { record: rec } = await store.publish(newVersion(topic, { scopes: [{ region: 'us-east-1' }] }), 10);
      const after = await store.addScopes(topic, rec.version, [{ region: 'eu-west-1' }, { region: 'us-east-1' }], 50);
      expect(after.scopes.map(scopeKey).sort()).toEqual(['region=eu-west-1', 'region=us-east-1']);
      expect({ ...after, scopes: [] }).toEqual({ ...rec, scopes: [] });
      expect(recordProblem(after)).toBeUndefined();
      await expect(store.addScopes(topic, 99n, [{ app: 'x' }], 60)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('lists versions newest first, paged by `below`', async () => {
      for (let i = 1; i <= 7; i++) await store.publish(newVersion(topic, { metadata: { i: String(i) } }), i * 10);
      const first = await store.listVersions(topic, { limit: 3 });
      expect(first.map((r) => r.version)).toEqual([7n, 6n, 5n]);
      const second = await store.listVersions(topic, { below: 5n, limit: 3 });
      expect(second.map((r) => r.version)).toEqual([4n, 3n, 2n]);
      expect(second[0]?.metadata).toEqual({ i: '4' });
      const last = await store.listVersions(topic, { below: 2n, limit: 3 });
      expect(last.map((r) => r.version)).toEqual([1n]);
    });

    it('keeps the latest version of each scope, also as it stood at a past time', async () => {
      await store.publish(newVersion(topic, { scopes: [{}] }), 100);
      await store.publish(newVersion(topic, { scopes: [{ region: 'eu' }] }), 200);
      await store.publish(newVersion(topic, { scopes: [{}] }), 300);
      await store.publish(newVersion(topic, { scopes: [{ region: 'eu' }, { app: 'scorer' }] }), 400);
      const heads = (await store.scopeHeads(topic)).map((x) => [scopeKey(x.scope), x.version]).sort();
      expect(heads).toEqual([
        ['', 3n],
        ['app=scorer', 4n],
        ['region=eu', 4n],
      ]);
      const past = (await store.scopeHeads(topic, 250)).map((x) => [scopeKey(x.scope), x.version]).sort();
      expect(past).toEqual([
        ['', 1n],
        ['region=eu', 2n],
      ]);
      const state = await store.pollState(topic);
      expect(state?.topic.latestVersion).toBe(4n);
      expect(state?.heads).toHaveLength(3);
      expect(await store.pollState(`${topic}-missing`)).toBeUndefined();
    });

    it('pins: replaces a pin of the same scope, lists, unpins, refuses unknown versions', async () => {
      await store.publish(newVersion(topic), 10);
      await store.publish(newVersion(topic), 20);
      await store.pin({ topic, scope: {}, version: 1n, createdAtMs: 100, reason: 'bad v2', createdBy: 'ops' });
      await store.pin({ topic, scope: { region: 'eu' }, version: 2n, createdAtMs: 110, reason: '', createdBy: 'ops' });
      await store.pin({ topic, scope: {}, version: 2n, createdAtMs: 120, reason: 'fixed', createdBy: 'ops' });
      const pins = await store.listPins(topic);
      expect(pins.map((p) => [scopeKey(p.scope), p.version, p.reason]).sort()).toEqual([
        ['', 2n, 'fixed'],
        ['region=eu', 2n, ''],
      ]);
      await expect(store.pin({ topic, scope: {}, version: 9n, createdAtMs: 130, reason: '', createdBy: '' })).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.listPins(topic)).find((p) => scopeKey(p.scope) === '')?.version).toBe(2n);
      const removed = await store.unpin(topic, { region: 'eu' }, 140);
      expect(removed?.version).toBe(2n);
      expect(await store.unpin(topic, { region: 'eu' }, 150)).toBeUndefined();
      expect((await store.listPins(topic)).map((p) => scopeKey(p.scope))).toEqual(['']);
    });

    it('8 concurrent publishers x 200 publishes give 1600 distinct, increasing versions (invariant 2)', async () => {
      const seen: bigint[][] = await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          const mine: bigint[] = [];
          for (let i = 0; i < 200; i++) mine.push((await store.publish(newVersion(topic, { metadata: { w: String(w), i: String(i) } }), 1_000 + i)).record.version);
          return mine;
        }),
      );
      for (const mine of seen) for (let i = 1; i < mine.length; i++) expect(mine[i]).toBeGreaterThan(mine[i - 1] as bigint);
      const all = seen.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(new Set(all).size).toBe(1600);
      expect(all[0]).toBe(1n);
      expect(all[1599]).toBe(1600n);
      expect(await store.countVersions(topic)).toBe(1600);
    }, 120_000);

    it('returns a damaged record as stored, so its digest check fails (invariant 4)', async () => {
      const { record: rec } = await store.publish(newVersion(topic), 10);
      await h.damageRecord(topic, rec.version);
      const back = await store.getVersion(topic, rec.version);
      expect(back).toBeDefined();
      expect(recordProblem(back as VersionRecord)).toMatch(/digest/);
    });

    describe('publish ids', () => {
      it('a retry with the publish id returns the version it made (replayed) and writes nothing', async () => {
        const first = await store.publish(newVersion(topic, { publishId: 'build-1234', scopes: [{ region: 'eu' }] }), 10, ops);
        expect(first.replayed).toBe(false);
        const again = await store.publish(newVersion(topic, { publishId: 'build-1234', scopes: [{ region: 'eu' }] }), 20, ops);
        expect(again).toEqual({ record: first.record, replayed: true });
        expect((await store.getTopic(topic))?.latestVersion).toBe(1n);
        expect(await store.countVersions(topic)).toBe(1);
        expect((await store.listHistory(topic, { limit: 10 })).filter((c) => c.kind === 'publish')).toHaveLength(1);
        // Without an id every publish is a new version; the same id on another topic is another publish.
        expect((await store.publish(newVersion(topic), 30)).record.version).toBe(2n);
        expect((await store.publish(newVersion(topic), 40)).record.version).toBe(3n);
        const other = `${topic}-other`;
        await store.createTopic({ name: other, owner: '', description: '', retention: {} }, 50);
        expect(await store.publish(newVersion(other, { publishId: 'build-1234', scopes: [{ region: 'eu' }] }), 60)).toMatchObject({ replayed: false, record: { version: 1n } });
      });

      it('the payload is compared by size and sha256, not by where it lies: a retry that uploaded again is the same publish', async () => {
        const first = await store.publish(newVersion(topic, { publishId: 'job-7', pointer: blob }), 10);
        const moved: DataPointer = { ...blob, locations: blob.locations.map((l) => ({ ...l, key: `${l.key}-retry` })) };
        const again = await store.publish(newVersion(topic, { publishId: 'job-7', pointer: moved }), 20);
        expect(again.replayed).toBe(true);
        expect(again.record.pointer).toEqual(blob);
        expect(again.record.version).toBe(first.record.version);
      });

      it('the same publish id with other metadata, payload or scopes is refused and writes nothing', async () => {
        await store.publish(newVersion(topic, { publishId: 'build-1' }), 10);
        const before = await store.listHistory(topic, { limit: 10 });
        for (const [over, differs] of [
          [{ metadata: { build: '2' } }, 'metadata'],
          [{ pointer: direct('other payload') }, 'payload'],
          [{ scopes: [{ region: 'eu' }] }, 'scopes'],
        ] as const) {
          const err: unknown = await store.publish(newVersion(topic, { publishId: 'build-1', ...over }), 20).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(PublishIdConflictError);
          expect(err).toMatchObject({ code: 'ALREADY_EXISTS' });
          expect((err as Error).message).toContain(`publish_id "build-1" already made version 1 of topic "${topic}", with other ${differs}`);
        }
        expect((await store.getTopic(topic))?.latestVersion).toBe(1n);
        expect(await store.countVersions(topic)).toBe(1);
        expect(await store.listHistory(topic, { limit: 10 })).toEqual(before);
      });

      it('8 concurrent retries of one publish make exactly one version', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.publish(newVersion(topic, { publishId: 'at-once' }), 100 + i)));
        expect(results.filter((r) => !r.replayed)).toHaveLength(1);
        expect(new Set(results.map((r) => r.record.version))).toEqual(new Set([1n]));
        expect(await store.countVersions(topic)).toBe(1);
        expect((await store.getTopic(topic))?.latestVersion).toBe(1n);
        expect((await store.listHistory(topic, { limit: 20 })).filter((c) => c.kind === 'publish')).toHaveLength(1);
      });
    });

    describe('grants (access control)', () => {
      const alice: Actor = { principal: 'alice', authenticated: true, peer: '10.0.0.9:4000' };
      /** A grant or revoke entry as the tests compare it: kind, role, grantee, who. */
      const grantEntry = (c: Change) => [c.kind, c.details['role'], c.details['grantee'], c.by.principal];

      it('a topic created with grants has them, read with its poll state, each with its history entry and in the feed', async () => {
        const head = await store.feedHead();
        const t = `${topic}-g`;
        const grants = [
          { role: 'owner', grantee: 'alice' },
          { role: 'consumer', grantee: '*' },
        ] as const;
        await store.createTopic({ name: t, owner: 'team', description: '', retention: {}, grants }, 1_000, alice);
        expect(await store.listGrants(t)).toEqual(grants);
        expect((await store.pollState(t))?.grants).toEqual(grants);
        const history = await store.listHistory(t, { limit: 10 });
        expect(history.filter((c) => c.kind === 'grant').map(grantEntry).sort()).toEqual([
          ['grant', 'consumer', '*', 'alice'],
          ['grant', 'owner', 'alice', 'alice'],
        ]);
        expect(history.map((c) => c.kind).sort()).toEqual(['create-topic', 'grant', 'grant']);
        const { entries } = await drain(store, head);
        expect(entries.filter((e) => e.topic === t && !e.hint).map(acted)).toContain('create-topic 0');
        // A topic created without grants has none.
        expect(await store.listGrants(topic)).toEqual([]);
        expect((await store.pollState(topic))?.grants).toEqual([]);
      });

      it('grant and revoke: each change with its history and feed entry; one that changes nothing writes nothing', async () => {
        const head = await store.feedHead();
        expect(await store.grant(topic, { role: 'publisher', grantee: 'group:ml-builds' }, 2_000, alice)).toBe(true);
        expect(await store.grant(topic, { role: 'owner', grantee: 'bob' }, 2_100, alice)).toBe(true);
        expect(await store.grant(topic, { role: 'consumer', grantee: 'bob' }, 2_150, alice)).toBe(true);
        // The same grant again: nothing written.
        expect(await store.grant(topic, { role: 'publisher', grantee: 'group:ml-builds' }, 2_200, alice)).toBe(false);
        // By role (owner first), then grantee.
        expect(await store.listGrants(topic)).toEqual([
          { role: 'owner', grantee: 'bob' },
          { role: 'publisher', grantee: 'group:ml-builds' },
          { role: 'consumer', grantee: 'bob' },
        ]);
        expect(await store.revoke(topic, { role: 'consumer', grantee: 'bob' }, 2_300, alice)).toBe(true);
        expect(await store.revoke(topic, { role: 'consumer', grantee: 'bob' }, 2_400, alice)).toBe(false);
        expect(await store.revoke(topic, { role: 'operator', grantee: 'nobody' }, 2_400, alice)).toBe(false);
        expect((await store.pollState(topic))?.grants).toEqual([
          { role: 'owner', grantee: 'bob' },
          { role: 'publisher', grantee: 'group:ml-builds' },
        ]);
        const history = (await store.listHistory(topic, { limit: 20 })).filter((c) => c.kind === 'grant' || c.kind === 'revoke');
        expect(history.map(grantEntry)).toEqual([
          ['revoke', 'consumer', 'bob', 'alice'],
          ['grant', 'consumer', 'bob', 'alice'],
          ['grant', 'owner', 'bob', 'alice'],
          ['grant', 'publisher', 'group:ml-builds', 'alice'],
        ]);
        expect(history[0]?.atMs).toBe(2_300);
        const { entries } = await drain(store, head);
        expect(entries.filter((e) => e.topic === topic && !e.hint).map(acted)).toEqual(['grant 0', 'grant 0', 'grant 0', 'revoke 0']);
      });

      it('refuses a grant on an unknown or deleted topic and writes nothing', async () => {
        const missing = `${topic}-missing`;
        await expect(store.grant(missing, { role: 'consumer', grantee: '*' }, 3_000)).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.listGrants(missing)).toEqual([]);
        expect(await store.listHistory(missing, { limit: 10 })).toEqual([]);
        await store.deleteTopic(topic, 'gone', 3_100);
        await expect(store.grant(topic, { role: 'consumer', grantee: '*' }, 3_200)).rejects.toBeInstanceOf(FailedPreconditionError);
        expect(await store.listGrants(topic)).toEqual([]);
        expect((await store.listHistory(topic, { limit: 10 })).map((c) => c.kind)).toEqual(['delete-topic', 'create-topic']);
      });
    });

    describe('topic deletion', () => {
      it('a deleted topic is still read, answers no poll, takes no publish, and says who deleted it and why', async () => {
        await store.publish(newVersion(topic, { publishId: 'before' }), 10);
        await store.pin({ topic, scope: {}, version: 1n, createdAtMs: 20, reason: '', createdBy: 'ops' });
        const head = await store.feedHead();
        const deleted = await store.deleteTopic(topic, 'replaced by scores-v2', 3_000, ops);
        expect(deleted).toMatchObject({ name: topic, owner: 'team', latestVersion: 1n, deletedAtMs: 3_000 });
        expect(await store.getTopic(topic)).toEqual(deleted);
        expect((await store.listTopics()).find((t) => t.name === topic)).toEqual(deleted);
        expect(await store.pollState(topic)).toBeUndefined();
        // A publish is refused, a replay of its publish id too, and nothing is written.
        for (const v of [newVersion(topic), newVersion(topic, { publishId: 'before' })]) {
          const err: unknown = await store.publish(v, 3_100).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(FailedPreconditionError);
          expect((err as Error).message).toContain(`topic "${topic}" was deleted at ${new Date(3_000).toISOString()}`);
        }
        expect(await store.countVersions(topic)).toBe(1);
        // One history entry and one feed entry (besides hints), with the reason and the actor.
        const history = await store.listHistory(topic, { limit: 10 });
        expect(history.map(entry)[0]).toEqual(['delete-topic', 0n, [], 'replaced by scores-v2', '', 'ops@example.com']);
        expect(history[0]?.atMs).toBe(3_000);
        const { entries } = await drain(store, head);
        expect(entries.filter((e) => e.topic === topic && !e.hint).map(acted)).toEqual(['delete-topic 0']);
        // Deleting again changes nothing; an unknown topic is not found.
        expect(await store.deleteTopic(topic, 'again', 4_000, ops)).toEqual(deleted);
        expect((await store.listHistory(topic, { limit: 10 })).filter((c) => c.kind === 'delete-topic')).toHaveLength(1);
        await expect(store.deleteTopic(`${topic}-missing`, '', 4_000)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.createTopic({ name: topic, owner: 'x', description: '', retention: {} }, 5_000)).rejects.toBeInstanceOf(AlreadyExistsError);
      });
    });

    describe('change feed', () => {
      it('every kind of change appears after the cursor, naming its topic, kind and version, in the order made', async () => {
        const head = await store.feedHead();
        const t = `${topic}-f`;
        await store.createTopic({ name: t, owner: 'o', description: '', retention: {} }, 1_000, ops);
        await store.updateTopic(t, { description: 'changed' }, 1_100, ops);
        await store.publish(newVersion(t, { scopes: [{ region: 'eu' }] }), 1_200, ops);
        await store.addScopes(t, 1n, [{ app: 'scorer' }], 1_300, ops);
        await store.pin({ topic: t, scope: {}, version: 1n, createdAtMs: 1_400, reason: '', createdBy: 'ops' }, ops);
        await store.unpin(t, {}, 1_500, ops);
        const { entries } = await drain(store, head);
        const mine = entries.filter((e) => e.topic === t);
        // Entries after the change (not hints) come in the order the changes were made.
        expect(mine.filter((e) => !e.hint).map(acted)).toEqual(['create-topic 0', 'update-topic 0', 'publish 1', 'add-scopes 1', 'pin 1', 'unpin 1']);
        // A hint (Cassandra) names one of those changes.
        expect(mine.filter((e) => e.hint).every((e) => mine.some((x) => !x.hint && acted(x) === acted(e)))).toBe(true);
        expect(mine.every((e) => Number.isFinite(e.atMs) && e.atMs > 0)).toBe(true);
      });

      it('a change that fails or changes nothing leaves no entry, at most a hint, and the topic as it was', async () => {
        await store.publish(newVersion(topic, { publishId: 'p1' }), 2_010);
        await store.pin({ topic, scope: { region: 'eu' }, version: 1n, createdAtMs: 2_020, reason: '', createdBy: '' });
        const before = await store.pollState(topic);
        const head = await store.feedHead();
        const missing = `${topic}-missing`;
        await expect(store.publish(newVersion(missing), 2_030)).rejects.toBeInstanceOf(FailedPreconditionError);
        await expect(store.pin({ topic, scope: {}, version: 9n, createdAtMs: 2_040, reason: '', createdBy: '' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.addScopes(topic, 9n, [{ app: 'x' }], 2_050)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.updateTopic(missing, { owner: 'x' }, 2_060)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.createTopic({ name: topic, owner: 'x', description: '', retention: {} }, 2_070)).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.publish(newVersion(topic, { publishId: 'p1', metadata: { other: 'content' } }), 2_080)).rejects.toBeInstanceOf(PublishIdConflictError);
        expect((await store.publish(newVersion(topic, { publishId: 'p1' }), 2_090)).replayed).toBe(true);
        await store.addScopes(topic, 1n, [{}], 2_100); // already attached
        expect(await store.unpin(topic, { region: 'nowhere' }, 2_110)).toBeUndefined();
        const { entries } = await drain(store, head);
        const about = entries.filter((e) => e.topic === topic || e.topic === missing);
        expect(about.filter((e) => !e.hint)).toEqual([]);
        // Re-reading what a hint names finds nothing changed.
        expect(await store.pollState(topic)).toEqual(before);
        expect(await store.pollState(missing)).toBeUndefined();
      });

      it('concurrent publishers on several topics: a tailer reading in a loop sees every committed change', async () => {
        const topics = [0, 1, 2, 3].map((i) => `${topic}-c${i}`);
        for (const t of topics) await store.createTopic({ name: t, owner: '', description: '', retention: {} }, 1);
        const head = await store.feedHead();
        // The tailer, as a consume instance runs it: each entry's topic re-read into its table.
        const table = new Map<string, bigint>();
        const given = new Set<string>();
        const expected = (t: string) => Array.from({ length: 20 }, (_, i) => `${t} publish ${i + 1}`);
        let publishing = true;
        const tail = (async () => {
          let cursor = head;
          const deadline = Date.now() + 60_000;
          for (;;) {
            const page = await store.readFeed(cursor, { limit: 50 });
            expect(page.tooOld).toBe(false);
            cursor = page.cursor;
            for (const e of page.entries) {
              given.add(`${e.topic} ${e.kind} ${e.version}`);
              const state = await store.pollState(e.topic);
              if (state) table.set(e.topic, state.topic.latestVersion);
            }
            const caughtUp = !publishing && topics.every((t) => table.get(t) === 20n && expected(t).every((k) => given.has(k)));
            if (caughtUp || Date.now() > deadline) return;
            if (!page.more) await new Promise((r) => setTimeout(r, 20));
          }
        })();
        await Promise.all(
          topics.flatMap((t) =>
            [0, 1].map(async (w) => {
              for (let i = 0; i < 10; i++) await store.publish(newVersion(t, { metadata: { w: String(w), i: String(i) } }), 10 + i);
            }),
          ),
        );
        publishing = false;
        await tail;
        expect(Object.fromEntries(topics.map((t) => [t, table.get(t)]))).toEqual(Object.fromEntries(topics.map((t) => [t, 20n])));
        for (const t of topics) expect(expected(t).filter((k) => !given.has(k))).toEqual([]);
      }, 120_000);

      it('a cursor carries over a restart of the store and a gap: nothing committed after it is missed', async () => {
        const first = await store.publish(newVersion(topic), 3_000);
        const head = await store.feedHead();
        const reopened = await h.reopen();
        await reopened.publish(newVersion(topic), 3_100);
        await reopened.pin({ topic, scope: {}, version: first.record.version, createdAtMs: 3_200, reason: '', createdBy: '' });
        const again = await drain(reopened, head);
        const mine = again.entries.filter((e) => e.topic === topic && !e.hint).map(acted);
        expect(mine).toEqual(['publish 2', 'pin 1']);
        // Read again from the same cursor (a reader that crashed before it kept the new one): the same changes.
        expect((await drain(reopened, head)).entries.filter((e) => e.topic === topic && !e.hint).map(acted)).toEqual(mine);
        // And from the cursor it got: only what came after.
        await reopened.publish(newVersion(topic), 3_300);
        expect((await drain(reopened, again.cursor)).entries.filter((e) => e.topic === topic && !e.hint).map(acted)).toEqual(['publish 3']);
      });

      it('a cursor it cannot continue from is too old: no entries and a cursor at the end to go on from', async () => {
        const stale = await h.staleCursor();
        const page = await store.readFeed(stale, { limit: 100 });
        expect(page).toMatchObject({ entries: [], more: false, tooOld: true });
        await store.publish(newVersion(topic), 4_000);
        const { entries } = await drain(store, page.cursor);
        expect(entries.filter((e) => e.topic === topic && !e.hint).map(acted)).toEqual(['publish 1']);
      });

      it('refuses text that is not a cursor, and page limits out of range, naming the field', async () => {
        const head = await store.feedHead();
        for (const [after, limit, field] of [
          ['not a cursor', 10, 'after'],
          [`${head}!`, 10, 'after'],
          [head, 0, 'limit'],
          [head, 10_001, 'limit'],
          [head, 1.5, 'limit'],
        ] as const) {
          const err: unknown = await store.readFeed(after, { limit }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(InvalidArgumentError);
          expect(err).toMatchObject({ field });
        }
      });
    });

    describe('history', () => {
      it('every change is in it, newest first, with who, what and when; pages go by seq', async () => {
        const t = `${topic}-h`;
        await store.createTopic({ name: t, owner: 'trust-team', description: 'ip scores', retention: { keepVersions: 20 } }, 1_000, { ...ops, principal: 'trust-team' });
        await store.updateTopic(t, { description: 'ip reputation', retention: { keepDays: 7 } }, 1_100, ops);
        await store.publish(newVersion(t, { publishId: 'build-42', scopes: [{ region: 'eu' }, {}] }), 1_200, ops);
        await store.addScopes(t, 1n, [{ region: 'eu' }, { app: 'scorer' }], 1_300, ops);
        await store.pin({ topic: t, scope: { region: 'eu' }, version: 1n, createdAtMs: 1_400, reason: 'v2 is bad', createdBy: 'alice' }, { ...ops, principal: 'alice' });
        await store.unpin(t, { region: 'eu' }, 1_500, ops);
        const history = await store.listHistory(t, { limit: 100 });
        expect(history.map(entry)).toEqual([
          ['unpin', 1n, ['region=eu'], '', '', 'ops@example.com'],
          ['pin', 1n, ['region=eu'], 'v2 is bad', '', 'alice'],
          ['add-scopes', 1n, ['app=scorer'], '', '', 'ops@example.com'],
          ['publish', 1n, ['region=eu', ''], '', 'build-42', 'ops@example.com'],
          ['update-topic', 0n, [], '', '', 'ops@example.com'],
          ['create-topic', 0n, [], '', '', 'trust-team'],
        ]);
        expect(history.map((c) => c.atMs)).toEqual([1_500, 1_400, 1_300, 1_200, 1_100, 1_000]);
        expect(history.every((c) => c.topic === t && c.by.peer === ops.peer && !c.by.authenticated)).toBe(true);
        expect(history[4]?.details).toEqual({ description: 'ip reputation', keep_versions: '', keep_days: '7' });
        expect(history[5]?.details).toEqual({ owner: 'trust-team', description: 'ip scores', keep_versions: '20', keep_days: '' });
        // Paged: strictly below the last seq of the previous page.
        const first = await store.listHistory(t, { limit: 4 });
        const rest = await store.listHistory(t, { limit: 4, below: first[first.length - 1]?.seq as bigint });
        expect([...first, ...rest].map(entry)).toEqual(history.map(entry));
        expect(await store.listHistory(`${t}-missing`, { limit: 10 })).toEqual([]);
      });

      it('a change that fails, or changes nothing, leaves no entry', async () => {
        // (The topic was created at 1_000: later changes come later.)
        await store.publish(newVersion(topic, { publishId: 'p1' }), 2_010);
        await store.pin({ topic, scope: {}, version: 1n, createdAtMs: 2_020, reason: '', createdBy: '' });
        const before = await store.listHistory(topic, { limit: 100 });
        expect(before.map((c) => c.kind)).toEqual(['pin', 'publish', 'create-topic']);
        const missing = `${topic}-missing`;
        await expect(store.publish(newVersion(missing), 2_030)).rejects.toBeInstanceOf(FailedPreconditionError);
        await expect(store.pin({ topic, scope: {}, version: 9n, createdAtMs: 2_040, reason: '', createdBy: '' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.addScopes(topic, 9n, [{ app: 'x' }], 2_050)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.updateTopic(missing, { owner: 'x' }, 2_060)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.createTopic({ name: topic, owner: 'x', description: '', retention: {} }, 2_070)).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.publish(newVersion(topic, { publishId: 'p1', metadata: { other: 'content' } }), 2_080)).rejects.toBeInstanceOf(PublishIdConflictError);
        expect((await store.publish(newVersion(topic, { publishId: 'p1' }), 2_090)).replayed).toBe(true);
        await store.addScopes(topic, 1n, [{}], 2_100); // already attached
        expect(await store.unpin(topic, { region: 'nowhere' }, 2_110)).toBeUndefined();
        expect(await store.listHistory(topic, { limit: 100 })).toEqual(before);
        expect(await store.listHistory(missing, { limit: 100 })).toEqual([]);
      });
    });

    describe('restoreTopic (from a fallback snapshot)', () => {
      const origin = { key: 'imprint-snapshots/20261129T030000000Z-x.snapshot', writtenAtMs: 500 };
      const rec = (t: string, version: bigint, publishedAtMs: number, pointer: DataPointer, scopes: VersionRecord['scopes']): VersionRecord => {
        const r = { topic: t, version, publishedAtMs, metadata: { build: `b${version}` }, pointer, scopes, digest: '' };
        return { ...r, digest: recordDigest(r) };
      };
      /** A topic as the janitor's snapshot holds it: heads v7 (*, region=eu) and v5 (region=us), a pin of v3 for region=eu. */
      const snapshotTopic = (t: string): SnapshotTopic => ({
        topic: { name: t, owner: 'trust-team', description: 'ip scores', retention: { keepVersions: 5 }, createdAtMs: 50, latestVersion: 7n, expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 },
        heads: [
          { scope: {}, version: 7n, sinceMs: 350 },
          { scope: { region: 'eu' }, version: 7n, sinceMs: 300 },
          { scope: { region: 'us' }, version: 5n, sinceMs: 200 },
        ],
        pins: [{ topic: t, scope: { region: 'eu' }, version: 3n, createdAtMs: 400, reason: 'v7 is bad in eu', createdBy: 'alice' }],
        records: [
          rec(t, 3n, 100, direct('three'), [{}]),
          rec(t, 5n, 200, { ...blob, locations: blob.locations.map((l) => ({ ...l, key: `${t}/v5` })) }, [{ region: 'us' }]),
          rec(t, 7n, 300, direct('seven'), [{}, { region: 'eu' }]),
        ],
      });
      /** A record as compared: scopes by key, in any order (a store orders them by when they were attached). */
      const asRead = (r: VersionRecord | undefined) => r && { ...r, pointer: { ...r.pointer }, scopes: r.scopes.map(scopeKey).sort() };

      it('writes the topic back as it was: records with their numbers, times and digests, heads, pins; the next publish goes above', async () => {
        const t = `${topic}-r`;
        const snap = snapshotTopic(t);
        const head = await store.feedHead();
        const restored = await store.restoreTopic(planRestore(snap), origin, 1_000, ops);
        expect(restored).toEqual(snap.topic);
        expect(await store.getTopic(t)).toEqual(snap.topic);
        for (const r of snap.records) {
          const back = await store.getVersion(t, r.version);
          expect(asRead(back)).toEqual(asRead(r));
          expect(back && recordProblem(back)).toBeUndefined();
        }
        expect(await store.getVersion(t, 4n)).toBeUndefined();
        expect(await store.countVersions(t)).toBe(3);
        const state = await store.pollState(t);
        const byScope = (a: { scope: Scope }, b: { scope: Scope }) => scopeKey(a.scope).localeCompare(scopeKey(b.scope));
        expect([...(state?.heads ?? [])].sort(byScope)).toEqual([...snap.heads].sort(byScope));
        expect(state?.pins).toEqual(snap.pins);
        // The heads as they stood before the newest publish: the scopes keep their times.
        expect((await store.scopeHeads(t, 250)).map((x) => [scopeKey(x.scope), x.version]).sort()).toEqual([
          ['', 3n],
          ['region=us', 5n],
        ]);
        // History: each restored thing, by who restored it, saying from which snapshot.
        const history = await store.listHistory(t, { limit: 100 });
        expect(history.map((c) => `${c.kind} ${c.version}`).sort()).toEqual(['create-topic 0', 'pin 3', 'publish 3', 'publish 5', 'publish 7']);
        expect(history.every((c) => c.details['restored'] === restoredFrom(origin) && c.by.principal === ops.principal && c.atMs === 1_000)).toBe(true);
        expect(restoredFrom(origin)).toBe('restored from snapshot imprint-snapshots/20261129T030000000Z-x.snapshot written at 1970-01-01T00:00:00.500Z');
        expect(history.find((c) => c.kind === 'pin')?.reason).toBe('v7 is bad in eu');
        // The feed names the topic, so consume instances read it.
        expect((await drain(store, head)).entries.some((e) => e.topic === t)).toBe(true);
        // The counter: the next publish gets a number above every restored one.
        expect((await store.publish(newVersion(t), 2_000)).record.version).toBe(8n);
      });

      it('never overwrites: a topic that exists is refused, and nothing of it changes', async () => {
        const t = `${topic}-r`;
        await store.restoreTopic(planRestore(snapshotTopic(t)), origin, 1_000, ops);
        const history = await store.listHistory(t, { limit: 100 });
        const again = snapshotTopic(t);
        await expect(store.restoreTopic(planRestore({ ...again, topic: { ...again.topic, owner: 'someone-else' } }), origin, 2_000, ops)).rejects.toBeInstanceOf(AlreadyExistsError);
        expect((await store.getTopic(t))?.owner).toBe('trust-team');
        expect(await store.listHistory(t, { limit: 100 })).toEqual(history);
        // A topic made by hand (the one every test has) with other versions: left alone.
        const { record } = await store.publish(newVersion(topic), 1_100);
        const other = snapshotTopic(topic);
        await expect(store.restoreTopic(planRestore(other), origin, 2_000, ops)).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await store.countVersions(topic)).toBe(1);
        expect(await store.getVersion(topic, 1n)).toEqual(record);
        expect(await store.listPins(topic)).toEqual([]);
        expect((await store.getTopic(topic))?.latestVersion).toBe(1n);
      });

      it('a deleted topic not purged yet holds its name: its restore is refused; a restored topic is live whatever its plan says', async () => {
        const deleted = await store.deleteTopic(topic, 'gone', 900, ops);
        await expect(store.restoreTopic(planRestore(snapshotTopic(topic)), origin, 1_000, ops)).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await store.getTopic(topic)).toEqual(deleted);
        expect(await store.pollState(topic)).toBeUndefined();
        const t = `${topic}-d`;
        const plan = planRestore(snapshotTopic(t));
        const restored = await store.restoreTopic({ ...plan, topic: { ...plan.topic, deletedAtMs: 900 } }, origin, 1_000, ops);
        expect(restored).toEqual(snapshotTopic(t).topic);
        expect((await store.pollState(t))?.topic).toEqual(restored);
      });

      it('a topic with no records and no pins: the topic and its counter', async () => {
        const t = `${topic}-e`;
        const snap: SnapshotTopic = { topic: { name: t, owner: 'o', description: '', retention: {}, createdAtMs: 60, latestVersion: 4n }, heads: [], pins: [], records: [] };
        expect(await store.restoreTopic(planRestore(snap), origin, 1_000)).toEqual(snap.topic);
        expect(await store.pollState(t)).toEqual({ topic: snap.topic, heads: [], pins: [], grants: [], withdrawn: [] });
        expect((await store.publish(newVersion(t), 2_000)).record.version).toBe(5n);
      });
    });
  });
}
