/**
 * fleet: one consume-role instance (this process) under a simulated fleet: 100k nodes × 7
 * topics polling every 30 s with BatchPoll = about 3.3k BatchPolls/s, 23k topic-checks/s,
 * played by a load generator in a separate process (by default bench/fleet-load-go, grpc-go,
 * built once into the tools' cache; `--generator node` the Node one, bench/fleet-load.ts;
 * loopback only, bounded in count and time). It runs scaled down in time, not in rate: a
 * warm-up of one interval (every node polls once: the cold fleet), then `--duration-s`
 * (default 60 s: every node polls twice more) at the full rate. Each generator's own CPU and
 * lateness (send lag; the Node one's event-loop delay) are printed beside the latency it
 * measured, so a p99 that is the generator's own shows as such.
 * Meanwhile a version is published to a popular topic every second (as a publish-role
 * instance would, on the same database), so some answers carry updates.
 *
 * Reports p50/p99 latency (from each BatchPoll's scheduled send), errors, and the server's
 * CPU per 1k topic-checks/s (process.cpuUsage of this process over the measured window).
 * Targets: zero errors, p99 < 50 ms.
 *
 * Then the same fleet plays against an empty BatchPoll handler, twice: through grpc-js for
 * `--baseline-s` (default 20 s; the floor of any Node gRPC server on this machine with this
 * generator), and in the fast lane with the consume role's own codec (the floor of the
 * transport Imprint's BatchPoll runs on: the rest of the consume role's cost is the poll's own
 * work). The fast-lane floor is played as the consume role is, the same warm-up and window, in
 * a process of its own: its p99 is what the target is read against, and a 20 s window, or a
 * process the consume role ran in, reads it otherwise than it is. Its mark-compacts come every
 * 20-30 s and take 240-340 ms (Node's HTTP/2 makes every request header value an external
 * string, finalized in that pause), so a 20 s window often sees none; and in the consume role's
 * process its old generation grew 6.7-7.0 MB/s, against 1.9-2.0 in its own (V8's choice of what
 * to allocate there, made in the consume role's cold start, stays with the process). Also the
 * server's garbage-collection pauses in each window (scavenges and mark-compacts: count, max,
 * total) and how fast its old generation grew (what sets how often mark-compacts come).
 *
 * Both are measured twice (`--placement both`, the default, when taskset is there and the
 * machine has 2 cores or more): "shared", the server and the load generator scheduled on every
 * core as the kernel likes, and "pinned", the server (this process, every thread) on core 0 and
 * the generator on core 1 (taskset), so neither waits behind the other.
 *
 * Run with --expose-gc (`npm run bench -- fleet` does), so that each floor starts from a
 * collected heap.
 *
 *   node --expose-gc --import tsx bench/fleet.ts [--nodes 100000] [--duration-s 60] [--warmup-s 30] [--generator go|node|grpc-js] [--refresh-ms MS] [--baseline-s 20] [--placement shared|pinned|both] [--grpc-js] [--audit none] [--fast-lane no] [--floor-only]
 *
 * `--floor-only`: the fast-lane floor alone (one placement), printed as one JSON line: how the
 * bench plays that floor in a process of its own.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import v8 from 'node:v8';
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, type PerformanceEntry } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { DataPointer } from '../core/index.js';
import { SqliteMetadataStore, type RefreshResult } from '../server/index.js';
import { counterValue, emptyConsumerServer, startConsumeServer } from './consume-server.js';
import { topicNames, type FleetLoadResult } from './fleet-load.js';
import { helpIfAsked, tempDir } from './util.js';
import { ensureFleetLoadGo } from '../scripts/tools.js';

helpIfAsked(import.meta.url);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0`);
  return v;
}

const nodes = arg('nodes', 100_000);
const topicsPerNode = arg('topics-per-node', 7);
const topicCount = arg('topic-count', 1000);
const intervalS = arg('interval-s', 30);
/**
 * Before the measured window: one poll interval by default, so every node has polled once and
 * the window measures the steady state, not the cold fleet (each node's first sighting is a
 * hold record for the audit: 700k of them, and the file audit's summary saved every 16 MiB of
 * them). `--warmup-s 5` measures the cold fleet.
 */
