/**
 * poll-decision: the CPU one topic-check costs in `Poller.poll` over the consume role's
 * PollTable (validation, core's decision, the table's state and record lookups, the observer
 * call), with no transport: 1000 topics on SQLite, asked as BatchPolls are (one fresh identity
 * object for 7 topics, fresh topic strings as a decoder makes them), with a do-nothing observer.
 *
 *   no update      the consumer holds the latest (most of a fleet's checks); plain topics (one
 *                  head for the empty scope) and mixed ones (a third with a staleness contract, a
 *                  fifth with a scoped head, a seventh with a pin for one cluster)
 *   update         the consumer holds an older version: the cached record is served
 *   floor          the loop with only the table's lookup and the observer call
 *
 * ns per topic-check: median and min of 25 rounds of 80 ms of CPU time (process.cpuUsage: a
 * shared machine's preemption is not counted). Not a test: nothing here passes or fails.
 */
import { sha256Hex, type ConsumerIdentity, type NewVersion } from '../core/index.js';
import { Poller, PollTable, type PollObserver } from '../server/poll/index.js';
import { withSqlite } from './stores.js';

const TOPICS = 1000;
const ROUNDS = 25;
const ROUND_MS = 80;
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-south-1'];

function version(topic: string, i: number, scopes: NewVersion['scopes'] = [{}]): NewVersion {
  const bytes = Buffer.from(`${topic}-${i}`);
  return { topic, metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes };
}

let sink = 0;
const observer: PollObserver = { observe: (_t, _id, said, holds, pinned) => void (sink += said.length + holds.length + (pinned ? 1 : 0)) };

await withSqlite(async (store) => {
  // 1. Topics: "plain-i" (versions 1-3 for every consumer) and "mixed-i" (the same, with the extras above).
  const now = Date.now();
  for (let i = 0; i < TOPICS; i++) {
    for (const kind of ['plain', 'mixed'] as const) {
      const name = `${kind}-${i}`;
      const mixed = kind === 'mixed';
      await store.createTopic({ name, owner: 'bench', description: '', retention: {}, ...(mixed && i % 3 === 0 && { maxStalenessMs: 600_000 }) }, now);
      for (let v = 0; v < 3; v++) await store.publish(version(name, v), now);
      if (mixed && i % 5 === 0) await store.publish(version(name, 3, [{ region: 'eu-west-1' }]), now);
      if (mixed && i % 7 === 0) await store.pin({ topic: name, scope: { cluster: 'cluster-3' }, version: 2n, createdAtMs: now, reason: 'bench', createdBy: 'bench' });
    }
  }
  const table = new PollTable({ store });
  await table.refresh();
  const poller = new Poller({ source: table, observer });
  const suffixes = Array.from({ length: TOPICS }, (_, i) => String(i));
  const nodes = Array.from({ length: 1000 }, (_, i) => ({ app: `app-${i % 10}`, cluster: `cluster-${i % 40}`, region: REGIONS[i % REGIONS.length] ?? '', nodeId: `node-${i}` }));

  // 2. One round: BatchPolls of 7 topics until ROUND_MS of wall time; CPU ns per topic-check.
  type Ask = (topic: string, id: ConsumerIdentity, lastSeen: bigint, text: string) => void;
  const ask: Ask = (topic, id, lastSeen, text) => {
    const a = poller.poll(topic, id, lastSeen, undefined, 'BatchPoll', text);
    if (a instanceof Promise) void a.catch(() => undefined);
  };
  const floor: Ask = (topic, id, _lastSeen, text) => {
    const s = table.state(topic);
    if (s && !(s instanceof Promise)) observer.observe(topic, id, text, text, false);
  };
  const round = (how: Ask, prefix: string, lastSeen: bigint): number => {
    const text = lastSeen.toString();
    let n = 0;
    let k = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    while (performance.now() - t0 < ROUND_MS) {
      for (let b = 0; b < 100; b++, k++) {
        const p = nodes[k % nodes.length];
        if (!p) continue;
        const id: ConsumerIdentity = { ...p, labels: {} };
        for (let j = 0; j < 7; j++) how(prefix + suffixes[(k * 7 + j) % TOPICS], id, lastSeen, text);
        n += 7;
      }
    }
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / n;
  };
  const cases: [string, Ask, string, bigint][] = [
    ['no update, plain', ask, 'plain-', 3n],
    ['no update, mixed', ask, 'mixed-', 3n],
    ['update', ask, 'plain-', 1n],
    ['floor', floor, 'plain-', 3n],
  ];
  // 3. Warm-up (records cached, code optimised), then the rounds, the cases interleaved.
  for (let w = 0; w < 3; w++) for (const [, how, prefix, lastSeen] of cases) round(how, prefix, lastSeen);
  await new Promise((r) => setTimeout(r, 50));
  const ns = cases.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) cases.forEach(([, how, prefix, lastSeen], i) => ns[i]?.push(round(how, prefix, lastSeen)));
  const parts = cases.map(([label], i) => {
    const xs = [...(ns[i] ?? [])].sort((a, b) => a - b);
    return `${label} ${(xs[Math.floor(xs.length / 2)] ?? NaN).toFixed(0)} ns (min ${(xs[0] ?? NaN).toFixed(0)})`;
  });
  console.log(`poll-decision Poller.poll per topic-check, CPU: ${parts.join(' | ')}  (1000 topics, BatchPolls of 7, median of ${ROUNDS} x ${ROUND_MS} ms; ${sink % 2})`);
});
