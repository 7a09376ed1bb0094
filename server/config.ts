/** The server's options, with every default in one place. */
import { lendWithDefaults, type LendOptions, type ResolvedLendOptions } from './lend.js';
import path from 'node:path';
import type { BlobStore } from '../client/blob-store/blob-store.js';
import { LocalBlobStore } from '../client/blob-store/local.js';
import { InvalidArgumentError, accessPolicy, type AccessPolicy } from '../core/index.js';
import { DEFAULT_BLOB_CHECK_TIMEOUT_MS } from './blob-check.js';
import type { AuditSink } from './audit/audit-sink.js';
import { limiterWithDefaults, type LimiterOptions } from './limiter.js';
import { redactUrl, type Logger } from '../log/index.js';
import { holdingsWithDefaults, type HoldingsSettings } from './audit/holdings.js';
import { auditFileWithDefaults, type AuditFileSettings } from './audit/file-rotation.js';
import { watchWithDefaults, type WatchOptions } from './poll/watch.js';
import { rolloutDriverWithDefaults, type RolloutDriverSettings } from './rollout/driver.js';
import type { MetadataStore } from './store/metadata-store.js';
import type { Authenticate } from './auth/principal.js';
import { isLoopback, tlsWithDefaults, type TlsOptions } from './tls.js';
import type { CassandraStoreOptions, ConsistencyName, SerialConsistencyName } from './store/cassandra.js';
import { cassandraAuthFrom, cassandraTlsFrom, esAuthFrom, esTlsFrom, type CassandraTlsOptions, type EsAuth, type ResolvedEsTls } from './backend-credentials.js';

export type StoreKind = 'sqlite' | 'cassandra';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'cassandra'];
export type AuditKind = 'file' | 'elasticsearch';
export const AUDIT_KINDS: readonly AuditKind[] = ['file', 'elasticsearch'];
/**
 * Which services an instance serves. `publish`: Publisher and Operator (writes, pins, describe)
 * and the Consumer's reads, not polls.
 * `consume`: Consumer only, polls answered from an in-memory table kept current from the store's change feed,
 * per-application concurrency limits. `all`: everything, polls read the store directly.
 */
export type Role = 'publish' | 'consume' | 'all';
export const ROLES: readonly Role[] = ['publish', 'consume', 'all'];

