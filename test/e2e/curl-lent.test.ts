/**
 * A payload published and fetched with grpcurl and curl alone, against the embedded local
 * store's lent URLs on a real server (the same against MinIO is in
 * test/backends/s3-lent-urls.test.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGrpcurl } from '../../scripts/tools.js';
import { curl, curlRoundTrip } from '../curl-lent.js';
import { startTestServer, tempDir, type TestServer } from '../helpers.js';

const run = promisify(execFile);

describe('curl and grpcurl alone, against the embedded store', () => {
  let t: TestServer;
  const dir = tempDir();
  const file = path.join(dir, 'payload.bin');

  beforeAll(async () => {
    await ensureGrpcurl();
    fs.writeFileSync(file, randomBytes(20 * 1024 * 1024));
    t = await startTestServer({ httpPort: 0 });
    await t.client.createTopic({ name: 'curl' });
  }, 600_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('publishes 20 MiB with curl -T to the lent URL and fetches it with curl -o, sha256 the same; a range with curl -r', async () => {
    const got = await curlRoundTrip(t.address, 'curl', file, dir);
    expect(got.regions).toEqual(['local']);
    const [a, b] = await Promise.all([file, got.downloaded].map(async (f) => (await run('sha256sum', [f])).stdout.split(' ')[0]));
    expect(b).toBe(a);
    expect(got.range.equals(fs.readFileSync(file).subarray(100, 116))).toBe(true);
  });

  it('curl sees 400 with the field for other bytes, and 403 for an expired or tampered URL', async () => {
    const lent = await t.client.beginUpload('curl', 5, 'a'.repeat(64));
    const url = lent.targets[0]?.parts[0]?.url ?? '';
    const refused = await curl('-X', 'PUT', '--data-binary', 'hello', url).catch((e: { stdout: string }) => e.stdout);
    expect(JSON.parse(refused)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'sha256' });
    const status = (await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '--data-binary', 'hello', url.replace(/sig=[^&]+/, 'sig=AAAA')])).stdout;
    expect(status).toBe('403');
  });
});
