/**
 * Denials in the audit, through a real server with its own file audit sink: a call refused by
 * access control (gRPC or REST) becomes a denied event naming the principal, the action, the
 * topic, the method and the app the call claimed; a caller refused in a loop costs one event a
 * minute per (principal, action, topic), the rest counted into the next one; an owner reads
 * them with ListDenials (and `imprint topic denials`); who may not inspect the topic may not.
 * And a consumer's hold event names its poll's principal, not only the app it claimed: ListMoves
 * (and `imprint topic moves`) shows who moved.
 *
 * The authenticator is the access tests' (the bearer token is the principal's name); the
 * server's clock is the test's, so "a minute later" is a step, not a wait.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { authenticate, caller, clientsFor, closeClients } from '../access-calls.js';
import { runCli } from '../cli-process.js';
import { restPost } from '../rest-calls.js';
import { tempDir } from '../helpers.js';

const wirePointer = { size: 5, sha256: '', direct: Buffer.from('model') };
const identity = { app: 'scorer', nodeId: 'n1' };
/** An hour ago, in whole seconds (the CLI's --since counts back from the real time). */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

interface WireDenial {
  atMs: string;
  principal: string;
  action: string;
  method: string;
  app: string;
  count: string;
  replica: string;
}

describe('denials in the audit (all role, SQLite, file audit sink)', () => {
  let dir: string;
  let server: ImprintServer;
  let rpc: ReturnType<typeof caller>;
  let clients: ReturnType<typeof clientsFor>;
  let now = T0;
  const topic = 'guarded';

  beforeAll(async () => {
    dir = tempDir();
    server = await startImprintServer({ dataDir: dir, port: 0, httpPort: 0, log: silentLogger, authenticate, clock: () => now, replica: 'test-replica', access: { consume: 'owners' } });
    clients = clientsFor(server.port);
    rpc = caller(clients);
    expect((await rpc('PublisherService', 'CreateTopic', { name: topic, owner: 'ml' }, 'alice')).code).toBe(grpc.status.OK);
    const digest = await import('node:crypto').then((c) => c.createHash('sha256').update('model').digest('hex'));
    wirePointer.sha256 = digest;
    expect((await rpc('PublisherService', 'Publish', { topic, pointer: wirePointer }, 'alice')).code).toBe(grpc.status.OK);
  });
  afterAll(async () => {
    if (clients) closeClients(clients);
    await server?.stop({ drain: false });
  });

  const denials = async (who = 'alice', sinceMs = T0 - 1): Promise<string[]> => {
    const got = await rpc('OperatorService', 'ListDenials', { topic, sinceMs }, who);
    expect(got.code, got.details).toBe(grpc.status.OK);
    return (got.res['denials'] as WireDenial[]).map((d) => `${Number(d.atMs) - T0} ${d.principal} ${d.action} ${d.method} ${d.app || '-'} x${d.count} ${d.replica}`);
  };

  it('a refused Poll, Publish and REST Pin each become one denied event, read back by the owner', async () => {
    now = T0 + 1_000;
    expect((await rpc('ConsumerService', 'Poll', { topic, identity }, 'eve')).code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await rpc('PublisherService', 'Publish', { topic, pointer: wirePointer }, 'eve')).code).toBe(grpc.status.PERMISSION_DENIED);
    now = T0 + 2_000;
    const rest = await restPost(`http://127.0.0.1:${server.http?.port}`, '/v1/operator/Pin', { topic, version: '1' }, { headers: { authorization: 'Bearer eve', 'x-imprint-app': 'deployer' } });
    expect(rest.status).toBe(403);
    expect(await denials()).toEqual([
      '2000 eve operate Pin deployer x1 test-replica',
      '1000 eve consume Poll scorer x1 test-replica',
      '1000 eve publish Publish - x1 test-replica',
    ]);
    // Nothing changed: no pin, still version 1 only.
    const described = await rpc('OperatorService', 'DescribeTopic', { name: topic }, 'alice');
    expect(described.res['pins']).toEqual([]);
  });

  it('a caller refused in a loop costs one event a minute; the next one carries how many were refused since', async () => {
    now = T0 + 3_000;
    for (let i = 0; i < 20; i++) expect((await rpc('ConsumerService', 'BatchPoll', { identity, topics: [{ topic }] }, 'eve')).code).toBe(grpc.status.OK);
    for (let i = 0; i < 9; i++) expect((await rpc('ConsumerService', 'Poll', { topic, identity }, 'eve')).code).toBe(grpc.status.PERMISSION_DENIED);
    // Within the minute of the first Poll's event: none more.
    expect((await denials()).filter((l) => l.includes(' consume '))).toEqual(['1000 eve consume Poll scorer x1 test-replica']);
    now = T0 + 61_000;
    expect((await rpc('ConsumerService', 'Poll', { topic, identity }, 'eve')).code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await denials()).filter((l) => l.includes(' consume '))).toEqual(['61000 eve consume Poll scorer x30 test-replica', '1000 eve consume Poll scorer x1 test-replica']);
    expect(server.service.access.denials.consume).toBe(31);
  });

  it('who may not inspect the topic may not list its denials (and that refusal is one more)', async () => {
    const got = await rpc('OperatorService', 'ListDenials', { topic }, 'eve');
    expect(got.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(got.details).toContain('"eve" may not inspect on topic "guarded"');
    expect((await denials()).slice(0, 2)).toEqual(['61000 eve consume Poll scorer x30 test-replica', '61000 eve inspect ListDenials - x1 test-replica']);
    const bad = await rpc('OperatorService', 'ListDenials', { topic, pageSize: 1001 }, 'alice');
    expect([bad.code, bad.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'page_size must be a whole number between 0 and 1000 (0: 100) (got 1001)']);
  });

  it("a poll's hold event names its principal beside the app it claimed; ListMoves and imprint topic moves show it", async () => {
    now = T0 + 62_000;
    expect((await rpc('OperatorService', 'GrantAccess', { topic, grant: { role: 'ROLE_CONSUMER', grantee: 'svc-scorer' } }, 'alice')).code).toBe(grpc.status.OK);
    const polled = await rpc('ConsumerService', 'Poll', { topic, identity: { app: 'scorer', nodeId: 'n7' } }, 'svc-scorer');
    expect(polled.code, polled.details).toBe(grpc.status.OK);
    const moves = await rpc('OperatorService', 'ListMoves', { topic, sinceMs: T0 }, 'alice');
    expect((moves.res['moves'] as { nodeId: string; app: string; principal: string; toVersion: string }[]).map((m) => [m.nodeId, m.app, m.principal, m.toVersion])).toEqual([['n7', 'scorer', 'svc-scorer', '1']]);
    const r = await runCli(['--address', `127.0.0.1:${server.port}`, '--token', 'alice', 'topic', 'moves', topic, '--since', '2h']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/n7 .*first -> v1 +by svc-scorer\n/);
  });

  it('imprint topic denials lists them for the owner', async () => {
    const r = await runCli(['--address', `127.0.0.1:${server.port}`, '--token', 'alice', 'topic', 'denials', topic, '--since', '2h', '--limit', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.trim() !== '')).toEqual([
      expect.stringMatching(/eve +consume +Poll +app scorer x30 +\(test-replica\)$/),
      expect.stringMatching(/eve +inspect +ListDenials +x1 +\(test-replica\)$/),
      '(more: narrow --since, or raise --limit)',
    ]);
  });
});