const warmupS = arg('warmup-s', arg('interval-s', 30));
const durationS = arg('duration-s', 60);
/** The table's full re-read (the safety net); the server's default (5 min) unless given. */
const refreshMs = process.argv.includes('--refresh-ms') ? arg('refresh-ms', 0) : undefined;
const publishEveryMs = arg('publish-every-ms', 1000);
const baselineS = arg('baseline-s', 20);
/** `--fast-lane no`: polls through grpc-js's call machinery, as before the fast lane (server/grpc/fast-lane.ts). */
const fastLaneOff = process.argv.includes('--fast-lane') && process.argv[process.argv.indexOf('--fast-lane') + 1] === 'no';
/** `--audit none`: no audit events at all, to see what they cost. */
const auditOff = process.argv.includes('--audit') && process.argv[process.argv.indexOf('--audit') + 1] === 'none';
/**
 * The load generator: `go` (bench/fleet-load-go, grpc-go; the default: the lightest, so the
 * latency it reports is the server's), `node` (bench/fleet-load.ts, gRPC framed by hand over
 * node:http2) or `grpc-js` (the same with grpc-js clients; `--grpc-js` says the same).
 */
type Generator = 'go' | 'node' | 'grpc-js';
const generatorArg = process.argv.includes('--generator') ? process.argv[process.argv.indexOf('--generator') + 1] : process.argv.includes('--grpc-js') ? 'grpc-js' : 'go';
if (generatorArg !== 'go' && generatorArg !== 'node' && generatorArg !== 'grpc-js') throw new Error('--generator must be go, node or grpc-js');
/** The Go generator's binary; without a Go toolchain, the default falls back to the Node generator (saying so), `--generator go` fails. */
const goBinary =
  generatorArg !== 'go'
    ? undefined
    : await ensureFleetLoadGo().catch((err: unknown) => {
        if (process.argv.includes('--generator')) throw err;
        console.log(`fleet       the Go generator is not there (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); playing the fleet from the Node one`);
        return undefined;
      });
