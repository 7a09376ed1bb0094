/**
 * grpcurl, the tool operators reach for, lists and calls the service through reflection, and
 * with the .proto files themselves: both ways it takes the field names the .proto files give
 * (snake_case), as every protoc-based caller does.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGrpcurl } from '../../scripts/tools.js';
import { PROTO_ROOT } from '../../proto/loader.js';
import { directPointer, startTestServer, type TestServer } from '../helpers.js';

const run = promisify(execFile);

describe('grpcurl against the server', () => {
  let t: TestServer;
  let grpcurl: string;
  const call = async (...args: string[]) => (await run(grpcurl, ['-plaintext', ...args])).stdout;

  beforeAll(async () => {
    grpcurl = await ensureGrpcurl();
    t = await startTestServer();
    await t.client.createTopic({ name: 'curl' });
    await t.client.publishPointer('curl', directPointer('hello'), { metadata: { build: '9' } });
  }, 600_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('lists every service, health included', async () => {
    const services = (await call(t.address, 'list')).trim().split('\n');
    expect(services).toEqual(expect.arrayContaining(['grpc.health.v1.Health', 'imprint.v1.ConsumerService', 'imprint.v1.OperatorService', 'imprint.v1.PublisherService']));
  });

  it('describes messages with map fields (map entries named as protoc names them)', async () => {
    const out = await call(t.address, 'describe', 'imprint.v1.PublishRequest');
    expect(out).toContain('map<string, string> metadata = 2;');
  });

  it('describes fields as protoc does: snake_case names, proto3 optional kept', async () => {
    const retention = await call(t.address, 'describe', 'imprint.v1.Retention');
    expect(retention).toContain('optional uint32 keep_versions = 1;');
    expect(retention).toContain('optional uint32 keep_days = 2;');
    expect(await call(t.address, 'describe', 'imprint.v1.PollRequest')).toContain('uint64 last_seen_version = 3;');
    expect(await call(t.address, 'describe', 'imprint.v1.ConsumerIdentity')).toContain('string node_id = 4;');
  });

  it("takes the .proto's own field names through reflection and from the .proto files", async () => {
    const body = JSON.stringify({ name: 'snake', owner: 'ops', retention: { keep_versions: 3, keep_days: 7 } });
    const created = JSON.parse(await call('-d', body, t.address, 'imprint.v1.PublisherService/CreateTopic')) as { topic: { retention: { keepVersions: number; keepDays: number } } };
    expect(created.topic.retention).toEqual({ keepVersions: 3, keepDays: 7 });
    const poll = { topic: 'curl', identity: { app: 'ops', node_id: 'n1' }, last_seen_version: '1' };
    // Through reflection: the version held is 1, so there is nothing newer.
    expect(JSON.parse(await call('-d', JSON.stringify(poll), t.address, 'imprint.v1.ConsumerService/Poll'))).toEqual({});
    // From the source files, compiled by grpcurl's own protoc-compatible parser.
    const fromFiles = ['-import-path', PROTO_ROOT, '-proto', path.join('imprint', 'v1', 'consumer.proto')];
    expect(JSON.parse(await call(...fromFiles, '-d', JSON.stringify({ ...poll, last_seen_version: '0' }), t.address, 'imprint.v1.ConsumerService/Poll'))).toMatchObject({
      update: { record: { version: '1' } },
    });
    const updated = await call('-import-path', PROTO_ROOT, '-proto', path.join('imprint', 'v1', 'publisher.proto'), '-d', JSON.stringify({ name: 'snake', retention: { keep_versions: 5 } }), t.address, 'imprint.v1.PublisherService/UpdateTopic');
    expect((JSON.parse(updated) as { topic: { retention: unknown } }).topic.retention).toEqual({ keepVersions: 5 });
  });

  it('calls Poll and Health', async () => {
    const poll = JSON.parse(await call('-d', '{"topic":"curl","identity":{"app":"ops"}}', t.address, 'imprint.v1.ConsumerService/Poll')) as {
      update: { record: { version: string; metadata: Record<string, string> } };
    };
    expect(poll.update.record.version).toBe('1');
    expect(poll.update.record.metadata).toEqual({ build: '9' });
    const health = JSON.parse(await call(t.address, 'grpc.health.v1.Health/Check')) as { status: string };
    expect(health.status).toBe('SERVING');
  });

  it('shows errors as statuses a person can act on', async () => {
    const err = await run(grpcurl, ['-plaintext', '-d', '{"topic":"nope","identity":{"app":"ops"}}', t.address, 'imprint.v1.ConsumerService/Poll']).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${(err as { stderr: string }).stderr}`).toMatch(/Code: NotFound[\s\S]*topic "nope" does not exist/);
    const anonymous = await run(grpcurl, ['-plaintext', '-d', '{"topic":"nope"}', t.address, 'imprint.v1.ConsumerService/Poll']).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${(anonymous as { stderr: string }).stderr}`).toMatch(/Code: InvalidArgument[\s\S]*identity\.app is required/);
    const huge = await run(grpcurl, ['-plaintext', '-d', '{"topic":"nope","version":"18446744073709551615"}', t.address, 'imprint.v1.ConsumerService/GetVersion']).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${(huge as { stderr: string }).stderr}`).toContain('Message: version must be a whole number between 1 and 9223372036854775807 (got 18446744073709551615)');
  });
});