export interface ServerOptions {
  /** Holds the SQLite database, the local blob directory and the audit file. @default "./imprint-data" */
  readonly dataDir?: string;
  /** @default "127.0.0.1" (use 0.0.0.0 to serve other machines) */
  readonly host?: string;
  /** 0 picks a free port (tests). @default 50051 */
  readonly port?: number;
  /** Where topics, versions and pins live. @default "sqlite" */
  readonly store?: StoreKind;
  /** Required when `store` is "cassandra"; ignored otherwise. */
  readonly cassandra?: CassandraOptions;
  /**
   * A ready-made store to serve instead of opening one (benches and tests hand in theirs):
   * the caller's, so the server does not close it; `store` and `cassandra` must not be given
   * with it. @default none: the server opens the store `store` names
   */
  readonly metadataStore?: MetadataStore;
  /**
   * A ready-made audit sink to record polls to instead of opening one: the caller's, so the
   * server does not close it; `audit`, `esUrl` and `esIndexPrefix` must not be given with it.
   * @default none: the server opens the sink `audit` names
   */
  readonly auditSink?: AuditSink;
  /** Where audit events go: the JSON-lines file in the data dir, or Elasticsearch. @default "file" */
  readonly audit?: AuditKind;
  /** With audit "elasticsearch": its URL. @default none (required then) */
  readonly esUrl?: string;
  /** With audit "elasticsearch": prefix of the daily indices. @default "imprint-audit" */
  readonly esIndexPrefix?: string;
  /** Replicas of each audit index (0 to 10; with `audit` elasticsearch). @default 0, right for a single-node cluster */
  readonly esReplicas?: number;
  /** Days each audit index is kept (1 to 36500; with `audit` elasticsearch): the ILM policy's delete phase. @default 30 */
  readonly esRetentionDays?: number;
  /** With audit "elasticsearch": an API key, the base64 `encoded` value `POST /_security/api_key` returns. Not with esUsername. @default none */
  readonly esApiKey?: string;
  /** With audit "elasticsearch": basic-auth user, with esPassword. @default none */
  readonly esUsername?: string;
  /** esUsername's password. @default none */
  readonly esPassword?: string;
  /** With audit "elasticsearch": PEM file of the CA that signed Elasticsearch's HTTP certificate (an https esUrl). @default the system's CAs */
  readonly esCaFile?: string;
  /** With audit "file": rotation by size and the rotated files kept (rotation at UTC midnight too). @default see auditFileWithDefaults */
  readonly auditFiles?: AuditFileSettings;
  /** Which services to serve (see Role). @default "all" */
  readonly role?: Role;
  /**
   * Consume role: how often every topic of the poll table is read again from the store, ms
   * (100 to 600000): the safety net beside the change feed, which brings changes within
   * about `tailMs`. @default 300000 (5 minutes)
   */
  readonly refreshMs?: number;
  /**
   * Consume and all roles: how often the change feed is read, ms (10 to 600000): the consume
   * role's table applies what changed, and both roles tell Watch streams. @default 100
   */
  readonly tailMs?: number;
  /**
   * Serve Prometheus metrics on this HTTP port (0: any free port), in every role: consumer
   * requests, the consume role's table and limiter, the Elasticsearch audit sink's counters.
   * @default none (no metrics endpoint)
   */
  readonly metricsPort?: number;
  /**
   * Serve HTTP/1.1 on this port (0: any free port), in every role: the REST/JSON API at /v1/...
   * and the lent payload URLs of the embedded blob store. HTTPS with `tls`. The CLI serves it
   * on 8080 unless told otherwise. @default none (no HTTP server)
   */
  readonly httpPort?: number;
  /** Lent payload URLs (BeginUpload, CompleteUpload, GetDownload): expiry, secret, public URL. @default see lendWithDefaults */
  readonly lend?: LendOptions;
  /** Consume role: the per-application concurrency limiter. @default see limiterWithDefaults */
  readonly limiter?: LimiterOptions;
  /**
   * The blob stores (one per region) a publish's blob pointer is checked against: each
   * location must be in one of them, and its object there with the pointer's size. The
   * caller's stores: the server does not close them.
   * @default the local store in DATA_DIR/blobs (region and bucket "local")
   */
  readonly blobStores?: readonly BlobStore[];
  /** How long one region may take to answer that check, ms (1 to 60000). @default 2000 */
  readonly blobCheckTimeoutMs?: number;
  /** What one BatchPoll may ask and answer (every role that serves polls; a Watch request too). @default see batchPollWithDefaults */
  readonly batchPoll?: BatchPollOptions;
  /**
   * Poll, BatchPoll and Watch served in the gRPC transport's fast lane (server/grpc/fast-lane.ts:
   * off Node's HTTP/2 streams, through the same handler stack). false: grpc-js serves them as it
   * serves every other call (what benches compare against). @default true
   */
  readonly fastLane?: boolean;
  /** Watch streams' bounds and timings (every role that serves polls). @default see watchWithDefaults */
  readonly watch?: WatchOptions;
  /**
   * What the audit remembers of each node per topic and when it speaks (every role that
   * serves polls): the quiet window after which a node is gone, the summary period, the
   * bound on (topic, node) pairs. @default see holdingsWithDefaults
   */
  readonly holdings?: HoldingsSettings;
  /** This instance's name in audit events. @default host:pid/start time (unique per process life) */
  readonly replica?: string;
  /**
   * On stop, health says NOT_SERVING for this long, ms (0 to 600000), while calls are still
   * answered, so load balancers and clients move on first. @default 0 (`imprint serve`: 5000)
   */
  readonly drainMs?: number;
  /**
   * Establishes each call's principal (server/auth): calls it cannot authenticate are
   * answered UNAUTHENTICATED. @default none: calls are anonymous (the loopback-only embedded default)
   */
  readonly authenticate?: Authenticate;
  /**
   * Per-topic access control for calls with a principal (core/access.ts): admins, the grants
   * of new topics, who may create topics. 'off': principals are authenticated and recorded but
   * nothing is checked (a migration step; the bench's baseline). @default no admins; new
   * topics: everyone consumes, owners publish; any principal creates topics
   */
  readonly access?: AccessPolicy | 'off';
  /**
   * Publish and all roles: the rollout driver (server/rollout), which advances running
   * rollouts while this instance holds the store's lease "rollout-driver" (one instance acts
   * at a time; another takes over within the lease's time when it stops or dies): its tick,
   * lease and webhook retry, or 'off' (`--rollout-driver off`: a janitor or another instance
   * drives). @default on, a tick every 1000 ms (see rolloutDriverWithDefaults)
   */
  readonly rolloutDriver?: RolloutDriverSettings | 'off';
  /**
   * Serve TLS on every listener (gRPC and the metrics endpoint), from PEM files read again
   * when they change; with `clientCaFile`, mTLS. @default none: plaintext
   */
  readonly tls?: TlsOptions;
  /**
   * Allows binding a non-loopback `host` without `tls` (plaintext to other machines), with a
   * warning in the log. @default false: a non-loopback host without tls is refused
   */
  readonly insecure?: boolean;
  /** @default a logger on stderr at level info */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** The bounds of one BatchPoll, so no request costs more than a bounded amount of work and memory. */
export interface BatchPollOptions {
  /** Topics one BatchPoll may name (more: INVALID_ARGUMENT before any work), 1 to 2000. @default 500 */
  readonly maxTopics?: number;
  /**
   * Bytes one BatchPoll answer may take, counted on its encoded results, 1048576 to 67108864
   * (at least 1 MiB: room to leave out every one of 2000 topics, at most 232 bytes each).
   * Beyond it, records come without their direct bytes (direct_omitted: the client reads them
   * with GetVersion), and results that do not fit even so are left for another request
   * (error_code RESOURCE_EXHAUSTED). The default keeps every answer under the 4 MiB that
   * grpc-js and Python accept by default. @default 4128768 (4 MiB - 64 KiB)
   */
  readonly maxResponseBytes?: number;
}

export const BATCH_POLL_DEFAULTS = { maxTopics: 500, maxResponseBytes: 4 * 1024 * 1024 - 64 * 1024 } as const;

/** Checks the BatchPoll bounds and fills in the defaults above. */
export function batchPollWithDefaults(o: BatchPollOptions = {}): Required<BatchPollOptions> {
  const maxTopics = o.maxTopics ?? BATCH_POLL_DEFAULTS.maxTopics;
  if (!Number.isInteger(maxTopics) || maxTopics < 1 || maxTopics > 2000) {
    throw new InvalidArgumentError('batchPoll.maxTopics', 'must be a whole number from 1 to 2000 (--batch-poll-max-topics, IMPRINT_BATCH_POLL_MAX_TOPICS)', maxTopics);
  }
  const maxResponseBytes = o.maxResponseBytes ?? BATCH_POLL_DEFAULTS.maxResponseBytes;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1_048_576 || maxResponseBytes > 67_108_864) {
    throw new InvalidArgumentError('batchPoll.maxResponseBytes', 'must be a whole number from 1048576 to 67108864 (--batch-poll-max-response-bytes, IMPRINT_BATCH_POLL_MAX_RESPONSE_BYTES)', maxResponseBytes);
  }
  return { maxTopics, maxResponseBytes };
}

