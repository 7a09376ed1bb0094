/**
 * Per-topic access control through gRPC, on SQLite: every action allowed and denied for each
 * role (owner, publisher, operator, consumer, nobody, admin); BatchPoll and Watch answer
 * PERMISSION_DENIED per topic on the all role and the consume role; a grant or revoke reaches
 * a consume instance through the change feed; a denial names principal, action and topic,
 * changes nothing and is counted and logged; anonymous servers are unchanged.
 *
 * The authenticator is a test one (the bearer token is "NAME" or "NAME@GROUP,GROUP"): the
 * real ones (mTLS, JWT) have their own tests and hand the server the same Principal.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessAction } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { SqliteMetadataStore, startImprintServer, type ImprintServer } from '../../server/index.js';
import { authenticate, caller, clientsFor, closeClients, eventually, type Service, type Unary } from '../access-calls.js';
import { MemoryAuditSink, directPointer, tempDir, until } from '../helpers.js';

const payload = directPointer('model');
const wirePointer = { size: payload.size, sha256: payload.sha256, direct: Buffer.from('model') };
const identity = { app: 'scorer', nodeId: 'n1' };

/** Which actions each principal may do on the topic (core/access.ts's table; root is an admin). */
const MAY: Record<string, readonly AccessAction[]> = {
  alice: ['consume', 'inspect', 'publish', 'operate', 'own'],
  pub: ['consume', 'inspect', 'publish'],
  'op@sre': ['consume', 'inspect', 'operate'],
  con: ['consume'],
  eve: [],
  'x@admins': ['consume', 'inspect', 'publish', 'operate', 'own'],
};

