/**
 * The fleet load generator (a child process of bench/fleet.ts): plays `nodes` consumers, each
 * following `topicsPerNode` topics and sending one BatchPoll every `intervalS`, spread evenly,
 * against one consume-role instance on loopback. Open loop: each BatchPoll leaves at its
 * scheduled time whether or not earlier ones were answered, and latency is measured from that
 * scheduled time, so a stalled server (or generator) shows as latency, not as fewer requests.
 *
 * Bounded: loopback addresses only; at most 10,000 BatchPolls/s, 300 s measured, 60 s of
 * warm-up, `maxInFlight` outstanding calls (beyond, a send is shed and counted as an error);
 * it exits by itself when done and kills itself if it overruns its time by 30 s.
 *
 * Protocol (IPC with the parent): sends {type: 'measure-start'} when the warm-up ends,
 * {type: 'measure-end'} when the last measured BatchPoll was sent, then {type: 'result', ...}.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { BatchPollRequest } from '../proto/gen/imprint/v1/BatchPollRequest.js';
import type { BatchPollResponse, BatchPollResponse__Output } from '../proto/gen/imprint/v1/BatchPollResponse.js';
import type { ConsumerServiceClient } from '../proto/gen/imprint/v1/ConsumerService.js';
import type { ConsumerIdentity } from '../proto/gen/imprint/v1/ConsumerIdentity.js';
import { loadImprintProto } from '../proto/loader.js';

export interface FleetLoadConfig {
  readonly address: string;
  readonly nodes: number;
  readonly topicsPerNode: number;
  /** Topics are named t0000 ... ; all start at version `initialVersion`. */
  readonly topicCount: number;
  readonly initialVersion: number;
  readonly intervalS: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly channels: number;
  readonly apps: number;
  readonly maxInFlight: number;
  readonly deadlineMs: number;
  /**
   * "raw": gRPC framed by hand over node:http2 (the same bytes on the wire, a fraction of the
   * CPU, so the generator takes less of the machine from the server); "grpc-js": the library.
   */
  readonly client: 'raw' | 'grpc-js';
}

export interface FleetLoadResult {
  readonly type: 'result';
  readonly offeredPerS: number;
  readonly measuredS: number;
  /** BatchPolls scheduled in the measured window, and how they ended. */
  readonly sent: number;
  readonly ok: number;
  readonly errors: number;
  readonly errorCodes: Record<string, number>;
  /** The first message seen per error code. */
  readonly errorSamples: Record<string, string>;
  readonly shed: number;
  /** Per-topic errors inside successful BatchPolls. */
  readonly topicErrors: number;
  readonly updates: number;
  readonly topicChecks: number;
  /** From the scheduled send time, ms. */
  readonly latency: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** How late the generator sent, ms (its own lag on a busy machine). */
  readonly sendLag: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The generator's own CPU over the measured window, in cores. */
  readonly generatorCores: number;
  /** The Node generator's own event-loop delay over the measured window, ms: how late it ran its callbacks (sends and answers alike). Absent from the Go generator (no event loop: its lateness is sendLag). */
  readonly generatorLoopDelay?: { readonly p50: number; readonly p99: number; readonly max: number };
}

export function topicName(i: number): string {
  return `t${String(i).padStart(4, '0')}`;
}

export function topicNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => topicName(i));
}

