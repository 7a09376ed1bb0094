/**
 * The rollout driver in real processes over one SQLite file: `imprint serve --role publish`
 * drives a rollout and is killed with SIGKILL mid-rollout; an `imprint janitor` started after it
 * takes the lease over once it expires and goes on exactly where the rollout was (the step the
 * killed process applied is not applied again, the next one comes after its bake counted from
 * when it began).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateRolloutPolicy, type Rollout } from '../../core/index.js';
import { SqliteMetadataStore } from '../../server/index.js';
import { CLI, runCli, startServe, stepsLogged, stopProcess, type ServeProcess } from '../cli-process.js';
import { directPointer, eventually, tempDir } from '../helpers.js';

const TOPIC = 'features';
const BAKE = 1500;

/** `imprint --data-dir DIR janitor ARGS`, resolved once it says it runs. */
function startJanitor(dataDir: string, args: readonly string[]): Promise<{ proc: ChildProcess; output: () => string }> {
  const proc = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'janitor', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the janitor did not start:\n${output}`)), 30_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      if (!output.includes('janitor running')) return;
      clearTimeout(timer);
      resolve({ proc, output: () => output });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`the janitor exited with ${code}:\n${output}`)));
  });
}

describe('the rollout driver in processes', () => {
  const procs: ChildProcess[] = [];
  const serves: ServeProcess[] = [];
  const stores: SqliteMetadataStore[] = [];
  afterAll(async () => {
    for (const s of serves) await s.kill();
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const s of stores) await s.close();
  });

  it('a driver killed with SIGKILL mid-rollout: another process resumes exactly where it was, no step applied twice', async () => {
    const dataDir = tempDir('imprint-rollout-kill-');
    const store = SqliteMetadataStore.open({ file: path.join(dataDir, 'imprint.db') });
    stores.push(store);
    const policy = validateRolloutPolicy({ steps: [0, 1, 2, 3].map(() => ({ scopes: [{}], percent: 100, bakeMs: BAKE, gates: [] })) });
    await store.createTopic({ name: TOPIC, owner: 'team', description: '', retention: {}, rolloutPolicy: policy }, Date.now());
    await store.publish({ topic: TOPIC, metadata: {}, pointer: directPointer('v1'), scopes: [{}] }, Date.now());
    const now = async (): Promise<Rollout> => {
      const r = await store.getRollout(TOPIC, 2n);
      if (!r) throw new Error('no rollout');
      return r;
    };

    // 1. A publish-role serve drives it; killed right after it applied step 1.
    const a = await startServe(dataDir, ['--role', 'publish', '--rollout-tick-ms', '50']);
    serves.push(a);
    const started = await store.publish({ topic: TOPIC, metadata: {}, pointer: directPointer('v2'), scopes: [], rollout: policy }, Date.now());
    // Applied in the store and logged: the log line is written after the commit, and reaches
    // us through a pipe, so the store alone can be ahead of the output we read.
    const atStep1 = await eventually('step 1, applied and logged', async () => {
      const r = await now();
      return r.step === 1 && stepsLogged(a.output()).includes(1) ? r : undefined;
    });
    await a.kill();
    expect(stepsLogged(a.output())).toEqual([1]);
    // Nothing moved it since (the kill came well within the step's bake)...
    const afterKill = await now();
    expect(afterKill.revision).toBe(atStep1.revision);

    // 2. A janitor goes on from there once the dead holder's lease (5 ticks) has expired.
    const j = await startJanitor(dataDir, ['--rollout-tick-ms', '50', '--snapshot-every', '1h']);
    procs.push(j.proc);
    const done = await eventually('completion', async () => ((await now()).state === 'completed' ? now() : undefined));
    const history = (await store.listHistory(TOPIC, { limit: 100 })).filter((c) => c.kind === 'rollout' && c.version === 2n).reverse();
    expect(history.map((c) => `${c.details['action']} ${c.details['step']}`)).toEqual(['start 0', 'step 1', 'step 2', 'step 3', 'complete 3']);
    // Step 2 came after step 1's bake counted from when the killed process applied it: resumed, not restarted.
    const step2 = history[2];
    expect(step2 && step2.atMs - atStep1.stepStartedAtMs).toBeGreaterThanOrEqual(BAKE);
    expect(stepsLogged(j.output())).toEqual([2, 3]);
    expect(done.startedAtMs).toBe(started.rollout?.startedAtMs);

    // 3. SIGTERM: the janitor stops its driver and exits cleanly (that stop gives the lease up: test/integration/rollout-driver.test.ts).
    expect(await stopProcess(j.proc)).toBe(0);
  }, 120_000);

  it('the flags: --rollout-driver off (or IMPRINT_ROLLOUT_DRIVER=off) runs none; a bad --rollout-tick-ms is refused naming the flag', async () => {
    const dataDir = tempDir('imprint-rollout-flags-');
    const off = await startServe(dataDir, [], { IMPRINT_ROLLOUT_DRIVER: 'off' });
    serves.push(off);
    expect(off.output()).toContain('rollouts  not driven here (--rollout-driver off)');
    await off.stop();
    const on = await startServe(dataDir, ['--role', 'publish', '--rollout-tick-ms', '250']);
    serves.push(on);
    expect(on.output()).toContain('rollouts  driven here while this instance holds the lease (a tick every 250 ms, --rollout-tick-ms)');
    await on.stop();
    for (const cmd of [['serve', '--port', '0'], ['janitor']]) {
      const r = await runCli(['--data-dir', dataDir, ...cmd, '--rollout-tick-ms', '5']);
      expect({ cmd, code: r.code, stderr: r.stderr }).toEqual({ cmd, code: 2, stderr: 'imprint: invalid argument: rollout-tick-ms must be a whole number of milliseconds from 10 to 60000 (got 5)\n' });
    }
  });
});
