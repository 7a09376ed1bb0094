/**
 * The `imprint` command's definition: every verb, option and environment variable. cli/main.ts
 * runs it; tests read it (test/unit/compose.test.ts checks docker-compose.yml against it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
// Modules, not client/index.js: the AWS SDK loads only for --blobs s3 (see cli/blobs.ts).
import { downloadPayload } from '../client/fetch.js';
import { ImprintClient, type TopicChange, type WatchResult } from '../client/imprint-client.js';
import { PUBLISHER_DEFAULTS, Publisher } from '../client/publisher.js';
import {
  MAX_MOVES,
  MAX_DENIALS,
  MAX_NODE_LIST,
  checkContractLimit,
  contractOf,
  parseScope,
  parseVersion,
  validateContract,
  validatePublishId,
  InvalidArgumentError,
  SignatureRejectedError,
  signatureProblem,
  type ConsumerIdentity,
  type Retention,
  type Scope,
  type StalenessContract,
  type VersionRecord,
} from '../core/index.js';
import { kibanaConsumersLink } from '../server/audit/kibana.js';
import { AUDIT_KINDS, BATCH_POLL_DEFAULTS, DEFAULT_REFRESH_MS, DEFAULT_TAIL_MS, ROLES, type AuditKind, type Role, type ServerOptions } from '../server/config.js';
import { type ImprintServer, LEND_DEFAULTS, readLendSecret, DEFAULT_BLOB_CHECK_TIMEOUT_MS, DEFAULT_HTTP_PORT, DEFAULT_PORT, ROLLOUT_DRIVER_DEFAULTS, WATCH_DEFAULTS, rolloutTickFlag, HOLDINGS_DEFAULTS, AUDIT_FILE_DEFAULTS, describeBlobStores, describeCassandraSecurity, describeEsSecurity, startImprintServer } from '../server/index.js';
import { lentStores } from '../client/lent.js';
import { addBlobOptions, addReadOptions, blobStoresFrom, readOptionsFrom, slowRegionText, type BlobCliOptions, type ReadCliOptions } from './blobs.js';
import { addJanitorCommand, parseDuration } from './janitor.js';
import { addTopicLifecycleCommands, historyAt, parseMoment } from './lifecycle.js';
import { addSnapshotCommand } from './snapshot.js';
import { addKeygenCommand, asSignKeyFlagError, signKeyFromFile, trustedKeysFromFiles } from './signing.js';
import { addAclCommands } from './acl.js';
import { addRolloutCommands, addRolloutPolicyOptions, rolloutJson, rolloutLine, rolloutPolicyFromFlags, type RolloutFlags } from './rollout.js';
import { addLogOptions, loggerFrom, type LogCliOptions } from './log-options.js';
import { redactUrl } from '../log/index.js';
import { addStoreOptions, cassandraFrom, type StoreCliOptions } from './store-options.js';
import { addSecretOption, secretFrom } from './secrets.js';
import { bytes, CHANGE_HEADER, changeJson, changeText, pinText, publishStatusText, recordJson, recordText, scopeText, toJson, topicText, when } from './format.js';
import { startProgress } from './progress.js';
import { addAuthOptions, addJwtOptions, authenticatorFrom, tokenFrom, type AuthCliOptions, type JwtCliOptions, type TokenCliOptions } from './auth-options.js';
import { checkHealth } from '../client/health.js';
import { PROTO_ROOT } from '../proto/loader.js';
import { addServeTlsOptions, addTlsOptions, clientTlsFrom, serverTlsFrom, type ServeTlsCliOptions, type TlsCliOptions } from './tls-options.js';

/** `imprint serve`'s drain on a signal: long enough for a load balancer's health check to see NOT_SERVING. */
const DEFAULT_DRAIN_MS = 5000;

interface GlobalOpts extends TlsCliOptions, TokenCliOptions {
  address: string;
  dataDir: string;
  blobDir?: string;
  json?: boolean;
}

/** The version in the package.json of this checkout or install (beside proto/, in source and built alike). */
function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(path.dirname(PROTO_ROOT), 'package.json'), 'utf8')) as { version: string }).version;
}

