/** The topic lifecycle verbs against a real `imprint serve`: topic delete, topic cleanup, history --at. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli as imprint, startServe, type CliResult as Result, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

/** Polls `check` until it holds, for at most 20 s. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (await check()) return;
  }
  throw new Error(`${what}: not within 20 s`);
}

// Each test runs a dozen CLI processes (each a Node start): on a shared, loaded machine that took up to 60 s.
describe('imprint topic delete, topic cleanup, history --at', { timeout: 240_000 }, () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  let server: ServeProcess;
  let cli: (...args: string[]) => Promise<Result>;
  const payload = path.join(dir, 'rules.json');

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true); // npm test builds dist/ first
    fs.writeFileSync(payload, JSON.stringify({ threshold: 0.7 }));
    server = await startServe(dataDir);
    cli = (...args) => imprint(['--address', `127.0.0.1:${server.port}`, '--data-dir', dataDir, ...args]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('topic delete asks for --yes off a terminal, then deletes: polls NOT_FOUND, list hides it, --deleted shows it', async () => {
    expect((await cli('topic', 'create', 'old-rules', '--owner', 'trust')).code).toBe(0);
    expect((await cli('publish', 'old-rules', payload)).code).toBe(0);
    const refused = await cli('topic', 'delete', 'old-rules');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes is required when not on a terminal (nothing was deleted)');
    expect((await cli('poll', 'old-rules', '--app', 'scorer')).stdout).toMatch(/^update: v1$/m);

    const deleted = await cli('topic', 'delete', 'old-rules', '--yes', '--reason', 'replaced by new-rules');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toMatch(/^deleted topic old-rules at \S+; the janitor purges it/);
    const poll = await cli('poll', 'old-rules', '--app', 'scorer');
    expect(poll.code).toBe(1);
    expect(poll.stderr).toContain('topic "old-rules" does not exist');
    expect((await cli('topic', 'list')).stdout).not.toContain('old-rules');
    expect((await cli('topic', 'list', '--deleted')).stdout).toMatch(/^old-rules .* \(deleted \S+\)$/m);
    expect((await cli('topic', 'describe', 'old-rules')).stdout).toMatch(/^ {2}DELETED {5}\S+ \(polls get NOT_FOUND/m);
    const history = await cli('history', 'old-rules');
    expect(history.stdout).toMatch(/delete-topic .*\(replaced by new-rules\)/);
    const again = await cli('topic', 'create', 'old-rules');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('holds its name until the janitor purges it');
  });

  it('topic cleanup --dry-run suggests topics with no publish and no consumer in the window, and deletes nothing', async () => {
    for (const t of ['quiet', 'read']) {
      expect((await cli('topic', 'create', t, '--owner', `${t}-team`)).code).toBe(0);
      expect((await cli('publish', t, payload)).code).toBe(0);
    }
    // The window starts at tMid, after both publishes, well before the poll of "read" (a window
    // only grows older, so the waits make this certain however slow each command is to start).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const tMid = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect((await cli('poll', 'read', '--app', 'scorer', '--node', 'n1')).code).toBe(0);
    await eventually('the audit has the consumer of "read"', async () => /1 nodes seen/.test((await cli('topic', 'consumers', 'read', '--since', '1h')).stdout));
    const idle = () => `${Math.floor((Date.now() - tMid) / 1000)}s`;

    const dry = await cli('topic', 'cleanup', '--idle', idle(), '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stdout.split('\n');
    expect(lines[0]).toMatch(/^TOPIC\s+OWNER\s+LAST PUBLISH\s+LAST CONSUMER SEEN$/);
    expect(lines.filter((l) => /^quiet\s/.test(l))).toEqual([expect.stringMatching(/^quiet\s+quiet-team\s+\d{4}-\S+Z\s+none in the window$/)]);
    expect(dry.stdout).not.toMatch(/^read\s/m);
    expect(dry.stdout).toMatch(/^\d+ topics examined: \d+ idle since \S+, 0 with consumers unknown \(never suggested\), \d+ in use$/m);
    const json = JSON.parse((await cli('--json', 'topic', 'cleanup', '--idle', idle(), '--dry-run')).stdout) as { idle: { topic: string }[] };
    expect(json.idle.map((v) => v.topic)).toContain('quiet');
    expect(json.idle.map((v) => v.topic)).not.toContain('read');
    // A dry run deletes nothing.
    expect((await cli('poll', 'quiet', '--app', 'scorer')).stdout).toMatch(/^update: v1$/m);
  });

  it('history --at answers what a consumer was served at a moment, the pin then in effect included', async () => {
    expect((await cli('topic', 'create', 'model')).code).toBe(0);
    expect((await cli('publish', 'model', payload, '--meta', 'build=1')).code).toBe(0);
    expect((await cli('publish', 'model', payload, '--meta', 'build=2')).code).toBe(0);
    expect((await cli('pin', 'model', '1', '--scope', 'cluster=canary', '--reason', 'v2 is bad', '--by', 'oncall')).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const during = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await cli('unpin', 'model', '--scope', 'cluster=canary')).code).toBe(0);

    const canary = await cli('history', 'model', '--app', 'scorer', '--cluster', 'canary', '--at', during);
    expect(canary.code, canary.stderr).toBe(0);
    expect(canary.stdout).toMatch(new RegExp(`^model at ${during.replace(/[.]/g, '\\.')} for scorer/canary/-/-: v1 \\(published \\S+\\) pinned$`, 'm'));
    expect(canary.stdout).toMatch(/^ {2}pin in effect: model {2}scope cluster=canary {2}-> v1 .*by oncall {2}\(v2 is bad\)$/m);
    // The changes around the moment: the unpin after it, the pin and the publishes before.
    const [after, before] = canary.stdout.split(/^-+ \S+ -+$/m);
    expect(after).toMatch(/ unpin /);
    expect(before).toMatch(/ pin .*\n.* publish .*\n.* publish /);
    const main = await cli('--json', 'history', 'model', '--app', 'scorer', '--cluster', 'main', '--at', during);
    expect(JSON.parse(main.stdout)).toMatchObject({ served: { version: '2' }, pinned: false, pin: null });
    // Now (after the unpin) the canary is on the latest again; a duration ago is accepted too.
    expect(JSON.parse((await cli('--json', 'history', 'model', '--app', 'scorer', '--cluster', 'canary', '--at', new Date(Date.now() + 1000).toISOString())).stdout)).toMatchObject({
      served: { version: '2' },
      pinned: false,
    });
    expect((await cli('history', 'model', '--app', 'scorer', '--at', '1h')).stdout).toMatch(/^model at \S+ for scorer\/-\/-\/-: nothing matched$/m);
    const bad = await cli('history', 'model', '--at', 'yesterday-ish');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--at must be an ISO date-time');
  });
});
