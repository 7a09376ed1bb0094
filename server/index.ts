/**
 * server: the Imprint service. `startImprintServer` opens the data dir and the metadata store
 * and serves gRPC in its role (publish, consume or all). With the Cassandra store it binds and
 * answers health at once, NOT_SERVING (other calls UNAVAILABLE) until Cassandra answers,
 * connecting in the background with backoff. A consume-role instance answers polls from a
 * poll table refreshed every `refreshMs` and limits concurrency per calling application. Any
 * role serves Prometheus metrics on `metricsPort` when one is given: the consumer requests',
 * the consume role's table and limiter, and the Elasticsearch audit sink's. A publish of a
 * blob pointer is checked against `blobStores` (the local blob directory of the data dir by
 * default).
 */
import fs from 'node:fs';
import { Registry } from 'prom-client';
import type { BlobStore } from '../client/blob-store/blob-store.js';
import { LocalBlobStore } from '../client/blob-store/local.js';
import { ImprintError } from '../core/index.js';
import type { AuditSink } from './audit/audit-sink.js';
import { ElasticsearchAuditSink } from './audit/elasticsearch.js';
import { FileAuditSink } from './audit/file.js';
import { withDefaults, type ResolvedServerOptions, type ServerOptions } from './config.js';
import { ConsumeService } from './consume/consume-service.js';
import { ConcurrencyLimiter } from './consume/limiter.js';
import { consumeMetrics, startMetricsServer, type ConsumeMetrics, type MetricsServer } from './consume/metrics.js';
import { PollTable } from './consume/poll-table.js';
import { startGrpcServer, type GrpcServerHandle } from './grpc-server.js';
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
  /** Consume role: the in-memory table polls are answered from. */
  readonly table?: PollTable;
  /** Consume role: the per-application concurrency limiter. */
  readonly limiter?: ConcurrencyLimiter;
  /** Consumer request metrics (and the table's, the limiter's, the audit sink's); set when metricsPort is. */
  readonly metrics?: ConsumeMetrics;
  /** The Prometheus endpoint (GET /metrics), when metricsPort was given. */
  readonly metricsServer?: MetricsServer;
  /** Stops serving, then flushes audit and closes the store. */
  stop(): Promise<void>;
}

/** The data dir is unusable (not a directory, unreadable, corrupt). */
export class DataDirError extends ImprintError {
  constructor(message: string, cause?: unknown) {
    super('FAILED_PRECONDITION', message, { cause });
  }
}

