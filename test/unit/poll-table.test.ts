/**
 * The consume role's poll table, the table-backed PollSource, over a real SQLite store (counted
 * through a thin wrapper), asked by core's poll decision and by the Poller.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintError, decidePoll, type ConsumerIdentity, type VersionRecord } from '../../core/index.js';
import { createLogger } from '../../log/index.js';
import { PollTable, PollTableOptionError, Poller, SqliteMetadataStore, StorePollSource, type PollTableOptions, type RefreshResult } from '../../server/index.js';
import { CountingStore } from '../counting-store.js';
import { MemoryPollObserver, directPointer, identity, tempDir } from '../helpers.js';
import { SCENARIOS, damageSqlite, describeOutcome, outcome, seedScenarios, type Scenario } from '../poll-scenarios.js';

/** The decision over the table, as a promise either way (a question the table can answer at once included). */
const answerPoll = async (table: PollTable, topic: string, who: ConsumerIdentity, lastSeen: bigint) => decidePoll(table, topic, who, lastSeen);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function setup(opts: Omit<PollTableOptions, 'store' | 'clock'> = {}) {
  const dir = tempDir();
  const sqlite = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  const store = new CountingStore(sqlite);
  const clock = { now: 1_700_000_000_000 };
  const table = new PollTable({ store, clock: () => clock.now, ...opts });
  const tick = () => ++clock.now;
  const createTopic = (name: string) => sqlite.createTopic({ name, owner: 'o', description: '', retention: {} }, tick());
  const publish = (topic: string, text: string, scopes = [{}]) => sqlite.publish({ topic, metadata: {}, pointer: directPointer(text), scopes }, tick());
  cleanups.push(async () => {
    await table.stop();
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { sqlite, store, table, clock, tick, createTopic, publish };
}

const versionOf = (a: { record?: VersionRecord }) => a.record?.version;
const anyone = identity();

describe('PollTable', () => {
  it('refresh reads every topic into the table; polls are then answered from memory', async () => {
    const { store, table, createTopic, publish } = setup();
    for (const t of ['a', 'b', 'c']) {
      await createTopic(t);
      await publish(t, `${t}1`);
    }
    const r = await table.refresh();
    expect(r).toMatchObject({ ok: true, generation: 1, topics: 3 });
    expect(store.count('listTopics')).toBe(1);
    expect(store.count('pollState')).toBe(3);
    // No update: no store read at all. With an update: the record once, then from the cache.
    for (let i = 0; i < 20; i++) expect(await answerPoll(table, 'a', anyone, 1n)).toEqual({ pinned: false });
    for (let i = 0; i < 20; i++) expect(versionOf(await answerPoll(table, 'b', anyone, 0n))).toBe(1n);
    expect(store.count('pollState')).toBe(3);
    expect(store.count('getVersion', 'b')).toBe(1);
    expect(table.stats()).toMatchObject({ hits: 40, misses: 0, recordCache: { entries: 1, hits: 19, misses: 1 } });
  });

  it('sees a publish after the next refresh, not before, and reads the new record once', async () => {
    const { store, table, createTopic, publish } = setup();
    await createTopic('m');
    await publish('m', 'one');
    await table.refresh();
    expect(versionOf(await answerPoll(table, 'm', anyone, 0n))).toBe(1n);
    await publish('m', 'two');
    expect(versionOf(await answerPoll(table, 'm', anyone, 0n))).toBe(1n); // the table is a few seconds behind by design
    await table.refresh();
    expect(versionOf(await answerPoll(table, 'm', anyone, 0n))).toBe(2n);
    expect(versionOf(await answerPoll(table, 'm', anyone, 1n))).toBe(2n);
    expect(store.count('getVersion', 'm')).toBe(2);
  });

  it('swaps the table whole: polls during a refresh see the old table for every topic', async () => {
    const { store, table, createTopic, publish, sqlite, tick } = setup({ refreshConcurrency: 1 });
    for (const t of ['a', 'b']) {
      await createTopic(t);
      await publish(t, `${t}1`);
    }
    await table.refresh();
    // New heads for both, and a pin on b.
    await publish('a', 'a2');
    await publish('b', 'b2');
    await publish('b', 'b3');
    await sqlite.pin({ topic: 'b', scope: {}, version: 2n, createdAtMs: tick(), reason: 'r', createdBy: 'op' });
    const gate = store.gate('pollState', 'b');
    const refreshing = table.refresh();
    await gate.reached; // a is read into the new table; b is not yet
    expect(store.count('pollState', 'a')).toBe(2);
    expect(table.generation).toBe(1);
    expect(await answerPoll(table, 'a', anyone, 0n)).toMatchObject({ record: { version: 1n }, pinned: false });
    expect(await answerPoll(table, 'b', anyone, 0n)).toMatchObject({ record: { version: 1n }, pinned: false });
    gate.release();
    expect(await refreshing).toMatchObject({ ok: true, generation: 2 });
    expect(await answerPoll(table, 'a', anyone, 0n)).toMatchObject({ record: { version: 2n }, pinned: false });
    expect(await answerPoll(table, 'b', anyone, 3n)).toMatchObject({ record: { version: 2n }, pinned: true });
  });

  it('reads a topic missing from the table once for all concurrent polls, and keeps it', async () => {
    const { store, table, createTopic, publish } = setup();
    await table.refresh();
    await createTopic('fresh');
    await publish('fresh', 'f1');
    const gate = store.gate('pollState', 'fresh');
    const polls = Array.from({ length: 25 }, () => answerPoll(table, 'fresh', anyone, 1n));
    await gate.reached;
    expect(gate.waiting).toBe(1);
    gate.release();
    expect(await Promise.all(polls)).toEqual(Array.from({ length: 25 }, () => ({ pinned: false })));
    expect(store.count('pollState', 'fresh')).toBe(1);
    expect(table.stats().misses).toBe(25);
    await answerPoll(table, 'fresh', anyone, 1n);
    expect(store.count('pollState', 'fresh')).toBe(1);
    expect(table.peek('fresh')?.topic.name).toBe('fresh');
  });

  it('reads a record once for all concurrent polls that need it', async () => {
    const { store, table, createTopic, publish } = setup();
    await createTopic('m');
    await publish('m', 'x'.repeat(1000));
    await table.refresh();
    const gate = store.gate('getVersion', 'm');
    const polls = Array.from({ length: 25 }, () => answerPoll(table, 'm', anyone, 0n));
    await gate.reached;
    gate.release();
    const answers = await Promise.all(polls);
    expect(new Set(answers.map(versionOf))).toEqual(new Set([1n]));
    expect(store.count('getVersion', 'm')).toBe(1);
  });

  it('believes "no such topic" for absentTtlMs, across refreshes, then asks the store again', async () => {
    const { store, table, clock } = setup({ absentTtlMs: 1000 });
    await table.refresh();
    for (let i = 0; i < 5; i++) {
      expect(await outcome(answerPoll(table, 'ghost', anyone, 0n))).toEqual({ error: 'NOT_FOUND' });
      await table.refresh();
    }
    expect(store.count('pollState', 'ghost')).toBe(1);
    clock.now += 1000;
    await outcome(answerPoll(table, 'ghost', anyone, 0n));
    expect(store.count('pollState', 'ghost')).toBe(2);
  });

  it('remembers at most absentMaxEntries missing topics, forgetting the oldest; a refresh that lists one forgets it', async () => {
    const { store, table, createTopic } = setup({ absentMaxEntries: 3 });
    await table.refresh();
    for (const t of ['g1', 'g2', 'g3', 'g4']) await outcome(answerPoll(table, t, anyone, 0n));
    expect(table.stats().absent).toBe(3);
    // g1 was forgotten (the oldest): asked again; g4 is still remembered.
    await outcome(answerPoll(table, 'g1', anyone, 0n));
    await outcome(answerPoll(table, 'g4', anyone, 0n));
    expect([store.count('pollState', 'g1'), store.count('pollState', 'g4')]).toEqual([2, 1]);
    await createTopic('g4');
    await table.refresh();
    expect(table.stats().absent).toBe(2);
    expect(await outcome(answerPoll(table, 'g4', anyone, 0n))).toEqual({ pinned: false });
  });

  it('keeps the old table when a refresh fails, counts it and reports it', async () => {
    const { store, table, clock, createTopic, publish } = setup();
    await createTopic('m');
    await publish('m', 'one');
    await table.refresh();
    const lastGood = clock.now;
    const failures: RefreshResult[] = [];
    table.on('refresh-failed', (r: RefreshResult) => failures.push(r));
    await publish('m', 'two');
    for (const method of ['listTopics', 'pollState'] as const) {
      store.failWith(method, new Error(`${method}: store down`));
      clock.now += 5000;
      const r = await table.refresh();
      expect(r.ok).toBe(false);
      store.failWith(method, undefined);
    }
    expect(failures.map((f) => (f.ok ? '' : (f.error as Error).message))).toEqual(['listTopics: store down', 'pollState: store down']);
    expect(table.generation).toBe(1);
    expect(table.stats()).toMatchObject({ refreshes: 1, refreshFailures: 2 });
    expect(table.age()).toBe(clock.now - lastGood);
    expect(table.age()).toBeGreaterThanOrEqual(10_000);
    expect(versionOf(await answerPoll(table, 'm', anyone, 0n))).toBe(1n);
    expect(await table.refresh()).toMatchObject({ ok: true, generation: 2 });
    expect(table.age()).toBe(0);
    expect(versionOf(await answerPoll(table, 'm', anyone, 0n))).toBe(2n);
  });

  it('answers what memory holds at once, without a promise, and reads the store only for what it lacks', async () => {
    const { store, table, createTopic, publish } = setup();
    await createTopic('m');
    await publish('m', 'one');
    // Not in the table yet: a promise, one store read for the topic (a miss).
    const missed = decidePoll(table, 'm', anyone, 1n);
    expect(missed).toBeInstanceOf(Promise);
    expect(await missed).toEqual({ pinned: false });
    expect(table.stats()).toMatchObject({ hits: 0, misses: 1 });
    await table.refresh();
    const reads = store.count('getVersion', 'm');
    // Up to date: answered at once.
    expect(decidePoll(table, 'm', anyone, 1n)).toEqual({ pinned: false });
    // An update whose record is not cached yet: a promise, the record read once...
    const first = decidePoll(table, 'm', anyone, 0n);
    expect(first).toBeInstanceOf(Promise);
    expect(versionOf(await first)).toBe(1n);
    expect(store.count('getVersion', 'm')).toBe(reads + 1);
    // ...and from then on it is answered at once, with the same record.
    const again = decidePoll(table, 'm', anyone, 0n);
    expect(again).not.toBeInstanceOf(Promise);
    expect(versionOf(await again)).toBe(1n);
    expect(store.count('getVersion', 'm')).toBe(reads + 1);
    expect(table.stats()).toMatchObject({ hits: 3, misses: 1, recordCache: { hits: 1, misses: 1 } });
  });

  it('logs the first failed refresh of a streak, then one line a minute, then that it works again', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format: 'pretty', destination: { write: (l) => lines.push(l) } });
    const { store, table, clock, createTopic } = setup({ log });
    await createTopic('m');
    store.failWith('listTopics', new Error('store down'));
    for (let i = 0; i < 40; i++) {
      await table.refresh();
      clock.now += 2000; // 40 refreshes 2 s apart: 80 s of failures
    }
    const failed = lines.filter((l) => l.includes('poll table refresh failed'));
    expect(failed.length).toBe(2);
    expect(failed[0]).toContain('failedRefreshes=1');
    expect(failed[1]).toContain('failedRefreshes=31');
    store.failWith('listTopics', undefined);
    expect((await table.refresh()).ok).toBe(true);
    expect(lines.filter((l) => l.includes('poll table refresh works again'))).toEqual([expect.stringContaining('failedRefreshes=40')]);
  });

  it('age() is Infinity before the first refresh and the time since the last good one after', async () => {
    const { table, clock } = setup();
    expect(table.age()).toBe(Number.POSITIVE_INFINITY);
    await table.refresh();
    clock.now += 2500;
    expect(table.age()).toBe(2500);
  });

  it('start() refreshes once before it resolves; stop() ends the loop', async () => {
    const { table, createTopic } = setup();
    await createTopic('m');
    const first = await table.start();
    expect(first).toMatchObject({ ok: true, generation: 1, topics: 1 });
    await expect(table.start()).rejects.toThrow(/already started/);
    await table.stop();
    expect(table.generation).toBe(1);
  });

  it('keeps at most recordCacheEntries records, least recently used out first', async () => {
    const { store, table, createTopic, publish } = setup({ recordCacheEntries: 2 });
    await createTopic('m');
    for (const t of ['1', '2', '3']) await publish('m', t);
    await table.refresh();
    const entry = table.peek('m');
    if (!entry) throw new Error('m is not in the table');
    for (const v of [1n, 2n, 3n]) expect((await table.record('m', entry, v)).record?.version).toBe(v);
    expect(store.count('getVersion')).toBe(3);
    await table.record('m', entry, 3n); // cached
    await table.record('m', entry, 2n); // cached
    expect(store.count('getVersion')).toBe(3);
    await table.record('m', entry, 1n); // evicted: read again
    expect(store.count('getVersion')).toBe(4);
    expect(table.stats().recordCache.entries).toBe(2);
  });

  it('reads a cached record again after its topic heads change (scopes may be added to a version)', async () => {
    const { sqlite, store, table, createTopic, publish, tick } = setup();
    await createTopic('m');
    await publish('m', 'one');
    await table.refresh();
    const scorer = identity({ app: 'scorer' });
    expect((await answerPoll(table, 'm', scorer, 0n)).record?.scopes).toEqual([{}]);
    await sqlite.addScopes('m', 1n, [{ app: 'scorer' }], tick());
    await table.refresh();
    expect((await answerPoll(table, 'm', scorer, 0n)).record?.scopes).toEqual([{}, { app: 'scorer' }]);
    expect(store.count('getVersion', 'm')).toBe(2);
  });

  it.each<[Omit<PollTableOptions, 'store'>, string]>([
    [{ refreshConcurrency: 0 }, 'pollTable.refreshConcurrency'],
    [{ recordCacheEntries: 1.5 }, 'pollTable.recordCacheEntries'],
    [{ absentTtlMs: -1 }, 'pollTable.absentTtlMs'],
    [{ absentMaxEntries: 0 }, 'pollTable.absentMaxEntries'],
  ])('refuses bad options %j', (opts, field) => {
    const { store } = setup();
    expect(() => new PollTable({ store, ...opts })).toThrow(PollTableOptionError);
    expect(() => new PollTable({ store, ...opts })).toThrow(field);
  });

  it('answers NOT_FOUND naming an unknown topic', async () => {
    const { table } = setup();
    await table.refresh();
    await expect(answerPoll(table, 'ghost', anyone, 0n)).rejects.toThrow(ImprintError);
    await expect(answerPoll(table, 'ghost', anyone, 0n)).rejects.toThrow('topic "ghost" does not exist');
  });

  it('a Poller over the table answers every scenario as one over the store, with the same polls observed and failures counted', async () => {
    const { sqlite, table, tick } = setup();
    await seedScenarios({ store: sqlite, damage: damageSqlite(sqlite) }, tick);
    await table.refresh();
    const storeSeen = new MemoryPollObserver();
    const overStore = new Poller({ source: new StorePollSource(sqlite), observer: storeSeen });
    const tableSeen = new MemoryPollObserver();
    const overTable = new Poller({ source: table, observer: tableSeen });
    // As a promise either way (a question answered at once, bad input included).
    const polled = async (p: Poller, s: Scenario) => p.poll(s.topic, s.identity, s.lastSeen);
    for (const s of SCENARIOS) {
      const expected = await outcome(polled(overStore, s));
      expect(describeOutcome(expected), s.name).toBe(s.expect);
      // Twice: the second answer comes from cached records and verdicts.
      for (let i = 0; i < 2; i++) expect(await outcome(polled(overTable, s)), s.name).toEqual(expected);
    }
    expect(tableSeen.polls).toEqual(storeSeen.polls.flatMap((e) => [e, e]));
    // Each round: guarded v3 twice, guarded2 v3 twice and its v2 on the way down once.
    expect(overStore.integrityFailures).toBe(5);
    expect(overTable.integrityFailures).toBe(2 * overStore.integrityFailures);
  });
});
