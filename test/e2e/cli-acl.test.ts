/**
 * `imprint acl show|grant|revoke` against a real server (in-process, anonymous: the CLI has
 * no credentials of its own yet, so every call is allowed): what each prints, --json, and bad
 * input naming the argument (exit 2, nothing changed). What grants allow is
 * test/integration/access.test.ts's.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../cli-process.js';
import { startTestServer, type TestServer } from '../helpers.js';

describe('imprint acl', { timeout: 120_000 }, () => {
  let t: TestServer;
  const cli = (...args: string[]) => runCli(['--address', t.address, ...args]);

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true); // npm test builds dist/ first
    t = await startTestServer();
    await t.server.service.createTopic({ name: 'acl-cli', owner: 'ml', description: '', retention: {} });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('grant, show, revoke: each prints the grants after it; the same grant again changes nothing', async () => {
    expect((await cli('acl', 'show', 'acl-cli')).stdout).toContain("no grants on acl-cli: the server's default policy applies");
    const granted = await cli('acl', 'grant', 'acl-cli', 'consumer', 'group:scoring');
    expect(granted.code).toBe(0);
    expect(granted.stdout).toBe('granted consumer on acl-cli to group:scoring\nROLE      WHO\nconsumer  group:scoring\n');
    expect((await cli('acl', 'grant', 'acl-cli', 'owner', 'alice')).code).toBe(0);
    expect((await cli('acl', 'grant', 'acl-cli', 'owner', 'alice')).stdout).toMatch(/^already granted: owner on acl-cli to alice\n/);
    expect((await cli('acl', 'show', 'acl-cli')).stdout).toBe('ROLE      WHO\nowner     alice\nconsumer  group:scoring\n');
    expect(JSON.parse((await cli('--json', 'acl', 'show', 'acl-cli')).stdout)).toEqual([
      { role: 'owner', grantee: 'alice' },
      { role: 'consumer', grantee: 'group:scoring' },
    ]);
    const revoked = await cli('acl', 'revoke', 'acl-cli', 'consumer', 'group:scoring');
    expect(revoked.stdout).toBe('revoked consumer on acl-cli from group:scoring\nROLE   WHO\nowner  alice\n');
    expect((await cli('acl', 'revoke', 'acl-cli', 'consumer', 'group:scoring')).stdout).toMatch(/^no such grant: consumer on acl-cli from group:scoring\n/);
    const history = (await t.server.store.listHistory('acl-cli', { limit: 10 })).map((c) => `${c.kind} ${c.details['role'] ?? ''} ${c.details['grantee'] ?? ''}`.trim());
    expect(history).toEqual(['revoke consumer group:scoring', 'grant owner alice', 'grant consumer group:scoring', 'create-topic']);
  });

  it('bad input names the argument and the rule (exit 2) and changes nothing', async () => {
    const before = await t.server.store.listGrants('acl-cli');
    const role = await cli('acl', 'grant', 'acl-cli', 'admin', 'bob');
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('ROLE must be one of owner, publisher, operator, consumer (got "admin")');
    const who = await cli('acl', 'grant', 'acl-cli', 'consumer', 'a b');
    expect(who.code).toBe(2);
    expect(who.stderr).toContain('WHO must not contain spaces or control characters');
    const missing = await cli('acl', 'show', 'acl-nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('topic "acl-nope"');
    expect(await t.server.store.listGrants('acl-cli')).toEqual(before);
    expect((await cli('acl', '--help')).stdout).toContain('group:NAME (a group claim), or * (any authenticated principal)');
  });
});
