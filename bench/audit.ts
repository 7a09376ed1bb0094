/**
 * Audit sinks, now that the audit hears what nodes hold rather than every poll (Holdings):
 *
 * 1. record() per call, per event kind (hold, gone, summary) and per sink: the file sink, the
 *    Elasticsearch sink, and the Elasticsearch sink while Elasticsearch is down (buffering, then
 *    with its buffer full: a counted drop); the best of 5 fresh sinks.
 * 2. Polls/s of a real embedded server (SQLite store, gRPC on loopback, 32 polls in flight)
 *    with each sink, in two workloads measured in one run: steady (1000 nodes polling a version
 *    they hold: Holdings records nothing after their first poll) and churn (every poll a node
 *    never seen: one hold event per poll, the rate the per-poll audit had). Printed as ratios
 *    against the file sink's steady rate, with records per poll, and Elasticsearch's CPU while
 *    its modes ran. Elasticsearch hung accepts connections and never answers.
 *
 *   npx tsx bench/audit.ts        # starts its own Elasticsearch (scripts/backends), ~1 min
 *   IMPRINT_ELASTICSEARCH=http://127.0.0.1:9200 npx tsx bench/audit.ts
 *
 * The fleet-scale numbers (100k nodes x 7 topics through Holdings, records and bytes per day)
 * are bench/audit-fleet.ts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { ImprintClient } from '../client/index.js';
import { sha256Hex, type ConsumerIdentity } from '../core/index.js';
import { startBackends } from '../scripts/backends/index.js';
import { freePort } from '../scripts/backends/launcher.js';
import type { AuditEvent, AuditSink } from '../server/audit/audit-sink.js';
import { ElasticsearchAuditSink, auditTemplateNames } from '../server/audit/elasticsearch.js';
import { FileAuditSink } from '../server/audit/file.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { tempDir, throughput } from './util.js';

const CONCURRENCY = 32;
const ROUND_MS = 2000;
const ROUNDS = 3;
const WORKLOADS = ['steady', 'churn'] as const;
type Workload = (typeof WORKLOADS)[number];

// ---- record() per call ----

/** 1000 distinct events of one kind. */
function eventsOf(kind: Exclude<AuditEvent['kind'], 'denied'>): AuditEvent[] {
  const atMs = Date.now();
  return Array.from({ length: 1000 }, (_, i): AuditEvent => {
    const identity = { app: `app-${i % 5}`, cluster: `c${i % 20}`, region: 'eu-west-1', nodeId: `node-${i}`, labels: {} };
    const common = { atMs, topic: `topic-${i % 7}`, replica: 'bench-1' };
    if (kind === 'hold') return { kind, ...common, identity, version: '42', previous: '41', moved: true, pinned: false };
    if (kind === 'gone') return { kind, ...common, identity, version: '42', seenMs: atMs - 600_000 };
    return { kind, ...common, app: identity.app, cluster: identity.cluster, region: identity.region, version: '42', nodeCount: 250, pinnedCount: 0, errorCount: 1, foldedPolls: 0, periodMs: 300_000 };
  });
}

/** ns per record() call over `n` calls in a tight loop. */
function recordCost(sink: AuditSink, events: readonly AuditEvent[], n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink.record(events[i % events.length] as AuditEvent);
  return Number(process.hrtime.bigint() - t0) / n;
}

// ---- the poll path ----