const generator: Generator = generatorArg === 'go' && goBinary === undefined ? 'node' : generatorArg;
type Placement = 'shared' | 'pinned';
/** The fast-lane floor alone, its Run as one JSON line (the bench runs it so, in a process of its own). */
const floorOnly = process.argv.includes('--floor-only');
const placementArg = process.argv.includes('--placement') ? process.argv[process.argv.indexOf('--placement') + 1] : 'both';
if (placementArg !== 'shared' && placementArg !== 'pinned' && placementArg !== 'both') throw new Error('--placement must be shared, pinned or both');
/** Puts every thread of process `pid` on `cpus` (taskset's list, e.g. "0" or "0-1"). */
function pin(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fleet: taskset -a -p -c ${cpus} ${pid} failed: ${r.stderr.trim()}`);
}
const allCpus = `0-${os.cpus().length - 1}`;
/** Whether this machine lets the bench pin: taskset is there, 2 cores or more, and moving this process to core 1 and back works. */
const canPin = ((): boolean => {
  if (os.cpus().length < 2) return false;
  try {
    pin(process.pid, '1');
    pin(process.pid, allCpus);
    return true;
  } catch {
    return false;
  }
})();
if (placementArg === 'pinned' && !canPin) throw new Error('--placement pinned needs taskset and 2 cores or more');
const placements: Placement[] = placementArg === 'both' ? (canPin ? ['shared', 'pinned'] : ['shared']) : [placementArg];
if (placementArg === 'both' && !canPin) console.log('fleet       pinned: not measured (needs taskset and 2 cores this process may use)');

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = tempDir();
const pointer = (i: number, v: number): DataPointer => ({
  kind: 'blob',
  size: 50_000_000,
  sha256: 'ab'.repeat(32),
  locations: [{ kind: 's3', region: 'us-east-1', bucket: 'imprint-models', key: `t${i}/v${v}` }],
});

// 1. The store: every topic with one version (the fleet starts holding it).
const publisher = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
const names = topicNames(topicCount);
for (const [i, name] of names.entries()) {
  await publisher.createTopic({ name, owner: 'fleet', description: '', retention: {} }, Date.now());
  await publisher.publish({ topic: name, metadata: { build: '1' }, pointer: pointer(i, 1), scopes: [{}] }, Date.now());
}

/** Busy and total jiffies of the whole machine (Linux), to show what else used the CPUs. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/).slice(1).map(Number) ?? [];
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Garbage-collection pauses of this process: count, longest and total, by kind. */
interface GcPauses {
  readonly scavenges: { readonly count: number; readonly maxMs: number; readonly totalMs: number };
  readonly markCompacts: { readonly count: number; readonly maxMs: number; readonly totalMs: number };
  /**
   * Bytes that went into the old generation (old and large-object space) per second: what
   * scavenges promoted and what V8 allocated there directly, all of which the next mark-compact
   * has to trace or sweep. Its rate sets how often mark-compacts come. Sampled every 50 ms
   * (growth between samples; a sample across a mark-compact misses the growth before it).
   */
  readonly oldGrowthBytesPerS: number;
}

/** The old generation's bytes in use (old space and large objects), of this process. */
function oldGenerationUsed(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'old_space' || s.space_name === 'large_object_space') used += s.space_used_size;
  return used;
}

/** Watches this process's GC pauses until `stop()`. */
function watchGc(): { stop(): GcPauses } {
  const minor = { count: 0, maxMs: 0, totalMs: 0 };
  const major = { count: 0, maxMs: 0, totalMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = e.detail?.kind;
      const into = kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR ? major : kind === perfConstants.NODE_PERFORMANCE_GC_MINOR ? minor : undefined;
      if (!into) continue; // incremental marking steps and weak callbacks: not pauses of their own
      into.count++;
      into.totalMs += e.duration;
      into.maxMs = Math.max(into.maxMs, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  let grew = 0;
  let last = oldGenerationUsed();
  const sampler = setInterval(() => {
    const now = oldGenerationUsed();
    if (now > last) grew += now - last;
    last = now;
  }, 50);
  return {
    stop: () => {
      observer.disconnect();
      clearInterval(sampler);
      return { scavenges: minor, markCompacts: major, oldGrowthBytesPerS: grew / ((performance.now() - t0) / 1000) };
    },
  };
}

interface Run {
  readonly result: FleetLoadResult;
  /** This process's CPU over the measured window, in cores. */
  readonly serverCores: number;
  readonly loopDelayP99Ms: number;
  /** Cores busy on the whole machine over the window (every process), when /proc/stat is there. */
  readonly machineCores: number;
  readonly gc: GcPauses;
}

type GeneratorMessage = { type: 'measure-start' | 'measure-end' } | FleetLoadResult;

interface GeneratorProcess {
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
  onMessage(f: (m: GeneratorMessage) => void): void;
  onExit(f: (code: number | null) => void): void;
}

/** Starts the generator's process: the Node one speaks over IPC, the Go one in JSON lines on its stdout. */
function startGenerator(args: string[]): GeneratorProcess {
  if (goBinary === undefined) {
    const child = fork(path.join(here, 'fleet-load.ts'), [...args, ...(generator === 'grpc-js' ? ['--grpc-js'] : [])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return { pid: child.pid, kill: (sig) => child.kill(sig), onMessage: (f) => child.on('message', f), onExit: (f) => child.on('exit', f) };
  }
  const child = spawn(goBinary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  // The exit is told after the last line was read, so it never races the result.
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const closed = new Promise<void>((resolve) => lines.once('close', resolve));
  return {
    pid: child.pid,
    kill: (sig) => child.kill(sig),
    onMessage: (f) => lines.on('line', (line) => f(JSON.parse(line) as GeneratorMessage)),
    onExit: (f) => void Promise.all([exited, closed]).then(([code]) => f(code)),
  };
}

/** With --expose-gc (`npm run bench -- fleet` gives it): a full collection. */
const collect = (globalThis as { gc?: () => void }).gc;

/** Plays the fleet against `address` from a separate process (on `generatorCpus` when given); measures this process meanwhile. */
async function playFleet(address: string, warmup: number, duration: number, generatorCpus: string | undefined, onWindow: (phase: 'start' | 'end') => void = () => {}): Promise<Run> {
  // The load generator, in its own process.
  const child = startGenerator([
    '--address', address,
    '--nodes', String(nodes),
    '--topics-per-node', String(topicsPerNode),
    '--topic-count', String(topicCount),
    '--interval-s', String(intervalS),
    '--warmup-s', String(warmup),
    '--duration-s', String(duration),
  ]);
  if (generatorCpus !== undefined && child.pid !== undefined) pin(child.pid, generatorCpus);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let cpu0 = process.cpuUsage();
  let ticks0 = machineTicks();
  let t0 = 0;
  let serverCores = NaN;
  let machineCores = NaN;
  let gcWatch: { stop(): GcPauses } | undefined;
  let gc: GcPauses | undefined;
  const result = await new Promise<FleetLoadResult>((resolve, reject) => {
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('fleet: the load generator overran its time; killed'));
    }, (warmup + duration + 60) * 1000);
    child.onMessage((m) => {
      if (m.type === 'measure-start') {
        cpu0 = process.cpuUsage();
        ticks0 = machineTicks();
        t0 = performance.now();
        loopDelay.reset();
        loopDelay.enable();
        gcWatch = watchGc();
        onWindow('start');
      } else if (m.type === 'measure-end') {
        const c = process.cpuUsage(cpu0);
        const wallS = (performance.now() - t0) / 1000;
        serverCores = (c.user + c.system) / 1e6 / wallS;
        const ticks1 = machineTicks();
        if (ticks0 && ticks1) machineCores = ((ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total)) * os.cpus().length;
        loopDelay.disable();
        gc = gcWatch?.stop();
        onWindow('end');
      } else if (m.type === 'result') {
        clearTimeout(killer);
        resolve(m);
      }
    });
    child.onExit((code) => {
      clearTimeout(killer);
      reject(new Error(`fleet: the load generator exited with ${code} before reporting`));
    });
  });
  const none = { count: 0, maxMs: 0, totalMs: 0 };
  return { result, serverCores, loopDelayP99Ms: loopDelay.percentile(99) / 1e6, machineCores, gc: gc ?? { scavenges: none, markCompacts: none, oldGrowthBytesPerS: 0 } };
}

/** The fast lane's empty handler under the fleet, played as the consume role is: the same warm-up and window. */
async function fastLaneFloor(generatorCpu: string | undefined): Promise<Run> {
  const empty = await emptyConsumerServer({ fastLane: true });
  try {
    return await playFleet(`127.0.0.1:${empty.port}`, warmupS, durationS, generatorCpu);
  } finally {
    empty.stop();
  }
}

/** The fast-lane floor in a process of its own (`--floor-only`), placed as `placement` says. */
function floorInOwnProcess(placement: Placement): Promise<Run> {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--floor-only', '--placement', placement, '--generator', generator];
  for (const [flag, value] of Object.entries({ nodes, 'topics-per-node': topicsPerNode, 'topic-count': topicCount, 'interval-s': intervalS, 'warmup-s': warmupS, 'duration-s': durationS })) args.push(`--${flag}`, String(value));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"floor":'));
      if (code === 0 && line) resolve((JSON.parse(line) as { floor: Run }).floor);
      else reject(new Error(`fleet: the fast-lane floor's process exited with ${code}: ${out.slice(-500)}`));
    });
  });
}

