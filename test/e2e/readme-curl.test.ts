/**
 * The README's curl walkthrough against the embedded defaults (SQLite, the local blob store
 * whose lent URLs the service serves itself): it runs as written and prints what the README
 * says; the bytes fetched are the bytes published; the pin it made is gone again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeCurl, runReadmeCurl } from '../readme-curl.js';
import { identity, startTestServer, type TestServer } from '../helpers.js';

describe("README's walkthrough with curl, on the embedded defaults", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ httpPort: 0 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('runs as written, prints what the README says, and leaves v1 as a blob of the model and no pin', async () => {
    const run = await runReadmeCurl(`http://127.0.0.1:${t.server.http?.port}`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(readmeCurl().prints);
    const model = fs.readFileSync(path.join(run.dir, 'model.bin'));
    expect(fs.readFileSync(path.join(run.dir, 'fetched.bin')).equals(model)).toBe(true);
    const v1 = await t.client.getVersion('fraud-model', 1n);
    expect(v1.pointer).toMatchObject({ kind: 'blob', size: model.length, locations: [{ kind: 'file' }] });
    expect(await t.client.listPins('fraud-model')).toEqual([]);
    expect((await t.client.poll('fraud-model', identity({ app: 'scorer' }), 0n)).record?.version).toBe(2n);
  });
});