/** The Cassandra store's options as a caller gives them (CLI flags, tests). */
export interface CassandraOptions {
  /** `host[:port]` of one or more nodes; required. A bare host uses port 9042. */
  readonly contactPoints?: string | readonly string[];
  /** The data center this server is in (the driver routes to it); required, e.g. "datacenter1". */
  readonly localDataCenter?: string;
  /** Created when missing. @default "imprint" */
  readonly keyspace?: string;
  /**
   * The keyspace's replication, used only when the keyspace is created (an existing one is
   * left as it is): an object or its JSON text.
   * @default {"class":"NetworkTopologyStrategy","<localDataCenter>":3} (tests pass {"class":"SimpleStrategy","replication_factor":1})
   */
  readonly replication?: string | Readonly<Record<string, string | number>>;
  /** Reads, plain writes and the commit of conditional writes. @default "LOCAL_QUORUM" */
  readonly consistency?: ConsistencyName;
  /** The Paxos phase of conditional writes (version numbers) and serial reads. @default "LOCAL_SERIAL" */
  readonly serialConsistency?: SerialConsistencyName;
  /** TCP connect timeout per node. @default 5000 */
  readonly connectTimeoutMs?: number;
  /**
   * Client-side timeout of one request. Above Cassandra's own (write 2 s, read 5 s, CAS
   * contention 1 s) so the server's answer wins, below the gRPC client's 10 s deadline so
   * callers get UNAVAILABLE rather than DEADLINE_EXCEEDED when a node hangs. @default 8000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Client-side timeout of the conditional writes only. Lower it only to exercise the
   * "outcome unknown" path in tests. @default requestTimeoutMs
   */
  readonly lwtTimeoutMs?: number;
  /** How long one publish keeps retrying lost or undecided version-number CASes. @default 20000 */
  readonly publishBudgetMs?: number;
  /** First delay between connection attempts (start-up and after Cassandra went away); doubles each time. @default 500 */
  readonly reconnectBaseMs?: number;
  /** Longest delay between connection attempts. @default 5000 */
  readonly reconnectMaxMs?: number;
  /**
   * Requests in a row that got no answer within requestTimeoutMs after which the store counts
   * as unavailable (health NOT_SERVING) until Cassandra answers again: a node that hangs keeps
   * its connections open, so the driver never sees it go down. @default 3
   */
  readonly timeoutsBeforeUnavailable?: number;
  /** User for Cassandra's PasswordAuthenticator (the driver's PlainTextAuthProvider), with password. @default none: no authentication */
  readonly username?: string;
  /** The user's password. @default none */
  readonly password?: string;
  /** TLS to the native port (Cassandra's client_encryption_options). @default none: plaintext */
  readonly tls?: CassandraTlsOptions;
}

