/**
 * server: the Imprint service, assembled by role in one place (`startImprintServer`, and the
 * role table ROLE_PARTS below). It opens the data dir and the metadata store (or serves the
 * one it is handed) and serves gRPC in its role (publish, consume or all). With the Cassandra
 * store it binds and answers health at once, NOT_SERVING (other calls UNAVAILABLE) until
 * Cassandra answers, connecting in the background with backoff. Polls are answered by one
 * Poller (server/poll) over the role's PollSource: the store (all), or the consume role's
 * poll table (kept current from the change feed every `tailMs`, read whole every `refreshMs`),
 * behind a concurrency limit per calling application. Every role that answers polls has one
 * PollChangeHub (`changes`) that says when a topic's poll state may have changed: the table
 * tells it as it applies the feed; the all role follows the feed only to tell it (and its own
 * commits tell it at once). Its Watch streams (server/poll/watch.ts) listen to it. Any role
 * serves Prometheus metrics on `metricsPort` when one is given: the consumer requests', the
 * Poller's, the Watch streams', the consume role's table and limiter, and the Elasticsearch
 * audit sink's. A publish of a blob pointer is checked against `blobStores`
 * (the local blob directory of the data dir by default).
 *
 * This file is server/'s public surface: nothing outside server/ reaches past it.
 */
import fs from 'node:fs';
import { Registry } from 'prom-client';
import type { BlobStore } from '../client/blob-store/blob-store.js';
import { LocalBlobStore } from '../client/blob-store/local.js';
import { ImprintError } from '../core/index.js';
import type { AuditSink } from './audit/audit-sink.js';
import { ElasticsearchAuditSink } from './audit/elasticsearch.js';
import { FileAuditSink } from './audit/file.js';
import { Holdings, defaultReplicaName } from './audit/holdings.js';
import { withDefaults, type ResolvedServerOptions, type Role, type ServerOptions } from './config.js';
import { SERVICE_NAMES, startGrpcServer, type GrpcServerHandle, type HandlerStackOptions, type ServiceName } from './grpc/index.js';
import { ConcurrencyLimiter } from './limiter.js';
import { createLogger } from '../log/index.js';
import { StorePublishStatus, tablePublishStatus } from './publish-status.js';
import { AccessControl } from './auth/index.js';
import { consumeMetrics, startMetricsServer, type ConsumeMetrics, type MetricsServer } from './metrics.js';
import { ConsumerOutcomes, FeedFollower, PollChangeHub, PollTable, Poller, StorePollSource, Watchers, noticeFollower, type PollChanges } from './poll/index.js';
import { RolloutDriver, canDriveRollouts, rolloutMetrics } from './rollout/index.js';
import { ImprintService } from './service.js';
import { CassandraMetadataStore } from './store/cassandra.js';
import type { MetadataStore } from './store/metadata-store.js';
import { SqliteMetadataStore } from './store/sqlite.js';
import { ServerTls } from './tls.js';
import { restRoutes, startHttpServer, type HttpRoutes, type HttpServerHandle } from './http/index.js';
import { lentBlobRoutes } from './http/blobs.js';
import { builtConsoleDir, consoleRoutes } from './http/console.js';
import { Lender, defaultPublicUrl } from './lend.js';

/** What an instance of a role is made of: the one place roles are decided. */
interface RoleParts {
  /** The services it serves and reports in health. */
  readonly services: readonly ServiceName[];
  /**
   * Where its Poller reads: the store, its poll table, or no Poller (polls answer
   * UNIMPLEMENTED). Roles with a Poller follow the change feed (the table to apply it, the
   * store role only to tell `changes`).
   */
  readonly polls: 'store' | 'table' | 'refused';
  /** Consumer calls behind the per-application concurrency limiter. */
  readonly limiter: boolean;
  /** Connections accepted with TCP_NODELAY (many small answers). */
  readonly noDelay: boolean;
  /** Runs a rollout driver (unless `rolloutDriver` is 'off'): the instances that take changes. */
  readonly drivesRollouts: boolean;
}

const ROLE_PARTS: Readonly<Record<Role, RoleParts>> = {
  // Writes, pins, describe, and the Consumer's reads (operators list versions before they pin); not polls.
  publish: { services: ['imprint.v1.PublisherService', 'imprint.v1.OperatorService'], polls: 'refused', limiter: false, noDelay: false, drivesRollouts: true },
  // Polls from an in-memory table, throttled per application; the Consumer's other reads from the store.
  consume: { services: ['imprint.v1.ConsumerService'], polls: 'table', limiter: true, noDelay: true, drivesRollouts: false },
  // Everything; polls read the store.
  all: { services: SERVICE_NAMES, polls: 'store', limiter: false, noDelay: false, drivesRollouts: true },
};

