/**
 * Audit at the seed's fleet: 100k nodes x 7 topics polled every 30 s (23.3k topic checks/s),
 * in virtual time, through the real Holdings into the real file sink, beside the per-poll
 * audit it replaces (one JSON line per check, as the file sink wrote them before, measured in
 * the same run on a sample of the same checks).
 *
 * Printed: records per topic check and per second, bytes per day of the file sink, CPU per
 * check and its share of one core at the fleet's rate, the heap of 700k holdings, and the cost
 * of a publish (every node of the topic moves: one hold event each), with the publish rate at
 * which the records stay within 1% of checks; then the file sink's summary alone, folded from the
 * run's lines as a restart does: its heap, a full collection with it and without, and a save in
 * pieces (its CPU, wall time, and the longest turn of the event loop while it runs, from a 1 ms
 * timer's gaps), and loading it back. Run with --expose-gc (run.ts does).
 *
 *   npx tsx --expose-gc bench/audit-fleet.ts            # ~1 min
 *   IMPRINT_BENCH_NODES=20000 npx tsx --expose-gc bench/audit-fleet.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConsumerIdentity } from '../core/index.js';
import { FileAuditSink } from '../server/audit/file.js';
import { AuditFileSummary, readEventsSync } from '../server/audit/file-summary.js';
import { Holdings } from '../server/audit/holdings.js';
import { tempDir } from './util.js';

const NODES = Number(process.env['IMPRINT_BENCH_NODES'] ?? 100_000);
const TOPICS = Array.from({ length: 7 }, (_, i) => `model-${i}`);
const POLL_S = 30;
const SUMMARY_ROUNDS = 10; // a summary every 5 min of virtual time
const ROUNDS = 40; // 20 min of virtual time
const PUBLISH_ROUND = 25; // topic 0 gets v2 here; its nodes move on their next poll
const CHECKS_PER_S = (NODES * TOPICS.length) / POLL_S;
const DAY_S = 86_400;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench -- audit-fleet does)');

/** 10 apps x 20 clusters x 3 regions, nodes spread over them; two sets of objects, as each request decodes its own. */
function identities(): ConsumerIdentity[][] {
  const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];
  const make = () =>
    Array.from({ length: NODES }, (_, i) => ({ app: `app-${i % 10}`, cluster: `cluster-${Math.floor(i / 10) % 20}`, region: regions[i % 3] as string, nodeId: `node-${i}`, labels: {} }));
  return [make(), make()];
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall time of one full collection (what a mark-compact of this heap costs, at least). */
function fullGcMs(): number {
  gc?.();
  const t0 = performance.now();
  gc?.();
  return performance.now() - t0;
}

/**
 * The summary of the run's lines alone: heap, a full collection, a save in pieces (CPU, wall,
 * the longest event-loop turn seen by a 1 ms timer) and a load.
 */