export interface ResolvedServerOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly store: StoreKind;
  /** Set when `store` is "cassandra". */
  readonly cassandra?: CassandraStoreOptions;
  /** The caller's store, when it gave one. */
  readonly metadataStore?: MetadataStore;
  /** The caller's audit sink, when it gave one. */
  readonly auditSink?: AuditSink;
  readonly audit: AuditKind;
  readonly esUrl?: string;
  readonly esIndexPrefix?: string;
  readonly esReplicas?: number;
  readonly esRetentionDays?: number;
  /** Elasticsearch's credentials, when given (with `audit` elasticsearch). */
  readonly esAuth?: EsAuth;
  /** Elasticsearch's CA, when given (with `audit` elasticsearch). */
  readonly esTls?: ResolvedEsTls;
  /** Set when `audit` is "file" (and no sink was handed in). */
  readonly auditFiles?: Readonly<Required<AuditFileSettings>>;
  readonly role: Role;
  readonly refreshMs: number;
  readonly tailMs: number;
  readonly metricsPort?: number;
  readonly httpPort?: number;
  readonly lend: ResolvedLendOptions;
  readonly limiter: Readonly<Required<LimiterOptions>>;
  readonly blobStores: readonly BlobStore[];
  readonly blobCheckTimeoutMs: number;
  readonly batchPoll: Readonly<Required<BatchPollOptions>>;
  readonly fastLane: boolean;
  readonly watch: Readonly<Required<WatchOptions>>;
  readonly holdings: Readonly<Required<HoldingsSettings>>;
  readonly replica?: string;
  readonly drainMs: number;
  readonly authenticate?: Authenticate;
  readonly access: AccessPolicy | 'off';
  readonly rolloutDriver: Readonly<Required<RolloutDriverSettings>> | 'off';
  readonly tls?: ReturnType<typeof tlsWithDefaults>;
  /** Plaintext on a non-loopback host, allowed by `insecure`. */
  readonly insecure: boolean;
  readonly log?: Logger;
  readonly clock: () => number;
  readonly sqliteFile: string;
  readonly auditFile: string;
  readonly blobDir: string;
}

