/**
 * Access control on Cassandra, one enforcement pass through gRPC (the store's part is the
 * conformance suite in cassandra-store.test.ts): a publish instance and a consume instance on
 * one keyspace, each with the test authenticator. A denied publish changes nothing; a grant
 * made on the publish instance lets the principal publish there, and reaches the consume
 * instance's table through the change feed, where BatchPoll answers per topic.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import type { CassandraMetadataStore } from '../../server/store/cassandra.js';
import { authenticate, caller, clientsFor, closeClients, eventually } from '../access-calls.js';
import { MemoryAuditSink, directPointer, tempDir, until } from '../helpers.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

const cassandra = { contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: 'imprint_test', replication: '{"class":"SimpleStrategy","replication_factor":1}' };
const payload = directPointer('model');
const wirePointer = { size: payload.size, sha256: payload.sha256, direct: Buffer.from('model') };
const identity = { app: 'scorer', nodeId: 'n1' };

describe('access control on Cassandra, through gRPC', { timeout: 120_000 }, () => {
  let writer: ImprintServer;
  let consumer: ImprintServer;
  let write: ReturnType<typeof caller>;
  let read: ReturnType<typeof caller>;
  const clients: ReturnType<typeof clientsFor>[] = [];
  const topic = `acl-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const common = { port: 0, log: silentLogger, store: 'cassandra' as const, cassandra, authenticate, access: { consume: 'owners' as const } };
    writer = await startImprintServer({ ...common, dataDir: tempDir(), role: 'publish', auditSink: new MemoryAuditSink() });
    await until('Cassandra answers the publish instance', () => (writer.store as CassandraMetadataStore).isAvailable);
    consumer = await startImprintServer({ ...common, dataDir: tempDir(), role: 'consume', auditSink: new MemoryAuditSink(), tailMs: 50 });
    await until('Cassandra answers the consume instance', () => (consumer.store as CassandraMetadataStore).isAvailable);
    clients.push(clientsFor(writer.port), clientsFor(consumer.port));
    write = caller(clients[0] ?? clientsFor(writer.port));
    read = caller(clients[1] ?? clientsFor(consumer.port));
  });
  afterAll(async () => {
    for (const c of clients) closeClients(c);
    await consumer?.stop({ drain: false });
    await writer?.stop({ drain: false });
  });

  it('denies, then allows once granted; the consume instance decides per topic from its table and hears grants by the feed', async () => {
    expect((await write('PublisherService', 'CreateTopic', { name: topic, owner: 'ml' }, 'alice')).code).toBe(grpc.status.OK);
    // eve may not publish: PERMISSION_DENIED, and no version is made.
    const denied = await write('PublisherService', 'Publish', { topic, pointer: wirePointer }, 'eve');
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied.details).toContain(`"eve" may not publish on topic "${topic}"`);
    expect((await writer.store.getTopic(topic))?.latestVersion).toBe(0n);
    // Granted by the owner, she may.
    expect((await write('OperatorService', 'GrantAccess', { topic, grant: { role: 'ROLE_PUBLISHER', grantee: 'eve' } }, 'alice')).code).toBe(grpc.status.OK);
    expect((await write('PublisherService', 'Publish', { topic, pointer: wirePointer }, 'eve')).code).toBe(grpc.status.OK);
    // The consume instance: bob may not consume (owners only), alice may; then a group grant reaches it.
    /** The topic's BatchPoll result for `who` (undefined when the call itself failed, e.g. Cassandra slow). */
    const batch = async (who: string) => {
      const got = await read('ConsumerService', 'BatchPoll', { identity, topics: [{ topic }] }, who);
      return got.code === grpc.status.OK ? (got.res['results'] as { errorCode: string; update: { record: { version: string } } | null }[])[0] : undefined;
    };
    await eventually('the topic reaches the consume instance', async () => (await batch('alice'))?.update?.record.version === '1');
    expect((await batch('bob@scoring'))?.errorCode).toBe('PERMISSION_DENIED');
    expect((await write('OperatorService', 'GrantAccess', { topic, grant: { role: 'ROLE_CONSUMER', grantee: 'group:scoring' } }, 'alice')).code).toBe(grpc.status.OK);
    await eventually('the grant reaches the consume instance', async () => {
      const bob = await batch('bob@scoring');
      return bob?.errorCode === '' && bob.update?.record.version === '1';
    });
    const history = (await writer.store.listHistory(topic, { limit: 10 })).filter((c) => c.kind === 'grant').map((c) => `${c.details['role']} ${c.details['grantee']} by ${c.by.principal}`);
    expect(history.sort()).toEqual(['consumer group:scoring by alice', 'owner alice by alice', 'publisher eve by alice']);
  });
});
