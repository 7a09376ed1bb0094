/** The metadata-store options `serve` and `janitor` share, and opening the store from them. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { CASSANDRA_DEFAULTS, CONSISTENCY_NAMES, SERIAL_CONSISTENCY_NAMES, STORE_KINDS, cassandraWithDefaults, type CassandraOptions, type StoreKind } from '../server/config.js';
import type { Logger } from '../log/index.js';
import type { ConsistencyName, SerialConsistencyName } from '../server/store/cassandra.js';
import type { JanitorStore } from '../server/store/metadata-store.js';
import { addSecretOption, secretFrom } from './secrets.js';

export interface StoreCliOptions {
  store?: StoreKind;
  cassandraContactPoints?: string;
  cassandraLocalDc?: string;
  cassandraKeyspace?: string;
  cassandraReplication?: string;
  cassandraConsistency?: ConsistencyName;
  cassandraSerialConsistency?: SerialConsistencyName;
  cassandraUsername?: string;
  cassandraPasswordFile?: string;
  cassandraPassword?: string;
  cassandraTlsCa?: string;
  cassandraTlsCert?: string;
  cassandraTlsKey?: string;
  cassandraTlsServerName?: string;
}

export function addStoreOptions(cmd: Command): Command {
  addSecretOption(cmd, { name: 'cassandra-password', envVar: 'IMPRINT_CASSANDRA_PASSWORD', description: "file holding --cassandra-username's password" });
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
    .addOption(new Option('--cassandra-serial-consistency <level>', `version-number transactions (default: ${CASSANDRA_DEFAULTS.serialConsistency})`).choices(SERIAL_CONSISTENCY_NAMES).env('IMPRINT_CASSANDRA_SERIAL_CONSISTENCY'))
    .addOption(new Option('--cassandra-username <user>', 'log in as this user (Cassandra with authenticator: PasswordAuthenticator; default: no login)').env('IMPRINT_CASSANDRA_USERNAME'))
    .addOption(new Option('--cassandra-tls-ca <file>', "TLS to Cassandra, trusting this PEM CA (default: plaintext; with only a client cert: the system's CAs)").env('IMPRINT_CASSANDRA_TLS_CA'))
    .addOption(new Option('--cassandra-tls-cert <file>', 'TLS client certificate (PEM), for Cassandra with require_client_auth; with --cassandra-tls-key').env('IMPRINT_CASSANDRA_TLS_CERT'))
    .addOption(new Option('--cassandra-tls-key <file>', "the client certificate's private key (PEM)").env('IMPRINT_CASSANDRA_TLS_KEY'))
    .addOption(
      new Option('--cassandra-tls-server-name <name>', "name Cassandra's certificate must carry, when it is not the contact point's host (default: that host)").env('IMPRINT_CASSANDRA_TLS_SERVER_NAME'),
    );
}

export function cassandraFrom(o: StoreCliOptions): CassandraOptions {
  const password = secretFrom(o.cassandraPasswordFile, o.cassandraPassword, 'cassandra-password', 'IMPRINT_CASSANDRA_PASSWORD');
  const tlsGiven = o.cassandraTlsCa !== undefined || o.cassandraTlsCert !== undefined || o.cassandraTlsKey !== undefined || o.cassandraTlsServerName !== undefined;
  return {
    ...(o.cassandraUsername !== undefined && { username: o.cassandraUsername }),
    ...(password !== undefined && { password }),
    ...(tlsGiven && {
      tls: {
        ...(o.cassandraTlsCa !== undefined && { caFile: o.cassandraTlsCa }),
        ...(o.cassandraTlsCert !== undefined && { certFile: o.cassandraTlsCert }),
        ...(o.cassandraTlsKey !== undefined && { keyFile: o.cassandraTlsKey }),
        ...(o.cassandraTlsServerName !== undefined && { serverName: o.cassandraTlsServerName }),
      },
    }),
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