/** The consume-role run and the floor's, with the server and generator placed as `placement` says. */
async function measure(placement: Placement) {
  const cpus = placement === 'pinned' ? { server: '0', generator: '1' } : undefined;
  if (cpus) pin(process.pid, cpus.server);
  try {
    // 2. The consume-role instance, its audit written to a file of its own in the run's directory
    //    (with the summary the file sink saves beside it: never /dev/null, whose summary would
    //    be written into /dev and read again by the next run).
    const server = await startConsumeServer({ dataDir: dir, ...(refreshMs !== undefined && { refreshMs }), auditFile: auditOff ? null : path.join(dir, `audit-${placement}`, 'events.jsonl'), limiter: {}, ...(fastLaneOff && { fastLane: false }) });
    const refreshMsSeen: number[] = [];
    server.table.on('refreshed', (r: RefreshResult) => refreshMsSeen.push(r.durationMs));
    let reads0 = server.table.stats().storeReads;
    let reads1 = reads0;
    let applied0 = server.table.feed.stats().changesApplied;
    let applied1 = applied0;
    let published = 0;
    const publishTimer = setInterval(() => {
      // A popular topic (low index), as the fleet's skew makes them.
      const i = Math.floor(Math.random() * Math.min(20, topicCount));
      const name = names[i] ?? 't0000';
      void publisher.publish({ topic: name, metadata: { build: String(Date.now()) }, pointer: pointer(i, Date.now()), scopes: [{}] }, Date.now()).then(() => published++);
    }, publishEveryMs);
    const consume = await playFleet(`127.0.0.1:${server.port}`, warmupS, durationS, cpus?.generator, (phase) => {
      if (phase === 'start') {
        reads0 = server.table.stats().storeReads;
        applied0 = server.table.feed.stats().changesApplied;
      } else {
        reads1 = server.table.stats().storeReads;
        applied1 = server.table.feed.stats().changesApplied;
      }
    });
    clearInterval(publishTimer);
    const throttled = await counterValue(server.metrics, 'imprint_consume_throttled_total');
    await server.stop();

    // 3. The same fleet against an empty BatchPoll handler: the floor of this machine, in this run.
    //    Twice: through grpc-js (what any Node gRPC server pays), and in the fast lane with the
    //    consume role's own codec (the transport Imprint's BatchPoll runs on: above it is the poll's own work).
    const floors: { name: string; run: Run }[] = [];
    if (baselineS > 0) {
      // A floor starts from a collected heap: it is not charged the mark-compact that frees what
      // the run before it left (the consume role's tables and audit). Not the consume role's
      // run: a forced collection sets V8's next limit low, and it would collect more often.
      collect?.();
      const empty = await emptyConsumerServer({ fastLane: false });
      floors.push({ name: 'grpc-js', run: await playFleet(`127.0.0.1:${empty.port}`, Math.min(warmupS, 3), baselineS, cpus?.generator) });
      empty.stop();
    }
    if (!fastLaneOff) floors.push({ name: 'fast-lane', run: await floorInOwnProcess(placement) });
    return { placement, consume, floors, throttled, published, refreshMsSeen, applied: applied1 - applied0, reads: { pollState: reads1.pollState - reads0.pollState, getVersion: reads1.getVersion - reads0.getVersion } };
  } finally {
    if (cpus) pin(process.pid, allCpus);
  }
}

