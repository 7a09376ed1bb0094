/**
 * watch: what Watch buys, with default settings, the server in a child process of its own.
 *
 * 1. Propagation: publish → 1000 Subscribers (real Subscriber objects, one ImprintClient each,
 *    default options: Watch) all swapped, `--rounds` rounds, each once the last one's Reports
 *    are in; each subscriber's time from the publish to its swap, p50 / p99 / max over every
 *    round (target p99 < 1 s). Baseline in the same run: 1000 Subscribers in poll mode at the
 *    default 30 s interval, started at random moments over one interval (as a fleet's are), one
 *    round.
 * 2. Idle streams: 10k Watch streams (7 topics each, 4 applications: the per-app default is
 *    5000) held open on one consume-role instance; its RSS before and with them open (after full
 *    collections, once it settled: idle streams are what stays, not the room their burst of
 *    opens took; the first reading is printed too), per stream and in total (target < 100 MiB).
 *    What the streams keep is that growth less what V8's young generation grew by: the burst of
 *    opens grows it to its 32 MiB bound, a full collection leaves it empty but committed, and V8
 *    gives it back only when its memory reducer finds the process idle, about 40 s after the
 *    last collection (a server left alone with the 10k streams went from 224 to 192 MiB then,
 *    and held 202-209 MiB for the next 90 s: its heartbeats grow the young generation again by
 *    a few MiB). The growth with it is printed too. Each is read beside two floors measured the
 *    same way: a grpc-js server that only holds as many calls
 *    open, and the same with the calls held in the fast lane (Node's HTTP/2 streams, the
 *    transport the consume role serves Watch on), so what is left above it is Imprint's own.
 *
 * 3. The propagation's floor, after it: the same number of Watch streams, one ImprintClient each
 *    in this process as the Subscribers have, on a server that only holds them (the fast-lane
 *    floor) and writes one message to every stream at once, `--rounds` rounds: each stream's
 *    time from that moment to its message. What that many receivers sharing this one process
 *    take, with no publish, change feed, decision or swap (the Subscribers share its CPU too).
 *
 * The propagation runs against `--role` (default consume: its poll table follows the change
 * feed and tells its Watch streams; a publish-role instance on the same data dir publishes).
 *
 *   tsx bench/watch.ts [--role consume|all] [--subscribers 1000] [--rounds 5] [--streams 10000] [--poll-baseline yes|no]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { ImprintClient, Subscriber, WATCH_SETTINGS_DEFAULTS, type Subscription, type UpdatedEvent } from '../client/index.js';
import * as grpc from '@grpc/grpc-js';
import { sha256Hex, type ConsumerIdentity, type DataPointer } from '../core/index.js';
import { loadImprintProto } from '../proto/loader.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer, type Role } from '../server/index.js';
import { helpIfAsked, builtServer, quantile, tempDir } from './util.js';

helpIfAsked(import.meta.url);

const here = fileURLToPath(import.meta.url);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}


interface Child {
  readonly proc: ChildProcess;
  readonly address: string;
  readonly metricsPort: number;
  /** Resident set size of the server process, bytes. */
  rss(): number;
  /** V8's young generation in the server, bytes committed, as it last reported after a full collection (SIGUSR2). */
  young(): number;
  stop(): Promise<void>;
}

