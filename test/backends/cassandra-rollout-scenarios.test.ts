/**
 * The rollout story end to end (test/rollout-scenarios.ts) on Cassandra (IMPRINT_CASSANDRA,
 * started by the project's globalSetup): the same real server, driver and subscribers as on
 * SQLite, the rollout kept in the topic's partition and changed by lightweight transactions.
 * Names carry a run prefix, so a Cassandra that is already running can run it again.
 */
import { randomUUID } from 'node:crypto';
import { CassandraMetadataStore, cassandraWithDefaults } from '../../server/index.js';
import { rolloutScenarioSuite } from '../rollout-scenarios.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

rolloutScenarioSuite('cassandra', async () => {
  const store = await CassandraMetadataStore.open(
    cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: 'imprint_rollout_scenarios', replication: '{"class":"SimpleStrategy","replication_factor":1}' }),
  );
  return {
    store,
    prefix: `r${randomUUID().slice(0, 8)}-`,
    cleanup: () => store.close(),
  };
});