export const program = new Command('imprint')
  .description('Publish immutable, versioned datasets to topics; consumers hot-swap their copy.')
  .version(packageVersion(), '-V, --version', 'print the version of imprint')
  // Usage errors (unknown option or command, a value outside the choices, a missing argument)
  // are thrown, not exited on, so that cli/main.ts gives them the exit code of invalid input;
  // subcommands inherit this from here.
  .exitOverride()
  .addOption(new Option('-a, --address <host:port>', 'the Imprint service').env('IMPRINT_ADDRESS').default(`127.0.0.1:${DEFAULT_PORT}`))
  .addOption(new Option('--token <jwt>', 'a bearer token (JWT) sent on every call, for a server that authenticates callers').env('IMPRINT_TOKEN'))
  .addOption(new Option('--token-file <file>', 'read the bearer token from this file before every call (a token a job refreshes)').env('IMPRINT_TOKEN_FILE'))
  .addOption(new Option('-d, --data-dir <dir>', 'data dir of the embedded service (database, blobs, audit)').env('IMPRINT_DATA_DIR').default('imprint-data'))
  .addOption(new Option('--blob-dir <dir>', 'local blob directory for payloads over 1 MiB (default: DATA_DIR/blobs)').env('IMPRINT_BLOB_DIR'))
  .option('--json', 'print JSON for scripts instead of text')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  imprint serve                                   start the service on ./imprint-data, port ${DEFAULT_PORT}
  imprint topic create ip-reputation --owner trust-team --keep-versions 20
  imprint publish ip-reputation ./model.bin --meta build=1234
  imprint poll ip-reputation --app scorer --region us-east-1
  imprint watch ip-reputation --app scorer          each change as it comes, until Ctrl-C
  imprint pin ip-reputation 41 --reason "v42 scores everything as spam"
  imprint unpin ip-reputation
  imprint topic update ip-reputation --rollout "cluster=canary 10m gates=consumers; region=us-east-1 30m; * 0"
  imprint rollout status ip-reputation            where the newest publish's rollout is
  imprint history ip-reputation`,
  );
addTlsOptions(program);

const globals = (): GlobalOpts => program.opts<GlobalOpts>();
const blobDir = (): string => path.resolve(globals().blobDir ?? path.join(globals().dataDir, 'blobs'));

function out(json: unknown, text: () => string): void {
  process.stdout.write(`${globals().json ? toJson(json) : text()}\n`);
}

/** Runs an action with a client, closing it after. */
/**
 * Runs `fn` with a client of the service at --address. `timeoutOf` reads a command's own
 * --timeout from its options (the last argument commander passes), for calls that may take
 * longer than the client's default 10 s.
 */
function withClient<A extends unknown[]>(fn: (client: ImprintClient, ...args: A) => Promise<void>, timeoutOf?: (...args: A) => number): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const token = tokenFrom(globals());
    const client = new ImprintClient({ address: globals().address, tls: clientTlsFrom(globals()), ...(token !== undefined && { token }), ...(timeoutOf && { deadlineMs: timeoutOf(...args) }) });
    try {
      await fn(client, ...args);
    } finally {
      client.close();
    }
  };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function parseKeyValues(pairs: string[], field: string): Record<string, string> {
  const outKv: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(field, 'must be key=value', p);
    outKv[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return outKv;
}

function parseCount(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(v)) throw new InvalidArgumentError(field, 'must be a whole number', v);
  return Number(v);
}

function retentionFrom(o: { keepVersions?: string; keepDays?: string }): Retention | undefined {
  const keepVersions = parseCount(o.keepVersions, 'retention.keepVersions');
  const keepDays = parseCount(o.keepDays, 'retention.keepDays');
  if (keepVersions === undefined && keepDays === undefined) return undefined;
  return { ...(keepVersions !== undefined && { keepVersions }), ...(keepDays !== undefined && { keepDays }) };
}

/** The CLI's names for the staleness contract's fields. */
const CONTRACT_FLAGS = { expectEveryMs: 'expect-every', maxStalenessMs: 'max-staleness' };

/** A contract flag: "0" or "none" (0: none, or removes it) or a duration (1m to 365d). */
function contractFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (v.trim() === '0' || v.trim() === 'none') return 0;
  return checkContractLimit(parseDuration(v, flag), flag);
}

/** The contract flags given, checked with what they leave in place (`current`), as a patch (0: removes a limit). */
function contractFrom(o: { expectEvery?: string; maxStaleness?: string }, current: StalenessContract = {}): { expectEveryMs?: number; maxStalenessMs?: number } {
  const expectEveryMs = contractFlag(o.expectEvery, CONTRACT_FLAGS.expectEveryMs);
  const maxStalenessMs = contractFlag(o.maxStaleness, CONTRACT_FLAGS.maxStalenessMs);
  validateContract(contractOf(expectEveryMs ?? current.expectEveryMs ?? 0, maxStalenessMs ?? current.maxStalenessMs ?? 0), CONTRACT_FLAGS);
  return { ...(expectEveryMs !== undefined && { expectEveryMs }), ...(maxStalenessMs !== undefined && { maxStalenessMs }) };
}

interface IdentityOpts {
  app?: string;
  cluster?: string;
  region?: string;
  node?: string;
  label: string[];
}

function identityFrom(o: IdentityOpts): ConsumerIdentity {
  return { app: o.app ?? '', cluster: o.cluster ?? '', region: o.region ?? '', nodeId: o.node ?? '', labels: parseKeyValues(o.label, 'label') };
}

function withIdentityOptions(cmd: Command): Command {
  return cmd
    .option('--app <app>', 'consumer app')
    .option('--cluster <cluster>', 'consumer cluster')
    .option('--region <region>', 'consumer region')
    .option('--node <id>', 'consumer node id')
    .option('--label <k=v>', 'a free label (repeatable)', collect, []);
}

function parseTime(text: string): number {
  const ms = /^[0-9]+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('time', 'must be an ISO date-time (2026-11-23T10:00:00Z) or milliseconds since the epoch', text);
  return ms;
}

// ---- serve ----

/** What to try next against a server of `role` (a consume instance takes polls only, a publish one no polls). */
function nextSteps(role: Role, flag: string): string {
  const steps = [
    ...(role === 'consume' ? [] : [`npx imprint${flag} topic create demo --owner you`, `npx imprint${flag} publish demo ./package.json --meta note=first`]),
    ...(role === 'publish' ? [`npx imprint${flag} topic describe demo`] : [`npx imprint${flag} poll demo --app scorer`]),
  ];
  return steps.map((l) => `  ${l}`).join('\n');
}

/** Elasticsearch's credentials (--es-ca stays beside --es-url): secrets from files or env vars. */
function addEsCredentialOptions(cmd: Command): Command {
  addSecretOption(cmd, { name: 'es-api-key', envVar: 'IMPRINT_ES_API_KEY', description: 'file holding an Elasticsearch API key, the base64 "encoded" value' });
  cmd.addOption(new Option('--es-username <user>', 'Elasticsearch basic-auth user, instead of an API key (default: no credentials)').env('IMPRINT_ES_USERNAME'));
  return addSecretOption(cmd, { name: 'es-password', envVar: 'IMPRINT_ES_PASSWORD', description: "file holding --es-username's password" });
}

/** `text` and `sep`, or nothing when there is no text. */
function suffix(text: string | undefined, sep: string): string {
  return text === undefined ? '' : `${text}${sep}`;
}

/** Elasticsearch's credentials from the serve flags: secrets from files or env vars (cli/secrets.ts). */
function esCredentialsFrom(o: ServeOpts): Pick<ServerOptions, 'esApiKey' | 'esUsername' | 'esPassword' | 'esCaFile'> {
  const apiKey = secretFrom(o.esApiKeyFile, o.esApiKey, 'es-api-key', 'IMPRINT_ES_API_KEY');
  const password = secretFrom(o.esPasswordFile, o.esPassword, 'es-password', 'IMPRINT_ES_PASSWORD');
  return {
    ...(apiKey !== undefined && { esApiKey: apiKey }),
    ...(o.esUsername !== undefined && { esUsername: o.esUsername }),
    ...(password !== undefined && { esPassword: password }),
    ...(o.esCa !== undefined && { esCaFile: o.esCa }),
  };
}

/** The banner's TLS line: what the listeners speak and what clients need. */
function tlsText(server: ImprintServer, principalFrom: string): string {
  const t = server.tls;
  if (!t) return server.options.insecure ? `OFF on a non-loopback address (--insecure): plaintext to anyone who reaches ${server.options.host}` : 'off (plaintext, loopback only; --tls-cert and --tls-key to serve TLS)';
  const cert = `certificate ${t.options.certFile} (serial ${t.current.serialNumber}, valid to ${t.current.validTo}; files checked every ${t.options.reloadMs} ms)`;
  return t.mutual ? `mTLS: ${cert}; client certificates must chain to ${t.options.clientCaFile}, each call's principal from the certificate (--principal-from ${principalFrom})` : `TLS: ${cert}`;
}

interface ServeOpts extends StoreCliOptions, BlobCliOptions, LogCliOptions, ServeTlsCliOptions, AuthCliOptions, JwtCliOptions {
  blobCheckTimeoutMs: string;
  host: string;
  port: string;
  audit: AuditKind;
  esUrl?: string;
  esReplicas?: string;
  esApiKeyFile?: string;
  esApiKey?: string;
  esUsername?: string;
  esPasswordFile?: string;
  esPassword?: string;
  esCa?: string;
  auditRetentionDays?: string;
  role: Role;
  refreshMs: string;
  tailMs: string;
  metricsPort?: string;
  httpPort: string;
  lendExpiryMs: string;
  publicUrl?: string;
  lendSecretFile?: string;
  batchPollMaxTopics: string;
  batchPollMaxResponseBytes: string;
  watchMaxStreams: string;
  watchMaxStreamsPerApp: string;
  watchHeartbeatMs: string;
  watchAuditIntervalMs: string;
  auditQuietMs: string;
  auditSummaryMs: string;
  auditMaxHoldings: string;
  auditFileMaxBytes: string;
  auditFileKeep: string;
  drainMs: string;
  admin: string[];
  defaultConsume: 'everyone' | 'owners';
  defaultPublish: 'everyone' | 'owners';
  createTopics: 'everyone' | 'admins';
  rolloutDriver: 'on' | 'off';
  rolloutTickMs: string;
}