async function startChild(role: Role | 'floor' | 'floor-fast', dataDir: string, fastLane = true): Promise<Child> {
  const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', here, '--serve', role, dataDir, ...(fastLane ? [] : ['--no-fast-lane'])], { stdio: ['ignore', 'pipe', 'inherit'] });
  // A bench that fails leaves no server behind.
  process.once('exit', () => proc.kill('SIGKILL'));
  // Its first line names its ports; each later one reports its young generation after a collection.
  let young = NaN;
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    let first = true;
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const text = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (first) resolve(text);
        else young = (JSON.parse(text) as { young: number }).young;
        first = false;
      }
    });
    proc.once('exit', (code) => reject(new Error(`the ${role} server exited with ${code}`)));
  });
  const { port, metricsPort } = JSON.parse(line) as { port: number; metricsPort: number };
  return {
    proc,
    address: `127.0.0.1:${port}`,
    metricsPort,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024,
    young: () => young,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const payload = (text: string): DataPointer => {
  const bytes = Buffer.from(text.padEnd(1024, '.'));
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
};

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
const fmt = (xs: number[]) => {
  const s = sorted(xs);
  return `p50 ${ms(quantile(s, 0.5))}, p99 ${ms(quantile(s, 0.99))}, max ${ms(s[s.length - 1] ?? NaN)}`;
};

/** The propagation's `i`th watcher (and its floor's): four applications, a node each. */
const watcher = (i: number): ConsumerIdentity => ({ app: `watch-bench-${i % 4}`, cluster: 'c1', region: 'us-east-1', nodeId: `node-${i}`, labels: {} });

/** Rounds of publish → every subscriber swapped: each subscriber's time to its swap, every round. */
async function propagation(address: string, publisher: ImprintClient, n: number, rounds: number, mode: 'watch' | 'poll'): Promise<number[]> {
  const start = (i: number) => {
    const client = new ImprintClient({ address });
    const subscriber = new Subscriber({ client, identity: watcher(i), mode });
    const sub: Subscription<number> = subscriber.subscribe('prop', { decode: (b) => b.length });
    return { client, subscriber, sub };
  };
  // Poll mode: subscribers started at random moments over one 30 s interval, as a fleet's are
  // (started together they would all poll in the same instant, every round).
  const fleet = await Promise.all(Array.from({ length: n }, (_, i) => (mode === 'watch' ? start(i) : new Promise<ReturnType<typeof start>>((res) => setTimeout(() => res(start(i)), Math.random() * 30_000)))));
  await Promise.all(fleet.map((f) => f.sub.ready()));
  if (mode === 'watch') await until('every subscriber watching', () => fleet.every((f) => f.subscriber.following === 'watch'), 60_000);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // A round starts once the last one's Reports are in (each watcher's comes a random 0 to
    // watch.reportSpreadMs after its swap), as a publish every few minutes finds its fleet at
    // rest: back to back, one round's Reports would land in the next one's swaps.
    await new Promise((res) => setTimeout(res, (mode === 'watch' ? WATCH_SETTINGS_DEFAULTS.reportSpreadMs : 0) + 200 + Math.random() * 300));
    const target = (await publisher.getTopic('prop')).latestVersion + 1n;
    const swapped = fleet.map(
      (f) =>
        new Promise<number>((resolve) => {
          const onUpdated = (e: UpdatedEvent<number>) => {
            if (e.version !== target) return;
            f.sub.off('updated', onUpdated);
            resolve(performance.now());
          };
          f.sub.on('updated', onUpdated);
        }),
    );
    const t0 = performance.now();
    await publisher.publishPointer('prop', payload(`v${target}`));
    for (const at of await Promise.all(swapped)) times.push(at - t0);
  }
  for (const f of fleet) {
    await f.subscriber.close();
    f.client.close();
  }
  return times;
}

/**
 * The harness's floor: `n` Watch streams, one ImprintClient each as the Subscribers have, in this
 * process, on a server that only holds them (the fast-lane floor), which on SIGHUP writes one
 * message to every stream at once: each stream's time from the signal to its message, `rounds`
 * rounds. What `n` receivers sharing this one process take, with no publish, change feed,
 * decision or swap: the part of the propagation's p99 that is the harness's, not Imprint's.
 */