export const DEFAULT_PORT = 50051;
/** The CLI's HTTP port (REST/JSON, lent payload URLs) when --http-port is not given. */
export const DEFAULT_HTTP_PORT = 8080;
/** Why a non-loopback host without TLS is refused (the server's and the janitor's listeners). */
export const INSECURE_RULE =
  'is not a loopback address: serving other machines needs TLS (--tls-cert and --tls-key, IMPRINT_TLS_CERT and IMPRINT_TLS_KEY) or, to serve them plaintext, an explicit --insecure (IMPRINT_INSECURE=true)';
export const DEFAULT_REFRESH_MS = 300_000;
export const DEFAULT_TAIL_MS = 100;

export const CONSISTENCY_NAMES: readonly ConsistencyName[] = ['ONE', 'LOCAL_ONE', 'TWO', 'THREE', 'QUORUM', 'LOCAL_QUORUM', 'EACH_QUORUM', 'ALL'];
export const SERIAL_CONSISTENCY_NAMES: readonly SerialConsistencyName[] = ['SERIAL', 'LOCAL_SERIAL'];

export const CASSANDRA_DEFAULTS = {
  keyspace: 'imprint',
  replicationFactor: 3,
  consistency: 'LOCAL_QUORUM',
  serialConsistency: 'LOCAL_SERIAL',
  connectTimeoutMs: 5000,
  requestTimeoutMs: 8000,
  publishBudgetMs: 20_000,
  reconnectBaseMs: 500,
  reconnectMaxMs: 5000,
  timeoutsBeforeUnavailable: 3,
  port: 9042,
} as const;