addAuthOptions(addServeTlsOptions(addStoreOptions(
  addEsCredentialOptions(
  // Blob flags: publishes' blob pointers are checked against the stores publishers write to.
  addJwtOptions(addBlobOptions(addLogOptions(program.command('serve'))))
    .description('run the Imprint service: SQLite (default) or Cassandra metadata, file (default) or Elasticsearch audit')
    .addOption(new Option('--host <host>', 'address to bind (0.0.0.0 serves other machines: with --tls-cert and --tls-key, or --insecure)').env('IMPRINT_HOST').default('127.0.0.1'))
    .addOption(new Option('-p, --port <port>', 'port to serve gRPC on (0: any free port)').env('IMPRINT_PORT').default(String(DEFAULT_PORT)))
    .addOption(new Option('--audit <sink>', 'where audit events go').choices(AUDIT_KINDS).env('IMPRINT_AUDIT').default('file'))
    .addOption(new Option('--es-url <url>', 'Elasticsearch for --audit elasticsearch, e.g. http://127.0.0.1:9200').env('IMPRINT_ES_URL'))
    .addOption(new Option('--es-ca <file>', "PEM CA that signed Elasticsearch's HTTP certificate, for an https --es-url (default: the system's CAs)").env('IMPRINT_ES_CA'))
    .addOption(new Option('--es-replicas <n>', 'replicas of each audit index (0-10; default 0, green on a single node: give 1 or more on a cluster)').env('IMPRINT_ES_REPLICAS'))
    .addOption(
      new Option('--audit-retention-days <days>', "days each audit index is kept (1-36500; default 30): Elasticsearch's ILM policy deletes it after that")
        .env('IMPRINT_AUDIT_RETENTION_DAYS'),
    )
    .addOption(
      new Option('--audit-file-max-bytes <bytes>', 'file audit: the file is rotated before it would pass this size, and at UTC midnight (4096-1099511627776)')
        .env('IMPRINT_AUDIT_FILE_MAX_BYTES')
        .default(String(AUDIT_FILE_DEFAULTS.maxFileBytes)),
    )
    .addOption(new Option('--audit-file-keep <n>', 'file audit: rotated files kept; older ones are deleted, oldest first (1-10000)').env('IMPRINT_AUDIT_FILE_KEEP').default(String(AUDIT_FILE_DEFAULTS.keepFiles)))
    .addOption(
      new Option('--role <role>', 'publish: Publisher and Operator; consume: Consumer from an in-memory poll table, throttled per app; all: everything')
        .choices(ROLES)
        .env('IMPRINT_ROLE')
        .default('all'),
    )
    .addOption(
      new Option('--refresh-ms <ms>', 'consume role: how often every topic of the poll table is read again from the store (the safety net beside the change feed)')
        .env('IMPRINT_REFRESH_MS')
        .default(String(DEFAULT_REFRESH_MS)),
    )
    .addOption(new Option('--tail-ms <ms>', 'consume and all roles: how often the change feed is read (changes reach polls and watches within about this)').env('IMPRINT_TAIL_MS').default(String(DEFAULT_TAIL_MS)))
    .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (https with --tls-cert) (default: none)').env('IMPRINT_METRICS_PORT'))
    .addOption(
      new Option('--http-port <port>', 'serve HTTP/1.1 on this port (https with --tls-cert): the REST/JSON API at /v1/... and lent payload URLs; "off" for none; a second instance on one host needs its own')
        .env('IMPRINT_HTTP_PORT')
        .default(String(DEFAULT_HTTP_PORT)),
    )
    // Lent payload URLs (BeginUpload, CompleteUpload, GetDownload; server/lend.ts).
    .addOption(new Option('--lend-expiry-ms <ms>', 'how long lent payload URLs stay valid (1000 to 604800000, 7 days)').env('IMPRINT_LEND_EXPIRY_MS').default(String(LEND_DEFAULTS.expiryMs)))
    .addOption(new Option('--public-url <url>', "the base of the local blob store's lent URLs, as callers reach the HTTP server (default: http(s)://HOST:HTTP_PORT, 0.0.0.0 as 127.0.0.1)").env('IMPRINT_PUBLIC_URL'))
    .addOption(new Option('--lend-secret-file <file>', "the key that signs lent URLs and upload ids (16 bytes or more), shared by instances that serve one another's (default: random per process)").env('IMPRINT_LEND_SECRET_FILE'))
    .addOption(
      new Option('--blob-check-timeout-ms <ms>', "how long a region may take to confirm a publish's blob object (HeadObject)").env('IMPRINT_BLOB_CHECK_TIMEOUT_MS').default(String(DEFAULT_BLOB_CHECK_TIMEOUT_MS)),
    )
    .addOption(new Option('--batch-poll-max-topics <n>', 'topics one BatchPoll may name (1-2000)').env('IMPRINT_BATCH_POLL_MAX_TOPICS').default(String(BATCH_POLL_DEFAULTS.maxTopics)))
    .addOption(
      new Option('--batch-poll-max-response-bytes <bytes>', 'size budget of one BatchPoll answer; records beyond it come without their direct bytes (1048576-67108864)')
        .env('IMPRINT_BATCH_POLL_MAX_RESPONSE_BYTES')
        .default(String(BATCH_POLL_DEFAULTS.maxResponseBytes)),
    )
    .addOption(new Option('--watch-max-streams <n>', 'Watch streams open at once on this instance (1-1000000)').env('IMPRINT_WATCH_MAX_STREAMS').default(String(WATCH_DEFAULTS.maxStreams)))
    .addOption(
      new Option('--watch-max-streams-per-app <n>', 'Watch streams open at once per calling application (1-1000000)').env('IMPRINT_WATCH_MAX_STREAMS_PER_APP').default(String(WATCH_DEFAULTS.maxStreamsPerApp)),
    )
    .addOption(new Option('--watch-heartbeat-ms <ms>', 'a heartbeat on every Watch stream this often (100-600000)').env('IMPRINT_WATCH_HEARTBEAT_MS').default(String(WATCH_DEFAULTS.heartbeatMs)))
    .addOption(
      new Option('--watch-audit-interval-ms <ms>', "each Watch stream's topics are asked again this often, so its node stays seen in audit (1000-86400000; less than --audit-quiet-ms)")
        .env('IMPRINT_WATCH_AUDIT_INTERVAL_MS')
        .default(String(WATCH_DEFAULTS.auditIntervalMs)),
    )
    .addOption(new Option('--audit-quiet-ms <ms>', 'audit: a node that has not polled a topic for this long is reported gone (10000-86400000)').env('IMPRINT_AUDIT_QUIET_MS').default(String(HOLDINGS_DEFAULTS.quietMs)))
    .addOption(
      new Option('--audit-summary-ms <ms>', 'audit: a summary per topic, app, cluster, region and version this often, with node counts (1000-86400000)').env('IMPRINT_AUDIT_SUMMARY_MS').default(String(HOLDINGS_DEFAULTS.summaryMs)),
    )
    .addOption(
      new Option('--drain-ms <ms>', 'on SIGTERM, health says NOT_SERVING this long while calls are still answered, then stop (0-600000; a second SIGTERM stops at once; Ctrl-C does not drain)')
        .env('IMPRINT_DRAIN_MS')
        .default(String(DEFAULT_DRAIN_MS)),
    )
    .addOption(
      new Option('--audit-max-holdings <n>', 'audit: (topic, node) pairs tracked one by one at most; beyond, polls are counted per summary group (1-50000000)')
        .env('IMPRINT_AUDIT_MAX_HOLDINGS')
        .default(String(HOLDINGS_DEFAULTS.maxHoldings)),
    )
    .addOption(
      new Option('--admin <who>', 'access control: a principal, or group:NAME, that may do everything on every topic (repeatable; the env var takes a comma-separated list)')
        .env('IMPRINT_ADMINS')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').map((x) => x.trim()).filter(Boolean)])
        .default([], 'none'),
    )
    .addOption(new Option('--default-consume <who>', "access control: who may consume a new topic (everyone: a consumer grant to *; owners: only whom its owners grant)").choices(['everyone', 'owners']).env('IMPRINT_DEFAULT_CONSUME').default('everyone'))
    .addOption(new Option('--default-publish <who>', 'access control: who may publish to a new topic (owners: only its owners and whom they grant; everyone: a publisher grant to *)').choices(['owners', 'everyone']).env('IMPRINT_DEFAULT_PUBLISH').default('owners'))
    .addOption(new Option('--create-topics <who>', 'access control: who may create topics (everyone: any authenticated principal, who becomes its owner; admins: only --admin)').choices(['everyone', 'admins']).env('IMPRINT_CREATE_TOPICS').default('everyone'))
    .addOption(new Option('--rollout-driver <on|off>', 'publish and all roles: advance running rollouts while this instance holds the lease (one instance acts at a time); off: a janitor or another instance does').choices(['on', 'off']).env('IMPRINT_ROLLOUT_DRIVER').default('on'))
    .addOption(new Option('--rollout-tick-ms <ms>', 'how often the rollout driver looks at running rollouts (10-60000; the lease lasts 5 ticks)').env('IMPRINT_ROLLOUT_TICK_MS').default(String(ROLLOUT_DRIVER_DEFAULTS.tickMs))),
))))
  .addHelpText(
    'after',
    `
TLS: the global --tls-cert and --tls-key (IMPRINT_TLS_CERT, IMPRINT_TLS_KEY) are the server's
certificate and key, served on the gRPC port and the metrics port; --tls-client-ca adds mTLS.
A --host other than loopback needs them, or --insecure.

Examples:
  imprint serve
  imprint --tls-cert server.pem --tls-key server-key.pem serve --host 0.0.0.0 --tls-client-ca ca.pem
  imprint serve --role consume --port 50052 --http-port 8081 --metrics-port 9464     polls from a table; metrics on 9464
  imprint serve --store cassandra --cassandra-contact-points 10.0.0.5:9042,10.0.0.6:9042 --cassandra-local-dc us-east-1
  imprint serve --store cassandra --cassandra-contact-points 127.0.0.1:9042 --cassandra-local-dc datacenter1 \\
    --cassandra-replication '{"class":"SimpleStrategy","replication_factor":1}'`,
  )
  .action(async (o: ServeOpts) => {
    const port = parseCount(o.port, 'port') ?? DEFAULT_PORT;
    const refreshMs = parseCount(o.refreshMs, 'refresh-ms');
    const tailMs = parseCount(o.tailMs, 'tail-ms');
    const metricsPort = parseCount(o.metricsPort, 'metrics-port');
    const httpPort = o.httpPort === 'off' ? undefined : parseCount(o.httpPort, 'http-port');
    const lendExpiryMs = parseCount(o.lendExpiryMs, 'lend-expiry-ms');
    const blobCheckTimeoutMs = parseCount(o.blobCheckTimeoutMs, 'blob-check-timeout-ms');
    const maxTopics = parseCount(o.batchPollMaxTopics, 'batch-poll-max-topics');
    const maxResponseBytes = parseCount(o.batchPollMaxResponseBytes, 'batch-poll-max-response-bytes');
    const watch = {
      maxStreams: parseCount(o.watchMaxStreams, 'watch-max-streams'),
      maxStreamsPerApp: parseCount(o.watchMaxStreamsPerApp, 'watch-max-streams-per-app'),
      heartbeatMs: parseCount(o.watchHeartbeatMs, 'watch-heartbeat-ms'),
      auditIntervalMs: parseCount(o.watchAuditIntervalMs, 'watch-audit-interval-ms'),
    };
    const drainMs = parseCount(o.drainMs, 'drain-ms');
    const auditFiles = { maxFileBytes: parseCount(o.auditFileMaxBytes, 'audit-file-max-bytes'), keepFiles: parseCount(o.auditFileKeep, 'audit-file-keep') };
    const holdings = {
      quietMs: parseCount(o.auditQuietMs, 'audit-quiet-ms'),
      summaryMs: parseCount(o.auditSummaryMs, 'audit-summary-ms'),
      maxHoldings: parseCount(o.auditMaxHoldings, 'audit-max-holdings'),
    };
    const tls = serverTlsFrom({ ...globals(), ...o });
    const log = loggerFrom(o);
    const auth = authenticatorFrom(o, log);
    const server = await startImprintServer({
      log,
      ...(tls && { tls }),
      insecure: o.insecure === true,
      ...(auth.authenticate && { authenticate: auth.authenticate }),
      dataDir: globals().dataDir,
      host: o.host,
      port,
      ...(o.store && { store: o.store }),
      ...(o.store === 'cassandra' && { cassandra: cassandraFrom(o) }),
      audit: o.audit,
      ...(o.esUrl !== undefined && { esUrl: o.esUrl }),
      ...esCredentialsFrom(o),
      ...(o.esReplicas !== undefined && { esReplicas: parseCount(o.esReplicas, 'es-replicas') }),
      ...(o.audit === 'elasticsearch' && o.auditRetentionDays !== undefined && { esRetentionDays: parseCount(o.auditRetentionDays, 'audit-retention-days') }),
      ...(o.audit === 'file' && { auditFiles: Object.fromEntries(Object.entries(auditFiles).filter(([, v]) => v !== undefined)) }),
      role: o.role,
      ...(refreshMs !== undefined && { refreshMs }),
      ...(tailMs !== undefined && { tailMs }),
      ...(metricsPort !== undefined && { metricsPort }),
      ...(httpPort !== undefined && { httpPort }),
      lend: {
        ...(lendExpiryMs !== undefined && { expiryMs: lendExpiryMs }),
        ...(o.publicUrl !== undefined && { publicUrl: o.publicUrl }),
        ...(o.lendSecretFile !== undefined && { secret: readLendSecret(o.lendSecretFile) }),
      },
      blobStores: await blobStoresFrom(o, blobDir()),
      ...(blobCheckTimeoutMs !== undefined && { blobCheckTimeoutMs }),
      batchPoll: { ...(maxTopics !== undefined && { maxTopics }), ...(maxResponseBytes !== undefined && { maxResponseBytes }) },
      watch: Object.fromEntries(Object.entries(watch).filter(([, v]) => v !== undefined)),
      holdings: Object.fromEntries(Object.entries(holdings).filter(([, v]) => v !== undefined)),
      ...(drainMs !== undefined && { drainMs }),
      access: { admins: o.admin, consume: o.defaultConsume, publish: o.defaultPublish, createTopics: o.createTopics },
      rolloutDriver: o.rolloutDriver === 'off' ? 'off' : rolloutTickFlag(o.rolloutTickMs),
    });
    // Signals are handled before the banner says it serves: whoever reads that may stop it at once.
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write(`received ${signal} again, stopping now\n`);
        void server.stop();
        return;
      }
      stopping = true;
      // SIGTERM is an orchestrator's (drain, so load balancers move on); Ctrl-C a person's (stop now).
      const drain = signal === 'SIGTERM' ? server.options.drainMs : 0;
      process.stderr.write(drain > 0 ? `received ${signal}: health NOT_SERVING, still answering for ${drain} ms (--drain-ms), then stopping; ${signal} again stops now\n` : `received ${signal}, stopping\n`);
      server.stop({ drain: drain > 0 }).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    const addr = `${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${server.port}`;
    const flag = `${server.port === DEFAULT_PORT ? '' : ` -a ${addr}`}${server.tls ? ` --tls-ca CA.pem${server.tls.mutual ? ' --tls-cert CLIENT.pem --tls-key CLIENT-KEY.pem' : ''}` : ''}`;
    const c = server.options.cassandra;
    const metadata = c ? `cassandra ${c.contactPoints.join(',')} keyspace ${c.keyspace} (dc ${c.localDataCenter}; ${suffix(describeCassandraSecurity(c.auth, c.tls), '; ')}health NOT_SERVING until it answers)` : server.options.sqliteFile;
    process.stderr.write(
      `
Imprint is serving on ${o.host}:${server.port}
  role      ${server.options.role} (${server.grpc.services.map((n) => n.replace('imprint.v1.', '')).join(', ')})${server.table ? `; poll table of ${server.table.stats().topics} topics, change feed read every ${server.options.tailMs} ms, every topic read again every ${server.options.refreshMs} ms` : ''}
  tls       ${tlsText(server, o.principalFrom)}
  http      ${server.http ? `${server.http.scheme}://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${server.http.port} (REST/JSON at /v1/..., the web console at /console/)` : 'off (--http-port to serve it)'}
  metrics   ${server.metricsServer ? `${server.metricsServer.scheme}://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${server.metricsServer.port}/metrics` : 'off (--metrics-port to serve them)'}
  callers   ${auth.describe}
  rollouts  ${server.rolloutDriver ? `driven here while this instance holds the lease (a tick every ${server.rolloutDriver.settings.tickMs} ms, --rollout-tick-ms)` : `not driven here (${server.options.role === 'consume' ? 'the consume role' : '--rollout-driver off'})`}
  metadata  ${metadata}
  blobs     ${describeBlobStores(server.options.blobStores)} (publishes' blob objects are checked there)
  audit     ${server.options.esUrl ? `elasticsearch ${redactUrl(server.options.esUrl)} (${suffix(describeEsSecurity(server.options.esAuth, server.options.esTls), '; ')}${server.options.esIndexPrefix}-*, ${server.options.esReplicas ?? 0} replicas, kept ${server.options.esRetentionDays ?? 30} days)` : `${server.options.auditFile}${server.options.auditFiles ? ` (rotated at ${server.options.auditFiles.maxFileBytes} bytes and at UTC midnight, ${server.options.auditFiles.keepFiles} rotated files kept)` : ''}`}${server.holdings ? `; who holds what: a record when a node's version changes, a node gone after ${server.holdings.quietMs / 1000} s quiet, summaries every ${server.holdings.summaryMs / 1000} s` : ''}

Next, in another terminal:
${nextSteps(server.options.role, flag)}
Ctrl-C stops it (SIGTERM drains first: ${server.options.drainMs} ms of NOT_SERVING health, --drain-ms).

`,
    );
  });

// ---- health ----

program
  .command('health')
  .description('ask the service whether it is serving (gRPC health check); exit 0 when SERVING, 1 otherwise')
  .addOption(new Option('--service <name>', 'one service (imprint.v1.PublisherService, imprint.v1.ConsumerService, imprint.v1.OperatorService); default: the server as a whole').default(''))
  .addOption(new Option('--timeout-ms <ms>', 'give up after this long').default('5000'))
  .addHelpText(
    'after',
    `
Examples:
  imprint health                                      SERVING
  imprint -a 10.0.0.7:50051 health --service imprint.v1.ConsumerService
A Cassandra-backed server says NOT_SERVING until Cassandra answers; a consume instance says
SERVICE_UNKNOWN for imprint.v1.PublisherService.`,
  )
  .action(async (o: { service: string; timeoutMs: string }) => {
    const timeoutMs = parseCount(o.timeoutMs, 'timeout-ms') ?? 5000;
    if (timeoutMs < 1) throw new InvalidArgumentError('timeout-ms', 'must be at least 1', o.timeoutMs);
    const status = await checkHealth(globals().address, o.service, timeoutMs, clientTlsFrom(globals()));
    out({ address: globals().address, service: o.service, status }, () => status);
    if (status !== 'SERVING') process.exitCode = 1;
  });

// ---- topics ----

const topic = program.command('topic').description('create, change and look at topics');

addRolloutPolicyOptions(topic
  .command('create <name>')
  .description('create a topic (names: a-z 0-9 . _ -, up to 128)')
  .option('--owner <owner>', 'owning team or person', '')
  .option('--description <text>', 'what the dataset is', '')
  .option('--keep-versions <n>', 'retention: keep the newest N versions')
  .option('--keep-days <d>', 'retention: keep versions younger than D days')
  .option('--expect-every <duration>', 'staleness contract: the topic is published at least this often (1m to 365d; e.g. 1h); overdue past it')
  .option('--max-staleness <duration>', 'staleness contract: how stale a consumer may be (1m to 365d, not below --expect-every)')
  .option('--trusted-key <file>', 'require every publish to be signed by this Ed25519 public key (PEM, as `imprint keygen` writes; repeatable: any one of them)', collect, []))
  .addHelpText(
    'after',
    `
Examples:
  imprint topic create ip-reputation --owner trust-team --keep-versions 20
  imprint topic create ip-reputation --rollout "cluster=canary 10m gates=consumers; region=us-east-1 30m gates=consumers; * 0"
  imprint topic create ip-reputation --rollout "* 5% 1h gates=consumers,webhook; * 0" --rollout-webhook https://ci.example/gate --rollout-min-holding 95
  imprint topic create ip-reputation --rollout-file rollout.json`,
  )
  .action(
    withClient(async (client, name: string, o: RolloutFlags & { owner: string; description: string; keepVersions?: string; keepDays?: string; expectEvery?: string; maxStaleness?: string; trustedKey: string[] }) => {
      const trustedKeys = trustedKeysFromFiles(o.trustedKey);
      const rolloutPolicy = rolloutPolicyFromFlags(o);
      const t = await client.createTopic({ name, owner: o.owner, description: o.description, retention: retentionFrom(o) ?? {}, ...contractFrom(o), ...(trustedKeys.length > 0 && { trustedKeys }), ...(rolloutPolicy && { rolloutPolicy }) });
      out(t, () => `created topic ${t.name}\n${topicText(t)}`);
    }),
  );

addRolloutPolicyOptions(topic
  .command('update <name>')
  .description("change a topic's owner, description, retention, staleness contract, trusted keys or rollout policy")
  .option('--owner <owner>')
  .option('--description <text>')
  .option('--keep-versions <n>', 'retention: keep the newest N versions')
  .option('--keep-days <d>', 'retention: keep versions younger than D days')
  .option('--expect-every <duration>', 'staleness contract: published at least this often (1m to 365d); 0 or none removes it')
  .option('--max-staleness <duration>', 'staleness contract: how stale a consumer may be (1m to 365d); 0 or none removes it')
  .option('--trusted-key <file>', "replace the topic's trusted keys with these Ed25519 public keys (PEM; repeatable): every publish must be signed by one of them", collect, [])
  .option('--no-trusted-keys', 'remove every trusted key: publishes need no signature any more'), true)
  .addHelpText(
    'after',
    `
The rollout flags replace the topic's policy (a running rollout keeps the one it began with);
--rollout-min-holding, --rollout-max-rejections and the webhook flags alone change those of the
policy the topic has.

Examples:
  imprint topic update ip-reputation --keep-days 30
  imprint topic update ip-reputation --rollout "cluster=canary 10m gates=consumers; region=us-east-1 30m; * 0"
  imprint topic update ip-reputation --rollout-max-rejections 2
  imprint topic update ip-reputation --no-rollout-policy`,
  )
  .action(
    withClient(async (client, name: string, o: RolloutFlags & { owner?: string; description?: string; keepVersions?: string; keepDays?: string; expectEvery?: string; maxStaleness?: string; trustedKey: string[]; trustedKeys: boolean }) => {
      if (!o.trustedKeys && o.trustedKey.length > 0) throw new InvalidArgumentError('--no-trusted-keys', 'cannot go with --trusted-key (give the keys to keep, or none)');
      const trustedKeys = o.trustedKeys ? (o.trustedKey.length > 0 ? trustedKeysFromFiles(o.trustedKey) : undefined) : [];
      const retention = retentionFrom(o);
      const thresholdsOnly = o.rollout === undefined && o.rolloutFile === undefined && [o.rolloutMinHolding, o.rolloutMaxRejections, o.rolloutWebhook, o.rolloutWebhookTimeout].some((v) => v !== undefined);
      const current = o.expectEvery !== undefined || o.maxStaleness !== undefined || thresholdsOnly ? await client.getTopic(name) : undefined;
      const contract = o.expectEvery !== undefined || o.maxStaleness !== undefined ? contractFrom(o, current) : {};
      const rolloutPolicy = rolloutPolicyFromFlags(o, current?.rolloutPolicy);
      const t = await client.updateTopic(name, {
        ...(o.owner !== undefined && { owner: o.owner }),
        ...(o.description !== undefined && { description: o.description }),
        ...(retention && { retention }),
        ...contract,
        ...(trustedKeys && { trustedKeys }),
        ...(rolloutPolicy !== undefined && { rolloutPolicy }),
      });
      out(t, () => `updated topic ${t.name}\n${topicText(t)}`);
    }),
  );

topic
  .command('describe <name>')
  .description('a topic with the latest version of each scope and its pins')
  .action(
    withClient(async (client, name: string) => {
      const d = await client.describeTopic(name);
      const now = Date.now();
      out({ ...d, recentChanges: d.recentChanges.map(changeJson), ...(d.rollout && { rollout: rolloutJson(d.rollout) }) }, () =>
        [
          topicText(d.topic),
          `  published   ${publishStatusText(d.publishStatus)}`,
          ...(d.rollout ? [`  newest rollout ${rolloutLine(d.rollout, now)}`, `              (imprint rollout status ${d.topic.name} for its gates)`] : []),
          `  versions    ${d.versionCount}`,
          '  latest by scope:',
          ...d.heads.map((h) => `    ${scopeText(h.scope).padEnd(30)} v${h.version}`),
          ...(d.pins.length ? ['  pins:', ...d.pins.map((p) => `    ${pinText(p)}`)] : ['  pins: none']),
          `  recent changes (${d.recentChanges.length}; imprint history ${d.topic.name} for all):`,
          `    ${CHANGE_HEADER}`,
          ...d.recentChanges.map((c) => `    ${changeText(c)}`),
        ].join('\n'),
      );
    }),
  );

/** app/cluster/region[/node] of a consumer group or node, "-" for an empty part. */
function nodeName(n: { app: string; cluster: string; region: string; nodeId?: string }): string {
  return [n.app, n.cluster, n.region, ...(n.nodeId !== undefined ? [n.nodeId] : [])].map((p) => p || '-').join('/');
}

topic
  .command('consumers <name>')
  .description('who consumes a topic (from the audit data): per app, cluster and region, the nodes and the version each holds; --nodes lists them')
  .option('--since <duration>', 'consumers seen polling in this window', '24h')
  .option('--nodes <n>', 'also list up to N nodes (0-10000), lowest version first: who still holds an old one', '0')
  .option('--version <version>', 'list only nodes holding this version (with --nodes), and filter the Kibana link to it')
  .option('--kibana-url <url>', 'also print a Kibana Discover link filtered to the topic and window')
  .option('--timeout <duration>', 'how long to wait for the answer (a topic of 100k nodes in Elasticsearch took 9-18 s)', '60s')
  .addHelpText(
    'after',
    `
A node still polling counts as seen until its serving instance reports it gone (after
--audit-quiet-ms without a poll, 10 min by default); its "last" time is then within that
window. Examples:
  imprint topic consumers ip-reputation                       counts per app/cluster/region
  imprint topic consumers ip-reputation --nodes 100 --version 41   the nodes still on v41`,
  )
  .action(
    withClient(async (client, name: string, o: { since: string; nodes: string; version?: string; kibanaUrl?: string; timeout: string }) => {
      const toMs = Date.now();
      const fromMs = toMs - parseDuration(o.since, 'since');
      const nodeLimit = parseCount(o.nodes, 'nodes') ?? 0;
      if (nodeLimit > MAX_NODE_LIST) throw new InvalidArgumentError('nodes', `must be a whole number from 0 to ${MAX_NODE_LIST}`, o.nodes);
      const version = o.version !== undefined ? parseVersion(o.version) : undefined;
      const d = await client.describeTopic(name, { sinceMs: fromMs, nodeLimit, ...(version !== undefined && { version }) });
      const link = o.kibanaUrl ? kibanaConsumersLink({ kibanaUrl: o.kibanaUrl, topic: name, ...(version !== undefined && { version: version.toString() }), fromMs, toMs }) : undefined;
      const c = d.consumers;
      out({ topic: name, consumers: c, ...(link && { kibana: link }) }, () => {
        if ('error' in c) return `consumers of ${name}: not available (${c.error})`;
        const lines = [`${name}: ${c.nodeCount} nodes seen since ${when(c.sinceMs)} (${c.liveCount} still polling)${c.lastSeenMs ? `, last at ${when(c.lastSeenMs)}` : ''}`];
        if (c.nodeCount === 0) lines.push('  nobody: the topic looks unused in this window');
        for (const g of c.groups) {
          lines.push(`  ${nodeName(g).padEnd(40)} ${String(g.nodeCount).padStart(5)} nodes  ${g.versions.map((v) => `v${v.version}: ${v.nodeCount}`).join('  ')}  (last ${when(g.lastSeenMs)})`);
        }
        if (c.foldedPolls > 0) lines.push(`  + ${c.foldedPolls} polls of nodes not tracked one by one (a serving instance's audit memory was full: --audit-max-holdings)`);
        if (c.nodes) {
          lines.push(`  nodes (${c.nodes.length}${version !== undefined ? ` holding v${version}` : ''}, lowest version first):`);
          for (const n of c.nodes) {
            lines.push(
              `    ${nodeName(n).padEnd(48)} v${n.version.padEnd(6)} ${n.sinceMs !== undefined ? `since ${when(n.sinceMs)}` : 'since before the audit data'}  last ${when(n.lastSeenMs)}${n.live ? '' : ' (gone quiet)'}${n.pinned ? ' pinned' : ''}`,
            );
          }
        }
        if (link) lines.push(`  kibana: ${link}`);
        return lines.join('\n');
      });
    }, (_name, o) => parseDuration(o.timeout, 'timeout')),
  );

