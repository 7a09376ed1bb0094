/**
 * The stores a bench measures on: a fresh SQLite file, and a fresh keyspace on the Cassandra
 * at IMPRINT_CASSANDRA (host:port) when it is set. Each is closed and removed after `fn`.
 */
import fs from 'node:fs';
import path from 'node:path';
import cassandra from 'cassandra-driver';
import { cassandraWithDefaults } from '../server/config.js';
import { CassandraMetadataStore, type CassandraStoreOptions } from '../server/store/cassandra.js';
import { SqliteMetadataStore } from '../server/store/sqlite.js';
import { tempDir } from './util.js';

export async function withSqlite(fn: (store: SqliteMetadataStore) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  try {
    await fn(store);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` on a keyspace of its own (dropped after) when IMPRINT_CASSANDRA is set; else says how to measure it. Returns whether it ran. */
export async function withCassandra(bench: string, extra: Partial<CassandraStoreOptions>, fn: (store: CassandraMetadataStore) => Promise<void>): Promise<boolean> {
  const endpoint = process.env['IMPRINT_CASSANDRA'];
  if (!endpoint) {
    console.log(`${bench.padEnd(11)} cassandra: not measured (set IMPRINT_CASSANDRA=host:port)`);
    return false;
  }
  const keyspace = `imprint_bench_${bench}_${Date.now().toString(36)}`;
  const store = await CassandraMetadataStore.open({ ...cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace, replication: '{"class":"SimpleStrategy","replication_factor":1}' }), ...extra });
  try {
    await fn(store);
  } finally {
    await store.close();
    const raw = new cassandra.Client({ contactPoints: [endpoint], localDataCenter: 'datacenter1' });
    await raw.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await raw.shutdown();
  }
  return true;
}
