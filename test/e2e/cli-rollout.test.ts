/** Rollouts with the `imprint` command against a real `imprint serve`: topic --rollout, publish --no-rollout, the rollout verbs. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli as imprint, startServe, type CliResult as Result, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

// Each test runs several CLI processes (each a Node start): generous on a shared machine.
describe('imprint topic --rollout, publish --no-rollout, imprint rollout', { timeout: 240_000 }, () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const payload = path.join(dir, 'rules.json');
  let server: ServeProcess;
  let cli: (...args: string[]) => Promise<Result>;

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true); // npm test builds dist/ first
    fs.writeFileSync(payload, JSON.stringify({ threshold: 0.7 }));
    server = await startServe(dataDir);
    cli = (...args) => imprint(['--address', `127.0.0.1:${server.port}`, '--data-dir', dataDir, ...args]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('a bad policy is refused naming the flag, and no topic is made; publish --no-rollout publishes to everyone', async () => {
    const cases: [string[], string][] = [
      [['--rollout', 'cluster=canary 10m; * soon'], '--rollout step 2 bake must be a bake time like 0, 30s, 10m, 1h or 2d (got "soon")'],
      [['--rollout', '* 1h gates=webhook'], '--rollout-webhook is required when a step has a webhook gate'],
      [['--rollout', '* 1h', '--rollout-min-holding', '150'], '--rollout-min-holding must be a whole number from 0 to 100 (got 150)'],
      [['--rollout-file', path.join(dir, 'missing.json')], '--rollout-file must be a readable file'],
      [['--rollout-max-rejections', '2'], '--rollout is required with the other --rollout flags'],
    ];
    for (const [flags, message] of cases) {
      const r = await cli('topic', 'create', 'rules', ...flags);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`imprint: invalid argument: ${message}`);
    }
    const describe = await cli('topic', 'describe', 'rules');
    expect(describe.code).toBe(1);
    expect(describe.stderr).toContain('does not exist');

    expect((await cli('topic', 'create', 'rules')).code).toBe(0);
    const published = await cli('publish', 'rules', payload, '--no-rollout');
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(/^published rules v1/);
    expect(published.stdout).not.toContain('rollout');
    expect((await cli('poll', 'rules', '--app', 'scorer')).stdout).toMatch(/^update: v1$/m);

    const both = await cli('topic', 'update', 'rules', '--rollout', '* 1h', '--no-rollout-policy');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--no-rollout-policy cannot go with the other --rollout flags');
    const badVersion = await cli('rollout', 'status', 'rules', 'latest');
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain('VERSION must be a version number (1 or more) (got "latest")');
    const noReason = await cli('rollout', 'cancel', 'rules');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
  });
  // Needs the rollout-server branch (the policy kept on topics, publish starting rollouts, the rollout RPCs).
  it('topic create --rollout, a publish that starts a rollout, pause, resume, promote, promote --full, cancel, the history, --no-rollout-policy', async () => {
    const steps = 'cluster=canary 10m gates=consumers; region=us-east-1 10m; * 0';
    const created = await cli('topic', 'create', 'canary-rules', '--rollout', steps, '--rollout-max-rejections', '1');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`  rollout     ${steps}  max-rejections=1`);
    expect((await cli('topic', 'describe', 'canary-rules')).stdout).toContain(`  rollout     ${steps}  max-rejections=1`);

    // --no-rollout: everyone at once, no rollout.
    const direct = await cli('publish', 'canary-rules', payload, '--no-rollout');
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).not.toMatch(/^ {2}rollout /m);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--cluster', 'prod')).stdout).toMatch(/^update: v1$/m);

    // A publish starts a rollout: the canary gets v2, everyone else keeps v1.
    const started = await cli('publish', 'canary-rules', payload);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^ {2}rollout {2}canary-rules v2 {2}RUNNING at step 1 of 3, bake [\dhms]+ left/m);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--cluster', 'canary')).stdout).toMatch(/^update: v2$/m);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--cluster', 'prod')).stdout).toMatch(/^update: v1$/m);
    const status = await cli('rollout', 'status', 'canary-rules');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^canary-rules v2 {2}RUNNING at step 1 of 3, bake [\dhms]+ left/);
    expect(status.stdout).toContain('  reached     cluster=canary\n');
    expect(status.stdout).toMatch(/^ {2}consumers {3}\d+ reached, \d+ holding .*at least 90% needed.*\(at most 1\)/m);
    expect(status.stdout).toContain('  webhook     none');
    expect((await cli('topic', 'describe', 'canary-rules')).stdout).toMatch(/^ {2}newest rollout canary-rules v2 {2}RUNNING at step 1 of 3/m);

    const paused = await cli('rollout', 'pause', 'canary-rules', '--reason', 'looking at the error rate');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^paused\ncanary-rules v2 {2}PAUSED at step 1 of 3, bake [\dhms]+ left \(clock stopped\).*: looking at the error rate$/m);
    const again = await cli('rollout', 'pause', 'canary-rules');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('it is paused');
    expect((await cli('rollout', 'resume', 'canary-rules')).stdout).toMatch(/^resumed\ncanary-rules v2 {2}RUNNING at step 1 of 3/);
    expect((await cli('rollout', 'promote', 'canary-rules')).stdout).toMatch(/^promoted\ncanary-rules v2 {2}RUNNING at step 2 of 3/);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--region', 'us-east-1')).stdout).toMatch(/^update: v2$/m);
    expect((await cli('rollout', 'promote', 'canary-rules', '--full')).stdout).toMatch(/^promoted to everyone\ncanary-rules v2 {2}COMPLETED at every step/);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--cluster', 'prod')).stdout).toMatch(/^update: v2$/m);

    // A third version's rollout, cancelled: the canary that took it is moved back.
    expect((await cli('publish', 'canary-rules', payload)).code).toBe(0);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--cluster', 'canary', '--last-seen', '2')).stdout).toMatch(/^update: v3$/m);
    const cancelled = await cli('rollout', 'cancel', 'canary-rules', '--reason', 'bad scores');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(/^cancelled\ncanary-rules v3 {2}CANCELLED at step 1 of 3, started \S+, ended \S+: bad scores$/m);
    expect((await cli('poll', 'canary-rules', '--app', 'scorer', '--cluster', 'canary', '--last-seen', '3')).stdout).toMatch(/^update: v2 \(rolled back: /m);
    expect((await cli('rollout', 'status', 'canary-rules')).stdout).toContain('  cancelled   by an operator: bad scores; consumers that held v3 were moved back');
    const json = JSON.parse((await cli('--json', 'rollout', 'status', 'canary-rules', '2')).stdout) as { rollout: { version: string; state: string }; progress: { reached: number } };
    expect(json.rollout).toMatchObject({ version: '2', state: 'completed' });
    const list = (await cli('rollout', 'list', 'canary-rules')).stdout.trim().split('\n');
    expect(list.map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['canary-rules v3 CANCELLED', 'canary-rules v2 COMPLETED']);

    const history = (await cli('history', 'canary-rules')).stdout;
    for (const what of ['rollout started, step 1 applied', 'paused at step 1: looking at the error rate', 'resumed at step 1', 'promoted: step 2 applied', 'promoted to everyone', 'cancelled at step 1: bad scores']) {
      expect(history).toMatch(new RegExp(` rollout {6}.* ${what.replace(/[().:,]/g, '\\$&')}$`, 'm'));
    }

    // The gate flags alone change the policy the topic has; --no-rollout-policy removes it.
    expect((await cli('topic', 'update', 'canary-rules', '--rollout-min-holding', '95')).stdout).toContain(`  rollout     ${steps}  min-holding=95%  max-rejections=1`);
    const removed = await cli('topic', 'update', 'canary-rules', '--no-rollout-policy');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).not.toMatch(/^ {2}rollout /m);
    expect((await cli('history', 'canary-rules')).stdout).toMatch(/update-topic .*rollout_policy=none$/m);
    const plain = await cli('publish', 'canary-rules', payload);
    expect(plain.stdout).not.toMatch(/^ {2}rollout /m);
  });
});
