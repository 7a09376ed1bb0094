/**
 * The shared poll scenarios (test/poll-scenarios.ts) on Cassandra (IMPRINT_CASSANDRA, started
 * by the project's globalSetup): the all and consume roles, Poll and BatchPoll, the same
 * answers over gRPC as on SQLite. A keyspace of its own, so the consume role's table holds
 * only these topics; names carry a run prefix, so a Cassandra that is already running
 * (IMPRINT_CASSANDRA set by hand) can run it again.
 */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { CassandraMetadataStore, cassandraWithDefaults } from '../../server/index.js';
import { pollScenarioSuite } from '../poll-scenarios.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

const KEYSPACE = 'imprint_poll_scenarios';

pollScenarioSuite('cassandra', async () => {
  const store = await CassandraMetadataStore.open(
    cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: KEYSPACE, replication: '{"class":"SimpleStrategy","replication_factor":1}' }),
  );
  // A plain driver session, to alter records behind the store's back.
  const raw = new cassandra.Client({ contactPoints: [endpoint], localDataCenter: 'datacenter1', encoding: { useBigIntAsLong: true } });
  await raw.connect();
  return {
    store,
    prefix: `s${randomUUID().slice(0, 8)}-`,
    async damage(topic, version) {
      await raw.execute(`UPDATE ${KEYSPACE}.topics SET metadata = {'build': 'tampered'} WHERE topic = ? AND kind = 'r' AND scope_key = '' AND version = ?`, [topic, version], { prepare: true });
    },
    async cleanup() {
      await raw.shutdown();
      await store.close();
    },
  };
});