/** CPU seconds used so far by the processes of a process group (Linux /proc; 0 elsewhere). */
function groupCpuSeconds(pgid: number): number {
  if (pgid <= 0 || !fs.existsSync('/proc/self/stat')) return 0;
  let ticks = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // Fields after the command (which may hold spaces) start at state: ppid pgrp ... utime(14) stime(15).
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended while we looked
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

interface Mode {
  readonly name: string;
  readonly sink: AuditSink;
  readonly address: string;
  readonly client: ImprintClient;
  readonly stop: () => Promise<void>;
  readonly rates: Record<Workload, number[]>;
  readonly polls: Record<Workload, number>;
  readonly records: Record<Workload, number>;
  /** CPU seconds Elasticsearch used during this mode's rounds. */
  esCpu: number;
}

/** An embedded server (role all, SQLite in a data dir of its own) handed the sink, with a topic holding one version. */
async function startMode(name: string, sink: AuditSink): Promise<Mode> {
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger, auditSink: sink });
  const address = `127.0.0.1:${server.port}`;
  const client = new ImprintClient({ address });
  await client.createTopic({ name: 'bench' });
  const bytes = Buffer.from('x'.repeat(1000));
  await client.publishPointer('bench', { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes });
  return {
    name,
    sink,
    address,
    client,
    rates: { steady: [], churn: [] },
    polls: { steady: 0, churn: 0 },
    records: { steady: 0, churn: 0 },
    esCpu: 0,
    async stop() {
      client.close();
      await server.stop();
      await sink.close();
    },
  };
}

/** A poll of the mode's workload: a node of a steady 1000 that holds version 1, or a node never seen. */
function pollOf(m: Mode, w: Workload): () => Promise<unknown> {
  let i = 0;
  const steady: ConsumerIdentity[] = Array.from({ length: 1000 }, (_, k) => ({ app: `app-${k % 5}`, cluster: `c${k % 3}`, region: 'eu-west-1', nodeId: `node-${k}`, labels: {} }));
  const run = randomBytes(3).toString('hex');
  return w === 'steady'
    ? () => m.client.poll('bench', steady[i++ % 1000] as ConsumerIdentity, 1n)
    : () => m.client.poll('bench', { app: `app-${i % 5}`, cluster: `c${i % 3}`, region: 'eu-west-1', nodeId: `new-${run}-${i++}`, labels: {} }, 0n);
}

