/** grpcurl, the tool operators reach for, lists and calls the service through reflection. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGrpcurl } from '../../scripts/grpcurl.js';
import { directPointer, startTestServer, type TestServer } from '../helpers.js';

const run = promisify(execFile);

describe('grpcurl against the server', () => {
  let t: TestServer;
  let grpcurl: string;
  const call = async (...args: string[]) => (await run(grpcurl, ['-plaintext', ...args])).stdout;

  beforeAll(async () => {
    grpcurl = ensureGrpcurl();
    t = await startTestServer();
    await t.client.createTopic({ name: 'curl' });
    await t.client.publishPointer('curl', directPointer('hello'), { metadata: { build: '9' } });
  }, 600_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('lists every service, health included', async () => {
    const services = (await call(t.address, 'list')).trim().split('\n');
    expect(services).toEqual(expect.arrayContaining(['grpc.health.v1.Health', 'imprint.v1.Consumer', 'imprint.v1.Operator', 'imprint.v1.Publisher']));
  });

  it('describes messages with map fields (map entries named as protoc names them)', async () => {
    const out = await call(t.address, 'describe', 'imprint.v1.PublishRequest');
    expect(out).toContain('map<string, string> metadata = 2;');
  });

  it('calls Poll and Health', async () => {
    const poll = JSON.parse(await call('-d', '{"topic":"curl","identity":{"app":"ops"}}', t.address, 'imprint.v1.Consumer/Poll')) as {
      update: { record: { version: string; metadata: Record<string, string> } };
    };
    expect(poll.update.record.version).toBe('1');
    expect(poll.update.record.metadata).toEqual({ build: '9' });
    const health = JSON.parse(await call(t.address, 'grpc.health.v1.Health/Check')) as { status: string };
    expect(health.status).toBe('SERVING');
  });

  it('shows errors as statuses a person can act on', async () => {
    const err = await run(grpcurl, ['-plaintext', '-d', '{"topic":"nope"}', t.address, 'imprint.v1.Consumer/Poll']).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${(err as { stderr: string }).stderr}`).toMatch(/Code: NotFound[\s\S]*topic "nope" does not exist/);
  });
});