topic
  .command('moves <name>')
  .description('when consumer nodes moved from one version to another (from the audit data), newest first: what was live where, when')
  .option('--since <duration>', 'moves in this window', '24h')
  .option('--node <id>', 'only this node id')
  .option('--limit <n>', 'at most this many moves (1-1000)', '100')
  .option('--timeout <duration>', 'how long to wait for the answer', '60s')
  .action(
    withClient(async (client, name: string, o: { since: string; node?: string; limit: string; timeout: string }) => {
      const sinceMs = Date.now() - parseDuration(o.since, 'since');
      const limit = parseCount(o.limit, 'limit') ?? 100;
      if (limit < 1 || limit > MAX_MOVES) throw new InvalidArgumentError('limit', `must be a whole number from 1 to ${MAX_MOVES}`, o.limit);
      const page = await client.listMoves(name, { sinceMs, ...(o.node !== undefined && { nodeId: o.node }), pageSize: limit });
      out({ topic: name, ...page }, () => {
        if (page.moves.length === 0) return `${name}: no node moved since ${when(sinceMs)}`;
        const lines = page.moves.map(
          (m) => `${when(m.atMs)}  ${nodeName(m).padEnd(48)} ${m.from === '0' ? 'first' : `v${m.from}`} -> v${m.to}${m.pinned ? ' (pinned)' : ''}${m.principal !== undefined ? `  by ${m.principal}` : ''}`,
        );
        if (page.truncated) lines.push(`(more: narrow --since or --node, or raise --limit)`);
        return lines.join('\n');
      });
    }, (_name, o) => parseDuration(o.timeout, 'timeout')),
  );

