/**
 * The Cassandra change feed's walk over buckets (server/store/cassandra-feed.ts) against an
 * in-memory table of entries, with a clock the test moves: which entries a read gives, when
 * it gives a hint again, what it does with entries that land late, and how pages are cut. The
 * same code against a real Cassandra is in test/backends/cassandra-store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import {
  FEED_BUCKET_MS,
  FeedClock,
  bucketOf,
  decodeCursor,
  encodeCursor,
  feedWithDefaults,
  headAt,
  isTooOld,
  readPage,
  ticksOf,
  type BucketScan,
  type CassandraCursor,
  type FeedRow,
} from '../../server/store/cassandra-feed.js';

const o = feedWithDefaults({ lookbackMs: 2_000, settleMs: 60_000 });
const FEED = '0b7e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

/** The table: entries as they have landed, read as the store reads a bucket. */
class Table {
  readonly rows: FeedRow[] = [];
  private nextId = 1n;
  land(atMs: number, topic: string, hint: boolean, tick = 0): FeedRow {
    const row: FeedRow = { at: ticksOf(atMs) + BigInt(tick), id: this.nextId++, topic, kind: 'publish', version: 1n, hint };
    this.rows.push(row);
    return row;
  }
  scans = 0;
  readonly scan: BucketScan = async (bucket, after, upTo) => {
    this.scans++;
    return this.rows
      .filter((r) => bucketOf(r.at) === bucket && r.at > after && r.at <= upTo)
      .sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.id < b.id ? -1 : 1));
  };
}

/** A reader: reads one page at `nowMs` and remembers its cursor. */
async function reader(table: Table, startMs: number, limit = 1000) {
  let cursor: CassandraCursor = await headAt(table.scan, FEED, startMs, o);
  return async (nowMs: number): Promise<{ topics: string[]; more: boolean }> => {
    const page = await readPage(table.scan, cursor, limit, nowMs, o);
    cursor = decodeCursor(encodeCursor(page.cursor)); // as a reader keeps it: text
    return { topics: page.entries.map((e) => `${e.topic}${e.hint ? ' (hint)' : ''}`), more: page.more };
  };
}

const T0 = 1_700_000_000_000;

describe('Cassandra change feed: reads', () => {
  it('gives each entry once as it comes, though every read looks back lookbackMs, and each hint once more after settleMs', async () => {
    const t = new Table();
    const read = await reader(t, T0);
    t.land(T0 + 10, 'a', true);
    t.land(T0 + 20, 'a', false);
    expect((await read(T0 + 100)).topics).toEqual(['a (hint)', 'a']);
    // Read again and again within the look back: nothing new.
    for (let ms = 200; ms <= 5_000; ms += 100) expect((await read(T0 + ms)).topics).toEqual([]);
    t.land(T0 + 5_050, 'b', false);
    expect((await read(T0 + 5_100)).topics).toEqual(['b']);
    for (let ms = 5_200; ms < 60_010; ms += 500) expect((await read(T0 + ms)).topics).toEqual([]);
    // Settled: the hint again (not the entry written after its change).
    expect((await read(T0 + 60_100)).topics).toEqual(['a (hint)']);
    expect((await read(T0 + 120_000)).topics).toEqual([]);
  });

  it('a head cursor takes what is there as given: earlier entries do not come again, earlier hints only once settled', async () => {
    const t = new Table();
    t.land(T0 - 500, 'before', false);
    t.land(T0 - 400, 'before', true);
    const read = await reader(t, T0);
    t.land(T0 + 10, 'after', false);
    expect((await read(T0 + 100)).topics).toEqual(['after']);
    const got: string[] = [];
    for (let ms = 200; ms <= 61_000; ms += 200) got.push(...(await read(T0 + ms)).topics);
    expect(got).toEqual(['before (hint)']);
  });

  it('an idle read scans two buckets at most: the settle slice and the look back', async () => {
    const t = new Table();
    const read = await reader(t, T0);
    await read(T0 + 100);
    t.scans = 0;
    for (let i = 1; i <= 100; i++) await read(T0 + 100 + i * 100);
    expect(t.scans).toBeLessThanOrEqual(100 * 2 + 4); // + a few reads that straddle a bucket's end
  });

  it('an entry that lands late within the look back comes at the next read; later than that, its hint comes once settled', async () => {
    const t = new Table();
    const read = await reader(t, T0);
    await read(T0 + 10_000);
    // A writer whose clock is 1.5 s behind: its entries' times are already passed when they land.
    t.land(T0 + 8_600, 'behind', true);
    t.land(T0 + 8_610, 'behind', false);
    expect((await read(T0 + 10_100)).topics).toEqual(['behind (hint)', 'behind']);
    // 30 s behind: beyond the look back; the hint comes when it is settleMs old, the other never.
    t.land(T0 - 20_000, 'far', true);
    t.land(T0 - 19_990, 'far', false);
    const got: string[] = [];
    for (let ms = 10_200; ms <= 45_000; ms += 100) got.push(...(await read(T0 + ms)).topics);
    expect(got).toEqual(['far (hint)']);
    expect((await read(T0 + 100_000)).topics).toEqual(['behind (hint)']);
  });

  it('a writer whose clock is ahead: its entries come at once, once', async () => {
    const t = new Table();
    const read = await reader(t, T0);
    t.land(T0 + 5_000, 'ahead', false);
    expect((await read(T0 + 100)).topics).toEqual(['ahead']);
    for (let ms = 200; ms <= 8_000; ms += 100) expect((await read(T0 + ms)).topics).toEqual([]);
  });

  it('pages: at most the limit plus entries of the same time; each entry once across pages, nothing lost', async () => {
    const t = new Table();
    const read = await reader(t, T0, 10);
    // 25 entries, three of them sharing one time (two writers in one tick) at the first cut.
    for (let i = 0; i < 25; i++) t.land(T0 + 100 + (i < 12 && i >= 9 ? 9 : i), `e${i}`, false);
    const got: string[] = [];
    let page = await read(T0 + 1_000);
    got.push(...page.topics);
    expect(page.topics).toHaveLength(12);
    expect(page.more).toBe(true);
    while (page.more) {
      page = await read(T0 + 1_000);
      expect(page.topics.length).toBeLessThanOrEqual(12);
      got.push(...page.topics);
    }
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => `e${i}`));
    expect((await read(T0 + 1_100)).topics).toEqual([]);
  });

  it('after a gap of minutes (several buckets) a cursor resumes: every entry, then every hint once settled', async () => {
    const t = new Table();
    const read = await reader(t, T0, 7);
    await read(T0 + 100);
    for (let i = 0; i < 30; i++) t.land(T0 + 1_000 + i * 10_000, `g${i}`, i % 3 === 0);
    const fresh: string[] = [];
    let page;
    do {
      page = await read(T0 + 301_000);
      fresh.push(...page.topics);
    } while (page.more);
    // Every entry; the hints already settleMs old twice (settle scan, then fresh scan), the rest once.
    const hints = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 === 0);
    const settled = (i: number) => 1_000 + i * 10_000 <= 301_000 - 60_000;
    const times = (x: string) => fresh.filter((y) => y === x).length;
    for (let i = 0; i < 30; i++) expect(times(i % 3 === 0 ? `g${i} (hint)` : `g${i}`), `g${i}`).toBe(i % 3 === 0 && settled(i) ? 2 : 1);
    expect(fresh).toHaveLength(30 + hints.filter(settled).length);
    const later: string[] = [];
    for (let ms = 301_100; ms <= 400_000; ms += 1_000) later.push(...(await read(T0 + ms)).topics);
    expect(later).toEqual(hints.filter((i) => !settled(i)).map((i) => `g${i} (hint)`));
    expect(FEED_BUCKET_MS).toBe(60_000);
  });
});

