/**
 * The Cassandra store against a real Cassandra (IMPRINT_CASSANDRA, started by the project's
 * globalSetup): the MetadataStore conformance suite unchanged, then what only a distributed
 * store has to get right: version numbers under real Paxos contention between separate
 * clients, publishes whose CAS outcome is unknown, records replicated only in part, a
 * keyspace that disappears, and the service on top of it through gRPC.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, advanceMove, isActive, recordDigest, recordProblem, sha256Hex, validateRolloutPolicy, type NewVersion, type Rollout, type VersionRecord } from '../../core/index.js';
import { cassandraWithDefaults, type CassandraOptions } from '../../server/config.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { CassandraMetadataStore, type CassandraStoreOptions } from '../../server/store/cassandra.js';
import { ImprintClient } from '../../client/index.js';
import { bucketOf, shardOf, ticksOf } from '../../server/store/cassandra-feed.js';
import type { FeedCursor, FeedEntry } from '../../server/store/change-feed.js';
import { janitorStoreConformance } from '../conformance/janitor-store.js';
import { metadataStoreConformance } from '../conformance/metadata-store.js';
import { rolloutStoreConformance } from '../conformance/rollouts.js';
import { directPointer, identity, tempDir } from '../helpers.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

const KEYSPACE = 'imprint_test';
const SIMPLE = '{"class":"SimpleStrategy","replication_factor":1}';

function options(over: CassandraOptions = {}) {
  return cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: KEYSPACE, replication: SIMPLE, ...over });
}

/** A plain driver session, to change rows behind the store's back. */
let raw: cassandra.Client;
let shared: CassandraMetadataStore;
const extra: CassandraMetadataStore[] = [];

beforeAll(async () => {
  raw = new cassandra.Client({ contactPoints: [endpoint], localDataCenter: 'datacenter1', encoding: { useBigIntAsLong: true } });
  await raw.connect();
  shared = await CassandraMetadataStore.open(options());
});

afterAll(async () => {
  await Promise.all([shared?.close(), ...extra.map((s) => s.close()), raw?.shutdown()]);
});

async function openStore(over: CassandraOptions = {}, extras: Pick<CassandraStoreOptions, 'feed' | 'clock'> = {}): Promise<CassandraMetadataStore> {
  const s = await CassandraMetadataStore.open({ ...options(over), ...extras });
  extra.push(s);
  return s;
}

const recordKey = `topic = ? AND kind = 'r' AND scope_key = '' AND version = ?`;

metadataStoreConformance('cassandra', async () => ({
  store: shared,
  async damageRecord(topic, version) {
    await raw.execute(`UPDATE ${KEYSPACE}.topics SET metadata = {'build': 'tampered'} WHERE ${recordKey}`, [topic, version], { prepare: true });
  },
  reopen: () => openStore(),
  async staleCursor() {
    // Taken 7 hours ago: older than the feed keeps (6 hours).
    return (await openStore({}, { clock: () => Date.now() - 7 * 3_600_000 })).feedHead();
  },
  async cleanup() {
    // One store serves every test (topic names are unique per test); closed in afterAll.
  },
}));

janitorStoreConformance('cassandra', async () => ({
  store: shared,
  async cleanup() {
    // Shared store, unique topic and lease names per test.
  },
}));

rolloutStoreConformance('cassandra', async () => ({
  store: shared,
  async cleanup() {
    // Shared store, unique topic names per test.
  },
}));

const newTopic = async (store: CassandraMetadataStore, prefix: string): Promise<string> => {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await store.createTopic({ name, owner: 'team', description: '', retention: {} }, Date.now());
  return name;
};

const version = (topic: string, i: number, over: Partial<NewVersion> = {}): NewVersion => ({
  topic,
  metadata: { i: String(i) },
  pointer: directPointer(`payload ${i}`),
  scopes: [{}],
  ...over,
});

