/**
 * The shared poll scenarios (test/poll-scenarios.ts) on the embedded SQLite store: the all
 * and consume roles, Poll and BatchPoll, the same answers over gRPC.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqliteMetadataStore } from '../../server/index.js';
import { tempDir } from '../helpers.js';
import { damageSqlite, pollScenarioSuite } from '../poll-scenarios.js';

pollScenarioSuite('sqlite', async () => {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  return {
    store,
    damage: damageSqlite(store),
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