// 4. Report, a block per placement.
const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
/** The machine's load averages (1, 5, 15 min): how much else ran beside the bench. */
const loadAvg = () => `load average ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`;
const checksPerS = (r: FleetLoadResult) => r.topicChecks / r.measuredS;
const cpuPer1k = (run: Run) => (run.serverCores * 1000) / (checksPerS(run.result) / 1000); // ms of CPU per second, per 1k topic-checks/s
const lat = (r: FleetLoadResult) => `p50 ${ms(r.latency.p50)} ms, p90 ${ms(r.latency.p90)} ms, p99 ${ms(r.latency.p99)} ms, max ${ms(r.latency.max)} ms`;
const errs = (r: FleetLoadResult) => `${r.errors}${r.errors ? ` ${JSON.stringify(r.errorCodes)} ${JSON.stringify(r.errorSamples)}` : ''}`;
const loopText = (r: FleetLoadResult) => (r.generatorLoopDelay ? `event-loop delay p99 ${ms(r.generatorLoopDelay.p99)} ms` : 'no event loop (goroutines)');
const gcText = (run: Run) => {
  const { scavenges: s, markCompacts: m } = run.gc;
  const perS = (s.totalMs + m.totalMs) / run.result.measuredS;
  return `GC: ${m.count} mark-compacts (max ${ms(m.maxMs)} ms), ${s.count} scavenges (max ${ms(s.maxMs)} ms), ${ms(perS)} ms paused per s, old generation grew ${(run.gc.oldGrowthBytesPerS / 1e6).toFixed(1)} MB/s`;
};