topic
  .command('denials <name>')
  .description('calls refused on the topic by access control (from the audit data), newest first: who was refused which action, by which method, how many times')
  .option('--since <duration>', 'denials in this window', '24h')
  .option('--limit <n>', `at most this many entries (1-${MAX_DENIALS})`, '100')
  .option('--timeout <duration>', 'how long to wait for the answer', '60s')
  .action(
    withClient(async (client, name: string, o: { since: string; limit: string; timeout: string }) => {
      const sinceMs = Date.now() - parseDuration(o.since, 'since');
      const limit = parseCount(o.limit, 'limit') ?? 100;
      if (limit < 1 || limit > MAX_DENIALS) throw new InvalidArgumentError('limit', `must be a whole number from 1 to ${MAX_DENIALS}`, o.limit);
      const page = await client.listDenials(name, { sinceMs, pageSize: limit });
      out({ topic: name, ...page }, () => {
        if (page.denials.length === 0) return `${name}: no call refused since ${when(sinceMs)}`;
        const lines = page.denials.map(
          (d) => `${when(d.atMs)}  ${d.principal.padEnd(32)} ${d.action.padEnd(8)} ${d.method.padEnd(14)} ${d.app !== undefined ? `app ${d.app} ` : ''}x${d.count}  (${d.replica})`,
        );
        if (page.truncated) lines.push(`(more: narrow --since, or raise --limit)`);
        return lines.join('\n');
      });
    }, (_name, o) => parseDuration(o.timeout, 'timeout')),
  );

