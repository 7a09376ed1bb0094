/**
 * feed: what it costs a consume instance to stay current by tailing the stores' change feed,
 * beside what it costs today (reading every topic each refresh), measured in the same run on
 * the same store, with 1k and then 10k topics:
 *
 *   full re-read   listTopics + pollState of every topic, 8 at a time (what the poll table's
 *                  refresh does every --refresh-ms); median of 3
 *   idle read      one readFeed when nothing changed (median of many)
 *   per change     readFeed of 200 changes to random topics plus the pollState of each topic
 *                  named (what a tailer does with them), divided by the changes
 *   per second     staying current with 1 change/s and a read every 100 ms (10 idle reads +
 *                  one change) vs a full re-read every 2 s (the refresh the fleet runs)
 *
 * On SQLite always; on Cassandra when IMPRINT_CASSANDRA=host:port is set (a keyspace of its
 * own, dropped after; hints settle after 5 s instead of 60 s, so the bench need not wait a
 * minute after seeding before reads are idle: a read's cost does not depend on it). Times are
 * wall time of the calls and this process's CPU for them.
 *
 *   npm run bench -- feed
 *   IMPRINT_CASSANDRA=127.0.0.1:9042 npx tsx bench/feed.ts
 */
import { sha256Hex, type NewVersion } from '../core/index.js';
import type { FeedCursor } from '../server/store/change-feed.js';
import type { MetadataStore } from '../server/store/metadata-store.js';
import { withCassandra, withSqlite } from './stores.js';

const SIZES = [1_000, 10_000] as const;
const CHANGES = 200;
const REFRESH_EVERY_MS = 2_000;
const READ_EVERY_MS = 100;

const bytes = Buffer.from('x'.repeat(100));
const pointer = { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes };
const v = (topic: string, i: number): NewVersion => ({ topic, metadata: { i: String(i) }, pointer, scopes: [{}] });

interface Cost {
  /** Wall time, ms. */
  readonly ms: number;
  /** This process's CPU, ms. */
  readonly cpuMs: number;
}

async function cost(fn: () => Promise<unknown>): Promise<Cost> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

const median = (xs: readonly Cost[]): Cost => {
  const by = (k: keyof Cost) => [...xs.map((x) => x[k])].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  return { ms: by('ms'), cpuMs: by('cpuMs') };
};

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Today's refresh: every topic's poll state, 8 reads at a time. */
async function fullReread(store: MetadataStore): Promise<number> {
  const topics = await store.listTopics();
  await pool(topics, 8, (t) => store.pollState(t.name));
  return topics.length;
}

/** Reads the feed until nothing more is ready; re-reads each topic a page names once. */
async function tail(store: MetadataStore, cursor: FeedCursor): Promise<{ cursor: FeedCursor; entries: number; topics: number }> {
  let entries = 0;
  let topics = 0;
  for (;;) {
    const page = await store.readFeed(cursor, { limit: 1000 });
    if (page.tooOld) throw new Error('the bench cursor is too old');
    const named = [...new Set(page.entries.map((e) => e.topic))];
    await pool(named, 8, (t) => store.pollState(t));
    entries += page.entries.length;
    topics += named.length;
    cursor = page.cursor;
    if (!page.more) return { cursor, entries, topics };
  }
}

const fmtMs = (c: Cost) => `${c.ms.toFixed(2)} ms (cpu ${c.cpuMs.toFixed(2)} ms)`;
const fmtUs = (c: Cost) => `${(c.ms * 1000).toFixed(0)} µs (cpu ${(c.cpuMs * 1000).toFixed(0)} µs)`;

/** `settleMs`: the feed's settle time; after seeding the bench waits it out, so that "idle" reads have no hints of the seeding left to give. */
async function measure(name: string, store: MetadataStore, prefix: string, settleMs = 0): Promise<void> {
  let made = 0;
  for (const size of SIZES) {
    // Topics up to `size`, each with a version.
    const fresh = Array.from({ length: size - made }, (_, i) => `${prefix}-${made + i}`);
    await pool(fresh, 16, async (t) => {
      await store.createTopic({ name: t, owner: 'bench', description: '', retention: {} }, Date.now());
      await store.publish(v(t, 0), Date.now());
    });
    made = size;
    await new Promise((r) => setTimeout(r, settleMs));
    const all = Array.from({ length: size }, (_, i) => `${prefix}-${i}`);
    // 1. Today: a full re-read (median of 3, after one to warm up).
    await fullReread(store);
    const reread = median(await sequence(3, () => cost(() => fullReread(store))));
    // 2. The feed, idle: nothing changes between reads (the settle and look-back scans still run).
    let cursor = await store.feedHead();
    await tail(store, cursor).then((r) => (cursor = r.cursor));
    const idle = median(
      await sequence(name === 'sqlite' ? 500 : 100, () =>
        cost(async () => {
          cursor = (await store.readFeed(cursor, { limit: 1000 })).cursor;
        }),
      ),
    );
    // 3. Per change: 200 publishes to random topics, then the tailer's read and re-reads.
    for (let i = 0; i < CHANGES; i++) await store.publish(v(all[Math.floor(Math.random() * size)] as string, i + 1), Date.now());
    let got = { cursor, entries: 0, topics: 0 };
    const batch = await cost(async () => {
      got = await tail(store, cursor);
    });
    const perChange: Cost = { ms: batch.ms / CHANGES, cpuMs: batch.cpuMs / CHANGES };
    // 4. Per second of staying current: 1 change/s, a read every 100 ms; vs a re-read every 2 s.
    const feedPerS = (1000 / READ_EVERY_MS) * idle.ms + perChange.ms;
    const feedCpuPerS = (1000 / READ_EVERY_MS) * idle.cpuMs + perChange.cpuMs;
    const rereadPerS = (1000 / REFRESH_EVERY_MS) * reread.ms;
    const rereadCpuPerS = (1000 / REFRESH_EVERY_MS) * reread.cpuMs;
    const label = `${name} ${size / 1000}k topics`.padEnd(20);
    console.log(
      `feed        ${label} full re-read ${fmtMs(reread)} (${((reread.ms / size) * 1000).toFixed(1)} µs/topic) | feed idle read ${fmtUs(idle)} | per change ${fmtUs(perChange)} (${got.entries} entries for ${CHANGES} changes, ${got.topics} topic re-reads)`,
    );
    console.log(
      `feed        ${label} staying current, 1 change/s: feed (read every ${READ_EVERY_MS} ms) ${feedPerS.toFixed(2)} ms/s (cpu ${feedCpuPerS.toFixed(2)}) | full re-read every ${REFRESH_EVERY_MS / 1000} s ${rereadPerS.toFixed(1)} ms/s (cpu ${rereadCpuPerS.toFixed(1)}) | ratio ${(feedPerS / rereadPerS).toFixed(4)}x (cpu ${(feedCpuPerS / rereadCpuPerS).toFixed(4)}x)`,
    );
  }
}

async function sequence<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

await withSqlite((sqlite) => measure('sqlite', sqlite, 't'));
await withCassandra('feed', { feed: { settleMs: 5_000 } }, (store) => measure('cassandra', store, 't', 6_000));
