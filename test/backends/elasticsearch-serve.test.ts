/** `imprint serve --audit elasticsearch` as the README says, and `topic consumers` answered from the index. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { identity, directPointer, tempDir } from '../helpers.js';

const CLI = path.resolve('dist/cli/main.js');
const run = promisify(execFile);

describe('serve --audit elasticsearch', () => {
  let proc: ChildProcess;
  let address: string;
  let client: ImprintClient;
  let output = '';

  beforeAll(async () => {
    const esUrl = process.env.IMPRINT_ELASTICSEARCH ?? '';
    expect(esUrl).toMatch(/^http/);
    proc = spawn(process.execPath, [CLI, '--data-dir', tempDir(), 'serve', '--port', '0', '--audit', 'elasticsearch', '--es-url', esUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 20_000);
      proc.stderr?.on('data', (b: Buffer) => {
        output += b.toString();
        const m = /Imprint is serving on [\d.]+:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    address = `127.0.0.1:${port}`;
    client = new ImprintClient({ address });
  });
  afterAll(async () => {
    client?.close();
    await new Promise<void>((resolve) => {
      proc.on('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  });

  it('says where audit goes', () => {
    expect(output).toMatch(/audit\s+elasticsearch http:\/\/127\.0\.0\.1:\d+ \(imprint-audit-\*\)/);
  });

  it('indexes polls, and topic consumers answers from Elasticsearch', async () => {
    const topic = `es-${Date.now().toString(36)}`;
    await client.createTopic({ name: topic });
    await client.publishPointer(topic, directPointer('one'));
    await client.publishPointer(topic, directPointer('two'));
    for (const node of ['a', 'b', 'c']) await client.poll(topic, identity({ app: 'scorer', cluster: 'prod', nodeId: node }), 0n);
    await client.poll(topic, identity({ app: 'ranker', cluster: 'canary', nodeId: 'z' }), 2n);
    // Events reach the index within a flush interval and a refresh; wait for them, bounded.
    let stdout = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      stdout = (await run(process.execPath, [CLI, '--address', address, 'topic', 'consumers', topic, '--since', '1h'])).stdout;
      if (/4 nodes polled/.test(stdout)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(stdout).toMatch(/4 nodes polled/);
    expect(stdout).toMatch(/scorer\/prod\s+3 nodes\s+v2: 3/);
    expect(stdout).toMatch(/ranker\/canary\s+1 nodes\s+v2: 1/);
  });

  it('janitor --once --es-url deletes audit indices past their retention, and keeps recent ones', async () => {
    const esUrl = process.env.IMPRINT_ELASTICSEARCH ?? '';
    const old = 'imprint-audit-2020.01.01';
    const res = await fetch(`${esUrl}/${old}`, { method: 'PUT' });
    expect(res.status).toBe(200);
    const out = (await run(process.execPath, [CLI, '--data-dir', tempDir(), 'janitor', '--once', '--es-url', esUrl, '--audit-retention-days', '30'])).stdout;
    expect(out).toMatch(new RegExp(`^audit-purge: 1 audit indices deleted \\(${old.replaceAll('.', '\\.')}\\)$`, 'm'));
    expect((await fetch(`${esUrl}/${old}`, { method: 'HEAD' })).status).toBe(404);
    const today = await fetch(`${esUrl}/_cat/indices/imprint-audit-*?format=json`);
    expect(((await today.json()) as { index: string }[]).length).toBeGreaterThan(0);
  });
});