async function main(): Promise<void> {
  const started = await startBackends(['elasticsearch']);
  const endpoint = started.elasticsearch?.endpoint;
  // Its own process group when we started it (0 when IMPRINT_ELASTICSEARCH names one: not measured).
  const esPid = started.elasticsearch?.pid ?? 0;
  if (!endpoint) throw new Error('no Elasticsearch');
  const rand = randomBytes(3).toString('hex');
  // Prefixes whose patterns do not overlap (overlapping templates of one priority are refused).
  const prefix = `bench-${rand}-audit`;
  const rcPrefix = `benchrc-${rand}-audit`;
  const down = `http://127.0.0.1:${await freePort()}`; // nothing listens there: connections refused
  // Hung: accepts connections, reads requests, never answers.
  const hung = net.createServer((s) => s.on('data', () => undefined).on('error', () => undefined));
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const hungUrl = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
  const es = (node: string, p = prefix) => new ElasticsearchAuditSink({ node, indexPrefix: p, replicas: 0, closeTimeoutMs: 1000 });
  const client = new Client({ node: endpoint });
  const modes: Mode[] = [];
  try {
    // 1. record() per call, per kind: a fresh sink for each, so a buffer is never full unless meant to.
    const kinds = ['hold', 'gone', 'summary'] as const;
    const row = async (label: string, make: () => AuditSink, n: number, o: { ready?: boolean; prefill?: number } = {}) => {
      const costs: string[] = [];
      for (const k of kinds) {
        // The best of 5 fresh sinks: the first calls of a new sink pay for compiling its path.
        let best = Number.POSITIVE_INFINITY;
        for (let rep = 0; rep < 5; rep++) {
          const sink = make();
          if (o.ready && sink instanceof ElasticsearchAuditSink) await sink.ready();
          if (o.prefill) recordCost(sink, eventsOf(k), o.prefill);
          best = Math.min(best, recordCost(sink, eventsOf(k), n));
          await sink.close();
        }
        costs.push(`${best.toFixed(0).padStart(7)} ns`);
      }
      console.log(`  ${label.padEnd(34)} ${costs.join('  ')}`);
    };
    console.log(`record() per call, by kind:${' '.repeat(10)}${kinds.map((k) => k.padStart(10)).join('  ')}`);
    await row('file', () => new FileAuditSink({ file: path.join(tempDir(), 'audit', 'events.jsonl') }), 20_000);
    await row('elasticsearch', () => es(endpoint, rcPrefix), 20_000, { ready: true });
    await row('es down, buffering', () => es(down, rcPrefix), 20_000);
    // The default bound is 20000 events: filled first, then every call is a counted drop.
    await row('es down, buffer full (counted drop)', () => es(down, rcPrefix), 1_000_000, { prefill: 20_000 });

    // 2. The poll path.
    for (const [name, sink] of [
      ['file', new FileAuditSink({ file: path.join(tempDir(), 'audit', 'events.jsonl') })],
      ['elasticsearch', es(endpoint)],
      ['es down', es(down)],
      ['es hung', es(hungUrl)],
    ] as const) {
      modes.push(await startMode(name, sink));
    }
    const live = modes.find((m) => m.name === 'elasticsearch')?.sink;
    if (live instanceof ElasticsearchAuditSink) await live.ready();
    const polls = new Map(modes.map((m) => [m, { steady: pollOf(m, 'steady'), churn: pollOf(m, 'churn') }]));
    // Warm-up: every steady node polls once (its first sight is recorded now, not in the rounds).
    for (const m of modes) await throughput(polls.get(m)?.steady ?? (() => Promise.resolve()), CONCURRENCY, 500);
    for (const m of modes) for (let k = 0; k < 1000; k++) await polls.get(m)?.steady();
    console.log(`poll path (${CONCURRENCY} polls in flight; median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s per mode and workload, interleaved)`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of WORKLOADS) {
        for (const m of modes) {
          // No mode pays for another's backlog: the live sink has indexed everything before each measurement.
          await live?.flush();
          const cpu0 = groupCpuSeconds(esPid);
          const rec0 = m.sink.stats();
          const fn = polls.get(m)?.[w] ?? (() => Promise.resolve());
          const rate = await throughput(fn, CONCURRENCY, ROUND_MS);
          const rec1 = m.sink.stats();
          m.rates[w].push(rate);
          m.polls[w] += (rate * ROUND_MS) / 1000;
          m.records[w] += rec1.recorded + rec1.dropped - (rec0.recorded + rec0.dropped);
          m.esCpu += groupCpuSeconds(esPid) - cpu0;
        }
      }
    }
    await live?.flush();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const base = median(modes[0]?.rates.steady ?? []);
    for (const m of modes) {
      const cells = WORKLOADS.map((w) => {
        const rate = median(m.rates[w]);
        return `${w} ${rate.toFixed(0).padStart(5)} polls/s ${(rate / base).toFixed(2)}x, ${(m.records[w] / m.polls[w]).toFixed(3)} records/poll`;
      });
      const s = m.sink.stats();
      const cpu = esPid > 0 && m.name.startsWith('elasticsearch') ? `; Elasticsearch CPU ${(m.esCpu / ((2 * ROUNDS * ROUND_MS) / 1000)).toFixed(2)} cores` : '';
      console.log(`  ${m.name.padEnd(14)} ${cells.join(' | ')}  (recorded ${s.recorded}, written ${s.written ?? s.recorded}, dropped ${s.dropped}${cpu})`);
    }
    await client.indices.refresh({ index: `${prefix}-*` });
    const indexed = (await client.count({ index: `${prefix}-*` })).count;
    console.log(`  elasticsearch: ${indexed} documents in ${prefix}-* for ${live?.stats().recorded ?? '?'} events recorded`);
  } finally {
    for (const m of modes) await m.stop();
    for (const p of [prefix, rcPrefix]) {
      const names = auditTemplateNames(p);
      await client.indices.delete({ index: `${p}-*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
      await client.indices.deleteIndexTemplate({ name: names.index }).catch(() => undefined);
      await client.cluster.deleteComponentTemplate({ name: names.mappings }).catch(() => undefined);
      await client.cluster.deleteComponentTemplate({ name: names.settings }).catch(() => undefined);
    }
    await client.close();
    hung.close();
    await started.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