/** A small deterministic PRNG (mulberry32), so every run plays the same fleet. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Which topics node i follows: distinct, skewed towards the low (popular) ones. */
export function topicsOf(i: number, perNode: number, topicCount: number): number[] {
  const rnd = prng(i * 7919 + 17);
  const out = new Set<number>();
  while (out.size < Math.min(perNode, topicCount)) out.add(Math.floor(topicCount * rnd() ** 2));
  return [...out];
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-south-1'];
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/;

function check(c: FleetLoadConfig): void {
  const fail = (what: string) => {
    throw new Error(`fleet-load: ${what}`);
  };
  if (!LOOPBACK.test(c.address)) fail(`address must be loopback (127.x.x.x, localhost, [::1]), got ${c.address}`);
  if (!(c.nodes >= 1 && c.nodes <= 1_000_000)) fail('nodes must be 1..1000000');
  if (!(c.topicsPerNode >= 1 && c.topicsPerNode <= 200 && c.topicsPerNode <= c.topicCount)) fail('topicsPerNode must be 1..200 and <= topicCount');
  if (!(c.nodes / c.intervalS <= 10_000)) fail('at most 10000 BatchPolls/s');
  if (!(c.durationS > 0 && c.durationS <= 300)) fail('durationS must be in (0, 300]');
  if (!(c.warmupS >= 0 && c.warmupS <= 60)) fail('warmupS must be in [0, 60]');
  if (!(c.channels >= 1 && c.channels <= 64)) fail('channels must be 1..64');
  if (!(c.maxInFlight >= 1 && c.maxInFlight <= 100_000)) fail('maxInFlight must be 1..100000');
}

type CallError = { readonly code: string; readonly details: string };
type BatchPollFn = (req: BatchPollRequest, deadlineMs: number, done: (err: CallError | null, res?: BatchPollResponse__Output) => void) => void;

interface Transport {
  readonly batchPoll: BatchPollFn;
  ready(): Promise<void>;
  close(): void;
  /** Connections the server ended that were opened again. */
  reconnects(): number;
}

/** BatchPoll through grpc-js clients, one connection each. */
function grpcJsTransport(address: string, channels: number): Transport {
  const { proto } = loadImprintProto();
  const clients: ConsumerServiceClient[] = Array.from({ length: channels }, (_, k) =>
    new proto.imprint.v1.ConsumerService(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'imprint.bench.channel': k }),
  );
  let n = 0;
  return {
    batchPoll: (req, deadlineMs, done) =>
      clients[n++ % clients.length]?.BatchPoll(req, { deadline: Date.now() + deadlineMs }, (err, res) =>
        err ? done({ code: grpc.status[err.code] ?? String(err.code), details: err.details }) : done(null, res),
      ),
    ready: () => Promise.all(clients.map((cl) => new Promise<void>((resolve, reject) => cl.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve()))))).then(() => {}),
    close: () => clients.forEach((cl) => cl.close()),
    reconnects: () => 0, // grpc-js channels reconnect on their own, unseen here
  };
}

