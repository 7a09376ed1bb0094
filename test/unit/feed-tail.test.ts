/**
 * The consume role's poll table following the change feed (FeedFollower), over a real SQLite
 * store behind the counting store (gates hold chosen reads, failures can be armed, and the
 * feed can be made to answer "cursor too old"): a change reaches exactly its topic and is told
 * once it is in the table; the safety net reads every topic when it must and tells only of
 * the topics that changed; one step at a time; a failing feed keeps the table and retries.
 * And the all role's follower, which only tells.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FeedFollowerOptionError, PollChangeHub, PollTable, PollTableOptionError, SqliteMetadataStore, noticeFollower, type PollTableOptions, type RereadResult } from '../../server/index.js';
import type { FeedCursor, FeedPage } from '../../server/store/change-feed.js';
import { CountingStore } from '../counting-store.js';
import { directPointer, tempDir } from '../helpers.js';

/** The counting store, whose feed answers "cursor too old" while `tooOld` is set. */
class AgingStore extends CountingStore {
  tooOld = false;
  override async readFeed(after: FeedCursor, opts: { limit: number }): Promise<FeedPage> {
    const page = await super.readFeed(after, opts);
    return this.tooOld ? { entries: [], cursor: await this.inner.feedHead(), more: false, tooOld: true } : page;
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Waits `ms` to show that something does NOT happen (a 10 ms tail has had its chance many times over); never to wait for something. */
const turns = async (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(opts: Omit<PollTableOptions, 'store'> = {}) {
  const dir = tempDir();
  const sqlite = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  const store = new AgingStore(sqlite);
  let now = 1_700_000_000_000;
  const tick = () => (now = Math.max(now + 1, Date.now()));
  /** Each word the table gave, with the head the table held for the topic at that moment. */
  const told: { topic: string; head: bigint | undefined }[] = [];
  const table = new PollTable({
    store,
    tailMs: 10,
    ...opts,
    notify: (topic) => told.push({ topic, head: table.peek(topic)?.heads[0]?.version }),
  });
  const createTopic = (name: string) => sqlite.createTopic({ name, owner: 'o', description: '', retention: {} }, tick());
  const publish = (topic: string, text: string) => sqlite.publish({ topic, metadata: {}, pointer: directPointer(text), scopes: [{}] }, tick());
  cleanups.push(async () => {
    await table.stop();
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { sqlite, store, table, told, tick, createTopic, publish };
}

async function seeded(opts: Omit<PollTableOptions, 'store'> = {}) {
  const s = setup(opts);
  for (const t of ['a', 'b', 'c']) {
    await s.createTopic(t);
    await s.publish(t, `${t}1`);
  }
  return s;
}

describe('PollTable following the change feed', () => {
  it('a published version reaches exactly its topic, and the word comes once, after the table holds it', async () => {
    const { store, table, told, publish } = await seeded();
    expect((await table.start())?.ok).toBe(true);
    expect(told.map((t) => t.topic).sort()).toEqual(['a', 'b', 'c']); // the first read: every topic is new
    told.length = 0;
    const before = { a: store.count('pollState', 'a'), b: store.count('pollState', 'b'), c: store.count('pollState', 'c') };
    await publish('b', 'b2');
    await vi.waitFor(() => expect(told.length).toBeGreaterThan(0), { timeout: 10_000, interval: 5 });
    // Many more feed reads later: still the one word, given when the table already held v2.
    const reads = table.feed.stats().feedReads.ok;
    await vi.waitFor(() => expect(table.feed.stats().feedReads.ok).toBeGreaterThan(reads + 5), { timeout: 10_000, interval: 5 });
    expect(told).toEqual([{ topic: 'b', head: 2n }]);
    expect(table.peek('b')?.heads[0]?.version).toBe(2n);
    expect({ a: store.count('pollState', 'a'), b: store.count('pollState', 'b'), c: store.count('pollState', 'c') }).toEqual({ ...before, b: before.b + 1 });
    expect(store.count('listTopics')).toBe(1); // no full re-read
    expect(table.feed.stats()).toMatchObject({ changesApplied: 1, rereads: { start: 1, interval: 0, 'cursor-too-old': 0, failure: 0 } });
  });

  it('pins, unpins, added scopes and new topics come through the feed too; a cached record the feed names is read again', async () => {
    const { sqlite, store, table, told, tick, createTopic, publish } = await seeded();
    await table.start();
    told.length = 0;
    const wordFor = async (topic: string) => vi.waitFor(() => expect(told.map((t) => t.topic)).toContain(topic), { timeout: 10_000, interval: 5 });
    await sqlite.pin({ topic: 'a', scope: {}, version: 1n, createdAtMs: tick(), reason: 'r', createdBy: 'op' });
    await wordFor('a');
    expect(table.peek('a')?.pins.map((p) => p.version)).toEqual([1n]);
    await sqlite.unpin('a', {}, tick());
    told.length = 0;
    await wordFor('a');
    expect(table.peek('a')?.pins).toEqual([]);
    // A record cached, then a scope added to it: read again on the next ask.
    await publish('c', 'c2');
    await wordFor('c');
    const entry = table.peek('c');
    if (!entry) throw new Error('c is not in the table');
    expect((await table.record('c', entry, 1n)).record?.scopes).toHaveLength(1);
    const reads = store.count('getVersion', 'c');
    await sqlite.addScopes('c', 1n, [{ region: 'eu' }], tick());
    const fed = table.feed.stats().entries;
    await vi.waitFor(() => expect(table.feed.stats().entries).toBeGreaterThan(fed), { timeout: 10_000, interval: 5 });
    expect((await table.record('c', table.peek('c') ?? entry, 1n)).record?.scopes).toHaveLength(2);
    expect(store.count('getVersion', 'c')).toBe(reads + 1);
    // A topic created now: in the table without a miss.
    await createTopic('d');
    await publish('d', 'd1');
    await wordFor('d');
    expect(table.peek('d')?.heads[0]?.version).toBe(1n);
    expect(store.count('listTopics')).toBe(1);
  });

  it('a cursor too old makes it read every topic again, then tail from there', async () => {
    const { store, table, told, publish } = await seeded();
    await table.start();
    told.length = 0;
    const rereads: RereadResult[] = [];
    table.feed.on('reread', (r: RereadResult) => {
      rereads.push(r);
      store.tooOld = false;
    });
    store.tooOld = true;
    await vi.waitFor(() => expect(rereads).toEqual([expect.objectContaining({ reason: 'cursor-too-old', ok: true })]), { timeout: 10_000, interval: 5 });
    expect(store.count('listTopics')).toBe(2);
    await publish('a', 'a2');
    await vi.waitFor(() => expect(told).toEqual([{ topic: 'a', head: 2n }]), { timeout: 10_000, interval: 5 });
    expect(table.feed.stats().rereads['cursor-too-old']).toBe(1);
  });

  it('a full re-read tells only of the topics whose heads or pins changed (and of new ones)', async () => {
    // The feed is not read during this test: only the re-read can see the changes.
    const { sqlite, table, told, tick, createTopic, publish } = await seeded({ tailMs: 600_000 });
    await table.start();
    told.length = 0;
    await publish('a', 'a2');
    await sqlite.pin({ topic: 'c', scope: {}, version: 1n, createdAtMs: tick(), reason: 'r', createdBy: 'op' });
    await sqlite.updateTopic('b', { description: 'only words' }, tick());
    await createTopic('d');
    expect((await table.refresh()).ok).toBe(true);
    expect(told.map((t) => t.topic).sort()).toEqual(['a', 'c', 'd']);
    told.length = 0;
    expect((await table.refresh()).ok).toBe(true);
    expect(told).toEqual([]);
  });

  it('never runs two steps at once: a slow topic read holds the next feed read and an asked-for re-read until it ends', async () => {
    const { store, table, told, publish } = await seeded();
    await table.start();
    told.length = 0;
    const gate = store.gate('pollState', 'b');
    await publish('b', 'b2');
    await gate.reached;
    const feedReads = store.count('readFeed');
    const refreshing = table.refresh();
    await turns(300); // thirty tail intervals
    expect(store.count('readFeed')).toBe(feedReads);
    expect(store.count('listTopics')).toBe(1);
    expect(gate.waiting).toBe(1);
    gate.release();
    expect((await refreshing).ok).toBe(true);
    expect(store.count('listTopics')).toBe(2);
    expect(told).toEqual([{ topic: 'b', head: 2n }]);
    await vi.waitFor(() => expect(store.count('readFeed')).toBeGreaterThan(feedReads + 1), { timeout: 10_000, interval: 5 });
  });

  it('a slow feed read is not stacked up: one read waits, none starts beside it', async () => {
    const { store, table } = await seeded();
    await table.start();
    const gate = store.gate('readFeed');
    await gate.reached;
    const reads = store.count('readFeed');
    await turns(300);
    expect(store.count('readFeed')).toBe(reads);
    expect(gate.waiting).toBe(1);
    gate.release();
    await vi.waitFor(() => expect(store.count('readFeed')).toBeGreaterThan(reads + 1), { timeout: 10_000, interval: 5 });
  });

  it('a failing feed read keeps the table, tries again, reads every topic after failures in a row, and catches up once the feed answers', async () => {
    const { store, table, told, publish } = await seeded();
    await table.start();
    told.length = 0;
    const generation = table.generation;
    store.failWith('readFeed', new Error('feed down'));
    await publish('a', 'a2');
    await vi.waitFor(() => expect(table.feed.stats().rereads.failure).toBe(1), { timeout: 10_000, interval: 5 });
    // The safety net read a2 in (and said so); the table was never emptied meanwhile.
    expect(table.generation).toBe(generation + 1);
    expect(told).toEqual([{ topic: 'a', head: 2n }]);
    expect(table.feed.stats().feedReads.failed).toBeGreaterThanOrEqual(3);
    expect(table.peek('b')?.heads[0]?.version).toBe(1n);
    store.failWith('readFeed', undefined);
    await publish('b', 'b2');
    await vi.waitFor(() => expect(told.map((t) => t.topic)).toEqual(['a', 'b']), { timeout: 10_000, interval: 5 });
    expect(table.peek('b')?.heads[0]?.version).toBe(2n);
  });

  it('a failing topic read keeps the cursor: the change is applied when the store answers', async () => {
    const { store, table, told, publish } = await seeded();
    await table.start();
    told.length = 0;
    store.failWith('pollState', new Error('store down'));
    await publish('c', 'c2');
    await vi.waitFor(() => expect(table.feed.stats().feedReads.failed).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 });
    expect(table.peek('c')?.heads[0]?.version).toBe(1n);
    store.failWith('pollState', undefined);
    await vi.waitFor(() => expect(told).toEqual([{ topic: 'c', head: 2n }]), { timeout: 10_000, interval: 5 });
  });

  it('does not hammer a store that cannot be read: neither at start, nor when the feed stays too old', async () => {
    const { store, table } = await seeded();
    store.failWith('listTopics', new Error('store down'));
    expect(await table.start()).toMatchObject({ ok: false });
    await turns(500);
    // Tried again with a growing wait (20, 40, 80, 160 ms ...), not once a millisecond.
    expect(store.count('listTopics')).toBeLessThan(10);
    store.failWith('listTopics', undefined);
    await vi.waitFor(() => expect(table.feed.stats().rereads.start).toBe(1), { timeout: 10_000, interval: 5 });
    // The feed says the cursor is too old while every topic cannot be listed: the feed is not read again meanwhile.
    store.failWith('listTopics', new Error('store down again'));
    store.tooOld = true;
    await vi.waitFor(() => expect(table.feed.stats().rereadFailures).toBeGreaterThan(1), { timeout: 10_000, interval: 5 });
    const reads = store.count('readFeed');
    await turns(500);
    expect(store.count('readFeed') - reads).toBeLessThan(3);
    store.tooOld = false;
    store.failWith('listTopics', undefined);
    await vi.waitFor(() => expect(table.feed.stats().rereads['cursor-too-old']).toBe(1), { timeout: 10_000, interval: 5 });
  });

  it('refuses bad intervals by their names', () => {
    const store = new CountingStore(SqliteMetadataStore.open({ file: ':memory:' }));
    expect(() => new PollTable({ store, tailMs: 5 })).toThrow(PollTableOptionError);
    expect(() => new PollTable({ store, tailMs: 5 })).toThrow(/pollTable.tailMs must be a whole number of milliseconds from 10 to 600000 \(got 5\)/);
    expect(() => new PollTable({ store, refreshMs: 99 })).toThrow(/pollTable.refreshMs/);
    expect(() => noticeFollower({ store, notify: () => {}, tailMs: 0 })).toThrow(FeedFollowerOptionError);
  });
});

describe('the all role follower (noticeFollower)', () => {
  it('tells of each topic the feed names, and of every topic when the cursor is too old', async () => {
    const { sqlite, store, publish, tick } = await seeded();
    const hub = new PollChangeHub();
    const heard: string[] = [];
    hub.subscribe((t) => heard.push(t));
    const follower = noticeFollower({ store, notify: (t) => hub.notify(t), tailMs: 10 });
    cleanups.push(() => follower.stop());
    await follower.start();
    expect(heard).toEqual([]);
    await publish('a', 'a2');
    await sqlite.pin({ topic: 'b', scope: {}, version: 1n, createdAtMs: tick(), reason: 'r', createdBy: 'op' });
    await vi.waitFor(() => expect(heard).toEqual(['a', 'b']), { timeout: 10_000, interval: 5 });
    follower.on('reread', () => (store.tooOld = false));
    store.tooOld = true;
    await vi.waitFor(() => expect(follower.stats().rereads['cursor-too-old']).toBe(1), { timeout: 10_000, interval: 5 });
    expect(heard.slice(2).sort()).toEqual(['a', 'b', 'c']);
  });
});
