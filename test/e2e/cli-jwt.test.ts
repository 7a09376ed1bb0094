/**
 * `imprint serve --jwt-*` as a real process, and the CLI's --token, IMPRINT_TOKEN and
 * --token-file: the token's subject is the principal the history records; no token, an
 * expired one, and an app the principal may not act as are refused with the reason (exit 1);
 * the serve flags are checked, naming the flag (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as imprint, startServe, type CliResult, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';
import { makeKey, signToken, writeJwks, type TestKey } from '../jwt-keys.js';

const ISSUER = 'https://login.example.test';
const AUDIENCE = 'imprint-prod';

describe('imprint serve with bearer JWTs, and the CLI with a token', () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  const jwks = path.join(dir, 'jwks.json');
  let key: TestKey;
  let server: ServeProcess;
  let cli: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
  const token = (claims: Record<string, unknown> & { expiresIn?: number } = {}) => signToken(key, { iss: ISSUER, aud: AUDIENCE, sub: 'release-bot', imprint_apps: '*', ...claims });

  beforeAll(async () => {
    key = await makeKey('2026-11');
    writeJwks(jwks, key);
    server = await startServe(dataDir, ['--jwt-jwks', jwks, '--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE]);
    cli = (args, env = {}) => imprint(['--address', server.address, '--data-dir', dataDir, ...args], env);
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it('says in its banner which callers it accepts', () => {
    expect(server.output()).toContain(`callers   bearer JWTs from ${ISSUER} for audience ${AUDIENCE}, keys ${jwks}`);
  });

  it('records the principal of --token, IMPRINT_TOKEN and --token-file in the history', async () => {
    const t = await token();
    expect((await cli(['--token', t, 'topic', 'create', 'model', '--owner', 'trust'])).code).toBe(0);
    // The creator owns the topic and lets the CI job publish to it.
    expect((await cli(['--token', t, 'acl', 'grant', 'model', 'publisher', 'ci-publisher'])).code).toBe(0);
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, `${await token({ sub: 'ci-publisher' })}\n`);
    const published = await cli(['--token-file', file, 'publish', 'model', path.resolve('package.json')]);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    const history = await cli(['--json', 'history', 'model'], { IMPRINT_TOKEN: t });
    expect(history.code).toBe(0);
    const by = Object.fromEntries((JSON.parse(history.stdout) as { kind: string; by: unknown }[]).map((c) => [c.kind, c.by]));
    expect(by['create-topic']).toMatchObject({ principal: 'release-bot', authenticated: true });
    expect(by['publish']).toMatchObject({ principal: 'ci-publisher', authenticated: true });
  });

  it('refuses a call without a token, or with an expired one, saying why (exit 1)', async () => {
    const none = await cli(['topic', 'list']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('unauthenticated: no credentials: send a bearer token');
    const expired = await cli(['--token', await token({ expiresIn: -3600 }), 'topic', 'list']);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/unauthenticated: bearer token refused: expired at \d{4}-/);
  });

  it('refuses an app the principal may not act as (exit 1), and serves the ones it may', async () => {
    const scorer = await token({ sub: 'svc-scorer', imprint_apps: ['scorer'] });
    const denied = await cli(['--token', scorer, 'poll', 'model', '--app', 'billing']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('permission denied: "svc-scorer" may not act as app "billing" (identity.app) on topic "model"');
    const allowed = await cli(['--token', scorer, 'poll', 'model', '--app', 'scorer']);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
  });

  it('checks the serve flags, naming the flag (exit 2)', async () => {
    const noIssuer = await imprint(['--data-dir', path.join(dir, 'other'), 'serve', '--port', '0', '--jwt-jwks', jwks, '--jwt-audience', AUDIENCE]);
    expect(noIssuer.code).toBe(2);
    expect(noIssuer.stderr).toContain('invalid argument: --jwt-issuer is required with --jwt-jwks');
    const notJwks = await imprint(['--data-dir', path.join(dir, 'other'), 'serve', '--port', '0', '--jwt-jwks', path.resolve('package.json'), '--jwt-issuer', ISSUER, '--jwt-audience', AUDIENCE]);
    expect(notJwks.code).toBe(2);
    expect(notJwks.stderr).toContain('invalid argument: --jwt-jwks must be a JWKS: JSON {"keys": [...]} with at least one key');
    const both = await cli(['--token', 'a', '--token-file', jwks, 'topic', 'list']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--token and --token-file cannot both be given');
  });
});
