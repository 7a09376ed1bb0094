/**
 * Issue 12 item 3 on Cassandra (IMPRINT_CASSANDRA, started by the project's globalSetup):
 * every number of the contract out of its range is INVALID_ARGUMENT naming the wire field,
 * its range and the value as sent, and changes nothing; at the edges of the range (versions
 * of 2^63-1, retention of 2^31-1: Cassandra's bigint and int are signed) it is served.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type CassandraMetadataStore, type ImprintServer } from '../../server/index.js';
import { directPointer, tempDir } from '../helpers.js';
import { NUMBER_CASES, RawStubs, checkNumberCase } from '../wire-numbers.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

describe('numbers on the wire, Cassandra store', () => {
  let server: ImprintServer;
  let stubs: RawStubs;
  const topic = `numbers-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    server = await startImprintServer({
      dataDir: tempDir(),
      port: 0,
      log: silentLogger,
      store: 'cassandra',
      cassandra: { contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: 'imprint_test', replication: '{"class":"SimpleStrategy","replication_factor":1}' },
    });
    const store = server.store as CassandraMetadataStore;
    await new Promise<void>((resolve) => (store.isAvailable ? resolve() : store.onAvailabilityChange((up) => up && resolve())));
    expect(store.isAvailable).toBe(true);
    const client = new ImprintClient({ address: `127.0.0.1:${server.port}` });
    await client.createTopic({ name: topic });
    await client.publishPointer(topic, directPointer('one'));
    client.close();
    stubs = new RawStubs(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    stubs?.close();
    await server?.stop();
  });

  it.each(NUMBER_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkNumberCase(stubs, topic, c);
  });
});