async function pushFloor(n: number, rounds: number): Promise<number[]> {
  const dir = tempDir();
  const server = await startChild('floor-fast', dir);
  const clients = Array.from({ length: n }, () => new ImprintClient({ address: server.address }));
  const stop = new AbortController();
  setMaxListeners(n + 10, stop.signal);
  /** Per stream, what its next message resolves (the round's wait). */
  const arrived: (((at: number) => void) | undefined)[] = new Array<undefined>(n);
  let open = 0;
  const streams = clients.map(async (client, i) => {
    let first = true;
    try {
      for await (const e of client.watch(watcher(i), [{ topic: 'prop', lastSeen: 0n }], { heartbeats: true, signal: stop.signal })) {
        if (e.kind !== 'heartbeat') continue;
        if (first) open++;
        else arrived[i]?.(performance.now());
        first = false;
      }
    } catch {
      // Stopped with the server.
    }
  });
  await until(`${n} floor streams open`, () => open === n, 60_000);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await new Promise((res) => setTimeout(res, 200 + Math.random() * 300));
    const all = clients.map((_, i) => new Promise<number>((resolve) => (arrived[i] = resolve)));
    const t0 = performance.now();
    server.proc.kill('SIGHUP');
    for (const at of await Promise.all(all)) times.push(at - t0);
  }
  stop.abort();
  await Promise.all(streams);
  for (const c of clients) c.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return times;
}

/** A server's RSS before and with the idle streams open, and its young generation at each reading (bytes). */
interface IdleReading {
  readonly before: number;
  readonly after: number;
  readonly afterFirst: number;
  readonly youngBefore: number;
  readonly youngAfter: number;
}

/**
 * `count` idle Watch streams (7 topics each, 4 applications) on a server in its own process (a
 * consume instance, the same without the fast lane, or a floor):
 * its RSS before and with them open (each once it settled, see settledRss; `afterFirst`: the
 * first reading after opening them, before it settled), in bytes.
 */
