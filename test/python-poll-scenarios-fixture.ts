/**
 * The poll scenarios' store for the Python client's suite (python/tests/test_poll_scenarios.py):
 * `tsx test/python-poll-scenarios-fixture.ts DIR` writes DIR/imprint.db, the SQLite store
 * `imprint --data-dir DIR serve` opens, seeded from test/vectors/poll-scenarios.json as the
 * TypeScript suite seeds its stores (seedScenarios, damaged records included).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqliteMetadataStore } from '../server/index.js';
import { damageSqlite, seedScenarios } from './poll-scenario-vectors.js';

const [dir] = process.argv.slice(2) as [string];
fs.mkdirSync(dir, { recursive: true });
const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
let now = 1_700_000_000_000;
await seedScenarios({ store, damage: damageSqlite(store) }, () => ++now);
await store.close();