/** The blob stores publishes are checked against, for logs and the serve banner. */
export function describeBlobStores(stores: readonly BlobStore[]): string {
  return stores.map((s) => (s instanceof LocalBlobStore ? `local ${s.root}` : `${s.name} ${s.region}/${s.bucket}`)).join(', ') || 'none (blob pointers are refused)';
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
  //    later, in the background), then audit, whose sink counts into the metrics registry.
  const cassandra = o.cassandra && new CassandraMetadataStore({ ...o.cassandra, log });
  const store: MetadataStore = cassandra ?? SqliteMetadataStore.open({ file: o.sqliteFile });
  const registry = o.metricsPort !== undefined ? new Registry() : undefined;
  let audit: AuditSink;
  try {
    audit = o.esUrl ? new ElasticsearchAuditSink({ node: o.esUrl, indexPrefix: o.esIndexPrefix, log, ...(registry && { registry }) }) : new FileAuditSink({ file: o.auditFile, log });
  } catch (err) {
    await store.close();
    throw new DataDirError(`cannot open the audit file ${o.auditFile}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  // 3. The consume role: the poll table (first refresh before serving, so the first polls
  //    answer from memory; with Cassandra not yet up, misses read the store and fail
  //    UNAVAILABLE until it is), the limiter, and metrics.
  const consume = o.role === 'consume';
  const table = consume ? new PollTable({ store, log, clock: o.clock }) : undefined;
  const limiter = consume ? new ConcurrencyLimiter(o.limiter) : undefined;
  const metrics = registry && consumeMetrics({ registry, ...(table && { table }), ...(limiter && { limiter }) });
  if (table) {
    const first = cassandra && !cassandra.isAvailable ? undefined : await table.start(o.refreshMs);
    if (!first) void table.start(o.refreshMs);
    else if (!first.ok) log.warn('first poll-table refresh failed; polls read the store until one works', { error: first.error instanceof Error ? first.error.message : String(first.error) });
  }
  // 4. Serve.
  const service = new ImprintService({
    store,
    audit,
    log,
    clock: o.clock,
    blobStores: o.blobStores,
    blobCheckTimeoutMs: o.blobCheckTimeoutMs,
    ...(table && { poller: new ConsumeService({ table, audit, clock: o.clock }) }),
  });
  let grpcHandle: GrpcServerHandle;
  let metricsServer: MetricsServer | undefined;
  try {
    grpcHandle = await startGrpcServer(service, {
      host: o.host,
      port: o.port,
      log,
      role: o.role,
      batchPoll: o.batchPoll,
      ...((limiter || metrics) && { guard: { ...(limiter && { limiter }), ...(metrics && { metrics }) } }),
      noDelay: consume,
    });
    try {
      if (metrics && o.metricsPort !== undefined) metricsServer = await startMetricsServer(metrics.registry, o.metricsPort, o.host);
    } catch (err) {
      await grpcHandle.stop(0);
      throw err;
    }
  } catch (err) {
    await table?.stop();
    await audit.close();
    await store.close();
    throw err;
  }
  const setHealth = (up: boolean) => {
    for (const n of ['', ...grpcHandle.services]) grpcHandle.health.setStatus(n, up ? 'SERVING' : 'NOT_SERVING');
  };
  if (table) {
    // A consume instance serves polls from its table: SERVING once it has one, and still while
    // the store is down (polls answer from the last good table; its age is a metric).
    setHealth(Number.isFinite(table.age()));
    table.on('refreshed', () => setHealth(true));
  } else if (cassandra) {
    // Health follows Cassandra: NOT_SERVING until it is connected, and while no node answers.
    setHealth(cassandra.isAvailable);
    cassandra.onAvailabilityChange(setHealth);
  }
  if (cassandra) void cassandra.connectInBackground();
  log.info('imprint serving', {
    address: `${o.host}:${grpcHandle.port}`,
    role: o.role,
    services: grpcHandle.services.join(','),
    ...(table && { refreshMs: o.refreshMs, tableTopics: table.stats().topics }),
    ...(metricsServer && { metrics: `http://${o.host}:${metricsServer.port}/metrics` }),
    store: store.name,
    ...(o.cassandra ? { cassandra: o.cassandra.contactPoints.join(','), keyspace: o.cassandra.keyspace, dc: o.cassandra.localDataCenter } : { db: o.sqliteFile }),
    audit: o.esUrl ? `elasticsearch ${o.esUrl} (${o.esIndexPrefix}-*)` : o.auditFile,
    blobs: describeBlobStores(o.blobStores),
  });
  return {
    port: grpcHandle.port,
    options: o,
    service,
    store,
    audit,
    grpc: grpcHandle,
    ...(table && { table }),
    ...(limiter && { limiter }),
    ...(metrics && { metrics }),
    ...(metricsServer && { metricsServer }),
    async stop() {
      await grpcHandle.stop();
      await table?.stop();
      await metricsServer?.close();
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
export {
  withDefaults,
  cassandraWithDefaults,
  batchPollWithDefaults,
  BATCH_POLL_DEFAULTS,
  DEFAULT_PORT,
  DEFAULT_REFRESH_MS,
  CASSANDRA_DEFAULTS,
  CONSISTENCY_NAMES,
  SERIAL_CONSISTENCY_NAMES,
  STORE_KINDS,
  ROLES,
  type ServerOptions,
  type BatchPollOptions,
  type CassandraOptions,
  type StoreKind,
  type Role,
} from './config.js';
export { DEFAULT_BLOB_CHECK_TIMEOUT_MS } from './blob-check.js';
export { servicesOf, SERVICE_NAMES, type ServiceName } from './grpc-server.js';
export * from './consume/index.js';
