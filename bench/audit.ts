/**
 * Audit sinks under the poll path: Polls/s of a real embedded server (SQLite store, gRPC on
 * loopback, 32 polls in flight) with the file sink, the Elasticsearch sink, and the
 * Elasticsearch sink while Elasticsearch is down (nothing listens) or hung (accepts, never
 * answers), measured in one run and printed as ratios against the file sink. Each poll
 * records one event. Also the cost of one record() call per sink.
 *
 *   npx tsx bench/audit.ts        # starts its own Elasticsearch (scripts/backends), ~10 s
 *   IMPRINT_ELASTICSEARCH=http://127.0.0.1:9200 npx tsx bench/audit.ts
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
import type { AuditSink, PollEvent } from '../server/audit/audit-sink.js';
import { ElasticsearchAuditSink, auditTemplateNames } from '../server/audit/elasticsearch.js';
import { FileAuditSink } from '../server/audit/file.js';
import { silentLogger, startImprintServer } from '../server/index.js';
import { tempDir } from './util.js';

const CONCURRENCY = 32;
const ROUND_MS = 2000;
const ROUNDS = 7;

interface Mode {
  readonly name: string;
  readonly makeSink: () => AuditSink;
}

/** An embedded server (role all, SQLite in a data dir of its own), handed the audit sink. */
async function serverWith(audit: AuditSink): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger, auditSink: audit });
  return {
    address: `127.0.0.1:${server.port}`,
    async stop() {
      await server.stop();
      await audit.close();
    },
  };
}

async function throughput(fn: () => Promise<unknown>, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return n / (ms / 1000);
}

interface Running {
  readonly name: string;
  readonly sink: AuditSink;
  readonly poll: () => Promise<unknown>;
  readonly stop: () => Promise<void>;
  readonly rates: number[];
  /** CPU seconds Elasticsearch used during this mode's rounds. */
  esCpu: number;
}

/** A server with the mode's sink, a topic with one version, and a poll as varied consumers. */
async function startMode(mode: Mode): Promise<Running> {
  const sink = mode.makeSink();
  const server = await serverWith(sink);
  const c = new ImprintClient({ address: server.address });
  await c.createTopic({ name: 'bench' });
  const bytes = Buffer.from('x'.repeat(1000));
  await c.publishPointer('bench', { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes });
  let i = 0;
  const poll = () => {
    const id: ConsumerIdentity = { app: `app-${i % 5}`, cluster: `c${i % 3}`, region: 'eu-west-1', nodeId: `node-${i++ % 1000}`, labels: {} };
    return c.poll('bench', id, 1n);
  };
  return {
    name: mode.name,
    sink,
    poll,
    rates: [],
    esCpu: 0,
    async stop() {
      c.close();
      await server.stop();
    },
  };
}

/** ns per record() call over `n` calls in a tight loop (1000 distinct events, reused). */
function recordCost(sink: AuditSink, n: number): number {
  const events: PollEvent[] = Array.from({ length: 1000 }, (_, i) => ({
    kind: 'poll',
    atMs: Date.now(),
    topic: 'bench',
    identity: { app: `app-${i % 5}`, cluster: 'c1', region: 'r', nodeId: `n${i}`, labels: {} },
    lastSeen: '1',
    holds: '1',
    outcome: 'no-update',
    pinned: false,
  }));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink.record(events[i % 1000] as PollEvent);
  return Number(process.hrtime.bigint() - t0) / n;
}

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

  const modes: Mode[] = [
    { name: 'file', makeSink: () => new FileAuditSink({ file: path.join(tempDir(), 'audit', 'events.jsonl') }) },
    { name: 'elasticsearch', makeSink: () => es(endpoint) },
    { name: 'es down', makeSink: () => es(down) },
    { name: 'es hung', makeSink: () => es(hungUrl) },
  ];
  const client = new Client({ node: endpoint });
  const running: Running[] = [];
  try {
    console.log(`audit sinks under the poll path (${CONCURRENCY} polls in flight, 1 event per poll; median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s, modes interleaved)`);
    for (const m of modes) running.push(await startMode(m));
    const live = running.find((r) => r.name === 'elasticsearch')?.sink;
    if (live instanceof ElasticsearchAuditSink) await live.ready();
    for (const r of running) await throughput(r.poll, 500);
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of running) {
        // No mode pays for another's backlog: the live sink has indexed everything before each measurement.
        await live?.flush();
        const cpu0 = groupCpuSeconds(esPid);
        r.rates.push(await throughput(r.poll, ROUND_MS));
        r.esCpu += groupCpuSeconds(esPid) - cpu0;
      }
    }
    await live?.flush();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const base = median(running[0]?.rates ?? []);
    for (const r of running) {
      const s = r.sink.stats();
      const rate = median(r.rates);
      const cpu = esPid > 0 ? `, Elasticsearch CPU ${(r.esCpu / ((ROUNDS * ROUND_MS) / 1000)).toFixed(2)} cores` : '';
      const extra = `recorded ${s.recorded}, written ${s.written ?? s.recorded}, dropped ${s.dropped}${cpu}`;
      console.log(`  ${r.name.padEnd(14)} ${rate.toFixed(0).padStart(6)} polls/s  ${(rate / base).toFixed(2)}x  (rounds ${r.rates.map((x) => x.toFixed(0)).join(' ')}; ${extra})`);
    }
    await client.indices.refresh({ index: `${prefix}-*` });
    const indexed = (await client.count({ index: `${prefix}-*` })).count;
    console.log(`  elasticsearch: ${indexed} documents in ${prefix}-* for ${live?.stats().recorded ?? '?'} events recorded`);

    const fileSink = new FileAuditSink({ file: path.join(tempDir(), 'audit', 'events.jsonl') });
    const esSink = es(endpoint, rcPrefix);
    const downSink = es(down, rcPrefix);
    await esSink.ready();
    const warm = es(down, rcPrefix);
    recordCost(warm, 20_000);
    await warm.close();
    // The default bound is 20000 events: the first 20000 calls are accepted, later ones (ES down) refused.
    const costs = { file: recordCost(fileSink, 20_000), elasticsearch: recordCost(esSink, 20_000), downAccepted: recordCost(downSink, 20_000), downRefused: recordCost(downSink, 1_000_000) };
    console.log(
      `  record() per call: file ${costs.file.toFixed(0)} ns | elasticsearch ${costs.elasticsearch.toFixed(0)} ns | es down, buffering ${costs.downAccepted.toFixed(0)} ns, buffer full (counted drop) ${costs.downRefused.toFixed(0)} ns`,
    );
    await Promise.all([fileSink.close(), esSink.close(), downSink.close()]);
  } finally {
    for (const r of running) await r.stop();
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
