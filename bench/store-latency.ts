/**
 * Publish latency of the metadata stores, side by side in one run: SQLite (a WAL file in a
 * temp dir, as `imprint serve` uses it) against Cassandra (one node, LOCAL_QUORUM writes,
 * LOCAL_SERIAL version-number CAS). Store calls only, no gRPC: the difference is the store.
 *
 *   IMPRINT_CASSANDRA=127.0.0.1:9042 npx tsx bench/store-latency.ts   # a running Cassandra
 *   npx tsx bench/store-latency.ts                                     # starts one (scripts/backends), stops it after
 *
 * Each store: 100 warm-up publishes, then 1000 sequential publishes of a 1 KiB direct payload
 * to one topic (p50/p99), then 1000 pollState + getVersion reads (what a Poll costs the store).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sha256Hex, type NewVersion } from '../core/index.js';
import { backends, createContext, type RunningBackend } from '../scripts/backends/index.js';
import { cassandraWithDefaults } from '../server/config.js';
import { CassandraMetadataStore } from '../server/store/cassandra.js';
import type { MetadataStore } from '../server/store/metadata-store.js';
import { SqliteMetadataStore } from '../server/store/sqlite.js';

const WARMUP = 100;
const N = 1000;
const payload = Buffer.alloc(1024, 7);
const pointer = { kind: 'direct' as const, size: payload.length, sha256: sha256Hex(payload), bytes: payload };

interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function measure(store: MetadataStore): Promise<{ publish: Stats; read: Stats }> {
  const topic = `bench-${Date.now().toString(36)}`;
  await store.createTopic({ name: topic, owner: 'bench', description: '', retention: {} }, Date.now());
  const v = (i: number): NewVersion => ({ topic, metadata: { i: String(i) }, pointer, scopes: [{}] });
  for (let i = 0; i < WARMUP; i++) await store.publish(v(i), Date.now());
  const pub: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await store.publish(v(i), Date.now());
    pub.push(performance.now() - t0);
  }
  const read: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const state = await store.pollState(topic);
    const head = state?.heads[0];
    if (!head || !(await store.getVersion(topic, head.version))) throw new Error('read failed');
    read.push(performance.now() - t0);
  }
  return { publish: stats(pub), read: stats(read) };
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  let started: RunningBackend | undefined;
  let endpoint = process.env.IMPRINT_CASSANDRA;
  if (!endpoint) {
    started = await backends.cassandra.start(createContext());
    endpoint = started.endpoint;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-bench-'));
  const sqlite = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  let cassandra: CassandraMetadataStore | undefined;
  try {
    cassandra = await CassandraMetadataStore.open(
      cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: 'imprint_bench', replication: '{"class":"SimpleStrategy","replication_factor":1}' }),
    );
    const s = await measure(sqlite);
    const c = await measure(cassandra);
    process.stdout.write(`store latency, ${N} sequential ops after ${WARMUP} warm-up, 1 KiB direct payload, Cassandra at ${endpoint} (1 node)\n`);
    process.stdout.write(`  publish  sqlite     p50 ${ms(s.publish.p50)}  p99 ${ms(s.publish.p99)}  mean ${ms(s.publish.mean)}\n`);
    process.stdout.write(`  publish  cassandra  p50 ${ms(c.publish.p50)}  p99 ${ms(c.publish.p99)}  mean ${ms(c.publish.mean)}\n`);
    process.stdout.write(`  publish  ratio      p50 ${(c.publish.p50 / s.publish.p50).toFixed(1)}x  p99 ${(c.publish.p99 / s.publish.p99).toFixed(1)}x\n`);
    process.stdout.write(`  poll read (pollState + getVersion)  sqlite p50 ${ms(s.read.p50)} p99 ${ms(s.read.p99)}; cassandra p50 ${ms(c.read.p50)} p99 ${ms(c.read.p99)}; ratio p50 ${(c.read.p50 / s.read.p50).toFixed(1)}x\n`);
    process.stdout.write(`  cassandra CAS lost ${cassandra.stats.casLost}, outcome unknown ${cassandra.stats.unknownOutcomes}\n`);
  } finally {
    await cassandra?.close();
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await started?.stop();
  }
}

await main();
