/**
 * Benchmarks: `npm run bench`. Each prints its numbers and a ratio against a baseline
 * measured in the same run on the same machine, so the ratio holds when the machine's speed
 * drifts. Not tests: nothing here passes or fails.
 *
 *   poll-path      Polls/s of the real server vs an empty grpc-js unary handler
 *   batch-poll     one BatchPoll of 200 topics vs 200 single Polls
 *   codec          a 7-topic BatchPoll's codec pieces (decode, batchPollFromWire, fitToBudget, encode) in ns
 *                  vs proto-loader's, and the fast lane's whole call in µs of server CPU (about 12 s)
 *   latency        publish and poll latency (p50/p99) on the embedded store
 *   swap-memory    peak RSS while a subscriber swaps a 256 MiB payload, as a multiple of it
 *   s3-download    MiB/s of fetchPayload from S3 (ranged parts, sha256-verified) vs a raw SDK
 *                  GetObject to memory, 256 MiB and 1 GiB (target >= 0.9x), with sha256's speed on
 *                  one core and the ceiling it sets
 *   s3-publish     MiB/s of a 256 MiB Publisher.publish to 2 regions vs raw parallel uploads of the
 *                  same bytes to both (target >= 0.9x)
 *   lent           MiB/s of a 256 MiB download through a lent presigned URL (fetchPayload, and one plain
 *                  fetch()) vs a raw SDK GetObject to memory (target >= 0.9x), and through the local
 *                  store's URL on the service's HTTP server vs reading the file
 *                  (the s3 benches run by default only when IMPRINT_S3 is set; else name them: they
 *                  start MinIOs of their own)
 *   consume        Polls/s of a consume-role instance (poll table, limiter, metrics) vs an empty
 *                  grpc-js unary handler (target >= 0.8x), and vs the all-role server
 *   poll-decision  CPU per topic-check of Poller.poll over the PollTable (1000 topics, BatchPolls of 7, no
 *                  transport): no update (plain and mixed topics), update, vs the floor (table lookup and
 *                  observer call alone)
 *   access         Polls/s of a consume-role instance with an authenticator and per-topic access control
 *                  vs the authenticator alone (access 'off') vs none (target: >= 0.9x the authenticator alone)
 *   fleet          100k simulated nodes x 7 topics every 30 s (BatchPoll, ~3.3k/s) from a load
 *                  generator process (grpc-go; `go` builds it once) against one consume-role instance, 60 s at the full rate:
 *                  p50/p99 latency, errors, server CPU per 1k topic-checks/s (targets: 0 errors, p99 < 50 ms)
 *                  vs empty handlers: grpc-js's for 20 s, and the fast lane's (the transport alone) played
 *                  as long as the consume role, in its own process (about 8 minutes)
 *   propagation    publish -> 50 subscribers swapped, via a consume-role instance vs the all-role server
 *   feed           staying current by tailing the stores' change feed vs re-reading every topic,
 *                  1k and 10k topics: idle read, per change, per second (SQLite; Cassandra with IMPRINT_CASSANDRA)
 *   scale          the consume role's table following the feed vs a full re-read every 2 s, 1k/10k/30k
 *                  topics: heap per topic, CPU idle and at 10 changes/s, commit->table p50/p99
 *                  (SQLite; Cassandra at 10k with IMPRINT_CASSANDRA)
 *   watch          publish -> 1000 watching Subscribers swapped (target p99 < 1 s) vs BatchPoll every 30 s and vs
 *                  one message pushed at once to 1000 Watch streams in one process (the harness's floor);
 *                  10k idle Watch streams on one consume instance: RSS (target < 100 MiB) vs grpc-js's floor
 *   audit-fleet    100k nodes x 7 topics every 30 s through the audit's Holdings into the file sink (virtual
 *                  time) vs one record per check: records per check and per s, bytes/day, CPU per check,
 *                  heap per holding, a publish's records (targets: <= 1% of checks, <= 3% CPU)
 *   tls            consume-role Polls/s over plaintext, TLS and mTLS with the certificate principal;
 *                  a new client's first Poll (the handshake) per transport
 *   jwt            Polls/s of the server with a bearer JWT (verified once, then cached) vs without
 *                  authentication; the authenticator alone: a cached token vs a first verification
 *   rollout        a rollout step applied (PromoteRollout) -> its 500 of 1000 Subscribers swapped, with Watch
 *                  (target p99 < 1 s) and polling every 5 s (target <= one interval) vs a publish -> all 1000
 *                  swapped on a topic without a policy; consume-role Polls/s on a topic with a running rollout
 *                  vs one without (target within 5%)
 *   rest           consume-role Polls/s over the REST/JSON API vs over gRPC, same instance, topic and identity
 *   python         the Python client (python/bench/swap.py, in the tests' venv): a 256 MiB swap from MinIO
 *                  vs boto3's raw get_object (targets >= 0.9x; peak RSS <= 2x + 32 MiB), and the
 *                  Subscriber's overhead per poll tick vs a bare grpcio BatchPoll (named: not in a plain run)
 *   console        the web console's topic page rendered in headless Chromium for a topic with 10k versions and
 *                  100k consumer nodes (target < 1 s) vs one with 10 versions and 10 nodes
 *
 * `npm run bench -- poll-path latency` runs a subset; `npm run bench -- --help` prints this.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImprintClient } from '../client/index.js';
import { sha256Hex, type ConsumerIdentity } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { emptyConsumerServer } from './consume-server.js';
import { helpIfAsked, quantile, tempDir, throughput } from './util.js';

const id: ConsumerIdentity = { app: 'bench', cluster: 'c1', region: 'us-east-1', nodeId: 'n1', labels: {} };
const direct = (text: string) => {
  const bytes = Buffer.from(text);
  return { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes };
};

async function pollPath(): Promise<void> {
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger });
  const empty = await emptyConsumerServer({ noDelay: false });
  const real = new ImprintClient({ address: `127.0.0.1:${server.port}` });
  const bare = new ImprintClient({ address: `127.0.0.1:${empty.port}` });
  await real.createTopic({ name: 'bench' });
  await real.publishPointer('bench', direct('x'.repeat(1000)));
  const pollReal = () => real.poll('bench', id, 1n);
  const pollBare = () => bare.poll('bench', id, 1n);
  await throughput(pollReal, 32, 500);
  await throughput(pollBare, 32, 500);
  const rounds: { real: number; bare: number }[] = [];
  for (let i = 0; i < 3; i++) rounds.push({ bare: await throughput(pollBare, 32, 2000), real: await throughput(pollReal, 32, 2000) });
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;
  const r = med(rounds.map((x) => x.real));
  const b = med(rounds.map((x) => x.bare));
  console.log(`poll-path   real server ${r.toFixed(0)} polls/s | empty grpc-js handler ${b.toFixed(0)} calls/s | ratio ${(r / b).toFixed(2)}x  (32 in flight, median of 3 x 2 s)`);
  real.close();
  bare.close();
  empty.stop();
  await server.stop();
}

async function batchPoll(): Promise<void> {
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger });
  const c = new ImprintClient({ address: `127.0.0.1:${server.port}` });
  const topics = Array.from({ length: 200 }, (_, i) => `t${i}`);
  for (const t of topics) {
    await c.createTopic({ name: t });
    await c.publishPointer(t, direct(t));
  }
  const cursors = topics.map((t) => ({ topic: t, lastSeen: 1n }));
  const batch = () => c.batchPoll(id, cursors);
  const singles = () => Promise.all(topics.map((t) => c.poll(t, id, 1n)));
  const time = async (fn: () => Promise<unknown>, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return (performance.now() - t0) / n;
  };
  await time(batch, 20);
  await time(singles, 20);
  const tb = await time(batch, 100);
  const ts = await time(singles, 100);
  console.log(`batch-poll  200 topics: one BatchPoll ${tb.toFixed(2)} ms | 200 concurrent Polls ${ts.toFixed(2)} ms | ratio ${(tb / ts).toFixed(2)}x`);
  c.close();
  await server.stop();
}

async function latency(): Promise<void> {
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger });
  const c = new ImprintClient({ address: `127.0.0.1:${server.port}` });
  const empty = await emptyConsumerServer({ noDelay: false });
  const bare = new ImprintClient({ address: `127.0.0.1:${empty.port}` });
  await c.createTopic({ name: 'lat' });
  const payload = direct('y'.repeat(1024));
  const measure = async (fn: () => Promise<unknown>, n: number) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await fn();
      xs.push(performance.now() - t0);
    }
    return xs.sort((a, b) => a - b);
  };
  await measure(() => c.publishPointer('lat', payload), 100);
  const pub = await measure(() => c.publishPointer('lat', payload), 1000);
  const poll = await measure(() => c.poll('lat', id, 0n), 2000);
  const base = await measure(() => bare.poll('lat', id, 0n), 2000);
  const fmt = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(3)} ms, p99 ${quantile(xs, 0.99).toFixed(3)} ms`;
  console.log(`latency     publish 1 KiB direct (sqlite): ${fmt(pub)}`);
  console.log(`latency     poll with update (1 KiB record): ${fmt(poll)} | empty handler ${fmt(base)} | p50 ratio ${(quantile(poll, 0.5) / quantile(base, 0.5)).toFixed(2)}x`);
  c.close();
  bare.close();
  empty.stop();
  await server.stop();
}

function swapMemory(): void {
  // Its own process, so RSS is the swap's and nothing else's.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'swap-memory.ts')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
  sayIfUnfinished('swap-memory.ts', r);
}

/** An S3 bench in its own process: it may start (and stop) MinIOs of its own, and frees its buffers of up to 1 GiB with gc(). */
function s3Bench(file: string): () => void {
  return () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
    sayIfUnfinished(file, r);
  };
}