describe('access control through gRPC (all role, SQLite)', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  let server: ImprintServer;
  let rpc: ReturnType<typeof caller>;
  let clients: ReturnType<typeof clientsFor>;
  const topic = 'acl-models';

  beforeAll(async () => {
    dir = tempDir();
    store = SqliteMetadataStore.open({ file: `${dir}/imprint.db` });
    server = await startImprintServer({
      dataDir: dir,
      port: 0,
      log: silentLogger,
      metadataStore: store,
      auditSink: new MemoryAuditSink(),
      authenticate,
      metricsPort: 0,
      // Consume restricted too, so that the consumer role means something here.
      access: { admins: ['group:admins'], consume: 'owners' },
    });
    clients = clientsFor(server.port);
    rpc = caller(clients);
    expect((await rpc('PublisherService', 'CreateTopic', { name: topic, owner: 'ml' }, 'alice')).code).toBe(grpc.status.OK);
    for (const [role, grantee] of [
      ['ROLE_PUBLISHER', 'pub'],
      ['ROLE_OPERATOR', 'group:sre'],
      ['ROLE_CONSUMER', 'con'],
    ] as const) {
      expect((await rpc('OperatorService', 'GrantAccess', { topic, grant: { role, grantee } }, 'alice')).code).toBe(grpc.status.OK);
    }
    expect((await rpc('PublisherService', 'Publish', { topic, pointer: wirePointer }, 'alice')).code).toBe(grpc.status.OK);
  });
  afterAll(async () => {
    if (clients) closeClients(clients);
    await server?.stop({ drain: false });
    await store?.close();
  });

  it("the creator owns a new topic: its grants are the creator's and the ones its owner gave", async () => {
    const got = await rpc('OperatorService', 'GetAccess', { topic }, 'alice');
    expect(got.res['grants']).toEqual([
      { role: 'ROLE_OWNER', grantee: 'alice' },
      { role: 'ROLE_PUBLISHER', grantee: 'pub' },
      { role: 'ROLE_OPERATOR', grantee: 'group:sre' },
      { role: 'ROLE_CONSUMER', grantee: 'con' },
    ]);
  });

  for (const [who, may] of Object.entries(MAY)) {
    it(`${who}: allowed ${may.join(', ') || 'nothing'}; PERMISSION_DENIED for the rest, naming principal, action and topic`, async () => {
      const name = who.split('@')[0] ?? who;
      const calls: [AccessAction, Service, string, object][] = [
        ['consume', 'ConsumerService', 'GetTopic', { name: topic }],
        ['consume', 'ConsumerService', 'Poll', { topic, identity }],
        ['consume', 'ConsumerService', 'GetVersion', { topic, version: '1' }],
        ['consume', 'ConsumerService', 'ListVersions', { topic }],
        ['consume', 'ConsumerService', 'GetLatestAt', { topic, identity, atMs: Date.now() }],
        ['consume', 'OperatorService', 'ListPins', { topic }],
        ['inspect', 'OperatorService', 'DescribeTopic', { name: topic }],
        ['inspect', 'OperatorService', 'ListHistory', { topic }],
        ['inspect', 'OperatorService', 'GetAccess', { topic }],
        ['publish', 'PublisherService', 'Publish', { topic, pointer: wirePointer }],
        ['publish', 'PublisherService', 'AddScopes', { topic, version: '1', scopes: [{ labels: { region: `r-${name}` } }] }],
        ['operate', 'OperatorService', 'Pin', { topic, version: '1', reason: 'test' }],
        ['operate', 'OperatorService', 'Unpin', { topic }],
        ['own', 'PublisherService', 'UpdateTopic', { name: topic, description: `by ${name}` }],
        ['own', 'OperatorService', 'GrantAccess', { topic, grant: { role: 'ROLE_CONSUMER', grantee: `extra-${name}` } }],
        ['own', 'OperatorService', 'RevokeAccess', { topic, grant: { role: 'ROLE_CONSUMER', grantee: `extra-${name}` } }],
      ];
      for (const [action, service, method, req] of calls) {
        const historyBefore = (await store.listHistory(topic, { limit: 1000 })).length;
        const got = await rpc(service, method, req, who);
        if (may.includes(action)) {
          expect(got.code, `${who} ${method}: ${got.details}`).toBe(grpc.status.OK);
        } else {
          expect(got.code, `${who} ${method}`).toBe(grpc.status.PERMISSION_DENIED);
          expect(got.details).toBe(`permission denied: "${name}" may not ${action} on topic "${topic}" (${why(action)})`);
          // Nothing changed: no history entry, no version.
          expect((await store.listHistory(topic, { limit: 1000 })).length).toBe(historyBefore);
        }
      }
    });
  }

  it('GetCallerAccess answers each caller exactly the actions the calls above allow it, and NOT_FOUND for an unknown topic', async () => {
    for (const [who, may] of Object.entries(MAY)) {
      const got = await rpc('OperatorService', 'GetCallerAccess', { topic }, who);
      expect(got.code, `${who}: ${got.details}`).toBe(grpc.status.OK);
      expect(got.res, who).toEqual({ principal: who.split('@')[0], admin: who === 'x@admins', actions: may.map((a) => `ACCESS_ACTION_${a.toUpperCase()}`) });
    }
    expect((await rpc('OperatorService', 'GetCallerAccess', { topic: 'acl-none' }, 'eve')).code).toBe(grpc.status.NOT_FOUND);
  });

  it('creating topics: any principal by default; its creator owns it, and the default policy is granted with it', async () => {
    expect((await rpc('PublisherService', 'CreateTopic', { name: 'acl-eve', owner: 'e' }, 'eve')).code).toBe(grpc.status.OK);
    expect((await store.listGrants('acl-eve')).map((g) => `${g.role} ${g.grantee}`)).toEqual(['owner eve']);
    expect((await rpc('PublisherService', 'DeleteTopic', { name: 'acl-eve' }, 'con')).code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await rpc('PublisherService', 'DeleteTopic', { name: 'acl-eve', reason: 'test' }, 'eve')).code).toBe(grpc.status.OK);
  });

  it('bad grants are INVALID_ARGUMENT naming the wire field and the rule, and change nothing', async () => {
    const before = await store.listGrants(topic);
    const cases: [object, string][] = [
      [{ topic, grant: { role: 'ROLE_UNSPECIFIED', grantee: 'bob' } }, 'grant.role must be one of owner, publisher, operator, consumer'],
      [{ topic, grant: { role: 'ROLE_CONSUMER', grantee: '' } }, 'grant.grantee must name a principal, group:NAME or *'],
      [{ topic, grant: { role: 'ROLE_CONSUMER', grantee: 'a b' } }, 'grant.grantee must not contain spaces'],
      [{ topic }, 'grant is required'],
    ];
    for (const [req, message] of cases) {
      const got = await rpc('OperatorService', 'GrantAccess', req, 'alice');
      expect(got.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(got.details).toContain(message);
    }
    expect(await store.listGrants(topic)).toEqual(before);
  });

  it('a topic takes at most 100 grants (RESOURCE_EXHAUSTED beyond, naming the bound)', async () => {
    const t = 'acl-many';
    expect((await rpc('PublisherService', 'CreateTopic', { name: t, owner: 'o' }, 'alice')).code).toBe(grpc.status.OK);
    for (let i = (await store.listGrants(t)).length; i < 100; i++) await store.grant(t, { role: 'consumer', grantee: `c${i}` }, Date.now());
    const got = await rpc('OperatorService', 'GrantAccess', { topic: t, grant: { role: 'ROLE_CONSUMER', grantee: 'one-more' } }, 'alice');
    expect(got.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(got.details).toContain('the most a topic may have (100)');
    expect(await store.listGrants(t)).toHaveLength(100);
  });

  it('grants and revokes are in the history, by the principal who made them', async () => {
    const history = await store.listHistory(topic, { limit: 1000 });
    const grants = history.filter((c) => c.kind === 'grant').map((c) => [c.details['role'], c.details['grantee'], c.by.principal, c.by.authenticated]);
    expect(grants).toContainEqual(['publisher', 'pub', 'alice', true]);
    expect(grants).toContainEqual(['owner', 'alice', 'alice', true]);
    const revokes = history.filter((c) => c.kind === 'revoke').map((c) => [c.details['grantee'], c.by.principal]);
    expect(revokes).toContainEqual(['extra-alice', 'alice']);
  });

  it('BatchPoll answers PERMISSION_DENIED for the topic the principal may not consume, the others normally', async () => {
    const open = 'acl-open';
    expect((await rpc('PublisherService', 'CreateTopic', { name: open, owner: 'o' }, 'alice')).code).toBe(grpc.status.OK);
    expect((await rpc('OperatorService', 'GrantAccess', { topic: open, grant: { role: 'ROLE_CONSUMER', grantee: '*' } }, 'alice')).code).toBe(grpc.status.OK);
    expect((await rpc('PublisherService', 'Publish', { topic: open, pointer: wirePointer }, 'alice')).code).toBe(grpc.status.OK);
    const got = await rpc('ConsumerService', 'BatchPoll', { identity, topics: [{ topic }, { topic: open }, { topic: 'acl-missing' }] }, 'eve');
    expect(got.code).toBe(grpc.status.OK);
    const results = got.res['results'] as { topic: string; errorCode: string; errorMessage: string; update: { record: { version: string } } | null }[];
    expect(results.map((r) => [r.topic, r.errorCode])).toEqual([
      [topic, 'PERMISSION_DENIED'],
      [open, ''],
      ['acl-missing', 'NOT_FOUND'],
    ]);
    expect(results[0]?.errorMessage).toBe(`permission denied: "eve" may not consume on topic "${topic}" (${why('consume')})`);
    expect(results[1]?.update?.record.version).toBe('1');
  });

  it('denials are counted by action in imprint_permission_denied_total, and logged at most once a minute per principal, action and topic', async () => {
    const before = server.service.access.denials.consume;
    for (let i = 0; i < 5; i++) expect((await rpc('ConsumerService', 'Poll', { topic, identity }, 'eve')).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(server.service.access.denials.consume).toBe(before + 5);
    const text = await (await fetch(`http://127.0.0.1:${server.metricsServer?.port}/metrics`)).text();
    const consume = /imprint_permission_denied_total\{action="consume"\} (\d+)/.exec(text);
    expect(Number(consume?.[1])).toBe(before + 5);
    expect(text).toContain('imprint_permission_denied_total{action="create"} 0');
  });
});

describe('access control on the consume role: decided from the table, changed by the feed', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  let writer: ImprintServer;
  let consumer: ImprintServer;
  let write: ReturnType<typeof caller>;
  let read: ReturnType<typeof caller>;
  let consumerClients: Record<Service, Record<string, Unary>>;
  let writerClients: Record<Service, Record<string, Unary>>;

  beforeAll(async () => {
    dir = tempDir();
    store = SqliteMetadataStore.open({ file: `${dir}/imprint.db` });
    const common = { port: 0, log: silentLogger, metadataStore: store, authenticate, access: { consume: 'owners' as const } };
    writer = await startImprintServer({ ...common, dataDir: `${dir}/w`, role: 'publish', auditSink: new MemoryAuditSink() });
    consumer = await startImprintServer({ ...common, dataDir: `${dir}/c`, role: 'consume', auditSink: new MemoryAuditSink(), tailMs: 20 });
    writerClients = clientsFor(writer.port);
    write = caller(writerClients);
    consumerClients = clientsFor(consumer.port);
    read = caller(consumerClients);
    for (const t of ['acl-c-closed', 'acl-c-open']) {
      expect((await write('PublisherService', 'CreateTopic', { name: t, owner: 'o' }, 'alice')).code).toBe(grpc.status.OK);
      expect((await write('PublisherService', 'Publish', { topic: t, pointer: wirePointer }, 'alice')).code).toBe(grpc.status.OK);
    }
    expect((await write('OperatorService', 'GrantAccess', { topic: 'acl-c-open', grant: { role: 'ROLE_CONSUMER', grantee: 'group:scoring' } }, 'alice')).code).toBe(grpc.status.OK);
  });
  afterAll(async () => {
    for (const c of [writerClients, consumerClients]) if (c) closeClients(c);
    await consumer?.stop({ drain: false });
    await writer?.stop({ drain: false });
    await store?.close();
  });

  const batch = async (who: string) => {
    const got = await read('ConsumerService', 'BatchPoll', { identity, topics: [{ topic: 'acl-c-closed' }, { topic: 'acl-c-open' }] }, who);
    if (got.code !== grpc.status.OK) return [`BatchPoll ${grpc.status[got.code]}: ${got.details}`];
    return (got.res['results'] as { topic: string; errorCode: string }[]).map((r) => `${r.topic} ${r.errorCode || 'OK'}`);
  };

  it('BatchPoll: per topic, from the table (no store read per poll)', async () => {
    await until('the table has both topics', () => consumer.table?.peek('acl-c-open')?.grants.length === 2);
    const reads = consumer.table?.stats().storeReads.pollState;
    expect(await batch('bob@scoring')).toEqual(['acl-c-closed PERMISSION_DENIED', 'acl-c-open OK']);
    expect(await batch('alice')).toEqual(['acl-c-closed OK', 'acl-c-open OK']);
    expect(consumer.table?.stats().storeReads.pollState).toBe(reads);
  });

  it('a grant, then a revoke, made on the publish instance reach the consume instance through the change feed', async () => {
    expect((await write('OperatorService', 'GrantAccess', { topic: 'acl-c-closed', grant: { role: 'ROLE_CONSUMER', grantee: 'bob' } }, 'alice')).code).toBe(grpc.status.OK);
    await eventually('the grant reaches the consume instance', async () => (await batch('bob@scoring'))[0] === 'acl-c-closed OK');
    expect((await write('OperatorService', 'RevokeAccess', { topic: 'acl-c-closed', grant: { role: 'ROLE_CONSUMER', grantee: 'bob' } }, 'alice')).code).toBe(grpc.status.OK);
    await eventually('the revoke reaches the consume instance', async () => (await batch('bob@scoring'))[0] === 'acl-c-closed PERMISSION_DENIED');
  });

  it('Watch: PERMISSION_DENIED per topic, and the topic answered once a grant reaches the instance', async () => {
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer carol@scoring');
    const client = consumerClients.ConsumerService as unknown as { Watch(req: object, md: grpc.Metadata): grpc.ClientReadableStream<{ result?: { topic: string; errorCode: string; update: unknown } }> };
    const stream = client.Watch({ identity, topics: [{ topic: 'acl-c-closed' }, { topic: 'acl-c-open' }] }, md);
    const seen: string[] = [];
    stream.on('data', (m: { result?: { topic: string; errorCode: string; update: unknown } }) => {
      if (m.result) seen.push(`${m.result.topic} ${m.result.errorCode || (m.result.update ? 'update' : 'none')}`);
    });
    stream.on('error', () => {});
    try {
      await until('both first answers', () => seen.length >= 2);
      expect([...seen].sort()).toEqual(['acl-c-closed PERMISSION_DENIED', 'acl-c-open update']);
      expect((await write('OperatorService', 'GrantAccess', { topic: 'acl-c-closed', grant: { role: 'ROLE_CONSUMER', grantee: 'carol' } }, 'alice')).code).toBe(grpc.status.OK);
      await until('the granted topic answered on the stream', () => seen.includes('acl-c-closed update'));
    } finally {
      stream.cancel();
    }
  });
});