topic
  .command('list')
  .description('all topics (deleted ones, not purged yet, with --deleted); OVERDUE: since when a topic with --expect-every has not been published as often as it says')
  .option('--overdue', 'only the overdue topics')
  .option('--deleted', 'also list deleted topics the janitor has not purged yet')
  .action(
    withClient(async (client, o: { overdue?: boolean; deleted?: boolean }) => {
      const { topics: all, publishStatus } = await client.listTopicsWithStatus({ includeDeleted: o.deleted === true });
      const status = new Map(publishStatus.map((p) => [p.topic, p]));
      const topics = all
        .filter((t) => !o.overdue || (status.get(t.name)?.overdueSinceMs ?? 0) > 0)
        .map((t) => ({ ...t, ...(status.has(t.name) && { publishStatus: status.get(t.name) }) }));
      const overdue = (t: (typeof topics)[number]) => (t.expectEveryMs === undefined || t.deletedAtMs !== undefined ? '-' : t.publishStatus?.overdueSinceMs ? `since ${when(t.publishStatus.overdueSinceMs)}` : 'no');
      out(topics, () =>
        topics.length
          ? [
              `${'TOPIC'.padEnd(32)} ${'LATEST'.padEnd(9)} ${'OVERDUE'.padEnd(32)} OWNER`,
              ...topics.map((t) => `${t.name.padEnd(32)} v${String(t.latestVersion).padEnd(8)} ${overdue(t).padEnd(32)} ${t.owner}${t.deletedAtMs !== undefined ? `  (deleted ${when(t.deletedAtMs)})` : ''}`),
            ].join('\n')
          : o.overdue
            ? 'no overdue topics'
            : 'no topics yet',
      );
    }),
  );