if (floorOnly) {
  const placement = placements[0] as Placement;
  if (placement === 'pinned') pin(process.pid, '0');
  const floor = await fastLaneFloor(placement === 'pinned' ? '1' : undefined);
  console.log(JSON.stringify({ floor }));
  await publisher.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

for (const placement of placements) {
  const where = placement === 'pinned' ? 'pinned (server on core 0, generator on core 1)' : 'shared (both on every core)';
  const { consume: main, floors, throttled, published, refreshMsSeen, applied, reads } = await measure(placement);
  const { result } = main;
  console.log(
    `fleet       [${placement}] ${nodes} nodes x ${topicsPerNode} topics every ${intervalS} s (${topicCount} topics), ${where}: offered ${result.offeredPerS.toFixed(0)} BatchPolls/s, ${(result.sent / result.measuredS).toFixed(0)}/s sent for ${result.measuredS.toFixed(0)} s after ${warmupS} s warm-up (${result.sent} BatchPolls, ${result.topicChecks} topic-checks = ${checksPerS(result).toFixed(0)}/s)`,
  );
  console.log(
    `fleet       [${placement}] consume-role latency ${lat(result)} (target p99 < 50 ms) | errors ${errs(result)} (target 0), topic errors ${result.topicErrors}, throttled ${throttled} | updates ${result.updates} (${published} publishes)`,
  );
  console.log(
    `fleet       [${placement}] consume-role server CPU ${main.serverCores.toFixed(2)} cores = ${cpuPer1k(main).toFixed(1)} ms CPU/s per 1k topic-checks/s (µs per topic-check; ${auditOff ? 'no audit' : 'file audit'}${fastLaneOff ? ', no fast lane' : ''}) | event-loop delay p99 ${ms(main.loopDelayP99Ms)} ms | ${gcText(main)} | table: ${applied} changes applied from the feed, ${refreshMsSeen.length} full re-reads${refreshMsSeen.length ? ` (max ${Math.max(...refreshMsSeen).toFixed(0)} ms)` : ''} | store reads in the window: pollState ${reads.pollState}, getVersion ${reads.getVersion} | generator (${generator}) ${result.generatorCores.toFixed(2)} cores, ${loopText(result)}, send lag p99 ${ms(result.sendLag.p99)} ms | machine ${ms(main.machineCores)} of ${os.cpus().length} cores busy, ${loadAvg()}`,
  );
  for (const { name, run: floor } of floors) {
    const f = floor.result;
    console.log(
      `fleet       [${placement}] floor, empty ${name} BatchPoll handler, same fleet, ${f.measuredS.toFixed(0)} s${name === 'fast-lane' ? ` after the same ${warmupS} s warm-up, in a process of its own` : ''}: latency ${lat(f)} | errors ${errs(f)} | server CPU ${floor.serverCores.toFixed(2)} cores = ${cpuPer1k(floor).toFixed(1)} ms CPU/s per 1k topic-checks/s | event-loop delay p99 ${ms(floor.loopDelayP99Ms)} ms | generator ${f.generatorCores.toFixed(2)} cores, ${loopText(f)}, send lag p99 ${ms(f.sendLag.p99)} ms | ${gcText(floor)} | machine ${ms(floor.machineCores)} cores busy, ${loadAvg()} || consume-role / this floor: CPU per check ${(cpuPer1k(main) / cpuPer1k(floor)).toFixed(2)}x, p99 ${(result.latency.p99 / f.latency.p99).toFixed(2)}x`,
    );
  }
}
await publisher.close();
fs.rmSync(dir, { recursive: true, force: true });