describe('--create-topics admins', () => {
  it('refuses a topic to a principal that is not an admin (and creates nothing), admits an admin, who owns it', async () => {
    const dir = tempDir();
    const server = await startImprintServer({ dataDir: dir, port: 0, log: silentLogger, auditSink: new MemoryAuditSink(), authenticate, access: { admins: ['root'], createTopics: 'admins' } });
    const clients = clientsFor(server.port);
    try {
      const rpc = caller(clients);
      const denied = await rpc('PublisherService', 'CreateTopic', { name: 'acl-admins', owner: 'o' }, 'eve');
      expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(denied.details).toBe(`permission denied: "eve" may not create on topic "acl-admins" (${why('create')})`);
      expect(await server.store.getTopic('acl-admins')).toBeUndefined();
      expect((await rpc('PublisherService', 'CreateTopic', { name: 'acl-admins', owner: 'o' }, 'root')).code).toBe(grpc.status.OK);
      expect(await server.store.listGrants('acl-admins')).toEqual([
        { role: 'owner', grantee: 'root' },
        { role: 'consumer', grantee: '*' },
      ]);
      expect(server.service.access.denials.create).toBe(1);
    } finally {
      closeClients(clients);
      await server.stop({ drain: false });
    }
  });
});

describe('a server without an authenticator', () => {
  it('has no principals: everything stays allowed, and no grants are written', async () => {
    const dir = tempDir();
    const server = await startImprintServer({ dataDir: dir, port: 0, log: silentLogger, auditSink: new MemoryAuditSink(), access: { consume: 'owners', createTopics: 'admins' } });
    const clients = clientsFor(server.port);
    try {
      const rpc = caller(clients);
      expect((await rpc('PublisherService', 'CreateTopic', { name: 'anon', owner: 'o' })).code).toBe(grpc.status.OK);
      expect((await rpc('PublisherService', 'Publish', { topic: 'anon', pointer: wirePointer })).code).toBe(grpc.status.OK);
      expect((await rpc('ConsumerService', 'Poll', { topic: 'anon', identity })).code).toBe(grpc.status.OK);
      expect((await rpc('OperatorService', 'GetAccess', { topic: 'anon' })).res['grants']).toEqual([]);
      expect((await rpc('OperatorService', 'GetCallerAccess', { topic: 'anon' })).res).toEqual({
        principal: '',
        admin: false,
        actions: ['ACCESS_ACTION_CONSUME', 'ACCESS_ACTION_INSPECT', 'ACCESS_ACTION_PUBLISH', 'ACCESS_ACTION_OPERATE', 'ACCESS_ACTION_OWN'],
      });
    } finally {
      closeClients(clients);
      await server.stop({ drain: false });
    }
  });
});

function why(action: AccessAction): string {
  return {
    consume: 'needs a role on the topic (consumer or above)',
    inspect: 'needs the operator, publisher or owner role on the topic',
    publish: 'needs the publisher or owner role on the topic',
    operate: 'needs the operator or owner role on the topic',
    own: 'needs the owner role on the topic',
    create: 'this server lets only admins create topics (--create-topics admins)',
  }[action];
}