async function summaryAlone(file: string, dir: string): Promise<{ heap: number; nodeTopics: number; gcMs: number; gcEmptyMs: number; bytes: number; cpuMs: number; wallMs: number; longestTurnMs: number; utilization: number; loadMs: number }> {
  const gcEmptyMs = fullGcMs();
  const before = heapUsed();
  let summary: AuditFileSummary | undefined = new AuditFileSummary();
  const into = summary;
  readEventsSync(file, 0, (e) => into.add(e), { bytes: 0, lines: 0 });
  const heap = heapUsed() - before;
  let nodeTopics = 0;
  for (const f of summary.folds.values()) nodeTopics += f.nodes;
  const gcMs = fullGcMs();
  const snapshot = path.join(dir, 'alone.summary.json');
  let longestTurnMs = 0;
  let last = performance.now();
  let probing = true;
  const probe = () => {
    const t = performance.now();
    longestTurnMs = Math.max(longestTurnMs, t - last);
    last = t;
    if (probing) setTimeout(probe, 1);
  };
  setTimeout(probe, 1);
  const c0 = cpuMs();
  const w0 = performance.now();
  const elu = performance.eventLoopUtilization();
  await summary.saveInPieces(snapshot, { activeDay: '2026-11-30', activeOffset: 0, newestRotated: undefined });
  const wallMs = performance.now() - w0;
  const cpu = cpuMs() - c0;
  const utilization = performance.eventLoopUtilization(elu).utilization;
  probing = false;
  summary = undefined;
  const bytes = fs.statSync(snapshot).size;
  const l0 = performance.now();
  const loaded = AuditFileSummary.load(snapshot, { newestRotated: undefined, activeSize: 0 });
  const loadMs = performance.now() - l0;
  if (!loaded) throw new Error('the saved summary did not load');
  return { heap, nodeTopics, gcMs, gcEmptyMs, bytes, cpuMs: cpu, wallMs, longestTurnMs, utilization, loadMs };
}

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** The per-poll baseline: one line per check, as FileAuditSink wrote them (PollLines' format), to a file sink's stream. */
async function perPollBaseline(ids: ConsumerIdentity[], dir: string): Promise<{ cpuNsPerCheck: number; bytesPerCheck: number }> {
  const file = path.join(dir, 'per-poll.jsonl');
  const out = fs.createWriteStream(file);
  const sample = Math.min(NODES, 30_000);
  let bytes = 0;
  const t0 = cpuMs();
  let pending: string[] = [];
  for (let n = 0; n < sample; n++) {
    const identity = ids[n] as ConsumerIdentity;
    const idJson = JSON.stringify(identity);
    for (const topic of TOPICS) {
      const line = `{"kind":"poll","atMs":${1_700_000_000_000 + n},"topic":${JSON.stringify(topic)},"identity":${idJson},"lastSeen":"1","holds":"1","outcome":"no-update","pinned":false}\n`;
      bytes += line.length;
      pending.push(line);
    }
    if (pending.length >= 7000) {
      if (!out.write(pending.join(''))) await new Promise<void>((r) => out.once('drain', () => r()));
      pending = [];
    }
  }
  out.write(pending.join(''));
  await new Promise<void>((r) => out.end(() => r()));
  const checks = sample * TOPICS.length;
  return { cpuNsPerCheck: ((cpuMs() - t0) * 1e6) / checks, bytesPerCheck: bytes / checks };
}

async function main(): Promise<void> {
  const dir = tempDir();
  const ids = identities();
  const baseline = await perPollBaseline(ids[0] as ConsumerIdentity[], dir);

  const file = path.join(dir, 'holdings.jsonl');
  const sink = new FileAuditSink({ file, maxBufferedBytes: 1 << 30 });
  let now = 1_700_000_000_000;
  const heapBefore = heapUsed();
  const holdings = new Holdings({ sink, replica: 'bench', quietMs: 600_000, summaryMs: SUMMARY_ROUNDS * POLL_S * 1000, clock: () => Math.floor(now) }); // whole ms, as Date.now()

  let steadyCpu = 0;
  let steadyChecks = 0;
  let publishEvents = 0;
  let publishCpu = 0;
  let heapFull = 0;
  const eventsNow = () => {
    const e = holdings.stats().events;
    return e.hold + e.gone + e.summary;
  };
  let steadyEvents = 0;
  let sweepMs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const set = ids[round % 2] as ConsumerIdentity[];
    const moved = round > PUBLISH_ROUND; // topic 0's nodes hold v2 from the round after the publish
    const e0 = eventsNow();
    const t0 = cpuMs();
    for (let n = 0; n < NODES; n++) {
      const identity = set[n] as ConsumerIdentity;
      // Spread over the 30 s like real polls.
      now += (POLL_S * 1000) / NODES;
      for (let t = 0; t < TOPICS.length; t++) {
        const v = t === 0 && moved ? '2' : '1';
        const said = t === 0 && round === PUBLISH_ROUND + 1 ? '1' : round === 0 ? '0' : v;
        holdings.observe(TOPICS[t] as string, identity, said, v, false);
      }
    }
    if ((round + 1) % SUMMARY_ROUNDS === 0) {
      const s0 = performance.now();
      await holdings.sweep();
      sweepMs = Math.max(sweepMs, performance.now() - s0);
    }
    const cpu = cpuMs() - t0;
    const events = eventsNow() - e0;
    if (round === PUBLISH_ROUND + 1) {
      publishEvents = events;
      publishCpu = cpu;
    } else if (round >= 2) {
      // Steady: past the first sightings, not the round the fleet moves.
      steadyCpu += cpu;
      steadyChecks += NODES * TOPICS.length;
      steadyEvents += events;
    }
    if (round === 1) {
      await sink.flush();
      heapFull = heapUsed() - heapBefore;
    }
  }
  await sink.flush();
  const bytes = fs.statSync(file).size;
  const stats = holdings.stats();
  await sink.close();
  const alone = await summaryAlone(file, dir);

  const steadyRecordsPerCheck = steadyEvents / steadyChecks;
  const steadyRecordsPerS = steadyRecordsPerCheck * CHECKS_PER_S;
  const cpuNsPerCheck = (steadyCpu * 1e6) / steadyChecks;
  const recordBytes = bytes / Math.max(1, stats.events.hold + stats.events.gone + stats.events.summary);
  const summariesPerPeriod = stats.events.summary / Math.floor(ROUNDS / SUMMARY_ROUNDS);
  const onePercentPerDay = 0.01 * CHECKS_PER_S * DAY_S;
  const steadyPerDay = steadyRecordsPerS * DAY_S;
  const publishesPerDayWithin1pct = (onePercentPerDay - steadyPerDay) / publishEvents;
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const gb = (b: number) => `${f(b / 1e9, 2)} GB`;

  console.log(`audit-fleet  ${f(NODES)} nodes x ${TOPICS.length} topics every ${POLL_S} s = ${f(CHECKS_PER_S)} topic checks/s; ${ROUNDS} rounds (${(ROUNDS * POLL_S) / 60} min virtual), a summary every ${(SUMMARY_ROUNDS * POLL_S) / 60} min, one publish`);
  console.log(`  per-poll audit (baseline)   1 record per check = ${f(CHECKS_PER_S)} records/s | ${f(baseline.bytesPerCheck)} B each = ${gb(baseline.bytesPerCheck * CHECKS_PER_S * DAY_S)}/day | ${f(baseline.cpuNsPerCheck)} ns CPU per check (line + write) = ${f((baseline.cpuNsPerCheck * CHECKS_PER_S) / 1e7, 1)}% of a core`);
  console.log(
    `  holdings, steady state      ${f(steadyRecordsPerCheck * 100, 4)}% of checks as records = ${f(steadyRecordsPerS, 1)} records/s (${f(summariesPerPeriod)} summaries per period) | ${gb(steadyPerDay * recordBytes)}/day | ${f(cpuNsPerCheck)} ns CPU per check = ${f((cpuNsPerCheck * CHECKS_PER_S) / 1e7, 2)}% of a core | ratio to baseline: records ${f(steadyRecordsPerCheck, 5)}x, CPU ${f(cpuNsPerCheck / baseline.cpuNsPerCheck, 2)}x`,
  );
  console.log(`  a publish (every node of the topic moves)   ${f(publishEvents)} records (one hold event per node that moved, ${f(recordBytes)} B each), ${f(publishCpu)} ms CPU for the round`);
  console.log(
    `  within 1% of checks (${f(onePercentPerDay / 1e6, 1)}M records/day): up to ${f(publishesPerDayWithin1pct)} publishes/day of a ${f(NODES)}-node topic (one every ${f(DAY_S / 60 / publishesPerDayWithin1pct, 1)} min across all topics)`,
  );
  // The holdings keep no request object: a node is its key string (identities are rebuilt from it), so the heap delta is all of it.
  console.log(
    `  memory   ${f(stats.holdings)} holdings of ${f(stats.nodes)} nodes, with the file sink's summary of them: heap +${f(heapFull / 2 ** 20, 1)} MiB, ${f(heapFull / stats.holdings)} B per holding | a sweep (gone check and summaries of all): ${f(sweepMs)} ms wall`,
  );
  console.log(
    `  the file summary alone (folded from the run's lines)   ${f(alone.nodeTopics)} node-topics: heap +${f(alone.heap / 2 ** 20, 1)} MiB, ${f(alone.heap / alone.nodeTopics)} B each | a full collection ${f(alone.gcMs)} ms (${f(alone.gcEmptyMs)} ms without it)`,
  );
  console.log(
    `  its save in pieces   ${f(alone.bytes / 1e6, 1)} MB: ${f(alone.cpuMs)} ms CPU (${f((alone.cpuMs * 1e3) / alone.nodeTopics, 2)} µs per node-topic), ${f(alone.wallMs)} ms wall = ${f((alone.cpuMs / alone.wallMs) * 100)}% of a core while it runs (the event loop busy ${f(alone.utilization * 100)}% of it), longest event-loop turn ${f(alone.longestTurnMs, 1)} ms | loading it ${f(alone.loadMs)} ms`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