addTopicLifecycleCommands(topic, { withClient, out });
addAclCommands(program, { withClient, out });
addRolloutCommands(program, { withClient, out });

// ---- publish and read ----

addBlobOptions(
  program
    .command('publish <topic> <file>')
    .description("publish a file as a new version: inside the record up to 1 MiB, else to every region's blob store (through the service's lent URLs unless --blobs says otherwise)")
    .option('--meta <k=v>', 'metadata (repeatable)', collect, [])
    .option('--scope <k=v,...>', 'publish to this scope only (repeatable; default: every consumer)', collect, [])
    .option(
      '--publish-id <id>',
      'names this publish for retries: run again with the same id (a build number, say) and you get the version it made, never a second one (1-128 of A-Z a-z 0-9 . _ : -; default: a new random id)',
    )
    .addOption(new Option('--sign-key <file>', 'sign the version with this Ed25519 private key (PEM, as `imprint keygen` writes); a topic with trusted keys takes only signed publishes').env('IMPRINT_SIGN_KEY'))
    .option('--no-rollout', "on a topic with a rollout policy, reach every consumer at once instead of starting a rollout (as --scope does); either way a running rollout is superseded"),
  { lent: true },
)
  .addHelpText(
    'after',
    `
Without an answer from the service (it restarted, the network broke) the publish is sent again
with its publish id for up to ${PUBLISHER_DEFAULTS.retryBudgetMs / 1000} s; the service makes one version of it whatever the attempts.
Uploaded objects are deleted only when the service refused the publish for certain. There is no
environment variable for the id: an id names one publish, and a shell's environment outlives it.

On a topic with a rollout policy a publish without --scope starts a rollout of the version (its
first step at once; imprint rollout status TOPIC follows it); --no-rollout skips it.

Examples:
  imprint publish ip-reputation ./model.bin --meta build=1234
  imprint publish ip-reputation ./model.bin --publish-id build-1234
  imprint publish ip-reputation ./hotfix.bin --no-rollout`,
  )
  .action(
    withClient(async (client, topicName: string, file: string, o: BlobCliOptions & { meta: string[]; scope: string[]; publishId?: string; signKey?: string; rollout: boolean }) => {
      const metadata = parseKeyValues(o.meta, 'metadata');
      const scopes = o.scope.map((s, i) => parseScope(s, `scopes[${i}]`));
      if (o.publishId === '') throw new InvalidArgumentError('publish-id', 'must not be empty (leave the flag out for a random id)');
      if (o.publishId !== undefined) validatePublishId(o.publishId, 'publish-id');
      const signKey = o.signKey !== undefined ? signKeyFromFile(o.signKey) : undefined;
      let publisher: Publisher;
      try {
        publisher = new Publisher({ client, blobStores: await blobStoresFrom(o, blobDir()), ...(signKey !== undefined && { signKey }) });
      } catch (err) {
        throw asSignKeyFlagError(err);
      }
      let total: number | undefined;
      let done = 0;
      const progress = startProgress(`publishing ${path.basename(file)}`, undefined, !globals().json);
      const record = await publisher.publish(topicName, { path: file }, {
        metadata,
        scopes,
        ...(o.publishId !== undefined && { publishId: o.publishId }),
        noRollout: !o.rollout,
        onProgress: (p) => {
          done = p.bytes;
          total = p.total;
          progress.update(p.bytes, total);
        },
      });
      const summary = progress.finish(done);
      const replay = record.replayed ? ` (a replay: publish id ${JSON.stringify(o.publishId)} had already made v${record.version}; nothing new was published)` : '';
      const rollout = record.rollout ? `\n  rollout  ${rolloutLine(record.rollout, Date.now())}` : '';
      out({ ...(recordJson(record) as object), replayed: record.replayed, ...(record.rollout && { rollout: rolloutJson(record.rollout) }) }, () => `published ${record.topic} v${record.version}${replay}: ${summary}\n${recordText(record)}${rollout}`);
    }),
  );

program
  .command('versions <topic>')
  .description('versions of a topic, newest first')
  .option('-n, --limit <n>', 'at most this many', '20')
  .action(
    withClient(async (client, topicName: string, o: { limit: string }) => {
      const limit = parseCount(o.limit, 'limit') ?? 20;
      if (limit < 1) throw new InvalidArgumentError('limit', 'must be >= 1', limit);
      const versions: VersionRecord[] = [];
      let token = '';
      do {
        const page = await client.listVersions(topicName, { pageSize: Math.min(limit - versions.length, 1000), pageToken: token });
        versions.push(...page.versions);
        token = page.nextPageToken;
      } while (token && versions.length < limit);
      out(versions.map(recordJson), () =>
        versions.length
          ? versions
              .map((r) => `v${String(r.version).padEnd(8)} ${when(r.publishedAtMs)}  ${bytes(r.pointer.size).padStart(10)}  ${r.pointer.kind.padEnd(6)}  ${r.scopes.map(scopeText).join(' ')}`)
              .join('\n')
          : `no versions of ${topicName} yet`,
      );
    }),
  );

program
  .command('get <topic> <version>')
  .description("a version's record: metadata, size, sha256, where the payload is, scopes")
  .action(
    withClient(async (client, topicName: string, version: string) => {
      const r = await client.getVersion(topicName, parseVersion(version));
      out(recordJson(r), () => recordText(r));
    }),
  );

addBlobOptions(
  addReadOptions(program.command('download <topic> <version>'))
    .description("write a version's payload to a file, checked against its size and sha256 (closest region first; the next beside it when it is slow)")
    .option('-o, --output <file>', 'where to write (default: TOPIC-vVERSION.bin)')
    .option('--trusted-key <file>', 'refuse the version (nothing written) unless it is signed by this Ed25519 public key (PEM, as `imprint keygen` writes; repeatable: any one of them)', collect, []),
  { lent: true },
).action(
    withClient(async (client, topicName: string, version: string, o: BlobCliOptions & ReadCliOptions & { output?: string; trustedKey: string[] }) => {
      const reads = readOptionsFrom(o);
      const trustedKeys = trustedKeysFromFiles(o.trustedKey);
      const r = await client.getVersion(topicName, parseVersion(version));
      // Signed by a --trusted-key, before anything is fetched or written (as a Subscriber checks).
      const problem = signatureProblem(r, r.signature, trustedKeys, 'the keys given with --trusted-key');
      if (problem) throw new SignatureRejectedError({ ...problem, rule: `${problem.rule} (v${r.version} of topic "${r.topic}" refused, nothing written)` });
      const file = o.output ?? `${topicName}-v${r.version}.bin`;
      const progress = startProgress(`downloading v${r.version}`, r.pointer.size, !globals().json);
      await downloadPayload(r, await blobStoresFrom(o, blobDir()), file, {
        ...reads,
        onProgress: (p) => progress.update(p.bytes, p.total),
        onSlowRegion: (e) => process.stderr.write(`imprint: ${slowRegionText(e)}\n`),
        // No store of ours holds it (--blobs lent, the default): the service's lent URLs.
        lent: (record) => lentStores(client, record),
      });
      const summary = progress.finish(r.pointer.size);
      out({ file, ...(recordJson(r) as object) }, () => `wrote ${file}: ${summary}, sha256 verified`);
    }),
  );

