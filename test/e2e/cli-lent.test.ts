/**
 * `imprint publish` and `imprint download` with no blob flags move a payload through the
 * service's lent URLs: the CLI here has its own data dir, so it holds no store the served
 * instance reads, and needs none.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { runCli, startServe, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

describe('imprint publish / download through lent URLs', () => {
  let server: ServeProcess;
  const dir = tempDir();
  const cli = (...args: string[]) => runCli(['--address', server.address, '--data-dir', path.join(dir, 'cli'), ...args]);

  beforeAll(async () => {
    server = await startServe(path.join(dir, 'server'));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('publishes a 3 MB file and downloads it byte for byte, with no blob flags and no store of its own', async () => {
    const file = path.join(dir, 'model.bin');
    const payload = randomBytes(3 * 1024 * 1024 + 5);
    fs.writeFileSync(file, payload);
    expect((await cli('topic', 'create', 'model', '--owner', 'ml')).code).toBe(0);
    const published = await cli('publish', 'model', file);
    expect([published.code, published.stderr]).toEqual([0, expect.any(String)]);
    expect(published.stdout).toMatch(/published model v1/);
    // The object is in the server's store, none in the CLI's data dir.
    expect(fs.existsSync(path.join(dir, 'cli', 'blobs'))).toBe(false);
    const out = path.join(dir, 'back.bin');
    const downloaded = await cli('download', 'model', '1', '-o', out);
    expect([downloaded.code, downloaded.stdout]).toEqual([0, expect.stringMatching(/sha256 verified/)]);
    expect(fs.readFileSync(out).equals(payload)).toBe(true);
  });

  it('serve --public-url, --lend-secret-file and --lend-expiry-ms shape the URLs; a bad one is refused naming its flag', async () => {
    const secret = path.join(dir, 'lend.secret');
    fs.writeFileSync(secret, 'a-secret-shared-by-instances\n');
    const other = await startServe(path.join(dir, 'other'), ['--public-url', 'https://imprint.example.com:8443/', '--lend-secret-file', secret, '--lend-expiry-ms', '60000']);
    const client = new ImprintClient({ address: other.address });
    try {
      await client.createTopic({ name: 'model' });
      const lent = await client.beginUpload('model', 5, 'a'.repeat(64));
      expect(lent.targets[0]?.parts[0]?.url).toMatch(/^https:\/\/imprint\.example\.com:8443\/blobs\/local\/model\//);
      expect(lent.expiresAtMs - Date.now()).toBeLessThanOrEqual(60_000);
    } finally {
      client.close();
      await other.stop();
    }
    const bad = await runCli(['--data-dir', path.join(dir, 'bad'), 'serve', '--port', '0', '--lend-expiry-ms', '10']);
    expect([bad.code, bad.stderr]).toEqual([expect.any(Number), expect.stringMatching(/lend-expiry-ms must be a whole number of milliseconds from 1000/)]);
    expect(bad.code).not.toBe(0);
    const missing = await runCli(['--data-dir', path.join(dir, 'bad'), 'serve', '--port', '0', '--lend-secret-file', path.join(dir, 'nope')]);
    expect(missing.stderr).toMatch(/lend-secret-file must be a readable file/);
  });
});