describe('Cassandra store: version numbers', () => {
  it('8 separate clients x 2 publishers x 50 contend through Paxos: 800 distinct, gap-free versions, each record read back as published', async () => {
    const stores = [shared, ...(await Promise.all(Array.from({ length: 7 }, () => openStore())))];
    const topic = await newTopic(shared, 'contended');
    const lostBefore = stores.reduce((n, s) => n + s.stats.casLost, 0);
    const published: VersionRecord[][] = await Promise.all(
      stores.flatMap((s, si) =>
        [0, 1].map(async (w) => {
          const mine: VersionRecord[] = [];
          for (let i = 0; i < 50; i++) mine.push((await s.publish(version(topic, i, { metadata: { s: String(si), w: String(w), i: String(i) } }), 1_000 + i)).record);
          return mine;
        }),
      ),
    );
    for (const mine of published) for (let i = 1; i < mine.length; i++) expect((mine[i] as VersionRecord).version).toBeGreaterThan((mine[i - 1] as VersionRecord).version);
    const all = published.flat();
    const numbers = all.map((r) => r.version).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(numbers).toEqual(Array.from({ length: 800 }, (_, i) => BigInt(i + 1)));
    // The publishers really met: some CASes lost and were retried.
    expect(stores.reduce((n, s) => n + s.stats.casLost, 0)).toBeGreaterThan(lostBefore);
    const back = await shared.listVersions(topic, { limit: 1000 });
    expect(back).toHaveLength(800);
    const byVersion = new Map(back.map((r) => [r.version, r]));
    for (const r of all) expect(byVersion.get(r.version)).toEqual(r);
    expect((await shared.getTopic(topic))?.latestVersion).toBe(800n);
  }, 120_000);

  it('a publish whose CAS times out on the client while Cassandra still applies it is recognised as done, never published twice', async () => {
    // A 1 ms client-side timeout on the conditional writes: the driver gives up, the coordinator
    // goes on. Every such publish must be settled by the serial read-back, as exactly one version.
    const hasty = [await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 })];
    const topic = await newTopic(shared, 'unknown');
    const results: VersionRecord[][] = await Promise.all(
      hasty.map(async (s, si) => {
        const mine: VersionRecord[] = [];
        for (let i = 0; i < 40; i++) mine.push((await s.publish(version(topic, i, { metadata: { s: String(si), i: String(i) } }), 2_000 + i)).record);
        return mine;
      }),
    );
    expect(hasty.reduce((n, s) => n + s.stats.unknownOutcomes, 0)).toBeGreaterThan(0);
    const all = results.flat();
    // No version twice, none lost or skipped, and each publish exists exactly once (by its content).
    expect(all.map((r) => r.version).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(Array.from({ length: 120 }, (_, i) => BigInt(i + 1)));
    const stored = await shared.listVersions(topic, { limit: 1000 });
    expect(stored).toHaveLength(120);
    expect(new Set(stored.map((r) => `${r.metadata.s}/${r.metadata.i}`)).size).toBe(120);
    for (const r of all) expect(stored.find((x) => x.version === r.version)).toEqual(r);
  }, 120_000);

  it('rollout changes whose CAS times out on the client are settled by their history row: every step applied once by one driver, none lost', async () => {
    // Three drivers with a 1 ms client-side timeout step one rollout of 20 steps as fast as
    // they can, each from what it reads: a change whose outcome is unknown must be recognised
    // as applied exactly when it was.
    const hasty = [await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 })];
    const topic = await newTopic(shared, 'unknown-rollout');
    const steps = Array.from({ length: 20 }, (_, i) => ({ scopes: [{ wave: String(i) }], percent: 100, bakeMs: 0, gates: [] }));
    await shared.publish(version(topic, 0, { rollout: validateRolloutPolicy({ steps }) }), 1_000);
    const applied: Rollout[][] = await Promise.all(
      hasty.map(async (s) => {
        const mine: Rollout[] = [];
        for (let r = await s.getRollout(topic, 1n); r && isActive(r.state); r = await s.getRollout(topic, 1n)) {
          const m = advanceMove(r, Date.now());
          const written = await s.changeRollout({ next: m.next, expectedRevision: r.revision, action: m.action, reason: '' }, Date.now());
          if (written) mine.push(written);
        }
        return mine;
      }),
    );
    expect(hasty.reduce((n, s) => n + s.stats.unknownOutcomes, 0)).toBeGreaterThan(0);
    // 19 steps and the completion (revisions 2 to 21), each reported applied by exactly one driver.
    const all = applied.flat().sort((a, b) => a.revision - b.revision);
    expect(all.map((r) => r.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    expect(all.map((r) => (r.state === 'completed' ? 'completed' : r.step))).toEqual([...Array.from({ length: 19 }, (_, i) => i + 1), 'completed']);
    const history = (await shared.listHistory(topic, { limit: 100 })).filter((c) => c.kind === 'rollout');
    expect(history.map((c) => c.details['action']).sort()).toEqual(['complete', 'start', ...Array.from({ length: 19 }, () => 'step')].sort());
    expect(new Set(history.filter((c) => c.details['action'] === 'step').map((c) => c.details['step'])).size).toBe(19);
    expect(await shared.getRollout(topic, 1n)).toMatchObject({ state: 'completed', revision: 21 });
    expect((await shared.getVersion(topic, 1n))?.scopes).toEqual([{}]);
  }, 120_000);

  it('publishes with rollouts whose CAS times out on the client: each version once, each rollout superseded by the next one, one left running', async () => {
    const hasty = [await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 })];
    const topic = await newTopic(shared, 'unknown-rollouts');
    const rollout = validateRolloutPolicy({ steps: [{ scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 60_000, gates: [] }] });
    const unknownBefore = hasty.reduce((n, s) => n + s.stats.unknownOutcomes, 0);
    const results = await Promise.all(hasty.map(async (s, si) => {
      const mine = [];
      for (let i = 0; i < 10; i++) mine.push(await s.publish(version(topic, i, { metadata: { s: String(si), i: String(i) }, rollout }), 2_000 + i));
      return mine;
    }));
    expect(hasty.reduce((n, s) => n + s.stats.unknownOutcomes, 0)).toBeGreaterThan(unknownBefore);
    // Each publish made one version and started its rollout.
    const all = results.flat();
    expect(all.map((p) => p.record.version).sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)));
    for (const p of all) expect(p.rollout).toMatchObject({ version: p.record.version, revision: 1, step: 0 });
    // Every rollout but the newest was superseded by the version after it, once.
    const stored = await shared.listRollouts(topic, { limit: 100 });
    expect(stored.map((r) => [r.version, r.state, r.reason])).toEqual(
      Array.from({ length: 30 }, (_, i) => BigInt(30 - i)).map((v) => (v === 30n ? [v, 'running', ''] : [v, 'superseded', `version ${v + 1n} was published`])),
    );
    const supersedes = (await shared.listHistory(topic, { limit: 200 })).filter((c) => c.kind === 'rollout' && c.details['action'] === 'supersede');
    expect(supersedes.map((c) => c.version).sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: 29 }, (_, i) => BigInt(i + 1)));
    expect((await shared.pollState(topic))?.rollout?.version).toBe(30n);
  }, 120_000);

  it('refuses a publish to a missing topic and writes no row (the CAS finds no counter)', async () => {
    const missing = `missing-${randomUUID().slice(0, 8)}`;
    await expect(shared.publish(version(missing, 1), 1)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    const rows = await raw.execute(`SELECT * FROM ${KEYSPACE}.topics WHERE topic = ?`, [missing], { prepare: true });
    expect(rows.rowLength).toBe(0);
  });
});