/** A bench cut short says so: the rows it did not print were not measured. */
function sayIfUnfinished(file: string, r: SpawnSyncReturns<string>, timeoutMs?: number): void {
  if (!r.error && r.status === 0) return;
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const why = timedOut && timeoutMs ? `stopped after ${timeoutMs / 60_000} minutes` : r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
  console.log(`bench       ${file} did not finish (${why}): the rows it did not print were not measured`);
}

/** Benches that run as their own process (the fleet one starts a second one, its load generator). */
function ownProcess(file: string, nodeFlags: readonly string[] = [], timeoutMs = 300_000): () => void {
  return () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', path.join(here, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    process.stdout.write(r.stdout);
    sayIfUnfinished(file, r, timeoutMs);
  };
}

const all: Record<string, () => Promise<void> | void> = {
  'poll-path': pollPath,
  'batch-poll': batchPoll,
  codec: ownProcess('codec.ts'),
  latency,
  'swap-memory': swapMemory,
  's3-download': s3Bench('s3-download.ts'),
  's3-publish': s3Bench('s3-publish.ts'),
  lent: s3Bench('lent.ts'),
  consume: ownProcess('consume.ts'),
  'poll-decision': ownProcess('poll-decision.ts'),
  access: ownProcess('access.ts'),
  // Two placements, each the consume role and two floors (the fast lane's as long as the consume role's run): about 8 minutes.
  fleet: ownProcess('fleet.ts', ['--expose-gc'], 720_000),
  propagation: ownProcess('propagation.ts'),
  feed: ownProcess('feed.ts'),
  scale: ownProcess('scale.ts', ['--expose-gc'], 900_000),
  // Its idle streams settle over 30-90 s per reading, four readings: about 9 minutes.
  watch: ownProcess('watch.ts', [], 900_000),
  tls: ownProcess('tls.ts'),
  'audit-fleet': ownProcess('audit-fleet.ts', ['--expose-gc']),
  jwt: ownProcess('jwt.ts'),
  rollout: ownProcess('rollout.ts'),
  rest: ownProcess('rest.ts'),
  python: () => {
    const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const r = spawnSync('bash', [path.join(repo, 'scripts/python-test.sh'), '--bench'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
    sayIfUnfinished('python/bench/swap.py', r);
  },
  console: ownProcess('console.ts'),
};
/** Left out of a plain `npm run bench` unless an S3 endpoint is given: named explicitly, they run anyway. */
const optIn = new Set(process.env['IMPRINT_S3'] ? ['python'] : ['s3-download', 's3-publish', 'lent', 'python']);
helpIfAsked(import.meta.url);
const args = process.argv.slice(2);
// A misspelt name runs nothing (a plain run takes the better part of an hour).
const unknown = args.filter((a) => !(a in all));
if (unknown.length > 0) {
  console.error(`bench: no benchmark named ${unknown.map((a) => `'${a}'`).join(', ')}; there are: ${Object.keys(all).join(', ')} (\`npm run bench -- --help\` says what each measures)`);
  process.exit(2);
}
for (const name of args.length ? args : Object.keys(all).filter((n) => !optIn.has(n))) await all[name]?.();