describe('Cassandra change feed: cursors, times, options', () => {
  it('a cursor is text that round-trips; anything else is refused naming `after`', () => {
    const c: CassandraCursor = { feedId: FEED, fresh: 123n, settled: 45n, seen: new Set([1n, 0x7fff_ffff_ffff_ffffn]) };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of ['', 'sqlite:x:1', `cassandra:${FEED}:1:2`, `cassandra:${FEED}:1:2:ZZ`, `cassandra:${FEED}:-1:2:`, `cassandra:${FEED}:1:2:abc,`]) {
      expect(() => decodeCursor(bad)).toThrow(InvalidArgumentError);
      expect(() => decodeCursor(bad)).toThrow(/^after must be a change-feed cursor the cassandra store returned/);
    }
  });

  it('too old: once the feed may have dropped entries after the cursor (retention less settleMs)', async () => {
    const head = await headAt(new Table().scan, FEED, T0, o);
    // A head cursor starts its settle scan settleMs back.
    expect(isTooOld(head, T0 + o.retentionMs - 2 * o.settleMs - 1_000, o)).toBe(false);
    expect(isTooOld(head, T0 + o.retentionMs, o)).toBe(true);
  });

  it('one writer\'s entry times always increase: within a millisecond and when its clock steps back', () => {
    let now = T0;
    const clock = new FeedClock(() => now);
    const a = clock.next();
    const b = clock.next();
    now = T0 - 5_000;
    const c = clock.next();
    now = T0 + 1;
    const d = clock.next();
    expect([a, b, c, d]).toEqual([ticksOf(T0), ticksOf(T0) + 1n, ticksOf(T0) + 2n, ticksOf(T0 + 1)]);
  });

  it('options: defaults, and errors naming the field and the rule', () => {
    expect(feedWithDefaults()).toEqual({ lookbackMs: 2_000, settleMs: 60_000, retentionMs: 21_600_000 });
    expect(() => feedWithDefaults({ lookbackMs: 0 })).toThrow(/^cassandra\.feed\.lookbackMs must be a whole number of milliseconds from 1 to 600000 \(got 0\)/);
    expect(() => feedWithDefaults({ lookbackMs: 5_000, settleMs: 5_000 })).toThrow(/^cassandra\.feed\.settleMs must be a whole number of milliseconds above lookbackMs \(5000\)/);
    expect(() => feedWithDefaults({ settleMs: 60_000, retentionMs: 100_000 })).toThrow(/^cassandra\.feed\.retentionMs must be .* from twice settleMs \(120000\)/);
  });
});