/**
 * The services an instance of `role` serves (and reports in health). A publish instance also
 * answers the Consumer's reads (GetVersion, ListVersions, GetLatestAt, GetTopic, ListTopics),
 * not its polls.
 */
export function servicesOf(role: Role): readonly ServiceName[] {
  return ROLE_PARTS[role].services;
}

export interface ImprintServer {
  readonly port: number;
  readonly options: ResolvedServerOptions;
  readonly service: ImprintService;
  /** Answers polls; absent on a publish-role instance. */
  readonly poller?: Poller;
  /** The Watch streams; absent on a publish-role instance. */
  readonly watchers?: Watchers;
  /** What the audit remembers of each polling node (hold, gone and summary events); absent on a publish-role instance. */
  readonly holdings?: Holdings;
  /** What consumers say they hold and rejected, written for the rollout gates; absent on a publish-role instance. */
  readonly outcomes?: ConsumerOutcomes;
  readonly store: MetadataStore;
  readonly audit: AuditSink;
  readonly grpc: GrpcServerHandle;
  /** Consume role: the in-memory table polls are answered from. */
  readonly table?: PollTable;
  /**
   * Word that a topic's poll state may have changed, given once the Poller answers with the
   * change (Watch listens); absent on a publish-role instance.
   */
  readonly changes?: PollChanges;
  /** All role: what follows the change feed to tell `changes` (the consume role's is `table.feed`). */
  readonly feed?: FeedFollower;
  /** Consume role: the per-application concurrency limiter. */
  readonly limiter?: ConcurrencyLimiter;
  /** Consumer request metrics (and the Poller's, the table's, the limiter's, the audit sink's); set when metricsPort is. */
  readonly metrics?: ConsumeMetrics;
  /** The HTTP/1.1 server (REST/JSON, lent payload URLs), when httpPort was given. */
  readonly http?: HttpServerHandle;
  /** The Prometheus endpoint (GET /metrics), when metricsPort was given. */
  readonly metricsServer?: MetricsServer;
  /** The TLS files every listener serves, kept current (`reloaded` events), when `tls` was given. */
  readonly tls?: ServerTls;
  /** Publish and all roles: the rollout driver (absent with `rolloutDriver: 'off'`, or a handed-in store without leases). */
  readonly rolloutDriver?: RolloutDriver;
  /**
   * Drains for `drainMs` (health NOT_SERVING, calls still answered), then stops serving, flushes
   * audit and closes the store (a store or sink it was handed stays open). Called again while
   * draining, it ends the drain at once; the same promise either way. `drain: false`: no drain.
   */
  stop(opts?: { readonly drain?: boolean }): Promise<void>;
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
  const role = ROLE_PARTS[o.role];
  // 0. TLS: the files read and checked before anything is opened (a bad one fails the start).
  const serverTls = o.tls && new ServerTls(o.tls, log);
  if (o.insecure) log.warn('serving plaintext to other machines (insecure): anyone who can reach the port can read and change what is served; give --tls-cert and --tls-key', { host: o.host });
  // 1. The data dir: a directory we can write, or one we may create.
  try {
    fs.mkdirSync(o.dataDir, { recursive: true });
    fs.accessSync(o.dataDir, fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    throw new DataDirError(`data dir ${o.dataDir} is not a writable directory: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  // 2. The store, handed in or opened (a corrupt database is an error, never an empty store;
  //    Cassandra connects later, in the background), then audit, whose sink counts into the
  //    metrics registry. What the server opens it closes; what it is handed stays the caller's.
  const ownStore = o.metadataStore === undefined;
  const store: MetadataStore = o.metadataStore ?? (o.cassandra ? new CassandraMetadataStore({ ...o.cassandra, log }) : SqliteMetadataStore.open({ file: o.sqliteFile }));
  const cassandra = store instanceof CassandraMetadataStore ? store : undefined;
  const registry = o.metricsPort !== undefined ? new Registry() : undefined;
  const ownAudit = o.auditSink === undefined;
  let audit: AuditSink;
  try {
    audit = o.auditSink ?? (o.esUrl ? new ElasticsearchAuditSink({ node: o.esUrl, ...(o.esAuth && { auth: o.esAuth }), ...(o.esTls && { ca: o.esTls.ca }), indexPrefix: o.esIndexPrefix, replicas: o.esReplicas, retentionDays: o.esRetentionDays, log, ...(registry && { registry }) }) : new FileAuditSink({ file: o.auditFile, ...o.auditFiles, log, ...(registry && { registry }) }));
  } catch (err) {
    if (ownStore) await store.close();
    throw new DataDirError(`cannot open the audit file ${o.auditFile}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const release = async () => {
    if (ownAudit) await audit.close();
    if (ownStore) await store.close();
  };
  // 3. The role's parts: the change hub and what tells it (consume: the poll table, whose first
  //    full read comes before serving, so the first polls answer from memory; with Cassandra
  //    not yet up, misses read the store and fail UNAVAILABLE until it is; all: a follower of
  //    the feed that only tells), the Poller over the role's source, the limiter, metrics.
  const changes = role.polls === 'refused' ? undefined : new PollChangeHub();
  const notify = (topic: string) => changes?.notify(topic);
  const table = role.polls === 'table' ? new PollTable({ store, log, clock: o.clock, notify, refreshMs: o.refreshMs, tailMs: o.tailMs }) : undefined;
  const feed = role.polls === 'store' ? noticeFollower({ store, notify, tailMs: o.tailMs, log, clock: o.clock }) : undefined;
  // What the audit hears of polls: each node's holding, told to the sink only when it changes.
  const holdings = role.polls === 'refused' ? undefined : new Holdings({ sink: audit, ...o.holdings, ...(o.replica !== undefined && { replica: o.replica }), clock: o.clock, log, ...(registry && { registry }) });
  // Who may do what to each topic (calls with a principal): the service's calls and the Poller's polls decide with it.
  //    Its denials go to the audit as denied events, named as the holdings name this instance.
  const access = new AccessControl({ ...(o.access === 'off' ? { enforce: false } : { policy: o.access }), log, clock: o.clock, audit, replica: holdings?.replica ?? o.replica ?? defaultReplicaName(), ...(registry && { registry }) });
  const poller = holdings && new Poller({ source: table ?? new StorePollSource(store), observer: holdings, log, access });
  const watchers = poller && changes && new Watchers({ poller, changes, options: o.watch, clock: o.clock });
  // What consumers say they hold and rejected (polls, Watch, Report), written for the rollout gates.
  const outcomes = poller && new ConsumerOutcomes({ store, ...(changes && { changes }), log, clock: o.clock });
  const limiter = role.limiter ? new ConcurrencyLimiter(o.limiter) : undefined;
  // Every topic's publish status (ListTopics, imprint_topic_publish_overdue): the table's, else the store's, read at most every 30 s.
  const publishStatus = table ? tablePublishStatus(table, o.clock) : new StorePublishStatus({ store, clock: o.clock });
  // The all role's polls read the store: its own commits are word for its Watch streams at once.
  const lender = new Lender(o.blobStores, o.lend, o.clock);
  const service = new ImprintService({ store, audit, log, clock: o.clock, blobStores: o.blobStores, lender, blobCheckTimeoutMs: o.blobCheckTimeoutMs, publishStatus, access, ...(role.polls === 'store' && changes && { changes }) });
  const metrics = registry && consumeMetrics({ registry, publishStatus, publishes: service, ...(table && { table }), ...((table?.feed ?? feed) && { feed: table?.feed ?? feed }), ...(limiter && { limiter }), ...(poller && { poller }), ...(watchers && { watchers }), ...(outcomes && { outcomes }) });
  if (table) {
    const starting = table.start();
    const first = cassandra && !cassandra.isAvailable ? undefined : await starting;
    if (first && !first.ok) log.warn('first poll-table refresh failed; polls read the store until one works', { error: first.error instanceof Error ? first.error.message : String(first.error) });
  }
  if (feed) void feed.start();
  holdings?.start();
  outcomes?.start();
  // The rollout driver: every such instance runs one; the store's lease lets one act at a time.
  let rolloutDriver: RolloutDriver | undefined;
  if (role.drivesRollouts && o.rolloutDriver !== 'off') {
    if (canDriveRollouts(store)) rolloutDriver = new RolloutDriver({ store, ...o.rolloutDriver, clock: o.clock, log });
    else log.warn('the metadata store handed in has no leases: this instance runs no rollout driver', { store: store.name });
  }
  const unlistenRollouts = rolloutDriver && metrics ? rolloutMetrics(rolloutDriver, metrics.registry) : undefined;
  rolloutDriver?.start();
  // 4. Serve.
  const guarded = role.services.includes('imprint.v1.ConsumerService') && (limiter || metrics);
  let grpcHandle: GrpcServerHandle;
  let metricsServer: MetricsServer | undefined;
  let httpServer: HttpServerHandle | undefined;
  try {
    // The services and the handler stack around them, one for every transport.
    const stack: HandlerStackOptions = {
      log,
      service,
      ...(poller && { poller }),
      ...(watchers && { watchers }),
      ...(outcomes && { outcomes }),
      services: role.services,
      batchPoll: o.batchPoll,
      ...(guarded && { guard: { ...(limiter && { limiter }), ...(metrics && { metrics }) } }),
      ...(metrics && { metrics }),
      ...(o.authenticate && { authenticate: o.authenticate }),
    };
    grpcHandle = await startGrpcServer({
      ...stack,
      host: o.host,
      port: o.port,
      noDelay: role.noDelay,
      fastLane: o.fastLane,
      ...(serverTls && { credentials: serverTls.grpcCredentials() }),
    });
    try {
      if (metrics && o.metricsPort !== undefined) metricsServer = await startMetricsServer(metrics.registry, o.metricsPort, o.host, undefined, serverTls);
      if (o.httpPort !== undefined) {
        // What HTTP serves, beside gRPC and from the same service code.
        const routes: HttpRoutes[] = [restRoutes(stack, serverTls?.mutual ?? false), lentBlobRoutes(lender, log), consoleRoutes(builtConsoleDir())];
        httpServer = await startHttpServer({ host: o.host, port: o.httpPort, ...(serverTls && { tls: serverTls }), routes });
        lender.servedAt(defaultPublicUrl(httpServer.scheme, o.host, httpServer.port));
      }
    } catch (err) {
      await metricsServer?.close();
      await grpcHandle.stop(0);
      throw err;
    }
  } catch (err) {
    await rolloutDriver?.stop();
    unlistenRollouts?.();
    watchers?.close();
    await holdings?.stop();
    await outcomes?.stop();
    await table?.stop();
    await feed?.stop();
    metrics?.close();
    await release();
    throw err;
  }
  serverTls?.watch();
  // 5. Health.
  let draining = false;
  const setHealth = (up: boolean) => {
    // Once draining, NOT_SERVING stays: a table refresh or Cassandra's return must not undo it.
    if (draining && up) return;
    for (const n of ['', ...grpcHandle.services]) grpcHandle.health.setStatus(n, up ? 'SERVING' : 'NOT_SERVING');
  };
  let unwatch = () => {};
  if (table) {
    // A consume instance serves polls from its table: SERVING once it has one, and still while
    // the store is down (polls answer from the last good table; its age is a metric).
    setHealth(Number.isFinite(table.age()));
    table.on('refreshed', () => setHealth(true));
  } else if (cassandra) {
    // Health follows Cassandra: NOT_SERVING until it is connected, and while no node answers.
    setHealth(cassandra.isAvailable);
    unwatch = cassandra.onAvailabilityChange(setHealth);
  }
  if (cassandra && ownStore) void cassandra.connectInBackground();
  log.info('imprint serving', {
    address: `${o.host}:${grpcHandle.port}`,
    role: o.role,
    services: grpcHandle.services.join(','),
    ...(table && { refreshMs: o.refreshMs, tableTopics: table.stats().topics }),
    ...(changes && { tailMs: o.tailMs }),
    rolloutDriver: rolloutDriver ? `every ${rolloutDriver.settings.tickMs} ms, lease ${rolloutDriver.settings.leaseTtlMs} ms, as ${rolloutDriver.holder}` : 'off',
    ...(holdings && { replica: holdings.replica, auditQuietMs: holdings.quietMs, auditSummaryMs: holdings.summaryMs }),
    ...(metricsServer && { metrics: `${metricsServer.scheme}://${o.host}:${metricsServer.port}/metrics` }),
    ...(httpServer && { http: `${httpServer.scheme}://${o.host}:${httpServer.port}` }),
    tls: serverTls ? (serverTls.mutual ? 'mTLS' : 'TLS') : 'off',
    ...(serverTls && { tlsFingerprint256: serverTls.current.fingerprint256, tlsValidTo: serverTls.current.validTo }),
    store: ownStore ? store.name : `${store.name} (handed in)`,
    ...(o.cassandra ? { cassandra: o.cassandra.contactPoints.join(','), keyspace: o.cassandra.keyspace, dc: o.cassandra.localDataCenter } : ownStore && { db: o.sqliteFile }),
    // The Elasticsearch URL in its own field: a password in it is redacted by the logger.
    ...(!ownAudit ? { audit: `${audit.name} (handed in)` } : o.esUrl ? { audit: 'elasticsearch', esUrl: o.esUrl, esIndexPrefix: o.esIndexPrefix } : { audit: o.auditFile }),
    blobs: describeBlobStores(o.blobStores),
  });
  const server: ImprintServer = {
    port: grpcHandle.port,
    options: o,
    service,
    ...(poller && { poller }),
    ...(watchers && { watchers }),
    ...(holdings && { holdings }),
    ...(outcomes && { outcomes }),
    store,
    audit,
    grpc: grpcHandle,
    ...(table && { table }),
    ...(changes && { changes }),
    ...(feed && { feed }),
    ...(limiter && { limiter }),
    ...(metrics && { metrics }),
    ...(metricsServer && { metricsServer }),
    ...(httpServer && { http: httpServer }),
    ...(serverTls && { tls: serverTls }),
    ...(rolloutDriver && { rolloutDriver }),
    stop(opts = {}) {
      if (stopping) {
        // Asked again (a second signal): the drain ends now.
        endDrain?.();
        return stopping;
      }
      stopping = stopServing(opts.drain ?? true);
      return stopping;
    },
  };

  let stopping: Promise<void> | undefined;
  let endDrain: (() => void) | undefined;
  async function stopServing(drain: boolean): Promise<void> {
    // 1. Drain: health says NOT_SERVING so load balancers and clients move on, while calls are
    //    still answered for `drainMs`.
    if (drain && o.drainMs > 0) {
      draining = true;
      setHealth(false);
      log.info('draining: health NOT_SERVING, still answering', { drainMs: o.drainMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.drainMs);
        endDrain = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // 2. Stop.
    {
      unwatch();
      // Watch streams end first (UNAVAILABLE: their watchers resume elsewhere), or they would hold the shutdown for its grace.
      watchers?.close();
      await Promise.all([grpcHandle.stop(), httpServer?.stop()]);
      // The last summary: the state this instance saw, as it stops serving.
      await holdings?.stop({ summarize: true });
      // What consumers said last, written before the store closes.
      await outcomes?.stop();
      // The driver finishes its tick and gives its lease up, so another instance takes over at once.
      await rolloutDriver?.stop();
      unlistenRollouts?.();
      await table?.stop();
      await feed?.stop();
      metrics?.close();
      await metricsServer?.close();
      serverTls?.close();
      await release();
      log.info('imprint stopped');
    }
  }
  return server;
}

export { ImprintService, MAX_REPLAY_ENTRIES, type Caller, type ServiceDeps, type TopicDescription } from './service.js';
export { SqliteMetadataStore, StoreOpenError } from './store/sqlite.js';
export { CassandraMetadataStore, CassandraSchemaError } from './store/cassandra.js';
export type { MetadataStore } from './store/metadata-store.js';
export { FileAuditSink, readAuditFile } from './audit/file.js';
export { ElasticsearchAuditSink } from './audit/elasticsearch.js';
export { Holdings, HOLDINGS_DEFAULTS, type HoldingsSettings, type HoldingsStats } from './audit/holdings.js';
export { AUDIT_FILE_DEFAULTS, type AuditFileSettings } from './audit/file-rotation.js';
export type { AuditSink, AuditEvent, AuditStats, TopicConsumers, MovesPage } from './audit/audit-sink.js';
export {
  withDefaults,
  cassandraWithDefaults,
  batchPollWithDefaults,
  BATCH_POLL_DEFAULTS,
  DEFAULT_PORT,
  DEFAULT_HTTP_PORT,
  INSECURE_RULE,
  DEFAULT_REFRESH_MS,
  DEFAULT_TAIL_MS,
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
export { LEND_DEFAULTS, Lender, lendWithDefaults, readLendSecret, type LendOptions } from './lend.js';
export * from './rollout/index.js';
export { ServerTls, TLS_DEFAULTS, isLoopback, loadTlsMaterial, tlsWithDefaults, type TlsMaterial, type TlsOptions, type TlsReloadFailure } from './tls.js';
export { describeCassandraSecurity, describeEsSecurity, type CassandraAuth, type CassandraTlsOptions, type EsAuth, type ResolvedCassandraTls, type ResolvedEsTls } from './backend-credentials.js';
export * from './grpc/index.js';
export * from './auth/index.js';
export * from './poll/index.js';
export { ConcurrencyLimiter, limiterWithDefaults, OTHER_APPS, type AppLimitState, type Lease, type LimiterOptions, type RejectReason, type Rejection } from './limiter.js';
export { restMethods, openApiDocument, HTTP_STATUS, type RestMethod, type RestError } from './http/index.js';
export { consumeMetrics, startMetricsServer, OTHER_APP_LABEL, type ConsumeMetrics, type ConsumeMetricsOptions, type MetricsServer } from './metrics.js';
