/**
 * The audit's per-topic node tables alone, at the seed's fleet (100k nodes x 7 topics): the
 * memory of the Holdings (server/audit/holdings.ts) and of the ConsumersFolds over one
 * NodeTable (core/consumers-fold.ts) once every node holds every topic (the JS heap, and the
 * typed arrays outside it that the collector does not trace), a full collection with each held,
 * and the cost of Holdings.observe in the steady state (every node already held, the same
 * version again: no event), with the identity object of the node's previous poll (a
 * BatchPoll's topics share one) and with a new one per round (each request decodes its own).
 *
 *   npx tsx --expose-gc bench/audit-tables.ts
 *   IMPRINT_BENCH_NODES=20000 npx tsx --expose-gc bench/audit-tables.ts
 */
import type { ConsumerIdentity, HoldingEvent } from '../core/index.js';
import { ConsumersFold, NodeTable } from '../core/index.js';
import { Holdings } from '../server/audit/holdings.js';

const NODES = Number(process.env['IMPRINT_BENCH_NODES'] ?? 100_000);
const TOPICS = Array.from({ length: 7 }, (_, i) => `model-${i}`);
const CHECKS = NODES * TOPICS.length;
const ROUNDS = 10;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** The JS heap and the typed arrays' memory outside it. */
function used(): { heap: number; buffers: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

/** Wall time of a full collection with what is alive now: the median of 5. */
function fullGcMs(): number {
  const t: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    gc?.();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[2] as number;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

function memory(before: { heap: number; buffers: number }): string {
  const after = used();
  const heap = after.heap - before.heap;
  const buffers = after.buffers - before.buffers;
  return `heap ${mib(heap)} MiB + typed arrays ${mib(buffers)} MiB (${(heap / CHECKS).toFixed(0)} + ${(buffers / CHECKS).toFixed(0)} B per node-topic), full GC ${fullGcMs().toFixed(1)} ms`;
}

function identity(i: number): ConsumerIdentity {
  return { app: `app-${i % 10}`, cluster: `cluster-${Math.floor(i / 10) % 20}`, region: REGIONS[i % 3] as string, nodeId: `node-${i}`, labels: {} };
}

/** What is measured, held here so the collector cannot take it early. */
const kept: unknown[] = [];

/** Holdings and folds built one after the other, nothing else kept (identities made per node). */
function tables(): void {
  const before = used();
  const h = new Holdings({ sink: { record: () => true }, replica: 'r1', clock: () => 1_000_000 });
  kept.push(h);
  for (let i = 0; i < NODES; i++) {
    const id = identity(i);
    for (const t of TOPICS) h.observe(t, id, '0', '1', false);
  }
  console.log(`holdings: ${CHECKS} node-topics, ${memory(before)}`);
  kept.length = 0;
  const before2 = used();
  const nodes = new NodeTable();
  const folds = TOPICS.map(() => new ConsumersFold(nodes));
  kept.push(folds);
  const t0 = performance.now();
  for (let i = 0; i < NODES; i++) {
    const id = identity(i);
    TOPICS.forEach((topic, k) => {
      const e: HoldingEvent = { kind: 'hold', atMs: 1_000_000, topic, identity: id, replica: 'r1', version: '1', previous: '0', moved: true, pinned: false };
      (folds[k] as ConsumersFold).add(e);
    });
  }
  const addNs = ((performance.now() - t0) * 1e6) / CHECKS;
  console.log(`folds: ${CHECKS} node-topics, ${memory(before2)}`);
  const v0 = performance.now();
  for (const [k, f] of folds.entries()) f.view(TOPICS[k] as string, { sinceMs: 0 });
  console.log(`folds: adding ${addNs.toFixed(0)} ns per event, a view of every topic ${(performance.now() - v0).toFixed(0)} ms`);
  kept.length = 0;
}

function observe(): void {
  const sets = [Array.from({ length: NODES }, (_, i) => identity(i)), Array.from({ length: NODES }, (_, i) => identity(i))];
  const h = new Holdings({ sink: { record: () => true }, replica: 'r1', clock: () => 1_000_000 });
  for (const id of sets[0] as ConsumerIdentity[]) for (const t of TOPICS) h.observe(t, id, '0', '1', false);
  const run = (fresh: boolean): number => {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < ROUNDS; r++) {
      const set = sets[fresh ? r % 2 : 0] as ConsumerIdentity[];
      for (const id of set) for (const t of TOPICS) h.observe(t, id, '1', '1', false);
    }
    return Number(process.hrtime.bigint() - t0) / (ROUNDS * CHECKS);
  };
  run(false); // warm
  const sameNs = run(false);
  const freshNs = run(true);
  // The nodes in a shuffled order, as a fleet's polls arrive: each node's slots are where the
  // previous node's are not (what the caches make of the tables' layout).
  let seed = 12345;
  const shuffled = [...(sets[0] as ConsumerIdentity[])];
  for (let i = shuffled.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] as ConsumerIdentity, shuffled[i] as ConsumerIdentity];
  }
  const s0 = process.hrtime.bigint();
  for (let r = 0; r < ROUNDS; r++) for (const id of shuffled) for (const t of TOPICS) h.observe(t, id, '1', '1', false);
  const shuffledNs = Number(process.hrtime.bigint() - s0) / (ROUNDS * CHECKS);
  if (h.stats().events.hold !== CHECKS) throw new Error(`the steady state made events: ${h.stats().events.hold - CHECKS}`);
  console.log(`holdings.observe, steady state: ${sameNs.toFixed(0)} ns with the previous poll's identity object, ${freshNs.toFixed(0)} ns with a new one per round, ${shuffledNs.toFixed(0)} ns with the nodes in a shuffled order`);
}

console.log(`nothing held: full GC ${fullGcMs().toFixed(1)} ms`);
tables();
observe();
