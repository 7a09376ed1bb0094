/**
 * The authentication seam (server/auth/principal.ts): a server given an authenticator runs it
 * before every handler, answers UNAUTHENTICATED with its reason when it refuses (the handler
 * never runs), and hands the principal to the service code, which records it in the history
 * instead of the name a request claims. Health stays open. The authenticators themselves
 * (mTLS, JWT) have their own tests.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { loadImprintProto } from '../../proto/loader.js';
import { startImprintServer, type Authenticate, type ImprintServer } from '../../server/index.js';
import { tempDir } from '../helpers.js';
import { checkHealth } from '../../client/health.js';

type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => grpc.ClientUnaryCall;

/** Bearer "sync-NAME" authenticates at once, "async-NAME" after a tick; anything else is refused. */
const authenticate: Authenticate = (call) => {
  const token = String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer /, '');
  const [how, name] = token.split('-');
  if (!name) throw new UnauthenticatedError('no bearer token');
  const principal = { name, groups: [], apps: '*' as const, via: 'jwt' as const };
  if (how === 'sync') return principal;
  if (how === 'async') return new Promise((resolve) => setImmediate(() => resolve(principal)));
  throw new UnauthenticatedError(`token kind ${how} unknown`);
};

describe('a server with an authenticator', () => {
  let server: ImprintServer;
  let clients: Record<'PublisherService' | 'ConsumerService' | 'OperatorService', Record<string, Unary>>;
  const call = (service: keyof typeof clients, method: string, request: object, token?: string) => {
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    return new Promise<{ code: grpc.status; details: string; res: unknown }>((resolve) => {
      const client = clients[service];
      client[method]?.call(client, request, md, { deadline: Date.now() + 30_000 }, (err, res) => resolve({ code: err ? err.code : grpc.status.OK, details: err?.details ?? '', res }));
    });
  };

  beforeAll(async () => {
    server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger, authenticate });
    const v1 = loadImprintProto().proto.imprint.v1;
    const creds = grpc.credentials.createInsecure();
    const address = `127.0.0.1:${server.port}`;
    clients = {
      PublisherService: new v1.PublisherService(address, creds) as unknown as Record<string, Unary>,
      ConsumerService: new v1.ConsumerService(address, creds) as unknown as Record<string, Unary>,
      OperatorService: new v1.OperatorService(address, creds) as unknown as Record<string, Unary>,
    };
  });
  afterAll(async () => {
    await server?.stop({ drain: false });
  });

  it('answers UNAUTHENTICATED with the reason, and the handler does not run', async () => {
    const none = await call('PublisherService', 'CreateTopic', { name: 'auth-none', owner: 'o' });
    expect(none.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(none.details).toBe('unauthenticated: no bearer token');
    const bad = await call('ConsumerService', 'Poll', { topic: 'auth-none', identity: { app: 'a', nodeId: 'n' } }, 'forged-x');
    expect(bad.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(bad.details).toContain('token kind forged unknown');
    expect((await call('ConsumerService', 'GetTopic', { name: 'auth-none' }, 'sync-alice')).code).toBe(grpc.status.NOT_FOUND);
  });

  it('records the authenticated principal, not the claimed name, in the history (sync and async authenticators)', async () => {
    expect((await call('PublisherService', 'CreateTopic', { name: 'auth-topic', owner: 'o' }, 'async-alice')).code).toBe(grpc.status.OK);
    // alice owns it (access control): bob may publish, carol pin.
    await server.store.grant('auth-topic', { role: 'publisher', grantee: 'bob' }, Date.now());
    await server.store.grant('auth-topic', { role: 'operator', grantee: 'carol' }, Date.now());
    const published = await call('PublisherService', 'Publish', { topic: 'auth-topic', pointer: { size: 1, sha256: createHash('sha256').update('x').digest('hex'), direct: Buffer.from('x') } }, 'sync-bob');
    expect(published.code).toBe(grpc.status.OK);
    expect((await call('OperatorService', 'Pin', { topic: 'auth-topic', version: '1', reason: 'r', createdBy: 'mallory' }, 'sync-carol')).code).toBe(grpc.status.OK);
    const page = await server.service.listHistory('auth-topic', 10, undefined);
    const by = Object.fromEntries(page.changes.map((c) => [c.kind, c.by]));
    expect(by['create-topic']).toMatchObject({ principal: 'alice', authenticated: true });
    expect(by['publish']).toMatchObject({ principal: 'bob', authenticated: true });
    expect(by['pin']).toMatchObject({ principal: 'carol', authenticated: true });
  });

  it('leaves health open', async () => {
    expect(await checkHealth(`127.0.0.1:${server.port}`)).toBe('SERVING');
  });

});