describe('Cassandra store: scope heads', () => {
  it('adding a scope to a newer version moves its head forward, to an older one never back; past heads follow attach times', async () => {
    const topic = await newTopic(shared, 'heads');
    await shared.publish(version(topic, 1, { scopes: [{ region: 'eu' }] }), 100);
    await shared.publish(version(topic, 2, { scopes: [{ app: 'scorer' }] }), 200);
    await shared.addScopes(topic, 2n, [{ region: 'eu' }], 300);
    await shared.addScopes(topic, 1n, [{ app: 'scorer' }, { region: 'us' }], 400);
    const heads = async (at?: number) =>
      (await shared.scopeHeads(topic, at)).map((h) => [Object.entries(h.scope).flat().join('='), h.version, h.sinceMs]).sort();
    expect(await heads()).toEqual([
      ['app=scorer', 2n, 200],
      ['region=eu', 2n, 300],
      ['region=us', 1n, 400],
    ]);
    expect(await heads(250)).toEqual([
      ['app=scorer', 2n, 200],
      ['region=eu', 1n, 100],
    ]);
    // Attaching again changes nothing (the first attach time stays).
    await shared.addScopes(topic, 2n, [{ region: 'eu' }], 500);
    expect((await heads()).find((h) => h[0] === 'region=eu')).toEqual(['region=eu', 2n, 300]);
    expect((await shared.pollState(topic))?.heads).toHaveLength(3);
    // A record lists its scopes in the order they were attached, then by key (as SQLite does).
    expect((await shared.getVersion(topic, 1n))?.scopes).toEqual([{ region: 'eu' }, { app: 'scorer' }, { region: 'us' }]);
  });
});

describe('Cassandra store: consistency checks (invariant 4)', () => {
  it('returns a record replicated only in part as stored (missing cells), so its check fails; a missing record is undefined', async () => {
    const topic = await newTopic(shared, 'partial');
    const { record: a } = await shared.publish(version(topic, 1, { pointer: directPointer('first payload') }), 10);
    const { record: b } = await shared.publish(version(topic, 2), 20);
    const { record: c } = await shared.publish(version(topic, 3), 30);
    // a: the digest cell never arrived; b: the payload cell never arrived; c: the whole row is missing.
    await raw.execute(`DELETE digest FROM ${KEYSPACE}.topics WHERE ${recordKey}`, [topic, a.version], { prepare: true });
    await raw.execute(`DELETE direct FROM ${KEYSPACE}.topics WHERE ${recordKey}`, [topic, b.version], { prepare: true });
    await raw.execute(`DELETE FROM ${KEYSPACE}.topics WHERE ${recordKey}`, [topic, c.version], { prepare: true });
    const backA = await shared.getVersion(topic, a.version);
    expect(backA).toBeDefined();
    expect(recordProblem(backA as VersionRecord)).toMatch(/digest/);
    const backB = await shared.getVersion(topic, b.version);
    expect(backB && recordProblem(backB)).toMatch(/direct payload/);
    expect(await shared.getVersion(topic, c.version)).toBeUndefined();
    // The head still names v3 (as a lagging replica would): the service has to refuse it.
    expect((await shared.scopeHeads(topic)).map((h) => h.version)).toEqual([3n]);
    expect((await shared.listVersions(topic, { limit: 10 })).map((r) => r.version)).toEqual([2n, 1n]);
  });

  it('stores blob pointers with every location and digest intact', async () => {
    const topic = await newTopic(shared, 'blob');
    const pointer = {
      kind: 'blob' as const,
      size: 6_000_000_000,
      sha256: 'b'.repeat(64),
      locations: [
        { kind: 's3' as const, region: 'us-east-1', bucket: 'm', key: 'a/b' },
        { kind: 'file' as const, region: '', bucket: '', key: '/x/y' },
      ],
    };
    const { record: rec } = await shared.publish(version(topic, 1, { pointer, scopes: [{ region: 'eu' }, { app: 'scorer' }] }), 5);
    const back = await shared.getVersion(topic, rec.version);
    expect(back?.pointer).toEqual(pointer);
    expect(back?.digest).toBe(recordDigest(rec));
    expect(back && recordProblem(back)).toBeUndefined();
  });
});