export function withDefaults(o: ServerOptions): ResolvedServerOptions {
  const dataDir = path.resolve(o.dataDir ?? 'imprint-data');
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('port', 'must be a whole number from 0 to 65535', port);
  if (o.metadataStore) {
    for (const field of ['store', 'cassandra'] as const) if (o[field] !== undefined) throw new InvalidArgumentError(field, 'must not be given with metadataStore (the server serves the store it is handed)', o[field]);
  }
  if (o.auditSink) {
    for (const field of ['audit', 'esUrl', 'esIndexPrefix', 'esReplicas', 'esRetentionDays', 'esApiKey', 'esUsername', 'esPassword', 'esCaFile', 'auditFiles'] as const) if (o[field] !== undefined) throw new InvalidArgumentError(field, 'must not be given with auditSink (the server records to the sink it is handed)', o[field]);
  }
  const store = o.store ?? 'sqlite';
  if (!STORE_KINDS.includes(store)) throw new InvalidArgumentError('store', `must be one of ${STORE_KINDS.join(', ')}`, store);
  const audit = o.audit ?? 'file';
  if (!AUDIT_KINDS.includes(audit)) throw new InvalidArgumentError('audit', `must be one of ${AUDIT_KINDS.join(', ')}`, audit);
  if (audit === 'elasticsearch' && !/^https?:\/\/[^\s/]+/.test(o.esUrl ?? '')) {
    // A password in the URL is not echoed.
    throw new InvalidArgumentError('es-url', 'must be the http(s) URL of Elasticsearch with --audit elasticsearch (e.g. http://127.0.0.1:9200)', redactUrl(o.esUrl ?? ''));
  }
  if (o.esReplicas !== undefined && !(Number.isInteger(o.esReplicas) && o.esReplicas >= 0 && o.esReplicas <= 10)) {
    throw new InvalidArgumentError('es-replicas', 'must be a whole number from 0 to 10', o.esReplicas);
  }
  if (o.esRetentionDays !== undefined && !(Number.isInteger(o.esRetentionDays) && o.esRetentionDays >= 1 && o.esRetentionDays <= 36500)) {
    throw new InvalidArgumentError('audit-retention-days', 'must be a whole number of days from 1 to 36500', o.esRetentionDays);
  }
  const esAuth = esAuthFrom(o);
  const esTls = esTlsFrom(o.esCaFile);
  const role = o.role ?? 'all';
  if (!ROLES.includes(role)) throw new InvalidArgumentError('role', `must be one of ${ROLES.join(', ')}`, role);
  const refreshMs = o.refreshMs ?? DEFAULT_REFRESH_MS;
  if (!Number.isInteger(refreshMs) || refreshMs < 100 || refreshMs > 600_000) throw new InvalidArgumentError('refresh-ms', 'must be a whole number of milliseconds from 100 to 600000', refreshMs);
  const tailMs = o.tailMs ?? DEFAULT_TAIL_MS;
  if (!Number.isInteger(tailMs) || tailMs < 10 || tailMs > 600_000) throw new InvalidArgumentError('tail-ms', 'must be a whole number of milliseconds from 10 to 600000', tailMs);
  const metricsPort = o.metricsPort;
  if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)) {
    throw new InvalidArgumentError('metrics-port', 'must be a whole number from 0 to 65535', metricsPort);
  }
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) throw new InvalidArgumentError('metrics-port', 'must differ from the gRPC port', metricsPort);
  const httpPort = o.httpPort;
  if (httpPort !== undefined && (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535)) throw new InvalidArgumentError('http-port', 'must be a whole number from 0 to 65535', httpPort);
  if (httpPort !== undefined && httpPort !== 0 && (httpPort === port || httpPort === metricsPort)) throw new InvalidArgumentError('http-port', 'must differ from the gRPC port and the metrics port', httpPort);
  const blobCheckTimeoutMs = o.blobCheckTimeoutMs ?? DEFAULT_BLOB_CHECK_TIMEOUT_MS;
  if (!Number.isInteger(blobCheckTimeoutMs) || blobCheckTimeoutMs < 1 || blobCheckTimeoutMs > 60_000) {
    throw new InvalidArgumentError('blob-check-timeout-ms', 'must be a whole number of milliseconds from 1 to 60000', blobCheckTimeoutMs);
  }
  const blobDir = path.join(dataDir, 'blobs');
  const access = o.access ?? {};
  if (access !== 'off') accessPolicy(access, 'admin'); // checked here, resolved by the server
  const watch = watchWithDefaults(o.watch);
  const holdings = holdingsWithDefaults(o.holdings);
  if (watch.auditIntervalMs >= holdings.quietMs) {
    throw new InvalidArgumentError('watch-audit-interval-ms', `must be less than --audit-quiet-ms (${holdings.quietMs}), or watching nodes would be reported gone between their checks`, watch.auditIntervalMs);
  }
  const drainMs = o.drainMs ?? 0;
  if (!Number.isInteger(drainMs) || drainMs < 0 || drainMs > 600_000) throw new InvalidArgumentError('drain-ms', 'must be a whole number of milliseconds from 0 to 600000', drainMs);
  if (o.replica !== undefined && !/^[\x21-\x7e]{1,200}$/.test(o.replica)) throw new InvalidArgumentError('replica', 'must be 1 to 200 printable ASCII characters without spaces', o.replica);
  const host = o.host ?? '127.0.0.1';
  const tls = o.tls && tlsWithDefaults(o.tls);
  const insecure = !tls && !isLoopback(host);
  if (insecure && o.insecure !== true) throw new InvalidArgumentError('host', INSECURE_RULE, host);
  return {
    dataDir,
    host,
    port,
    store,
    ...(store === 'cassandra' && { cassandra: cassandraWithDefaults(o.cassandra ?? {}) }),
    ...(o.metadataStore && { metadataStore: o.metadataStore }),
    ...(o.auditSink && { auditSink: o.auditSink }),
    audit,
    ...(audit === 'elasticsearch' && { esUrl: o.esUrl, esIndexPrefix: o.esIndexPrefix ?? 'imprint-audit', esReplicas: o.esReplicas ?? 0, esRetentionDays: o.esRetentionDays ?? 30, ...(esAuth && { esAuth }), ...(esTls && { esTls }) }),
    ...(audit === 'file' && !o.auditSink && { auditFiles: auditFileWithDefaults(o.auditFiles) }),
    role,
    refreshMs,
    tailMs,
    ...(metricsPort !== undefined && { metricsPort }),
    ...(httpPort !== undefined && { httpPort }),
    lend: lendWithDefaults(o.lend),
    limiter: limiterWithDefaults(o.limiter),
    blobStores: o.blobStores ?? [new LocalBlobStore({ root: blobDir })],
    blobCheckTimeoutMs,
    batchPoll: batchPollWithDefaults(o.batchPoll),
    fastLane: o.fastLane ?? true,
    watch,
    holdings,
    ...(o.replica !== undefined && { replica: o.replica }),
    drainMs,
    ...(o.log && { log: o.log }),
    ...(o.authenticate && { authenticate: o.authenticate }),
    access,
    rolloutDriver: o.rolloutDriver === 'off' ? 'off' : rolloutDriverWithDefaults(o.rolloutDriver),
    ...(tls && { tls }),
    insecure,
    clock: o.clock ?? Date.now,
    sqliteFile: path.join(dataDir, 'imprint.db'),
    auditFile: path.join(dataDir, 'audit', 'events.jsonl'),
    blobDir,
  };
}