withIdentityOptions(
  program
    .command('latest-at <topic> <time>')
    .description('the version a consumer would have been given at TIME (ISO date-time or epoch ms; pins not applied)'),
).action(
  withClient(async (client, topicName: string, time: string, o: IdentityOpts) => {
    const r = await client.latestAt(topicName, identityFrom(o), parseTime(time));
    out(r ? recordJson(r) : null, () => (r ? recordText(r) : `nothing of ${topicName} matched that consumer at ${time}`));
  }),
);

withIdentityOptions(
  program
    .command('poll <topic>')
    .description('ask as a given consumer identity what it should hold (for debugging scopes and pins); --app is required')
    .option('--last-seen <version>', 'the version the consumer holds (0: none)', '0'),
).action(
  withClient(async (client, topicName: string, o: IdentityOpts & { lastSeen: string }) => {
    // A poll is always some application's: the server requires it (audit and per-app limits count by it).
    if (!o.app) throw new InvalidArgumentError('--app', 'is required: the application to poll as (e.g. --app scorer)');
    const lastSeen = o.lastSeen === '0' ? 0n : parseVersion(o.lastSeen, 'last-seen');
    const res = await client.poll(topicName, identityFrom(o), lastSeen);
    out(res.record ? { update: recordJson(res.record), pinned: res.pinned, ...(res.rolledBack && { rolledBack: true }) } : { update: null }, () =>
      res.record ? `update: v${res.record.version}${res.pinned ? ' (pinned)' : ''}${res.rolledBack ? ' (rolled back: the rollout of the version held was cancelled)' : ''}\n${recordText(res.record)}` : `no update: keep v${lastSeen}`,
    );
  }),
);

/** One answer of `imprint watch` as text: when, the topic, and what a consumer of that identity is given. */
function watchText(e: WatchResult): string {
  const head = `${when(Date.now())} ${e.topic}:`;
  if (e.error) return `${head} ${e.error.code}: ${e.error.message}`;
  if (!e.record) return `${head} nothing for this consumer yet`;
  const omitted = e.directOmitted ? ' (payload left out of the stream: imprint get reads it)' : '';
  return `${head} v${e.record.version}${e.pinned ? ' (pinned)' : ''}${e.rolledBack ? ' (rolled back: the rollout of the version held was cancelled)' : ''} ${e.initial ? 'latest' : 'new'}${omitted}\n${recordText(e.record)}`;
}

withIdentityOptions(
  program
    .command('watch <topics...>')
    .description('watch topics as a given consumer identity: the answer for each at once, then every change as it comes, until Ctrl-C; --app is required'),
).action(
  withClient(async (client, topics: string[], o: IdentityOpts) => {
    if (!o.app) throw new InvalidArgumentError('--app', 'is required: the application to watch as (e.g. --app scorer)');
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      for await (const e of client.watch(identityFrom(o), topics.map((topic) => ({ topic, lastSeen: 0n })), { signal: stop.signal })) {
        if (e.kind !== 'result') continue;
        const json = { topic: e.topic, initial: e.initial, ...(e.error ? { error: e.error } : { update: e.record ? recordJson(e.record) : null, pinned: e.pinned }) };
        // --json: one line per answer (JSON lines), so a script reads each as it comes.
        process.stdout.write(`${globals().json ? JSON.stringify(json) : watchText(e)}\n`);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }),
);

// ---- scopes ----

program
  .command('add-scopes <topic> <version>')
  .description('widen who gets a published version: add scopes to it (a region at a time, then everyone)')
  .option('--scope <k=v,...>', 'a scope to add (repeatable; "" is every consumer)', collect, [])
  .addHelpText(
    'after',
    `
A version's scopes only grow: its record never changes otherwise. A region at a time, by hand:
  imprint publish ip-reputation model.bin --scope region=us-east-1
  imprint add-scopes ip-reputation 42 --scope region=eu-west-1
  imprint add-scopes ip-reputation 42 --scope ""        everyone`,
  )
  .action(
    withClient(async (client, topicName: string, version: string, o: { scope: string[] }) => {
      if (o.scope.length === 0) throw new InvalidArgumentError('scope', 'must be given at least once (--scope "" is every consumer)');
      const scopes = o.scope.map((s, i) => parseScope(s, `scopes[${i}]`));
      const record = await client.addScopes(topicName, parseVersion(version), scopes);
      out(recordJson(record), () => `added ${scopes.length === 1 ? 'a scope' : `${scopes.length} scopes`} to ${record.topic} v${record.version}\n${recordText(record)}`);
    }),
  );

// ---- pins ----

program
  .command('pin <topic> <version>')
  .description('force consumers (all, or one scope) to VERSION, even an older one')
  .option('--scope <k=v,...>', 'only consumers matching this scope (default: all)', '')
  .option('--reason <text>', 'why (shown to other operators)', '')
  .addOption(new Option('--by <who>', 'who pins').env('USER').default(''))
  .action(
    withClient(async (client, topicName: string, version: string, o: { scope: string; reason: string; by: string }) => {
      const p = await client.pin(topicName, parseVersion(version), { scope: parseScope(o.scope), reason: o.reason, createdBy: o.by });
      out(p, () => `pinned ${pinText(p)}`);
    }),
  );

program
  .command('unpin <topic>')
  .description('remove the pin of a topic (or of one scope); consumers go back to the latest')
  .option('--scope <k=v,...>', 'the pinned scope (default: the pin for all)', '')
  .action(
    withClient(async (client, topicName: string, o: { scope: string }) => {
      const scope: Scope = parseScope(o.scope);
      const removed = await client.unpin(topicName, scope);
      out(removed ?? null, () => (removed ? `unpinned ${pinText(removed)}` : 'no pin removed'));
    }),
  );

program
  .command('pins <topic>')
  .description('the pins of a topic')
  .action(
    withClient(async (client, topicName: string) => {
      const pins = await client.listPins(topicName);
      out(pins, () => (pins.length ? pins.map(pinText).join('\n') : `no pins on ${topicName}`));
    }),
  );

// ---- history ----

withIdentityOptions(
  program
    .command('history <topic>')
    .description("a topic's changes, newest first: who (principal, and the address it came from), what, when; with --at, what a consumer was served then")
    .option('-n, --limit <n>', 'at most this many', '50')
    .option('--at <time>', 'what the consumer (--app --cluster --region --node --label) was served at TIME (ISO date-time, epoch ms, or a duration ago: 3h), pins then in effect included, and the changes around it'),
)
  .addHelpText(
    'after',
    `
Every publish, add-scopes, pin, unpin and topic change (deletion included) is kept with the change itself, so an
acknowledged change is in the history even after a crash. "by" is what the request named (a
pin's --by, a topic's --owner) until the service authenticates callers; "from" is the caller's
address as the service saw it.`,
  )
  .action(
    withClient(async (client, topicName: string, o: IdentityOpts & { limit: string; at?: string }) => {
      if (o.at !== undefined) return historyAt(client, topicName, identityFrom(o), parseMoment(o.at, '--at', Date.now()), { withClient, out });
      const limit = parseCount(o.limit, 'limit') ?? 50;
      if (limit < 1) throw new InvalidArgumentError('limit', 'must be >= 1', limit);
      const changes: TopicChange[] = [];
      let token = '';
      do {
        const page = await client.listHistory(topicName, { pageSize: Math.min(limit - changes.length, 1000), pageToken: token });
        changes.push(...page.changes);
        token = page.nextPageToken;
      } while (token && changes.length < limit);
      out(changes.map(changeJson), () => (changes.length ? [CHANGE_HEADER, ...changes.map(changeText)].join('\n') : `no changes of ${topicName}`));
    }),
  );

addJanitorCommand(program, { dataDir: () => globals().dataDir, blobDir, json: () => globals().json === true, tls: globals });
addSnapshotCommand(program, { dataDir: () => globals().dataDir, blobDir, json: () => globals().json === true });
addKeygenCommand(program, { out });
