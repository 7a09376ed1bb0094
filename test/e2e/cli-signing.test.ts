/** Signed versions with the `imprint` command against a real `imprint serve`: keygen, topic --trusted-key, publish --sign-key. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf, parseTrustedKey } from '../../core/index.js';
import { CLI, runCli as imprint, startServe, type CliResult as Result, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

describe('imprint keygen, topic --trusted-key, publish --sign-key', () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  let server: ServeProcess;
  let cli: (...args: string[]) => Promise<Result>;

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true); // npm test builds dist/ first
    server = await startServe(dataDir);
    cli = (...args) => imprint(['--address', `127.0.0.1:${server.port}`, '--data-dir', dataDir, ...args]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('walks an operator from keygen to a topic that takes only signed publishes', async () => {
    // 1. Two key pairs: the build's, and someone else's.
    const build = path.join(dir, 'build');
    const gen = await cli('keygen', '--out', build);
    expect(gen.code).toBe(0);
    const keyId = keyIdOf(parseTrustedKey(fs.readFileSync(`${build}.pub`, 'utf8')));
    expect(gen.stdout).toContain(`key id      ${keyId}`);
    expect(fs.statSync(`${build}.key`).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(`${build}.key`, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const again = await cli('keygen', '--out', build);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${build}.key exists; pass --force to overwrite it`);
    const other = path.join(dir, 'other');
    const otherGen = JSON.parse((await cli('--json', 'keygen', '--out', other)).stdout) as { keyId: string };
    expect(otherGen.keyId).toMatch(/^[0-9a-f]{16}$/);

    // 2. A topic that trusts the build's key.
    const created = await cli('topic', 'create', 'model', '--trusted-key', `${build}.pub`);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`signatures  required, by any of key ${keyId}`);
    const file = path.join(dir, 'model.bin');
    fs.writeFileSync(file, 'weights v1');

    // 3. Unsigned and wrongly signed publishes are refused; the signed one is taken.
    const unsigned = await cli('publish', 'model', file);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('signature is required: topic "model" requires a signature by one of its 1 trusted key(s)');
    const wrong = await cli('publish', 'model', file, '--sign-key', `${other}.key`);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`signature.key_id must be one of the trusted keys of topic "model" (${keyId}); got "${otherGen.keyId}"`);
    const signed = await cli('publish', 'model', file, '--sign-key', `${build}.key`);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain(`signed   by key ${keyId}`);
    // The key from the environment, as a build job passes it.
    const fromEnv = await imprint(['--address', `127.0.0.1:${server.port}`, '--json', 'publish', 'model', file], { IMPRINT_SIGN_KEY: `${build}.key` });
    expect(fromEnv.code).toBe(0);
    expect((JSON.parse(fromEnv.stdout) as { version: string; signature: { keyId: string } }).signature.keyId).toBe(keyId);
    const versions = JSON.parse((await cli('--json', 'versions', 'model')).stdout) as { version: string }[];
    expect(versions.map((v) => v.version)).toEqual(['2', '1']);

    // 4. Rotating: the topic trusts both keys, then none.
    const both = await cli('topic', 'update', 'model', '--trusted-key', `${build}.pub`, '--trusted-key', `${other}.pub`);
    expect(both.stdout).toContain(`signatures  required, by any of key ${keyId}, ${otherGen.keyId}`);
    expect((await cli('publish', 'model', file, '--sign-key', `${other}.key`)).code).toBe(0);
    const none = await cli('topic', 'update', 'model', '--no-trusted-keys');
    expect(none.code).toBe(0);
    expect(none.stdout).not.toContain('signatures');
    expect((await cli('publish', 'model', file)).code).toBe(0);
  });

  it('bad key files are refused naming the flag, and nothing is published', async () => {
    await cli('topic', 'create', 'model-bad');
    const file = path.join(dir, 'x.bin');
    fs.writeFileSync(file, 'x');
    const missing = await cli('topic', 'update', 'model-bad', '--trusted-key', path.join(dir, 'nope.pub'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('invalid argument: --trusted-key must name a readable file');
    const garbage = path.join(dir, 'garbage.pub');
    fs.writeFileSync(garbage, 'not a key');
    const bad = await cli('topic', 'update', 'model-bad', '--trusted-key', garbage);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid argument: --trusted-key must be a raw Ed25519 public key of 32 bytes');
    const both = await cli('topic', 'update', 'model-bad', '--trusted-key', garbage, '--no-trusted-keys');
    expect(both.stderr).toContain('--no-trusted-keys cannot go with --trusted-key');
    const pub = path.join(dir, 'build.pub');
    const signWithPublic = await cli('publish', 'model-bad', file, '--sign-key', pub);
    expect(signWithPublic.code).toBe(2);
    expect(signWithPublic.stderr).toContain('invalid argument: --sign-key must be an Ed25519 private key');
    const versions = JSON.parse((await cli('--json', 'versions', 'model-bad')).stdout) as unknown[];
    expect(versions).toEqual([]);
  });
});
