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
});