/** BatchPoll as gRPC over HTTP/2 by hand: length-prefixed protobuf, grpc-status from the trailers. */
function rawTransport(address: string, channels: number): Transport {
  const { def } = loadImprintProto();
  const service = def['imprint.v1.ConsumerService'] as Record<string, MethodDefinition<BatchPollRequest, BatchPollResponse, BatchPollRequest, BatchPollResponse__Output>>;
  const method = service['BatchPoll'];
  if (!method) throw new Error('fleet-load: imprint.v1.ConsumerService/BatchPoll is not in the loaded proto');
  const [host, port] = [address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(address.slice(address.lastIndexOf(':') + 1))];
  const connect = () => {
    // No Nagle delay on small frames (grpc-js clients do the same).
    const s = http2.connect(`http://${address}`, { createConnection: () => net.connect({ host, port, noDelay: true }) });
    s.on('error', () => {}); // surfaces on each stream
    return s;
  };
  const sessions = Array.from({ length: channels }, connect);
  let n = 0;
  let reconnects = 0;
  const batchPoll: BatchPollFn = (req, deadlineMs, done) => {
    const i = n++ % sessions.length;
    let session = sessions[i];
    if (!session) return;
    // A session the server ended (GOAWAY, reset) is replaced, as a grpc-js channel reconnects;
    // the calls it lost count as TRANSPORT errors.
    if (session.closed || session.destroyed) {
      session = sessions[i] = connect();
      reconnects++;
    }
    const body = method.requestSerialize(req);
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame[0] = 0;
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    let finished = false;
    const finish = (err: CallError | null, res?: BatchPollResponse__Output) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done(err, res);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'POST', ':path': '/imprint.v1.ConsumerService/BatchPoll', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${deadlineMs}m` });
    } catch (e) {
      done({ code: 'TRANSPORT', details: `session unusable (${e instanceof Error ? e.message : String(e)})` });
      return;
    }
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      finish({ code: 'DEADLINE_EXCEEDED', details: `no answer within ${deadlineMs} ms` });
    }, deadlineMs);
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const statusFrom = (h: http2.IncomingHttpHeaders) => {
      const st = h['grpc-status'];
      if (typeof st === 'string') {
        status = st;
        message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      }
    };
    stream.on('response', statusFrom); // trailers-only answers carry the status in the headers
    stream.on('trailers', statusFrom);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (e: Error) => finish({ code: 'TRANSPORT', details: e.message }));
    stream.on('close', () => {
      if (status === undefined) return finish({ code: 'TRANSPORT', details: `stream closed without a status (rst ${stream.rstCode})` });
      if (status !== '0') return finish({ code: grpc.status[Number(status)] ?? status, details: message });
      const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const len = buf.readUInt32BE(1);
      finish(null, method.responseDeserialize(buf.subarray(5, 5 + len)));
    });
    stream.end(frame);
  };
  return {
    batchPoll,
    ready: () =>
      Promise.all(sessions.map((s) => new Promise<void>((resolve, reject) => (s.connecting ? s.once('connect', () => resolve()).once('error', reject) : resolve())))).then(() => {}),
    close: () => sessions.forEach((s) => s.close()),
    reconnects: () => reconnects,
  };
}

function percentiles(xs: Float64Array, n: number): { p50: number; p90: number; p99: number; max: number } {
  const s = xs.subarray(0, n).sort();
  const q = (p: number) => (n === 0 ? NaN : (s[Math.min(n - 1, Math.floor(p * n))] ?? NaN));
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: n === 0 ? NaN : (s[n - 1] ?? NaN) };
}

async function run(c: FleetLoadConfig): Promise<FleetLoadResult> {
  check(c);
  const send = (m: object) => process.send?.(m);
  // 1. The fleet: identities, followed topics and what each node holds.
  const names = topicNames(c.topicCount);
  const per = c.topicsPerNode;
  const follows = new Uint16Array(c.nodes * per);
  const holds = new Float64Array(c.nodes * per).fill(c.initialVersion);
  const identities: ConsumerIdentity[] = [];
  for (let i = 0; i < c.nodes; i++) {
    topicsOf(i, per, c.topicCount).forEach((t, j) => (follows[i * per + j] = t));
    identities.push({ app: `app-${i % c.apps}`, cluster: `cluster-${i % 40}`, region: REGIONS[i % REGIONS.length], nodeId: `node-${i}`, labels: {} });
  }
  // 2. Connections: separate ones (not one shared subchannel).
  const transport = c.client === 'raw' ? rawTransport(c.address, c.channels) : grpcJsTransport(c.address, c.channels);
  await transport.ready();

  // 3. Open-loop schedule: BatchPoll k leaves at start + k / rate, for node k mod nodes.
  const rate = c.nodes / c.intervalS;
  const periodMs = 1000 / rate;
  const total = Math.floor((c.warmupS + c.durationS) * rate);
  const firstMeasured = Math.floor(c.warmupS * rate);
  const capacity = total - firstMeasured + 16;
  const latencies = new Float64Array(capacity);
  const lags = new Float64Array(capacity);
  let nLat = 0;
  let nLag = 0;
  const r = { sent: 0, ok: 0, errors: 0, shed: 0, topicErrors: 0, updates: 0, topicChecks: 0 };
  const errorCodes: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  let inFlight = 0;
  let cpuStart = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let tStart = 0;
  let tEnd = 0;
  const start = performance.now() + 50;
  let k = 0;
  let allSent!: () => void;
  const sending = new Promise<void>((resolve) => (allSent = resolve));
  let drained!: () => void;
  const drainedP = new Promise<void>((resolve) => (drained = resolve));

  const sendOne = (seq: number, scheduled: number) => {
    const measured = seq >= firstMeasured;
    const node = seq % c.nodes;
    if (measured) {
      r.sent++;
      r.topicChecks += per;
      lags[nLag++] = performance.now() - scheduled;
    }
    if (inFlight >= c.maxInFlight) {
      if (measured) r.shed++;
      return;
    }
    const base = node * per;
    const topics = [];
    for (let j = 0; j < per; j++) topics.push({ topic: names[follows[base + j] ?? 0] ?? '', lastSeenVersion: String(holds[base + j]) });
    inFlight++;
    transport.batchPoll({ identity: identities[node] ?? null, topics }, c.deadlineMs, (err, res) => {
      inFlight--;
      if (measured) {
        latencies[nLat++] = performance.now() - scheduled;
        if (err || !res) {
          r.errors++;
          const code = err ? err.code : 'EMPTY';
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
          if (err && !errorSamples[code]) errorSamples[code] = err.details;
        } else r.ok++;
      }
      if (res) {
        res.results.forEach((t, j) => {
          if (t.errorCode) {
            if (measured) r.topicErrors++;
          } else if (t.update?.record) {
            holds[base + j] = Number(t.update.record.version);
            if (measured) r.updates++;
          }
        });
      }
      if (inFlight === 0 && k >= total) drained();
    });
  };

  const tickLoop = () => {
    const now = performance.now();
    while (k < total && start + k * periodMs <= now) {
      if (k === firstMeasured) {
        loopDelay.enable();
        cpuStart = process.cpuUsage();
        tStart = performance.now();
        send({ type: 'measure-start' });
      }
      sendOne(k, start + k * periodMs);
      k++;
    }
    if (k >= total) {
      tEnd = performance.now();
      send({ type: 'measure-end' });
      allSent();
      if (inFlight === 0) drained();
      return;
    }
    setTimeout(tickLoop, 1);
  };
  setTimeout(tickLoop, 50);
  await sending;
  const cpu = process.cpuUsage(cpuStart);
  loopDelay.disable();
  const measuredS = (tEnd - tStart) / 1000;
  await Promise.race([drainedP, new Promise((resolve) => setTimeout(resolve, c.deadlineMs + 1000))]);
  transport.close();
  const lat = percentiles(latencies, nLat);
  const lag = percentiles(lags, nLag);
  const unanswered = r.sent - r.shed - nLat;
  if (unanswered > 0) errorCodes['UNANSWERED'] = unanswered;
  if (r.shed > 0) errorCodes['SHED (generator at maxInFlight)'] = r.shed;
  if (transport.reconnects() > 0) errorCodes['RECONNECTS (sessions the server ended)'] = transport.reconnects();
  return {
    type: 'result',
    offeredPerS: rate,
    measuredS,
    ...r,
    errors: r.errors + r.shed + Math.max(0, unanswered),
    errorCodes,
    errorSamples,
    latency: lat,
    sendLag: { p50: lag.p50, p99: lag.p99, max: lag.max },
    generatorCores: (cpu.user + cpu.system) / 1e6 / measuredS,
    generatorLoopDelay: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v)) throw new Error(`fleet-load: --${name} must be a number`);
  return v;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.send) {
  const i = process.argv.indexOf('--address');
  const config: FleetLoadConfig = {
    address: i >= 0 ? (process.argv[i + 1] ?? '') : '',
    nodes: arg('nodes', 100_000),
    topicsPerNode: arg('topics-per-node', 7),
    topicCount: arg('topic-count', 1000),
    initialVersion: arg('initial-version', 1),
    intervalS: arg('interval-s', 30),
    warmupS: arg('warmup-s', 5),
    durationS: arg('duration-s', 60),
    channels: arg('channels', 8),
    apps: arg('apps', 20),
    maxInFlight: arg('max-in-flight', 20_000),
    deadlineMs: arg('deadline-ms', 10_000),
    client: process.argv.includes('--grpc-js') ? 'grpc-js' : 'raw',
  };
  // Never outlive the time asked for by more than 30 s.
  const guard = setTimeout(() => {
    process.stderr.write('fleet-load: overran its time; exiting\n');
    process.exit(3);
  }, (config.warmupS + config.durationS + 30) * 1000 + config.deadlineMs);
  run(config).then(
    (result) => {
      clearTimeout(guard);
      process.send?.(result, () => process.exit(0));
    },
    (err: unknown) => {
      process.stderr.write(`fleet-load: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