const KEYSPACE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;
const REPLICATION_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const REPLICATION_VALUE = /^[A-Za-z0-9_.:-]{1,256}$/;

/** Checks the Cassandra options and fills in the defaults above. */
export function cassandraWithDefaults(c: CassandraOptions): CassandraStoreOptions {
  const field = (name: string) => `cassandra.${name}`;
  const points = (typeof c.contactPoints === 'string' ? c.contactPoints.split(',') : [...(c.contactPoints ?? [])]).map((p) => p.trim()).filter((p) => p !== '');
  if (points.length === 0) throw new InvalidArgumentError(field('contactPoints'), 'must name at least one host:port (--cassandra-contact-points, IMPRINT_CASSANDRA_CONTACT_POINTS)');
  const contactPoints = points.map((p) => {
    const m = HOST_PORT.exec(p);
    const portText = m?.[1];
    if (!m || (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65535))) throw new InvalidArgumentError(field('contactPoints'), 'must be host or host:port entries separated by ","', p);
    return portText === undefined ? `${p}:${CASSANDRA_DEFAULTS.port}` : p;
  });
  const localDataCenter = (c.localDataCenter ?? '').trim();
  if (localDataCenter === '') throw new InvalidArgumentError(field('localDataCenter'), 'must name the data center this server runs in (--cassandra-local-dc, IMPRINT_CASSANDRA_LOCAL_DC), e.g. datacenter1');
  if (!REPLICATION_VALUE.test(localDataCenter)) throw new InvalidArgumentError(field('localDataCenter'), 'must be 1-256 of [A-Za-z0-9_.:-]', localDataCenter);
  const keyspace = c.keyspace ?? CASSANDRA_DEFAULTS.keyspace;
  // The keyspace is written into CQL text, so it must be a plain identifier.
  if (!KEYSPACE.test(keyspace)) throw new InvalidArgumentError(field('keyspace'), 'must be 1-48 of [A-Za-z0-9_], starting with a letter', keyspace);
  const consistency = c.consistency ?? CASSANDRA_DEFAULTS.consistency;
  if (!CONSISTENCY_NAMES.includes(consistency)) throw new InvalidArgumentError(field('consistency'), `must be one of ${CONSISTENCY_NAMES.join(', ')}`, consistency);
  const serialConsistency = c.serialConsistency ?? CASSANDRA_DEFAULTS.serialConsistency;
  if (!SERIAL_CONSISTENCY_NAMES.includes(serialConsistency)) throw new InvalidArgumentError(field('serialConsistency'), `must be one of ${SERIAL_CONSISTENCY_NAMES.join(', ')}`, serialConsistency);
  const ms = (name: keyof CassandraOptions & `${string}Ms`, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < 1 || v > 3_600_000) throw new InvalidArgumentError(field(name), 'must be a whole number of milliseconds from 1 to 3600000', v);
    return v;
  };
  const requestTimeoutMs = ms('requestTimeoutMs', c.requestTimeoutMs, CASSANDRA_DEFAULTS.requestTimeoutMs);
  const reconnectBaseMs = ms('reconnectBaseMs', c.reconnectBaseMs, CASSANDRA_DEFAULTS.reconnectBaseMs);
  const reconnectMaxMs = ms('reconnectMaxMs', c.reconnectMaxMs, CASSANDRA_DEFAULTS.reconnectMaxMs);
  if (reconnectMaxMs < reconnectBaseMs) throw new InvalidArgumentError(field('reconnectMaxMs'), 'must not be below reconnectBaseMs', reconnectMaxMs);
  const timeoutsBeforeUnavailable = c.timeoutsBeforeUnavailable ?? CASSANDRA_DEFAULTS.timeoutsBeforeUnavailable;
  if (!Number.isInteger(timeoutsBeforeUnavailable) || timeoutsBeforeUnavailable < 1 || timeoutsBeforeUnavailable > 1000) {
    throw new InvalidArgumentError(field('timeoutsBeforeUnavailable'), 'must be a whole number from 1 to 1000', timeoutsBeforeUnavailable);
  }
  const auth = cassandraAuthFrom(c.username, c.password);
  const tls = cassandraTlsFrom(c.tls);
  return {
    contactPoints,
    localDataCenter,
    keyspace,
    replication: parseReplication(c.replication, localDataCenter),
    consistency,
    serialConsistency,
    connectTimeoutMs: ms('connectTimeoutMs', c.connectTimeoutMs, CASSANDRA_DEFAULTS.connectTimeoutMs),
    requestTimeoutMs,
    lwtTimeoutMs: ms('lwtTimeoutMs', c.lwtTimeoutMs, requestTimeoutMs),
    publishBudgetMs: ms('publishBudgetMs', c.publishBudgetMs, CASSANDRA_DEFAULTS.publishBudgetMs),
    reconnectBaseMs,
    reconnectMaxMs,
    timeoutsBeforeUnavailable,
    ...(auth && { auth }),
    ...(tls && { tls }),
  };
}