describe('Cassandra store: change feed', () => {
  /** A reader with short windows, so that settling takes seconds. */
  const quick = { feed: { lookbackMs: 500, settleMs: 3_000, retentionMs: 3_600_000 } };

  /**
   * The raw feed rows of a topic in the last 30 s (its partitions hold every topic of its shard:
   * the last rows only, every page of them: after the suites before it, a partition's last 30 s
   * can hold more rows than one page).
   */
  async function feedRowsOf(topic: string): Promise<cassandra.types.Row[]> {
    const since = ticksOf(Date.now() - 30_000);
    const pages = async (bucket: bigint): Promise<cassandra.types.Row[]> => {
      const out: cassandra.types.Row[] = [];
      let pageState: string | undefined;
      do {
        const rs = await raw.execute(`SELECT bucket, shard, at, id, topic, kind, version, hint, TTL(topic) AS ttl FROM ${KEYSPACE}.feed WHERE bucket = ? AND shard = ? AND at > ?`, [bucket, shardOf(topic), since], { prepare: true, ...(pageState && { pageState }) });
        out.push(...rs.rows);
        pageState = rs.pageState ?? undefined;
      } while (pageState);
      return out;
    };
    const rows = await Promise.all([...new Set([bucketOf(since), bucketOf(ticksOf(Date.now()))])].map(pages));
    const byId = new Map(rows.flat().map((r) => [String(r.get('id')), r]));
    return [...byId.values()].filter((r) => r.get('topic') === topic);
  }

  it('a publish writes a hint before its conditional batch and an entry after it, kept for the retention; topics spread over the shards', async () => {
    const topic = await newTopic(shared, 'rows');
    await shared.publish(version(topic, 1), 1);
    const rows = (await feedRowsOf(topic)).sort((a, b) => ((a.get('at') as bigint) < (b.get('at') as bigint) ? -1 : 1));
    expect(rows.map((r) => [r.get('kind'), r.get('version'), r.get('hint')])).toEqual([
      ['create-topic', 0n, true],
      ['create-topic', 0n, false],
      ['publish', 1n, true],
      ['publish', 1n, false],
    ]);
    for (const r of rows) expect(r.get('ttl')).toBeGreaterThan(6 * 3600 - 120);
    for (const r of rows) expect(r.get('ttl')).toBeLessThanOrEqual(6 * 3600);
    const shards = new Set(Array.from({ length: 40 }, (_, i) => shardOf(`topic-${i}`)));
    expect(shards).toEqual(new Set([0, 1, 2, 3]));
  });

  /** What a reader gets now: pages read while the store says more are ready (a settle scan with a backlog from the tests before gives a page of its own first), as a tailer reads. */
  async function readNow(reader: CassandraMetadataStore, after: FeedCursor): Promise<{ entries: FeedEntry[]; cursor: FeedCursor }> {
    const entries: FeedEntry[] = [];
    let cursor = after;
    for (let more = true; more; ) {
      const page = await reader.readFeed(cursor, { limit: 100 });
      entries.push(...page.entries);
      cursor = page.cursor;
      more = page.more;
    }
    return { entries, cursor };
  }

  it('a publish whose entry after it was lost (the publisher died right after the commit) still reaches a reader, by its hint', async () => {
    const reader = await openStore({}, quick);
    const topic = await newTopic(shared, 'lost');
    const head = await reader.feedHead();
    await shared.publish(version(topic, 1), 1);
    for (const r of await feedRowsOf(topic)) {
      if (r.get('kind') === 'publish' && r.get('hint') === false) await raw.execute(`DELETE FROM ${KEYSPACE}.feed WHERE bucket = ? AND shard = ? AND at = ? AND id = ?`, [r.get('bucket'), r.get('shard'), r.get('at'), r.get('id')], { prepare: true });
    }
    const page = await readNow(reader, head);
    expect(page.entries.filter((e) => e.topic === topic && e.kind === 'publish').map((e) => [e.version, e.hint])).toEqual([[1n, true]]);
    expect((await reader.pollState(topic))?.topic.latestVersion).toBe(1n);
  });

  it('a hint read before its change committed, whose entry after the change never came (the publisher died): the hint comes again once settled', async () => {
    const reader = await openStore({}, quick);
    const topic = await newTopic(shared, 'settle');
    const head = await reader.feedHead();
    // 1. A publisher announces version 1 (the hint, as the store writes it) ...
    const hintAt = ticksOf(Date.now());
    await raw.execute(`INSERT INTO ${KEYSPACE}.feed (bucket, shard, at, id, topic, kind, version, hint) VALUES (?, ?, ?, 42, ?, 'publish', 1, true)`, [bucketOf(hintAt), shardOf(topic), hintAt, topic], { prepare: true });
    // 2. ... a reader gets it and re-reads the topic before the change commits ...
    const first = await readNow(reader, head);
    expect(first.entries.filter((e) => e.topic === topic && e.kind === 'publish').map((e) => [e.kind, e.version, e.hint])).toEqual([['publish', 1n, true]]);
    expect((await reader.pollState(topic))?.topic.latestVersion).toBe(0n);
    // 3. ... then it commits, and nothing more reaches the feed (this publish's own entries are removed).
    await shared.publish(version(topic, 1), 2);
    for (const r of await feedRowsOf(topic)) {
      if (r.get('id') !== 42n && r.get('kind') === 'publish') await raw.execute(`DELETE FROM ${KEYSPACE}.feed WHERE bucket = ? AND shard = ? AND at = ? AND id = ?`, [r.get('bucket'), r.get('shard'), r.get('at'), r.get('id')], { prepare: true });
    }
    const next = await readNow(reader, first.cursor);
    expect(next.entries.filter((e) => e.topic === topic && e.kind === 'publish')).toEqual([]);
    // 4. Once settled the hint comes again, and the re-read finds the change.
    let cursor = next.cursor;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const page = await reader.readFeed(cursor, { limit: 100 });
      cursor = page.cursor;
      const again = page.entries.filter((e) => e.topic === topic && e.kind === 'publish');
      if (again.length > 0) {
        expect(again.map((e) => [e.kind, e.version, e.hint])).toEqual([['publish', 1n, true]]);
        expect(Date.now()).toBeGreaterThanOrEqual(Number(hintAt / 1000n) + 3_000);
        expect((await reader.pollState(topic))?.topic.latestVersion).toBe(1n);
        break;
      }
      if (Date.now() > deadline) throw new Error('the hint did not come again within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  it('clock skew: a writer behind the reader by more than the look back is still read (its hint, once settled); one ahead is read at once, once', async () => {
    // Writers 5 s off; the reader looks back 0.5 s and settles hints after 10 s.
    const reader = await openStore({}, { feed: { lookbackMs: 500, settleMs: 10_000, retentionMs: 3_600_000 } });
    const behind = await openStore({}, { clock: () => Date.now() - 5_000 });
    const ahead = await openStore({}, { clock: () => Date.now() + 5_000 });
    const late = await newTopic(shared, 'late');
    const early = await newTopic(shared, 'early');
    let cursor = await reader.feedHead();
    await behind.publish(version(late, 1), 1);
    await ahead.publish(version(early, 1), 1);
    const got: { topic: string; kind: string; hint: boolean; at: number }[] = [];
    const deadline = Date.now() + 30_000;
    while (!got.some((e) => e.topic === late) && Date.now() < deadline) {
      const page = await reader.readFeed(cursor, { limit: 100 });
      cursor = page.cursor;
      for (const e of page.entries) if (e.topic === late || e.topic === early) got.push({ topic: e.topic, kind: e.kind, hint: e.hint, at: Date.now() });
      await new Promise((r) => setTimeout(r, 100));
    }
    // The early writer's publish came at once, each entry once (its hint settles 15 s later).
    expect(got.filter((e) => e.topic === early).map((e) => [e.kind, e.hint])).toEqual([
      ['publish', true],
      ['publish', false],
    ]);
    // The late writer's entries were behind the look back when they landed: its hint came when settled.
    expect(got.filter((e) => e.topic === late).map((e) => [e.kind, e.hint])).toEqual([['publish', true]]);
    expect((await reader.pollState(late))?.topic.latestVersion).toBe(1n);
  }, 60_000);

  it('a tailer during publishes whose outcome is unknown sees every change once it is committed', async () => {
    // A 1 ms client-side timeout on the conditional writes: Cassandra applies them after the
    // driver gave up; the store settles each by a serial read, then writes its entry.
    const hasty = [await openStore({ lwtTimeoutMs: 1 }), await openStore({ lwtTimeoutMs: 1 })];
    const topics = [await newTopic(shared, 'unknown-a'), await newTopic(shared, 'unknown-b')];
    const tailer = await openStore();
    let cursor = await tailer.feedHead();
    const table = new Map<string, bigint>();
    const given = new Set<string>();
    let publishing = true;
    const done = () => topics.every((t) => table.get(t) === 30n && Array.from({ length: 30 }, (_, i) => `${t} ${i + 1}`).every((k) => given.has(k)));
    const tail = (async () => {
      const deadline = Date.now() + 90_000;
      while (!(!publishing && done()) && Date.now() < deadline) {
        const page = await tailer.readFeed(cursor, { limit: 100 });
        cursor = page.cursor;
        for (const e of page.entries) {
          if (e.kind === 'publish') given.add(`${e.topic} ${e.version}`);
          const state = await tailer.pollState(e.topic);
          if (state) table.set(e.topic, state.topic.latestVersion);
        }
        if (!page.more) await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.all(hasty.flatMap((s) => topics.map(async (t) => {
      for (let i = 0; i < 15; i++) await s.publish(version(t, i), 1_000 + i);
    })));
    publishing = false;
    await tail;
    expect(hasty.reduce((n, s) => n + s.stats.unknownOutcomes, 0)).toBeGreaterThan(0);
    expect(Object.fromEntries(topics.map((t) => [t, table.get(t)]))).toEqual(Object.fromEntries(topics.map((t) => [t, 30n])));
    expect(done()).toBe(true);
  }, 120_000);
});

describe('Cassandra store: schema', () => {
  it('creates its keyspace idempotently and re-creates it when it disappears under a running store', async () => {
    const ks = `imprint_drop_${randomUUID().slice(0, 8).replace(/-/g, '')}`;
    const s = await openStore({ keyspace: ks });
    await openStore({ keyspace: ks }); // a second server on the same keyspace: nothing to create, no error
    const topic = await newTopic(s, 'gone');
    await s.publish(version(topic, 1), 1);
    const cursor = await s.feedHead();
    await raw.execute(`DROP KEYSPACE ${ks}`);
    // The data is gone (as with a wiped node); the store notices, re-creates the schema and goes on.
    expect(await s.getTopic(topic)).toBeUndefined();
    expect(s.stats.schemaRecreated).toBeGreaterThan(0);
    // A new keyspace is a new feed: a reader of the old one must read every topic again.
    expect(await s.readFeed(cursor, { limit: 10 })).toMatchObject({ entries: [], tooOld: true });
    const again = await newTopic(s, 'back');
    expect((await s.publish(version(again, 1), 2)).record.version).toBe(1n);
    await raw.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  }, 120_000);

  it('adds the columns of publish ids and history to a keyspace created before them, keeping its data', async () => {
    const ks = `imprint_old_${randomUUID().slice(0, 8)}`;
    const before = await openStore({ keyspace: ks });
    const topic = await newTopic(before, 'old');
    const { record } = await before.publish(version(topic, 1), 1);
    // As the previous release created the table.
    for (const column of ['publish_id', 'fingerprint', 'id_version', 'change']) await raw.execute(`ALTER TABLE ${ks}.topics DROP ${column}`);
    const s = await openStore({ keyspace: ks });
    expect(await s.getVersion(topic, 1n)).toEqual(record);
    const v = version(topic, 2, { publishId: 'after-upgrade' });
    expect(await s.publish(v, 2)).toMatchObject({ replayed: false, record: { version: 2n } });
    expect((await s.publish(v, 3)).replayed).toBe(true);
    expect((await s.listHistory(topic, { limit: 10 })).map((c) => [c.kind, c.version, c.publishId])).toEqual([['publish', 2n, 'after-upgrade']]);
    await raw.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  }, 120_000);

  it('adds the staleness contract columns to a keyspace created before them: its topics have none, and take one', async () => {
    const ks = `imprint_old_${randomUUID().slice(0, 8)}`;
    const before = await openStore({ keyspace: ks });
    const topic = await newTopic(before, 'old');
    // As the release before contracts created the table.
    for (const column of ['expect_every_ms', 'max_staleness_ms']) await raw.execute(`ALTER TABLE ${ks}.topics DROP ${column}`);
    const s = await openStore({ keyspace: ks });
    const old = await s.getTopic(topic);
    expect(old && ('expectEveryMs' in old || 'maxStalenessMs' in old)).toBe(false);
    expect(await s.updateTopic(topic, { expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 }, 2)).toMatchObject({ expectEveryMs: 3_600_000, maxStalenessMs: 7_200_000 });
    await raw.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  }, 120_000);

  it('adds the signing columns to a keyspace created before them: its topics and records have none, and take them', async () => {
    const ks = `imprint_old_${randomUUID().slice(0, 8)}`;
    const before = await openStore({ keyspace: ks });
    const topic = await newTopic(before, 'old');
    const { record } = await before.publish(version(topic, 1), 1);
    // As the release before signed versions created the table.
    for (const column of ['trusted_keys', 'signature_key_id', 'signature']) await raw.execute(`ALTER TABLE ${ks}.topics DROP ${column}`);
    const s = await openStore({ keyspace: ks });
    const old = await s.getTopic(topic);
    expect(old && 'trustedKeys' in old).toBe(false);
    expect(await s.getVersion(topic, 1n)).toEqual(record);
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(await s.updateTopic(topic, { trustedKeys: [key] }, 2)).toMatchObject({ trustedKeys: [key] });
    const signature = { keyId: '0123456789abcdef', signature: Buffer.alloc(64, 1).toString('base64') };
    expect((await s.publish(version(topic, 2, { signature }), 3)).record.signature).toEqual(signature);
    expect((await s.getVersion(topic, 2n))?.signature).toEqual(signature);
    await raw.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  }, 120_000);

  it('adds the rollout columns and the outcomes table to a keyspace created before them: its topics have no policy and no rollouts, and take them', async () => {
    const ks = `imprint_old_${randomUUID().slice(0, 8)}`;
    const before = await openStore({ keyspace: ks });
    const topic = await newTopic(before, 'old');
    const { record } = await before.publish(version(topic, 1), 1);
    // As the release before rollouts created the keyspace.
    for (const column of ['rollout_policy', 'rollout_active', 'withdrawn', 'rollout', 'rollout_revision']) await raw.execute(`ALTER TABLE ${ks}.topics DROP ${column}`);
    await raw.execute(`DROP TABLE ${ks}.rollout_outcomes`);
    const s = await openStore({ keyspace: ks });
    const old = await s.getTopic(topic);
    expect(old && 'rolloutPolicy' in old).toBe(false);
    expect(await s.getVersion(topic, 1n)).toEqual(record);
    expect(await s.pollState(topic)).toMatchObject({ withdrawn: [] });
    const policy = validateRolloutPolicy({ steps: [{ scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 0, gates: [] }] });
    expect((await s.updateTopic(topic, { rolloutPolicy: policy }, 2)).rolloutPolicy).toEqual(policy);
    const { rollout } = await s.publish(version(topic, 2, { rollout: policy }), 3);
    expect(rollout).toMatchObject({ version: 2n, state: 'running', revision: 1 });
    expect((await s.pollState(topic))?.rollout).toEqual(rollout);
    await s.recordOutcomes([{ topic, version: 2n, identity: identity({ nodeId: 'n1' }), holds: 2n, atMs: Date.now() }]);
    expect(await s.listOutcomes(topic, 2n)).toHaveLength(1);
    await raw.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
  }, 120_000);

  it('checks its options: keyspace, replication, contact points, local data center', () => {
    expect(() => options({ keyspace: 'bad-name; DROP' })).toThrow(InvalidArgumentError);
    expect(() => options({ replication: '{"class":"SimpleStrategy","replication_factor":"1\'}"}' })).toThrow(/cassandra.replication/);
    expect(() => options({ replication: 'not json' })).toThrow(/JSON object/);
    expect(() => options({ replication: '{"replication_factor":1}' })).toThrow(/cassandra.replication.class/);
    expect(() => options({ timeoutsBeforeUnavailable: 0 })).toThrow(/cassandra.timeoutsBeforeUnavailable must be a whole number from 1 to 1000/);
    expect(() => cassandraWithDefaults({ localDataCenter: 'dc1' })).toThrow(/contactPoints/);
    expect(() => cassandraWithDefaults({ contactPoints: '10.0.0.1' })).toThrow(/localDataCenter/);
    expect(cassandraWithDefaults({ contactPoints: '10.0.0.1, 10.0.0.2:9142', localDataCenter: 'dc1' })).toMatchObject({
      contactPoints: ['10.0.0.1:9042', '10.0.0.2:9142'],
      keyspace: 'imprint',
      replication: { class: 'NetworkTopologyStrategy', dc1: '3' },
      consistency: 'LOCAL_QUORUM',
      serialConsistency: 'LOCAL_SERIAL',
      timeoutsBeforeUnavailable: 3,
    });
  });
});

describe('the service on Cassandra, through gRPC', () => {
  let server: ImprintServer;
  let client: ImprintClient;
  beforeAll(async () => {
    server = await startImprintServer({
      dataDir: tempDir(),
      port: 0,
      log: silentLogger,
      store: 'cassandra',
      cassandra: { contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: KEYSPACE, replication: SIMPLE },
    });
    client = new ImprintClient({ address: `127.0.0.1:${server.port}` });
    const store = server.store as CassandraMetadataStore;
    for (let i = 0; i < 100 && !store.isAvailable; i++) await new Promise((r) => setTimeout(r, 100));
    expect(store.isAvailable).toBe(true);
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
  });

  it('publishes, polls, pins and unpins; a damaged record is not served (invariant 4)', async () => {
    const topic = `svc-${randomUUID().slice(0, 8)}`;
    await client.createTopic({ name: topic, owner: 'trust' });
    for (const text of ['one', 'two', 'three']) await client.publishPointer(topic, directPointer(text));
    expect((await client.poll(topic, identity(), 0n)).record?.version).toBe(3n);
    await raw.execute(`UPDATE ${KEYSPACE}.topics SET metadata = {'tampered': 'yes'} WHERE ${recordKey}`, [topic, 3n], { prepare: true });
    expect((await client.poll(topic, identity(), 1n)).record).toBeUndefined();
    const fresh = await client.poll(topic, identity(), 0n);
    expect(fresh.record?.version).toBe(2n);
    await expect(client.getVersion(topic, 3n)).rejects.toMatchObject({ code: 'DATA_INTEGRITY' });
    await client.pin(topic, 1n, { reason: 'bad v2' });
    expect(await client.poll(topic, identity(), 2n)).toMatchObject({ pinned: true, record: { version: 1n } });
    await client.unpin(topic, {});
    expect((await client.describeTopic(topic)).versionCount).toBe(3);
    expect(sha256Hex(Buffer.from('one'))).toBe((await client.getVersion(topic, 1n)).pointer.sha256);
  });
});

describe('imprint serve --store cassandra', () => {
  /** Runs the CLI from source; resolves with the port it serves on, or its exit code and output. */
  function serve(args: string[], env: Record<string, string> = {}) {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', '--data-dir', tempDir(), 'serve', '--port', '0', ...args], {
      env: { ...process.env, IMPRINT_DRAIN_MS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const started = new Promise<{ port: number } | { code: number | null; output: string }>((resolve) => {
      const onData = (b: Buffer) => {
        output += b.toString();
        const m = /Imprint is serving on [\d.]+:(\d+)/.exec(output);
        if (m) resolve({ port: Number(m[1]) });
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.on('exit', (code) => resolve({ code, output }));
    });
    const stop = () =>
      new Promise<number | null>((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.removeAllListeners('exit');
        proc.on('exit', (code) => resolve(code));
        proc.kill('SIGTERM');
      });
    return { started, stop, output: () => output };
  }

  async function roundTrip(port: number): Promise<void> {
    const c = new ImprintClient({ address: `127.0.0.1:${port}` });
    try {
      const topic = `cli-${randomUUID().slice(0, 8)}`;
      // The store connects in the background: retry until it answers.
      for (let i = 0; ; i++) {
        try {
          await c.createTopic({ name: topic });
          break;
        } catch (err) {
          if (i > 50 || (err as { code?: string }).code !== 'UNAVAILABLE') throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect((await c.publishPointer(topic, directPointer('from the cli'))).version).toBe(1n);
      expect((await c.poll(topic, identity(), 0n)).record?.version).toBe(1n);
    } finally {
      c.close();
    }
  }

  it('takes the flags from the issue', async () => {
    const s = serve(['--store', 'cassandra', '--cassandra-contact-points', endpoint, '--cassandra-local-dc', 'datacenter1', '--cassandra-keyspace', KEYSPACE, '--cassandra-replication', SIMPLE]);
    try {
      const r = await s.started;
      if (!('port' in r)) throw new Error(`serve exited with ${r.code}:\n${r.output}`);
      expect(s.output()).toContain(`metadata  cassandra ${endpoint} keyspace ${KEYSPACE}`);
      await roundTrip(r.port);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 60_000);

  it('takes IMPRINT_STORE, IMPRINT_CASSANDRA_CONTACT_POINTS and IMPRINT_CASSANDRA_LOCAL_DC', async () => {
    const s = serve(['--cassandra-keyspace', KEYSPACE, '--cassandra-replication', SIMPLE], {
      IMPRINT_STORE: 'cassandra',
      IMPRINT_CASSANDRA_CONTACT_POINTS: endpoint,
      IMPRINT_CASSANDRA_LOCAL_DC: 'datacenter1',
    });
    try {
      const r = await s.started;
      if (!('port' in r)) throw new Error(`serve exited with ${r.code}:\n${r.output}`);
      await roundTrip(r.port);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 60_000);

  it('refuses to start without a local data center, naming the flag (exit 2)', async () => {
    const s = serve(['--store', 'cassandra', '--cassandra-contact-points', endpoint], { IMPRINT_CASSANDRA_LOCAL_DC: '' });
    const r = await s.started;
    expect(r).toMatchObject({ code: 2 });
    expect(s.output()).toMatch(/invalid argument: cassandra\.localDataCenter .*--cassandra-local-dc/);
  }, 60_000);
});
