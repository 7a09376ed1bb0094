/**
 * rollout: what a running rollout costs the consumers, each number against a baseline measured
 * in the same run.
 *
 * 1. Step applied → swapped: 1000 Subscribers (real Subscriber objects, one ImprintClient each,
 *    in this process) following two topics through a consume-role instance in a child process of
 *    its own (default settings: its table follows the change feed); a publish-role instance in
 *    this process publishes and takes the operator's calls (its rollout driver runs, but every
 *    bake is an hour, so only PromoteRollout moves the rollout). Topic `rolled` has a policy:
 *    cluster=canary (10 nodes), then region=us-east-1 (500 nodes: half the fleet), then
 *    everyone. Each round: publish to `rolled` (step 1 reaches the canaries; wait for them),
 *    then PromoteRollout applies step 2 at a known moment: each us-east-1 subscriber's time
 *    from the call to its swap, p50 / p99 / max over every round (nobody else may swap; counted).
 *    Then PromoteRollout --full (unmeasured: the fleet back in step). Baseline in the same
 *    round: a publish to `plain` (no policy) → each of the 1000 subscribers' time to its swap.
 *    With Watch (the Subscriber's default; target p99 < 1 s), then with polling (BatchPoll
 *    every `--poll-interval-ms`, default 5000 rather than the Subscriber's 30 s so a round takes
 *    seconds, subscribers started at random moments over one interval as a fleet's are, the
 *    Subscriber's default jitter ±10%; target <= one poll interval).
 * 2. The consume path: Polls/s of a consume-role instance (bench/consume-server.ts: table,
 *    limiter, metrics, file audit; in this process, like bench/consume.ts) on a topic with a
 *    running rollout (so every poll asks the rollout's reach, and what the node says goes to the
 *    outcomes' bookkeeping) vs a topic without one, same instance, same 1000 node ids in turn
 *    (half reached by the rollout), every poll answered "no update"; 32 in flight, the two
 *    alternated, median of 7 x 2 s each, and the median of each round's pair's ratio; beside it
 *    this process's CPU per poll on either topic. Target: within 5%. And what the Poll handler
 *    does besides the transport (the poll decision from the table, the outcomes' heard()), in
 *    process, ns per poll on either topic: the part a rollout can add to, measured without the
 *    noise of the transport and the shared cores. It runs first, while this process has nothing else on its heap.
 *
 *   tsx bench/rollout.ts [--subscribers 1000] [--rounds 5] [--poll-rounds 3] [--poll-interval-ms 5000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ImprintClient, Subscriber, type Subscription, type UpdatedEvent } from '../client/index.js';
import { ROLLOUT_DEFAULTS, sha256Hex, type ConsumerIdentity, type DataPointer, type RolloutPolicy, type Version } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { counterValue, startConsumeServer } from './consume-server.js';
import { helpIfAsked, quantile, tempDir, throughput } from './util.js';

helpIfAsked(import.meta.url);

const here = fileURLToPath(import.meta.url);
const HOUR = 3_600_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** canary (step 1), then region us-east-1 (step 2), then everyone; every bake an hour, no gates. */
const policy = (second: string): RolloutPolicy => ({
  ...ROLLOUT_DEFAULTS,
  steps: [
    { scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: HOUR, gates: [] },
    { scopes: [{ region: second }], percent: 100, bakeMs: HOUR, gates: [] },
    { scopes: [{}], percent: 100, bakeMs: HOUR, gates: [] },
  ],
});

/** Node i: even ones in us-east-1 (step 2), odd ones in eu-west-1; 1 in 100 of the odd ones in the canary cluster (step 1). */
function identity(i: number): ConsumerIdentity {
  const east = i % 2 === 0;
  return { app: `rollout-bench-${i % 4}`, cluster: !east && i % 100 === 1 ? 'canary' : 'c1', region: east ? 'us-east-1' : 'eu-west-1', nodeId: `node-${i}`, labels: {} };
}

const payload = (text: string): DataPointer => {
  const bytes = Buffer.from(text.padEnd(1024, '.'));
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
};

async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
const fmt = (xs: number[]) => {
  const s = sorted(xs);
  return `p50 ${ms(quantile(s, 0.5))}, p99 ${ms(quantile(s, 0.99))}, max ${ms(s[s.length - 1] ?? NaN)}`;
};

