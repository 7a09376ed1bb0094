/** The metadata-store options `serve` and `janitor` share, and opening the store from them. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { CASSANDRA_DEFAULTS, CONSISTENCY_NAMES, SERIAL_CONSISTENCY_NAMES, STORE_KINDS, cassandraWithDefaults, type CassandraOptions, type StoreKind } from '../server/config.js';
import type { Logger } from '../log/index.js';
import type { ConsistencyName, SerialConsistencyName } from '../server/store/cassandra.js';
import type { JanitorStore } from '../server/store/metadata-store.js';

export interface StoreCliOptions {
  store?: StoreKind;
  cassandraContactPoints?: string;
  cassandraLocalDc?: string;
  cassandraKeyspace?: string;
  cassandraReplication?: string;
  cassandraConsistency?: ConsistencyName;
  cassandraSerialConsistency?: SerialConsistencyName;
}

export function addStoreOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--store <kind>', 'metadata store (default: sqlite, in the data dir)').choices(STORE_KINDS).env('IMPRINT_STORE'))
    .addOption(new Option('--cassandra-contact-points <host:port,...>', 'Cassandra nodes to connect to (--store cassandra)').env('IMPRINT_CASSANDRA_CONTACT_POINTS'))
    .addOption(new Option('--cassandra-local-dc <dc>', 'the data center this server runs in, e.g. datacenter1 (--store cassandra)').env('IMPRINT_CASSANDRA_LOCAL_DC'))
    .addOption(new Option('--cassandra-keyspace <name>', `keyspace, created when missing (default: ${CASSANDRA_DEFAULTS.keyspace})`).env('IMPRINT_CASSANDRA_KEYSPACE'))
    .addOption(
      new Option('--cassandra-replication <json>', `replication of a keyspace it creates (default: {"class":"NetworkTopologyStrategy","<local dc>":${CASSANDRA_DEFAULTS.replicationFactor}})`).env(
        'IMPRINT_CASSANDRA_REPLICATION',
      ),
    )
    .addOption(new Option('--cassandra-consistency <level>', `reads and writes (default: ${CASSANDRA_DEFAULTS.consistency})`).choices(CONSISTENCY_NAMES).env('IMPRINT_CASSANDRA_CONSISTENCY'))
    .addOption(new Option('--cassandra-serial-consistency <level>', `version-number transactions (default: ${CASSANDRA_DEFAULTS.serialConsistency})`).choices(SERIAL_CONSISTENCY_NAMES).env('IMPRINT_CASSANDRA_SERIAL_CONSISTENCY'));
}

export function cassandraFrom(o: StoreCliOptions): CassandraOptions {
  return {
    ...(o.cassandraContactPoints !== undefined && { contactPoints: o.cassandraContactPoints }),
    ...(o.cassandraLocalDc !== undefined && { localDataCenter: o.cassandraLocalDc }),
    ...(o.cassandraKeyspace !== undefined && { keyspace: o.cassandraKeyspace }),
    ...(o.cassandraReplication !== undefined && { replication: o.cassandraReplication }),
    ...(o.cassandraConsistency !== undefined && { consistency: o.cassandraConsistency }),
    ...(o.cassandraSerialConsistency !== undefined && { serialConsistency: o.cassandraSerialConsistency }),
  };
}

/** The store the janitor works on: connected (Cassandra) or opened and checked (SQLite in the data dir). */
export async function openJanitorStore(o: StoreCliOptions, dataDir: string, log: Logger): Promise<JanitorStore> {
  if (o.store === 'cassandra') {
    const { CassandraMetadataStore } = await import('../server/store/cassandra.js');
    return CassandraMetadataStore.open({ ...cassandraWithDefaults(cassandraFrom(o)), log });
  }
  const { SqliteMetadataStore } = await import('../server/store/sqlite.js');
  return SqliteMetadataStore.open({ file: path.join(path.resolve(dataDir), 'imprint.db') });
}