/** The replication map (written into CQL text, so keys and values are checked strictly). */
function parseReplication(r: CassandraOptions['replication'], localDataCenter: string): Readonly<Record<string, string>> {
  const field = 'cassandra.replication';
  if (r === undefined) return { class: 'NetworkTopologyStrategy', [localDataCenter]: String(CASSANDRA_DEFAULTS.replicationFactor) };
  let parsed: unknown = r;
  if (typeof r === 'string') {
    try {
      parsed = JSON.parse(r);
    } catch {
      throw new InvalidArgumentError(field, 'must be a JSON object such as {"class":"SimpleStrategy","replication_factor":1}', r);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(field, 'must be a JSON object such as {"class":"SimpleStrategy","replication_factor":1}', r);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!REPLICATION_KEY.test(k)) throw new InvalidArgumentError(field, 'keys must be 1-128 of [A-Za-z0-9_.-]', k);
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) throw new InvalidArgumentError(`${field}.${k}`, 'must be a string or a whole number', v);
    const text = String(v);
    if (!REPLICATION_VALUE.test(text)) throw new InvalidArgumentError(`${field}.${k}`, 'must be 1-256 of [A-Za-z0-9_.:-]', text);
    out[k] = text;
  }
  if (out.class === undefined) throw new InvalidArgumentError(`${field}.class`, 'must name the strategy (SimpleStrategy, NetworkTopologyStrategy)');
  return out;
}