/** The consume-role instance, in a child process of its own (this file with --serve). */
async function startChild(dataDir: string): Promise<{ proc: ChildProcess; address: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', here, '--serve', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  // A bench that fails leaves no server behind.
  process.once('exit', () => proc.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    proc.once('exit', (code) => reject(new Error(`the consume server exited with ${code}`)));
  });
  return {
    proc,
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

interface Member {
  readonly i: number;
  readonly client: ImprintClient;
  readonly subscriber: Subscriber;
  readonly subs: { readonly rolled: Subscription<number>; readonly plain: Subscription<number> };
}

/** When each of `members` swaps `topic` to `version`: performance.now() of its updated event. */
function swapped(members: readonly Member[], topic: 'rolled' | 'plain', version: Version): Promise<number>[] {
  return members.map(
    (m) =>
      new Promise<number>((resolve) => {
        const sub = m.subs[topic];
        const onUpdated = (e: UpdatedEvent<number>) => {
          if (e.version !== version) return;
          sub.off('updated', onUpdated);
          resolve(performance.now());
        };
        sub.on('updated', onUpdated);
      }),
  );
}

interface Propagation {
  /** PromoteRollout → swapped, each step-2 subscriber, every round, ms. */
  readonly step: number[];
  /** Publish to the topic without a policy → swapped, every subscriber, every round, ms. */
  readonly plain: number[];
  /** Subscribers outside steps 1 and 2 that held the rollout's version when step 2's had all swapped, summed over rounds (should be 0). */
  readonly strays: number;
  readonly stepSize: number;
}

async function propagation(address: string, publisher: ImprintClient, n: number, rounds: number, mode: 'watch' | 'poll', pollIntervalMs: number): Promise<Propagation> {
  // 1. The fleet: watch mode all at once; poll mode started at random moments over one interval.
  const start = (i: number): Member => {
    const client = new ImprintClient({ address });
    const subscriber = new Subscriber({ client, identity: identity(i), mode, ...(mode === 'poll' && { intervalMs: pollIntervalMs }) });
    const subs = { rolled: subscriber.subscribe('rolled', { decode: (b) => b.length }), plain: subscriber.subscribe('plain', { decode: (b) => b.length }) };
    return { i, client, subscriber, subs };
  };
  const fleet = await Promise.all(Array.from({ length: n }, (_, i) => (mode === 'watch' ? start(i) : new Promise<Member>((res) => setTimeout(() => res(start(i)), Math.random() * pollIntervalMs)))));
  await Promise.all(fleet.flatMap((m) => [m.subs.rolled.ready(), m.subs.plain.ready()]));
  if (mode === 'watch') await until('every subscriber watching', () => fleet.every((m) => m.subscriber.following === 'watch'), 60_000);
  const canaries = fleet.filter((m) => identity(m.i).cluster === 'canary');
  const stepTwo = fleet.filter((m) => identity(m.i).region === 'us-east-1');
  const others = fleet.filter((m) => !canaries.includes(m) && !stepTwo.includes(m));
  const wait = mode === 'watch' ? 30_000 : 3 * pollIntervalMs + 30_000;
  const step: number[] = [];
  const plain: number[] = [];
  let strays = 0;
  const settle = () => new Promise((res) => setTimeout(res, 200 + Math.random() * 300));
  for (let r = 0; r < rounds; r++) {
    // 2. A publish to `rolled` starts a rollout: step 1, the canaries.
    const canariesSwapped = swapped(canaries, 'rolled', (await publisher.getTopic('rolled')).latestVersion + 1n);
    const { version } = await publisher.publishPointer('rolled', payload(`rolled ${r}`));
    await Promise.race([Promise.all(canariesSwapped), new Promise((_, rej) => setTimeout(() => rej(new Error('the canaries did not swap')), wait))]);
    // 3. Step 2 applied at a known moment: each us-east-1 subscriber's time to its swap.
    await settle();
    const stepSwapped = swapped(stepTwo, 'rolled', version);
    const t0 = performance.now();
    await publisher.promoteRollout('rolled');
    for (const at of await Promise.all(stepSwapped)) step.push(at - t0);
    strays += others.filter((m) => m.subs.rolled.version === version).length;
    // 4. Everyone (unmeasured), so the next round starts from one version.
    const restSwapped = swapped(others, 'rolled', version);
    await publisher.promoteRollout('rolled', { full: true });
    await Promise.all(restSwapped);
    // 5. The baseline: a publish to the topic without a policy, the whole fleet.
    await settle();
    const plainSwapped = swapped(fleet, 'plain', (await publisher.getTopic('plain')).latestVersion + 1n);
    const t1 = performance.now();
    await publisher.publishPointer('plain', payload(`plain ${r}`));
    for (const at of await Promise.all(plainSwapped)) plain.push(at - t1);
  }
  for (const m of fleet) {
    await m.subscriber.close();
    m.client.close();
  }
  return { step, plain, strays, stepSize: stepTwo.length };
}

/** Polls/s of a consume-role instance on a topic with a running rollout vs one without (median of 7 x 2 s each, alternated). */
async function consumePath(): Promise<void> {
  // 1. Seed: both topics with v1 and v2; on `rolled` v2 is a running rollout at its first step (region=us-east-1: half the nodes).
  const dir = tempDir();
  const seed = await startImprintServer({ role: 'publish', dataDir: dir, port: 0, log: silentLogger, rolloutDriver: 'off' });
  const admin = new ImprintClient({ address: `127.0.0.1:${seed.port}` });
  const second = policy('us-east-1').steps.slice(1);
  await admin.createTopic({ name: 'rolled', rolloutPolicy: { ...policy('us-east-1'), steps: second } });
  await admin.createTopic({ name: 'plain' });
  for (const t of ['rolled', 'plain']) await admin.publishPointer(t, payload(`${t} 1`), { noRollout: true });
  const started = await admin.publishPointer('rolled', payload('rolled 2'));
  await admin.publishPointer('plain', payload('plain 2'));
  if (started.rollout?.state !== 'running') throw new Error('the publish to rolled started no rollout');
  admin.close();
  await seed.stop();

  // 2. The consume instance; 1000 nodes in turn, each polling with what it holds (no update).
  const consume = await startConsumeServer({ dataDir: dir });
  const client = new ImprintClient({ address: `127.0.0.1:${consume.port}` });
  const nodes = Array.from({ length: 1000 }, (_, i) => identity(i));
  const pollsOf = (topic: 'rolled' | 'plain') => {
    let k = 0;
    return () => {
      const id = nodes[k++ % nodes.length] as ConsumerIdentity;
      return client.poll(topic, id, topic === 'plain' || id.region === 'us-east-1' ? 2n : 1n);
    };
  };
  const rolled = pollsOf('rolled');
  const plain = pollsOf('plain');
  // Every node's first word is written once (the steady state is what a fleet sees); check the answers once.
  for (let i = 0; i < nodes.length; i++) {
    const [a, b] = await Promise.all([rolled(), plain()]);
    if (a.record || b.record) throw new Error('a bench poll was answered with an update');
  }
  await throughput(rolled, 32, 500);
  await throughput(plain, 32, 500);
  // Each window's rate, and this process's CPU per poll (client and server both: the same client
  // work on either topic), which other processes' load on the shared cores moves less than the rate.
  const cpu = { rolled: 0, plain: 0 };
  const calls = { rolled: 0, plain: 0 };
  const window = async (topic: 'rolled' | 'plain') => {
    const before = process.cpuUsage();
    const rate = await throughput(topic === 'rolled' ? rolled : plain, 32, 2000);
    const used = process.cpuUsage(before);
    cpu[topic] += used.user + used.system;
    calls[topic] += rate * 2;
    return rate;
  };
  const rounds: { rolled: number; plain: number }[] = [];
  for (let i = 0; i < 7; i++) {
    if (i % 2 === 0) rounds.push({ plain: await window('plain'), rolled: await window('rolled') });
    else rounds.push({ rolled: await window('rolled'), plain: await window('plain') });
  }
  const cpuRolled = cpu.rolled / calls.rolled;
  const cpuPlain = cpu.plain / calls.plain;
  const med = (xs: number[]) => sorted(xs)[3] ?? NaN;
  const r = med(rounds.map((x) => x.rolled));
  const p = med(rounds.map((x) => x.plain));
  // Each round's pair ran back to back: their ratios drift less with the machine than the medians do.
  const paired = sorted(rounds.map((x) => x.rolled / x.plain));
  const recorded = await counterValue(consume.metrics, 'imprint_rollout_outcomes_recorded_total');
  console.log(
    `rollout     consume-role Polls/s, a topic with a running rollout ${r.toFixed(0)} | the same without one ${p.toFixed(0)} | ratio ${(r / p).toFixed(3)}x (target >= 0.95x; each round's pair ${(paired[0] ?? NaN).toFixed(2)}-${(paired[6] ?? NaN).toFixed(2)}x, median ${(paired[3] ?? NaN).toFixed(3)}x) | CPU per poll (client and server) ${cpuRolled.toFixed(0)} vs ${cpuPlain.toFixed(0)} µs: ${(cpuRolled / cpuPlain).toFixed(3)}x  ` +
      `(1000 nodes in turn, half reached, no update; 32 in flight, alternated, median of 7 x 2 s; every round ${rounds.map((x) => `${x.rolled.toFixed(0)}/${x.plain.toFixed(0)}`).join(' ')}; outcomes written ${recorded})`,
  );
  client.close();
  await consume.stop();

  // 3. What the Poll handler does besides the transport, in process on a second consume instance
  //    (no gRPC, nothing in flight: the shared cores' load moves it least): the poll decision
  //    from the table and the outcomes' heard(), per poll, best of 5 x 200k polls.
  const inProcess = await startImprintServer({ role: 'consume', dataDir: dir, port: 0, log: silentLogger });
  const { poller, outcomes } = inProcess;
  if (!poller || !outcomes) throw new Error('a consume-role instance has a poller and outcomes');
  await until('the outcomes to know the running rollout', () => outcomes.wants('rolled'), 30_000);
  const decide = (topic: 'rolled' | 'plain', count: number) => {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < count; k++) {
      const id = nodes[k % nodes.length] as ConsumerIdentity;
      const lastSeen = topic === 'plain' || id.region === 'us-east-1' ? 2n : 1n;
      const answer = poller.poll(topic, id, lastSeen);
      if (answer instanceof Promise) throw new Error('the consume instance answered from the store, not its table');
      outcomes.heard(topic, id, lastSeen);
    }
    return Number(process.hrtime.bigint() - t0) / count;
  };
  decide('rolled', 50_000);
  decide('plain', 50_000);
  const best = { rolled: Infinity, plain: Infinity };
  for (let i = 0; i < 5; i++) {
    best.plain = Math.min(best.plain, decide('plain', 200_000));
    best.rolled = Math.min(best.rolled, decide('rolled', 200_000));
  }
  console.log(
    `rollout     the Poll handler's work in process (the poll decision from the table + the outcomes' heard()), per poll: a topic with a running rollout ${best.rolled.toFixed(0)} ns | without ${best.plain.toFixed(0)} ns | ` +
      `+${(best.rolled - best.plain).toFixed(0)} ns, ${((best.rolled - best.plain) / 1000 / cpuPlain * 100).toFixed(2)}% of the client-and-server CPU per poll above  (1000 nodes in turn, best of 5 x 200k)`,
  );
  await inProcess.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const n = Number(arg('subscribers', '1000'));
  const rounds = Number(arg('rounds', '5'));
  const pollRounds = Number(arg('poll-rounds', '3'));
  const pollIntervalMs = Number(arg('poll-interval-ms', '5000'));

  // Item 2 first, the consume path's throughput: nothing else on this process's heap yet.
  await consumePath();

  // Item 1, step applied → swapped, through a consume instance in its own process; a publish instance here publishes and promotes.
  const dir = tempDir();
  const served = await startChild(dir);
  const seed = await startImprintServer({ role: 'publish', dataDir: dir, port: 0, log: silentLogger });
  const publisher = new ImprintClient({ address: `127.0.0.1:${seed.port}` });
  await publisher.createTopic({ name: 'rolled', rolloutPolicy: policy('us-east-1') });
  await publisher.createTopic({ name: 'plain' });
  for (const t of ['rolled', 'plain']) await publisher.publishPointer(t, payload(`${t} 0`), { noRollout: true });
  const reader = new ImprintClient({ address: served.address });
  const anyone = { app: 'bench', cluster: '', region: '', nodeId: '', labels: {} };
  await until('the consume instance to have the topics', async () => (await Promise.all(['rolled', 'plain'].map((t) => reader.poll(t, anyone, 0n).then((r) => r.record !== undefined, () => false)))).every(Boolean), 30_000);
  reader.close();
  for (const mode of ['watch', 'poll'] as const) {
    const p = await propagation(served.address, publisher, n, mode === 'watch' ? rounds : pollRounds, mode, pollIntervalMs);
    const ratio = quantile(sorted(p.step), 0.99) / quantile(sorted(p.plain), 0.99);
    const how = mode === 'watch' ? 'Watch (default settings)' : `polling every ${pollIntervalMs} ms (±10% jitter)`;
    const target = mode === 'watch' ? 'target p99 < 1 s' : `target <= ${pollIntervalMs} ms`;
    console.log(
      `rollout     step applied (PromoteRollout) -> its ${p.stepSize} of ${n} Subscribers swapped, ${how}, via a consume-role instance (own process): ${fmt(p.step)} over ${mode === 'watch' ? rounds : pollRounds} rounds (${target}; outside the step swapped: ${p.strays}) | ` +
        `baseline publish -> all ${n} swapped, topic without a policy: ${fmt(p.plain)} | p99 ratio ${ratio.toFixed(2)}x`,
    );
  }
  publisher.close();
  await seed.stop();
  await served.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

// The child: the consume instance, reporting its port; the parent: the bench.
if (process.argv[2] === '--serve') {
  const server = await startImprintServer({ role: 'consume', dataDir: process.argv[3] as string, port: 0, log: silentLogger });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else {
  await main();
}
