/**
 * server: the Imprint service. `startImprintServer` opens the data dir and the metadata store
 * and serves gRPC. With the Cassandra store it binds and answers health at once, NOT_SERVING
 * (other calls UNAVAILABLE) until Cassandra answers, connecting in the background with backoff.
 */
import fs from 'node:fs';
import { ImprintError } from '../core/index.js';
import type { AuditSink } from './audit/audit-sink.js';
import { ElasticsearchAuditSink } from './audit/elasticsearch.js';
import { FileAuditSink } from './audit/file.js';
import { withDefaults, type ResolvedServerOptions, type ServerOptions } from './config.js';
import { SERVICE_NAMES, startGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { createLogger } from './log.js';
import { ImprintService } from './service.js';
import { CassandraMetadataStore } from './store/cassandra.js';
import type { MetadataStore } from './store/metadata-store.js';
import { SqliteMetadataStore } from './store/sqlite.js';

export interface ImprintServer {
  readonly port: number;
  readonly options: ResolvedServerOptions;
  readonly service: ImprintService;
  readonly store: MetadataStore;
  readonly audit: AuditSink;
  readonly grpc: GrpcServerHandle;
  /** Stops serving, then flushes audit and closes the store. */
  stop(): Promise<void>;
}

/** The data dir is unusable (not a directory, unreadable, corrupt). */
export class DataDirError extends ImprintError {
  constructor(message: string, cause?: unknown) {
    super('FAILED_PRECONDITION', message, { cause });
  }
}

export async function startImprintServer(options: ServerOptions = {}): Promise<ImprintServer> {
  const o = withDefaults(options);
  const log = o.log ?? createLogger();
  // 1. The data dir: a directory we can write, or one we may create.
  try {
    fs.mkdirSync(o.dataDir, { recursive: true });
    fs.accessSync(o.dataDir, fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    throw new DataDirError(`data dir ${o.dataDir} is not a writable directory: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  // 2. The store (a corrupt database is an error, never an empty store; Cassandra connects
  //    later, in the background), then audit.
  const cassandra = o.cassandra && new CassandraMetadataStore({ ...o.cassandra, log });
  const store: MetadataStore = cassandra ?? SqliteMetadataStore.open({ file: o.sqliteFile });
  let audit: AuditSink;
  try {
    audit = o.esUrl ? new ElasticsearchAuditSink({ node: o.esUrl, indexPrefix: o.esIndexPrefix, log }) : new FileAuditSink({ file: o.auditFile, log });
  } catch (err) {
    await store.close();
    throw new DataDirError(`cannot open the audit file ${o.auditFile}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  // 3. Serve.
  const service = new ImprintService({ store, audit, log, clock: o.clock });
  let grpcHandle: GrpcServerHandle;
  try {
    grpcHandle = await startGrpcServer(service, { host: o.host, port: o.port, log });
  } catch (err) {
    await audit.close();
    await store.close();
    throw err;
  }
  if (cassandra) {
    // Health follows Cassandra: NOT_SERVING until it is connected, and while no node answers.
    const setHealth = (up: boolean) => {
      for (const n of ['', ...SERVICE_NAMES]) grpcHandle.health.setStatus(n, up ? 'SERVING' : 'NOT_SERVING');
    };
    setHealth(cassandra.isAvailable);
    cassandra.onAvailabilityChange(setHealth);
    void cassandra.connectInBackground();
  }
  log.info('imprint serving', {
    address: `${o.host}:${grpcHandle.port}`,
    store: store.name,
    ...(o.cassandra ? { cassandra: o.cassandra.contactPoints.join(','), keyspace: o.cassandra.keyspace, dc: o.cassandra.localDataCenter } : { db: o.sqliteFile }),
    audit: o.esUrl ? `elasticsearch ${o.esUrl} (${o.esIndexPrefix}-*)` : o.auditFile,
  });
  return {
    port: grpcHandle.port,
    options: o,
    service,
    store,
    audit,
    grpc: grpcHandle,
    async stop() {
      await grpcHandle.stop();
      await audit.close();
      await store.close();
      log.info('imprint stopped');
    },
  };
}

export { ImprintService } from './service.js';
export { SqliteMetadataStore, StoreOpenError } from './store/sqlite.js';
export { CassandraMetadataStore, CassandraSchemaError } from './store/cassandra.js';
export type { MetadataStore } from './store/metadata-store.js';
export { FileAuditSink, readAuditFile } from './audit/file.js';
export { ElasticsearchAuditSink } from './audit/elasticsearch.js';
export type { TopicConsumers } from './audit/consumers.js';
export type { AuditSink, AuditEvent } from './audit/audit-sink.js';
export { createLogger, silentLogger, type Logger } from './log.js';
export { withDefaults, cassandraWithDefaults, DEFAULT_PORT, CASSANDRA_DEFAULTS, CONSISTENCY_NAMES, SERIAL_CONSISTENCY_NAMES, STORE_KINDS, type ServerOptions, type CassandraOptions, type StoreKind } from './config.js';