async function idleStreams(kind: 'consume' | 'consume-grpc-js' | 'floor' | 'floor-fast', count: number): Promise<IdleReading> {
  const dir = tempDir();
  const seed = kind === 'consume' || kind === 'consume-grpc-js' ? await startImprintServer({ role: 'publish', dataDir: dir, port: 0, log: silentLogger }) : undefined;
  const topics = Array.from({ length: 7 }, (_, i) => `idle-${i}`);
  if (seed) {
    const admin = new ImprintClient({ address: `127.0.0.1:${seed.port}` });
    for (const t of topics) {
      await admin.createTopic({ name: t });
      await admin.publishPointer(t, payload(t));
    }
    admin.close();
  }
  const server = await startChild(kind === 'floor' || kind === 'floor-fast' ? kind : 'consume', dir, kind !== 'consume-grpc-js');
  // Connections spread over 10 channels of their own (1000 streams each).
  const clients = Array.from({ length: 10 }, () => new ImprintClient({ address: server.address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
  // The server's RSS after a full collection, and once it settled: collected again every 3 s,
  // for 30 s at least and until five readings in a row fall no more than 0.5 MiB below the
  // lowest before them (at most 90 s). Just after a burst of opens, or a start, the process
  // still holds room it gives back over the next seconds (pages V8 and malloc return 10-25 s
  // later: a one-stream server read 139 MiB, then 125 MiB 15 s on, with its heap unchanged);
  // what idle streams cost is what stays.
  const settledRss = async (): Promise<{ first: number; settled: number; young: number }> => {
    const read = async () => {
      server.proc.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
      return server.rss();
    };
    const first = await read();
    const t0 = Date.now();
    let lowest = first;
    let now = first;
    for (let calm = 0; (calm < 5 || Date.now() - t0 < 30_000) && Date.now() - t0 < 90_000; ) {
      await new Promise((r) => setTimeout(r, 2000));
      now = await read();
      if (now < lowest - 512 * 1024) calm = 0;
      else calm++;
      lowest = Math.min(lowest, now);
    }
    return { first, settled: now, young: server.young() };
  };
  const stop = new AbortController();
  setMaxListeners(count + 10, stop.signal);
  let first = 0;
  const streams: Promise<void>[] = [];
  const open = (i: number) => {
    const client = clients[i % clients.length] as ImprintClient;
    let counted = false;
    streams.push(
      (async () => {
        try {
          for await (const _ of client.watch({ app: `idle-${i % 4}`, cluster: 'c1', region: 'r', nodeId: `n${i}`, labels: {} }, topics.map((topic) => ({ topic, lastSeen: 1n })), { signal: stop.signal, heartbeats: true })) {
            if (!counted) first++;
            counted = true;
          }
        } catch (err) {
          console.error(`watch stream ${i} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      })(),
    );
  };
  // One stream first (the server loads what serving one needs), then the baseline, then the rest.
  open(0);
  await until('the first stream', () => first === 1, 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  const { settled: before, young: youngBefore } = await settledRss();
  for (let i = 1; i < count; i++) {
    open(i);
    if (i % 500 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await until(`${count} streams answering`, () => first === count, 120_000);
  await new Promise((r) => setTimeout(r, 2000));
  const { first: afterFirst, settled: after, young: youngAfter } = await settledRss();
  stop.abort();
  await Promise.all(streams);
  for (const c of clients) c.close();
  await server.stop();
  await seed?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { before, after, afterFirst, youngBefore, youngAfter };
}

async function main(): Promise<void> {
  const role = arg('role', 'consume') as Role;
  const n = Number(arg('subscribers', '1000'));
  const rounds = Number(arg('rounds', '5'));
  const streams = Number(arg('streams', '10000'));
  const withBaseline = arg('poll-baseline', 'yes') === 'yes';

  // 1. Propagation, through `role` (a consume instance gets its publishes from a publish instance on the same data dir).
  const dir = tempDir();
  const served = await startChild(role, dir);
  const seed = role === 'consume' ? await startImprintServer({ role: 'publish', dataDir: dir, port: 0, log: silentLogger }) : undefined;
  const publisher = new ImprintClient({ address: seed ? `127.0.0.1:${seed.port}` : served.address });
  await publisher.createTopic({ name: 'prop' });
  await publisher.publishPointer('prop', payload('v1'));
  if (role === 'consume') {
    const reader = new ImprintClient({ address: served.address });
    await until('the consume instance to have the topic', () => reader.poll('prop', { app: 'bench', cluster: '', region: '', nodeId: '', labels: {} }, 0n).then((r) => r.record !== undefined, () => false), 30_000);
    reader.close();
  }
  const watched = await propagation(served.address, publisher, n, rounds, 'watch');
  const polled = withBaseline ? await propagation(served.address, publisher, n, 1, 'poll') : [];
  publisher.close();
  await seed?.stop();
  await served.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const floorTimes = await pushFloor(n, rounds);
  const p99 = quantile(sorted(watched), 0.99);
  console.log(
    `watch       publish -> ${n} Subscribers swapped via a ${role}-role instance (own process), default settings: Watch ${fmt(watched)} over ${rounds} rounds (target p99 < 1 s)` +
      (withBaseline ? ` | BatchPoll every 30 s (one round) ${fmt(polled)} | p99 ratio ${(p99 / quantile(sorted(polled), 0.99)).toFixed(3)}x` : '') +
      ` | floor, one message pushed at once to ${n} Watch streams (one ImprintClient each, in this process) by a server that only holds them: ${fmt(floorTimes)} over ${rounds} rounds | p99 ratio ${(p99 / quantile(sorted(floorTimes), 0.99)).toFixed(2)}x`,
  );

  // 2. Idle streams, and the floors: grpc-js holding as many calls open, nothing else; the same in the fast lane.
  const real = await idleStreams('consume', streams);
  const viaGrpcJs = await idleStreams('consume-grpc-js', streams);
  const floor = await idleStreams('floor', streams);
  const fastFloor = await idleStreams('floor-fast', streams);
  const mib = (b: number) => (b / 1048576).toFixed(1);
  // What the streams keep: the RSS they added, less what V8's young generation grew by (empty
  // after the collection; see the header).
  const kept = (m: IdleReading) => m.after - m.before - (m.youngAfter - m.youngBefore);
  const each = (m: IdleReading) => `${mib(kept(m))} MiB, ${(kept(m) / streams / 1024).toFixed(1)} KiB each`;
  console.log(
    `watch       ${streams} idle Watch streams (7 topics each) on one consume instance (own process, default settings): RSS ${mib(real.before)} -> ${mib(real.after)} MiB once settled ` +
      `(+${mib(real.after - real.before)} MiB, of which V8's empty young generation ${mib(real.youngAfter - real.youngBefore)} MiB; just after opening them +${mib(real.afterFirst - real.before)} MiB): ` +
      `the streams keep ${each(real)} (target < 100 MiB) | ` +
      `without the fast lane (grpc-js serving Watch): ${each(viaGrpcJs)} | ` +
      `floor, grpc-js holding as many calls (one message each): ${each(floor)} | ratio ${(kept(real) / kept(floor)).toFixed(2)}x | ` +
      `fast-lane floor, the calls held on Node's HTTP/2 streams: ${each(fastFloor)} | ratio ${(kept(real) / kept(fastFloor)).toFixed(2)}x`,
  );
}

// The child: one server, reporting its ports; the parent: the bench.
if (process.argv[2] === '--serve' && (process.argv[3] === 'floor' || process.argv[3] === 'floor-fast')) {
  // The floor: grpc-js holding each Watch call open after one heartbeat, and nothing else;
  // `floor-fast`: the same calls in the fast lane (the consume role's Watch codec, the call
  // object the handlers see), held on Node's HTTP/2 streams.
  const server = new grpc.Server();
  const held = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  // The propagation's floor: one message to every held stream at once (SIGUSR1 is Node's inspector's).
  process.on('SIGHUP', () => {
    for (const call of held) call.write({ heartbeat: { sentAtMs: Date.now() } });
  });
  const hold = (call: grpc.ServerWritableStream<unknown, unknown>) => {
    held.add(call);
    call.on('cancelled', () => held.delete(call));
    call.write({ heartbeat: { sentAtMs: Date.now() } });
  };
  const consumer = loadImprintProto().proto.imprint.v1.ConsumerService.service;
  server.addService(consumer, { Watch: hold } as unknown as grpc.UntypedServiceImplementation);
  if (process.argv[3] === 'floor-fast') {
    const { addFastLane, decodeBatchPollRequest } = await builtServer();
    const watch = consumer.Watch;
    addFastLane(server, [{ path: watch.path, deserialize: decodeBatchPollRequest, serialize: watch.responseSerialize as (m: unknown) => Buffer, kind: 'serverStream', handler: hold }], { maxReceiveBytes: 4 * 1024 * 1024 });
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  process.stdout.write(`${JSON.stringify({ port, metricsPort: 0 })}\n`);
  process.on('SIGTERM', () => process.exit(0));
} else if (process.argv[2] === '--serve') {
  // The server under measure as built (what `imprint serve` runs; bench/util.ts builtServer).
  const { startImprintServer } = await builtServer();
  const server = await startImprintServer({ role: process.argv[3] as Role, dataDir: process.argv[4] as string, port: 0, log: silentLogger, metricsPort: 0, fastLane: !process.argv.includes('--no-fast-lane') });
  process.stdout.write(`${JSON.stringify({ port: server.port, metricsPort: server.metricsServer?.port })}\n`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else {
  await main();
}
// Either server: a full collection when the bench is about to read its RSS, then how much its
// young generation holds committed (empty after the collection: room for what is allocated next).
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  if (process.argv[2] !== '--serve') return;
  const young = v8.getHeapSpaceStatistics().reduce((sum, s) => (s.space_name === 'new_space' || s.space_name === 'new_large_object_space' ? sum + s.physical_space_size : sum), 0);
  process.stdout.write(`${JSON.stringify({ young })}\n`);
});
