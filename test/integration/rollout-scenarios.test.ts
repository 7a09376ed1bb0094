/** The rollout story end to end (test/rollout-scenarios.ts) on the embedded SQLite store. */
import fs from 'node:fs';
import path from 'node:path';
import { SqliteMetadataStore } from '../../server/index.js';
import { rolloutScenarioSuite } from '../rollout-scenarios.js';
import { tempDir } from '../helpers.js';

rolloutScenarioSuite('sqlite', async () => {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  return {
    store,
    prefix: '',
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
