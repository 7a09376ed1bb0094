/**
 * The runbook's "restore from the fallback snapshot" on a real Cassandra: the keyspace is
 * dropped, `imprint snapshot restore --store cassandra` writes the snapshot back (the store
 * creates the keyspace again), and a server on it serves the same bytes, the pin applying;
 * the next publish gets a number above every restored one (the counter of the CAS).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { afterAll, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, Subscriber } from '../../client/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { cassandraWithDefaults } from '../../server/config.js';
import { CassandraMetadataStore } from '../../server/store/cassandra.js';
import { runCli } from '../cli-process.js';
import { identity, startTestServer, tempDir, type TestServer } from '../helpers.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

const SIMPLE = '{"class":"SimpleStrategy","replication_factor":1}';
const KEYSPACE = `imprint_restore_${randomUUID().slice(0, 8)}`;
const open = () => CassandraMetadataStore.open(cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: KEYSPACE, replication: SIMPLE }));

describe('imprint snapshot restore --store cassandra', () => {
  const servers: TestServer[] = [];
  const stores: CassandraMetadataStore[] = [];
  afterAll(async () => {
    for (const t of servers) await t.stop().catch(() => {});
    for (const s of stores) await s.close();
  });

  it('a dropped keyspace restored: the same versions byte for byte, the pin applies, the next publish is max+1', async () => {
    const blobs = new LocalBlobStore({ root: tempDir() });
    const before = await open();
    stores.push(before);
    const t = await startTestServer({ metadataStore: before, blobStores: [blobs] });
    servers.push(t);
    await t.client.createTopic({ name: 'model', owner: 'trust-team' });
    const publisher = new Publisher({ client: t.client, blobStores: [blobs] });
    await publisher.publish('model', Buffer.from('small v1'));
    const big = randomBytes(2 * 1024 * 1024);
    await publisher.publish('model', big);
    await t.client.pin('model', 1n, { scope: { region: 'eu-west-1' }, reason: 'v2 is bad in eu', createdBy: 'alice' });
    await writeSnapshot({ store: before, blobStores: [blobs] });
    await t.stop();
    await before.close();

    // The keyspace is lost.
    const raw = new cassandra.Client({ contactPoints: [endpoint], localDataCenter: 'datacenter1' });
    try {
      await raw.execute(`DROP KEYSPACE ${KEYSPACE}`);
    } finally {
      await raw.shutdown();
    }

    const flags = ['--blob-dir', blobs.root, 'snapshot', 'restore', '--store', 'cassandra', '--cassandra-contact-points', endpoint, '--cassandra-local-dc', 'datacenter1', '--cassandra-keyspace', KEYSPACE, '--cassandra-replication', SIMPLE];
    const restored = await runCli([...flags, '--yes', '--by', 'bob']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`into cassandra keyspace ${KEYSPACE}`);
    expect(restored.stdout).toContain('[1/1] model: restored 2 records, 1 pins; the next publish gets v3');
    const again = await runCli([...flags, '--yes']);
    expect(again.stdout).toContain('[1/1] model: skipped');

    const after = await open();
    stores.push(after);
    const t2 = await startTestServer({ metadataStore: after, blobStores: [blobs] });
    servers.push(t2);
    const client = new ImprintClient({ address: t2.address });
    const s = new Subscriber({ client, identity: identity({ app: 'scorer', region: 'us-east-1' }), blobStores: [blobs], intervalMs: 100 });
    try {
      const sub = s.subscribe('model', { decode: (b) => Buffer.from(b) });
      await sub.ready();
      expect(sub.version).toBe(2n);
      expect(sub.current?.equals(big)).toBe(true);
    } finally {
      await s.close();
      client.close();
    }
    expect((await t2.client.poll('model', identity({ app: 'scorer', region: 'eu-west-1' }), 0n)).pinned).toBe(true);
    expect((await new Publisher({ client: t2.client, blobStores: [blobs] }).publish('model', Buffer.from('v3'))).version).toBe(3n);
  }, 180_000);
});
