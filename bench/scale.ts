/**
 * scale: what it costs the consume role's poll table to stay current as topics grow, by
 * following the change feed (a read every 100 ms, a full re-read only as the 5-minute safety
 * net) beside today's baseline, a full re-read every 2 s (the old --refresh-ms default),
 * measured in the same run on the same store, with 1k, 10k and 30k topics (SQLite; Cassandra
 * at 10k when IMPRINT_CASSANDRA=host:port is set):
 *
 *   memory         heap after the table's first read, less before, per topic (after a gc)
 *   CPU, 0/s       this process's CPU over WINDOW_S seconds with nothing changing, per second
 *   CPU, 10/s      the same with 10 publishes a second to random topics, less the publishes' own
 *                  CPU (measured around each call), per second and per change
 *   commit->table  from a publish's return to the table holding it (the table's notify), p50/p99
 *
 * The table runs in this process as the consume role runs it (PollTable with its
 * FeedFollower), without gRPC: what is measured is staying current, not answering polls.
 * Run with --expose-gc (bench/run.ts does) for the memory column.
 *
 *   npm run bench -- scale
 *   IMPRINT_CASSANDRA=127.0.0.1:9042 node --expose-gc --import tsx bench/scale.ts [--cassandra-only]
 */
import { sha256Hex, type NewVersion } from '../core/index.js';
import { PollTable } from '../server/poll/index.js';
import type { MetadataStore } from '../server/store/metadata-store.js';
import { withCassandra, withSqlite } from './stores.js';
import { helpIfAsked, quantile } from './util.js';

helpIfAsked(import.meta.url);

const WINDOW_S = 10;
const CHANGES_PER_S = 10;
const BASELINE_REFRESH_MS = 2_000;

const bytes = Buffer.from('x'.repeat(100));
const pointer = { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes };
const v = (topic: string, i: number): NewVersion => ({ topic, metadata: { i: String(i) }, pointer, scopes: [{}] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const gc = (globalThis as { gc?: () => void }).gc;

async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

interface Run {
  readonly heapPerTopic: number;
  readonly idleCpuPerS: number;
  readonly busyCpuPerS: number;
  readonly lagsMs: number[];
}

/** One table over `store` (tailMs 100 + refresh 5 min, or no tail + refresh every 2 s): memory, CPU idle and at CHANGES_PER_S, commit->table. */
async function measure(store: MetadataStore, topics: readonly string[], mode: 'tail' | 'baseline'): Promise<Run> {
  /** Publishes awaited by the table: the version, and when the publish returned (undefined while it runs). */
  const committed = new Map<string, { at: number | undefined; version: bigint }>();
  const lagsMs: number[] = [];
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const table: PollTable = new PollTable({
    store,
    ...(mode === 'tail' ? { tailMs: 100, refreshMs: 300_000 } : { tailMs: 600_000, refreshMs: BASELINE_REFRESH_MS }),
    notify: (topic) => {
      const c = committed.get(topic);
      const held = table.peek(topic)?.heads[0]?.version;
      if (c && held !== undefined && held >= c.version) {
        // Held before the publish returned (Cassandra: the feed's hint came first): no lag.
        lagsMs.push(c.at === undefined ? 0 : performance.now() - c.at);
        committed.delete(topic);
      }
    },
  });
  await table.start();
  gc?.();
  const heapPerTopic = (process.memoryUsage().heapUsed - heap0) / topics.length;
  try {
    // 1. Idle: nothing changes.
    await sleep(500);
    const idle0 = process.cpuUsage();
    await sleep(WINDOW_S * 1000);
    const idleCpuPerS = cpuMs(process.cpuUsage(idle0)) / WINDOW_S;
    // 2. CHANGES_PER_S publishes a second to random topics; their own CPU is taken out.
    let publishCpu = 0;
    const busy0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < WINDOW_S * CHANGES_PER_S; i++) {
      const due = t0 + (i * 1000) / CHANGES_PER_S;
      if (due > performance.now()) await sleep(due - performance.now());
      const topic = topics[Math.floor(Math.random() * topics.length)] as string;
      const awaited = { at: undefined as number | undefined, version: (table.peek(topic)?.heads[0]?.version ?? 0n) + 1n };
      committed.set(topic, awaited);
      const c0 = process.cpuUsage();
      await store.publish(v(topic, i), Date.now());
      publishCpu += cpuMs(process.cpuUsage(c0));
      awaited.at = performance.now();
    }
    const rest = t0 + WINDOW_S * 1000 - performance.now();
    if (rest > 0) await sleep(rest);
    const busyCpuPerS = (cpuMs(process.cpuUsage(busy0)) - publishCpu) / WINDOW_S;
    // Let the last changes arrive (baseline: up to one refresh) before the next run.
    const deadline = performance.now() + BASELINE_REFRESH_MS * 3;
    while (committed.size > 0 && performance.now() < deadline) await sleep(20);
    return { heapPerTopic, idleCpuPerS, busyCpuPerS, lagsMs };
  } finally {
    await table.stop();
  }
}

const fmt = (r: Run) => {
  const sorted = [...r.lagsMs].sort((a, b) => a - b);
  const perChange = (r.busyCpuPerS - r.idleCpuPerS) / CHANGES_PER_S;
  return `heap ${r.heapPerTopic.toFixed(0)} B/topic | CPU idle ${r.idleCpuPerS.toFixed(1)} ms/s, at ${CHANGES_PER_S}/s ${r.busyCpuPerS.toFixed(1)} ms/s (${perChange.toFixed(2)} ms per change) | commit->table p50 ${quantile(sorted, 0.5).toFixed(0)} ms p99 ${quantile(sorted, 0.99).toFixed(0)} ms (${sorted.length} changes)`;
};

async function sizes(label: string, store: MetadataStore, counts: readonly number[], prefix: string, seedConcurrency: number): Promise<void> {
  let made = 0;
  for (const n of counts) {
    const fresh = Array.from({ length: n - made }, (_, i) => `${prefix}-${made + i}`);
    await pool(fresh, seedConcurrency, async (t) => {
      await store.createTopic({ name: t, owner: 'bench', description: '', retention: {} }, Date.now());
      await store.publish(v(t, 0), Date.now());
    });
    made = n;
    const topics = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    const tail = await measure(store, topics, 'tail');
    const base = await measure(store, topics, 'baseline');
    const ratio = tail.busyCpuPerS / base.busyCpuPerS;
    console.log(`scale       ${label} ${(n / 1000).toFixed(0)}k topics, feed tail (100 ms, re-read 5 min): ${fmt(tail)}`);
    console.log(`scale       ${label} ${(n / 1000).toFixed(0)}k topics, baseline re-read every ${BASELINE_REFRESH_MS / 1000} s: ${fmt(base)} | tail/baseline CPU at ${CHANGES_PER_S}/s ${ratio.toFixed(3)}x`);
  }
}

if (!gc) console.log('scale       (run with --expose-gc for the heap column; bench/run.ts does)');
if (!process.argv.includes('--cassandra-only')) await withSqlite((sqlite) => sizes('sqlite', sqlite, [1_000, 10_000, 30_000], 't', 1));
await withCassandra('scale', {}, (store) => sizes('cassandra', store, [10_000], 't', 16));
