/**
 * A typed, promise-based client for the whole contract: one channel, the three services,
 * wire types translated to core's domain types and statuses to typed errors.
 */
import * as grpc from '@grpc/grpc-js';
import {
  InvalidArgumentError,
  isIdentityValue,
  type Change,
  type ConsumerIdentity,
  type DataPointer,
  type Pin,
  type Move,
  type Denial,
  type Retention,
  type PublishStatus,
  type Scope,
  type ScopeHead,
  type Topic,
  type Version,
  type VersionRecord,
  type VersionSignature,
  parseTrustedKey,
  type Grant,
  type Rejection,
  type Rollout,
  type RolloutPolicy,
  type RolloutProgress,
} from '../core/index.js';
import {
  changeFromWire,
  grantFromWireOutput,
  grantToWire,
  consumersFromWire,
  moveFromWire,
  denialFromWire,
  headFromWire,
  identityToWire,
  pointerFromWire,
  pinFromWire,
  pointerToWire,
  recordFromWire,
  recordWithoutDirectFromWire,
  retentionToWire,
  contractMsFromWire,
  publishStatusFromWire,
  scopeToWire,
  topicFromWire,
  signatureToWire,
  trustedKeysToWire,
  rejectionToWire,
  rolloutFromWire,
  rolloutPolicyToWire,
} from '../proto/convert.js';
import type { RolloutProgress__Output } from '../proto/gen/imprint/v1/RolloutProgress.js';
import type { GetRolloutResponse__Output } from '../proto/gen/imprint/v1/GetRolloutResponse.js';
import type { ListRolloutsResponse__Output } from '../proto/gen/imprint/v1/ListRolloutsResponse.js';
import type { Rollout__Output } from '../proto/gen/imprint/v1/Rollout.js';
import type { ReportResponse__Output } from '../proto/gen/imprint/v1/ReportResponse.js';
import type { ConsumerServiceClient } from '../proto/gen/imprint/v1/ConsumerService.js';
import type { OperatorServiceClient } from '../proto/gen/imprint/v1/OperatorService.js';
import type { PublisherServiceClient } from '../proto/gen/imprint/v1/PublisherService.js';
import type { BatchPollResponse__Output } from '../proto/gen/imprint/v1/BatchPollResponse.js';
import type { BeginUploadResponse__Output } from '../proto/gen/imprint/v1/BeginUploadResponse.js';
import type { CompleteUploadResponse__Output } from '../proto/gen/imprint/v1/CompleteUploadResponse.js';
import type { GetDownloadResponse__Output } from '../proto/gen/imprint/v1/GetDownloadResponse.js';
import type { CompletedRegion, LentDownload, LentUpload } from './lent.js';
import type { DescribeTopicResponse__Output } from '../proto/gen/imprint/v1/DescribeTopicResponse.js';
import type { GetLatestAtResponse__Output } from '../proto/gen/imprint/v1/GetLatestAtResponse.js';
import type { ListHistoryResponse__Output } from '../proto/gen/imprint/v1/ListHistoryResponse.js';
import type { ListMovesResponse__Output } from '../proto/gen/imprint/v1/ListMovesResponse.js';
import type { ListDenialsResponse__Output } from '../proto/gen/imprint/v1/ListDenialsResponse.js';
import type { ListPinsResponse__Output } from '../proto/gen/imprint/v1/ListPinsResponse.js';
import type { ListTopicsResponse__Output } from '../proto/gen/imprint/v1/ListTopicsResponse.js';
import type { ListVersionsResponse__Output } from '../proto/gen/imprint/v1/ListVersionsResponse.js';
import type { PinResponse__Output } from '../proto/gen/imprint/v1/PinResponse.js';
import type { GetAccessResponse__Output } from '../proto/gen/imprint/v1/GetAccessResponse.js';
import type { GrantAccessResponse__Output } from '../proto/gen/imprint/v1/GrantAccessResponse.js';
import type { RevokeAccessResponse__Output } from '../proto/gen/imprint/v1/RevokeAccessResponse.js';
import type { PollResponse__Output } from '../proto/gen/imprint/v1/PollResponse.js';
import type { CreateTopicResponse__Output } from '../proto/gen/imprint/v1/CreateTopicResponse.js';
import type { GetTopicResponse__Output } from '../proto/gen/imprint/v1/GetTopicResponse.js';
import type { UpdateTopicResponse__Output } from '../proto/gen/imprint/v1/UpdateTopicResponse.js';
import type { DeleteTopicResponse__Output } from '../proto/gen/imprint/v1/DeleteTopicResponse.js';
import type { UnpinResponse__Output } from '../proto/gen/imprint/v1/UnpinResponse.js';
import type { AddScopesResponse__Output } from '../proto/gen/imprint/v1/AddScopesResponse.js';
import type { GetVersionResponse__Output } from '../proto/gen/imprint/v1/GetVersionResponse.js';
import type { PublishResponse__Output } from '../proto/gen/imprint/v1/PublishResponse.js';
import type { Update__Output } from '../proto/gen/imprint/v1/Update.js';
import type { WatchResponse__Output } from '../proto/gen/imprint/v1/WatchResponse.js';
import { loadImprintProto } from '../proto/loader.js';
import { ProtocolError, fromGrpcError } from './errors.js';
import { appMetadataInterceptor } from './retry-hint.js';
import { channelCredentials, type ClientTlsOptions, type TlsFiles } from './tls.js';
import { bearerTokenInterceptor, validateTokenSource, type TokenSource } from './token.js';
import type { ConsumersView } from '../proto/convert.js';

export interface ClientOptions {
  /**
   * host:port of the Imprint service, or several separated by "," (consume-role replicas):
   * each client keeps to one, picked at random (a fleet spreads over them), and a read that
   * finds it unavailable goes on to the next, which it then keeps to.
   * @default "127.0.0.1:50051"
   */
  readonly address?: string;
  /** Picks the first address of a list (tests). @default Math.random */
  readonly random?: () => number;
  /** Deadline of each call. @default 10000 */
  readonly deadlineMs?: number;
  /**
   * Longest wait between reconnection attempts after the service went away; keeps recovery
   * quick once it is back (grpc-js would otherwise back off up to 120 s). @default 5000
   */
  readonly maxReconnectBackoffMs?: number;
  /** Extra grpc-js channel options. @default {} */
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * Names the calling application on every request, as request metadata `x-imprint-app`, so
   * a consume-role server counts this client's requests (all of them, including the ones
   * that carry no identity) against that application's concurrency share. Without it the
   * server falls back to the request's `identity.app`, where there is one. 1-256 characters,
   * no whitespace, "," or "=". @default none
   */
  readonly app?: string;
  /**
   * Speak TLS to the service: the CA its certificate chains to, a client certificate and key
   * for mTLS, a server name override (PEM contents, client/tls.ts). @default none: plaintext
   */
  readonly tls?: ClientTlsOptions;
  /**
   * A bearer token (a JWT) sent on every call as `authorization: Bearer <token>`, for a server
   * that authenticates callers; or a function asked before every call, for a job whose token
   * is refreshed (return the current one; cache it). @default none: calls are anonymous
   */
  readonly token?: TokenSource;
}

/** The `app` option's rule: a name the server would ignore is refused here, not sent. */
function validateApp(app: string): string {
  if (typeof app !== 'string' || !isIdentityValue(app)) {
    throw new InvalidArgumentError('app', 'must be 1-256 characters without whitespace, "," or "="', app);
  }
  return app;
}

/** Per-call options. */
export interface CallOptions {
  /**
   * An absolute deadline (ms since the epoch) that cuts the call's `deadlineMs` short, e.g. a
   * subscriber's start-up budget. With an address list it covers every address tried. @default none
   */
  readonly deadline?: number;
}

export interface PollResult {
  /** Absent: no update, keep what you hold. */
  readonly record?: VersionRecord;
  readonly pinned: boolean;
  /**
   * The record is older than the version held, whose rollout was cancelled: move to it (the
   * one case besides a pin where a consumer moves to an older version).
   */
  readonly rolledBack?: true;
  /** The topic's max-staleness (its staleness contract), ms; absent: it has none. */
  readonly maxStalenessMs?: number;
}

export interface BatchPollResult extends PollResult {
  readonly topic: string;
  /**
   * The server left the record's direct bytes out to keep its answer within its size budget:
   * `record.pointer` has the size and sha256 but no bytes (reading it as the payload fails
   * verification). Read the whole record with `getVersion(topic, record.version)` before
   * using its payload; the Subscriber does.
   */
  readonly directOmitted?: true;
  /** A per-topic failure, e.g. NOT_FOUND. */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * What a consumer holds of a topic (`lastSeen`, 0n: nothing) and, when the last version it
 * tried could not be loaded, that version's rejection: sent with polls, Watch and Report.
 */
export interface TopicCursor {
  readonly topic: string;
  readonly lastSeen: Version;
  readonly rejected?: Rejection;
}

function cursorToWire(c: TopicCursor): { topic: string; lastSeenVersion: string; rejected?: ReturnType<typeof rejectionToWire> } {
  return { topic: c.topic, lastSeenVersion: c.lastSeen.toString(), ...(c.rejected && { rejected: rejectionToWire(c.rejected) }) };
}

/** A rollout and the consumers gate's count (GetRollout). */
export interface RolloutStatus {
  readonly rollout: Rollout;
  readonly progress: RolloutProgress;
}

/** One message of a Watch stream: a topic's answer, or (with `heartbeats: true`) a heartbeat. */
export type WatchEvent = WatchResult | WatchHeartbeatEvent;

/** A topic's answer on a Watch stream: the first one for each topic is `initial` (as a BatchPoll's), later ones are changes. */
export interface WatchResult extends BatchPollResult {
  readonly kind: 'result';
  readonly initial: boolean;
}

export interface WatchHeartbeatEvent {
  readonly kind: 'heartbeat';
  /** The server's clock when it sent it, ms since the epoch. */
  readonly sentAtMs: number;
}

export interface WatchCallOptions {
  /** Aborting it ends the stream: the iteration finishes without an error. @default none */
  readonly signal?: AbortSignal;
  /** Yield the server's heartbeats too (each message tells the stream is alive). @default false */
  readonly heartbeats?: boolean;
}

/** One entry of a topic's change history (its place in the history stays on the server: pages go by token). */
export type TopicChange = Omit<Change, 'seq'>;

export interface TopicDescription {
  readonly topic: Topic;
  readonly heads: readonly Omit<ScopeHead, 'sinceMs'>[];
  readonly pins: readonly Pin[];
  readonly versionCount: number;
  /** Who polled the topic in the window (from the server's audit sink), or why it cannot say. */
  readonly consumers: ConsumersView | { readonly error: string };
  /** The topic's newest changes (the server sends 10), newest first. */
  readonly recentChanges: readonly TopicChange[];
  /** Its latest publish and since when it is overdue (0: on time, or no expectEveryMs). */
  readonly publishStatus: PublishStatus;
  /** The topic's newest rollout, if it has had any. */
  readonly rollout?: Rollout;
}

/** A publish's answer: the version, and whether its publish id had made it before (then nothing new was written). */
export type PublishedVersion = VersionRecord & {
  readonly replayed: boolean;
  /** The rollout the publish started (its first step applied): absent when the topic has no rollout policy, or the publish had scopes or `noRollout`. */
  readonly rollout?: Rollout;
};

export const DEFAULT_ADDRESS = '127.0.0.1:50051';

type Invoke<Res> = (stubs: Stubs, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

/** The three services on one address's channel. */
interface Stubs {
  readonly address: string;
  readonly publisher: PublisherServiceClient;
  readonly consumer: ConsumerServiceClient;
  readonly operator: OperatorServiceClient;
}

const ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

/** "h1:p1,h2:p2" as a list; each entry must be host:port. */
export function parseAddresses(address: string): string[] {
  const list = address
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (list.length === 0) throw new InvalidArgumentError('address', 'must be host:port, or several separated by ","', address);
  for (const a of list) {
    const port = Number(a.slice(a.lastIndexOf(':') + 1));
    if (!ADDRESS.test(a) || port < 1 || port > 65535) throw new InvalidArgumentError('address', 'must be host:port entries (port 1-65535) separated by ","', a);
  }
  return list;
}

/** Reads: safe to send again to another replica when one did not answer. */
const FAILOVER_METHODS: ReadonlySet<string> = new Set(['Poll', 'BatchPoll', 'GetVersion', 'ListVersions', 'GetLatestAt', 'GetTopic', 'ListTopics', 'ListPins', 'DescribeTopic', 'ListHistory', 'GetRollout', 'ListRollouts', 'Report']);

/** A response field the contract always sets; a server that leaves it out is broken. */
function required<T>(value: T | null | undefined, method: string, field: string): T {
  if (value === null || value === undefined) throw new ProtocolError(`${method} answered without ${field}`);
  return value;
}

function fromUpdate(u: Update__Output | null): PollResult & { directOmitted?: true } {
  if (!u?.record) return { pinned: false };
  const rolledBack = u.rolledBack ? { rolledBack: true as const } : {};
  return u.directOmitted
    ? { record: recordWithoutDirectFromWire(u.record), pinned: u.pinned, ...rolledBack, directOmitted: true }
    : { record: recordFromWire(u.record), pinned: u.pinned, ...rolledBack };
}

/** The consumers gate's count as GetRollout gives it (absent: nothing counted). */
function progressFromWire(p: RolloutProgress__Output | null): RolloutProgress {
  return { reached: p?.reached ?? 0, holding: p?.holding ?? 0, rejections: p?.rejections ?? 0 };
}

/** A rollout a response carries where the contract says it always does. */
function rolloutOf(r: Rollout__Output | null, method: string): Rollout {
  return rolloutFromWire(required(r, method, 'rollout'));
}

/** A poll answer's max_staleness_ms (0: none) as a PollResult field. */
function contractOfAnswer(ms: string): { maxStalenessMs?: number } {
  const n = contractMsFromWire(ms, 'max_staleness_ms');
  return n === 0 ? {} : { maxStalenessMs: n };
}

/** A BatchPoll's per-topic answer left for another request (its response reached its size budget). */
const DEFERRED_CODE = 'RESOURCE_EXHAUSTED';

export class ImprintClient {
  readonly address: string;
  /** The addresses `address` names, in order. */
  readonly addresses: readonly string[];
  /** The application named on every request (`x-imprint-app`), if any. */
  readonly app: string | undefined;
  private readonly deadlineMs: number;
  private readonly stubs: readonly Stubs[];
  /** With `tls.caFile`/`certFile`/`keyFile`: the files, read again when they change (`reloaded`, `reload-failed` events). */
  readonly tlsFiles?: TlsFiles;
  /**
   * The address calls go to (an index into `stubs`): picked at random, so a fleet of clients
   * spreads over the replicas, and kept while it answers, so one client sees one replica's
   * view (a pin does not flip back and forth between replicas that refreshed at different
   * times). It moves on when that address is unavailable.
   */
  private current: number;
  /** `tls.ca` as given (with `tls.caFile`, tlsFiles has it). */
  private readonly tlsCa: string | Buffer | undefined;

  constructor(opts: ClientOptions = {}) {
    // Validated before any channel exists: a bad option leaves nothing to close.
    this.app = opts.app === undefined ? undefined : validateApp(opts.app);
    this.address = opts.address ?? DEFAULT_ADDRESS;
    this.addresses = parseAddresses(this.address);
    this.deadlineMs = opts.deadlineMs ?? 10_000;
    const { proto } = loadImprintProto();
    const v1 = proto.imprint.v1;
    const { credentials: creds, options: tlsChannelOptions, files } = channelCredentials(opts.tls);
    if (files) this.tlsFiles = files;
    this.tlsCa = opts.tls?.ca;
    // Interceptors are per client object, not per channel: each of the three stubs gets its own
    // (grpc-js takes `interceptors` out of the options before it builds a channel).
    const token = opts.token === undefined ? undefined : validateTokenSource(opts.token);
    const intercept = (): { interceptors?: grpc.Interceptor[] } => {
      const interceptors = [...(this.app === undefined ? [] : [appMetadataInterceptor(this.app)]), ...(token === undefined ? [] : [bearerTokenInterceptor(token)])];
      return interceptors.length === 0 ? {} : { interceptors };
    };
    this.stubs = this.addresses.map((address) => {
      const publisher = new v1.PublisherService(address, creds, {
        'grpc.max_receive_message_length': 8 * 1024 * 1024,
        'grpc.initial_reconnect_backoff_ms': 500,
        'grpc.max_reconnect_backoff_ms': opts.maxReconnectBackoffMs ?? 5_000,
        ...tlsChannelOptions,
        ...opts.channelOptions,
        ...intercept(),
      });
      const channelOverride = publisher.getChannel();
      return {
        address,
        publisher,
        consumer: new v1.ConsumerService(address, creds, { channelOverride, ...intercept() }),
        operator: new v1.OperatorService(address, creds, { channelOverride, ...intercept() }),
      };
    });
    this.current = Math.min(this.stubs.length - 1, Math.floor((opts.random ?? Math.random)() * this.stubs.length));
  }

  /**
   * One call, to the current address; with a list, the others (ones whose connection is
   * failing last) when a read is answered UNAVAILABLE or DEADLINE_EXCEEDED, each once, and the
   * one that answers becomes current. Writes are not sent twice.
   */
  private async call<Res>(what: string, invoke: Invoke<Res>, opts: CallOptions = {}): Promise<Res> {
    const order = this.order();
    const tries = FAILOVER_METHODS.has(what) ? order.length : 1;
    let last: unknown;
    for (let i = 0; i < tries; i++) {
      const k = order[i] as number;
      try {
        const res = await new Promise<Res>((resolve, reject) => {
          invoke(this.stubs[k] as Stubs, { deadline: Math.min(Date.now() + this.deadlineMs, opts.deadline ?? Infinity) }, (err, res) => {
            if (err || res === undefined) reject(err ?? new Error('no answer'));
            else resolve(res);
          });
        });
        this.current = k;
        return res;
      } catch (err) {
        last = err;
        const code = (err as Partial<grpc.ServiceError>).code;
        if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) break;
        // The next call starts elsewhere, even a write that is not sent on now.
        if (k === this.current) this.current = (k + 1) % this.stubs.length;
      }
    }
    throw fromGrpcError(last, order.length > 1 ? `${what} (${this.address})` : what);
  }

  /** Indexes of the stubs to try: the current one first, then the others in turn; those whose channel is failing go last. */
  private order(): number[] {
    const n = this.stubs.length;
    if (n === 1) return [0];
    const rotated = Array.from({ length: n }, (_, i) => (this.current + i) % n);
    const failing = (k: number) => (this.stubs[k] as Stubs).publisher.getChannel().getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE;
    return [...rotated.filter((k) => !failing(k)), ...rotated.filter(failing)];
  }

  // ---- publisher ----

  /**
   * `expectEveryMs`, `maxStalenessMs`: the staleness contract (absent: none). `trustedKeys`:
   * Ed25519 public keys (PEM, or the raw 32 bytes in base64); when any, every publish to the
   * topic must be signed by one of them. `rolloutPolicy`: publishes reach consumers step by
   * step (core/rollout.ts; absent: at once).
   */
  async createTopic(t: { name: string; owner?: string; description?: string; retention?: Retention; expectEveryMs?: number; maxStalenessMs?: number; trustedKeys?: readonly string[]; rolloutPolicy?: RolloutPolicy }): Promise<Topic> {
    const trustedKeys = (t.trustedKeys ?? []).map((k, i) => parseTrustedKey(k, `trustedKeys[${i}]`));
    const res = await this.call<CreateTopicResponse__Output>('CreateTopic', (stubs, o, cb) => stubs.publisher.CreateTopic({
      name: t.name,
      owner: t.owner ?? '',
      description: t.description ?? '',
      retention: retentionToWire(t.retention ?? {}),
      expectEveryMs: t.expectEveryMs ?? 0,
      maxStalenessMs: t.maxStalenessMs ?? 0,
      trustedKeys: trustedKeysToWire(trustedKeys),
      ...(t.rolloutPolicy && { rolloutPolicy: rolloutPolicyToWire(t.rolloutPolicy) }),
    }, o, cb));
    return topicFromWire(required(res.topic, 'CreateTopic', 'topic'));
  }

  /** Deletes the topic softly (DeleteTopic): polls find it no more; the janitor purges it after its grace period. */
  async deleteTopic(name: string, reason = ''): Promise<Topic> {
    const res = await this.call<DeleteTopicResponse__Output>('DeleteTopic', (stubs, o, cb) => stubs.publisher.DeleteTopic({ name, reason }, o, cb));
    return topicFromWire(required(res.topic, 'DeleteTopic', 'topic'));
  }

  /**
   * `expectEveryMs`, `maxStalenessMs`: replace that limit of the staleness contract; 0 removes it.
   * `trustedKeys` (PEM or raw base64): replace the topic's trusted keys; [] requires no signatures any more.
   * `rolloutPolicy`: replaces the topic's rollout policy; null removes it (a running rollout keeps the policy it began with).
   */
  async updateTopic(
    name: string,
    patch: { owner?: string; description?: string; retention?: Retention; expectEveryMs?: number; maxStalenessMs?: number; trustedKeys?: readonly string[]; rolloutPolicy?: RolloutPolicy | null },
  ): Promise<Topic> {
    const trustedKeys = patch.trustedKeys?.map((k, i) => parseTrustedKey(k, `trustedKeys[${i}]`));
    const res = await this.call<UpdateTopicResponse__Output>('UpdateTopic', (stubs, o, cb) => stubs.publisher.UpdateTopic({
      name,
      ...(patch.owner !== undefined && { owner: patch.owner }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.retention && { retention: retentionToWire(patch.retention) }),
      ...(patch.expectEveryMs !== undefined && { expectEveryMs: patch.expectEveryMs }),
      ...(patch.maxStalenessMs !== undefined && { maxStalenessMs: patch.maxStalenessMs }),
      ...(trustedKeys && { trustedKeys: { keys: trustedKeysToWire(trustedKeys) } }),
      // A policy with no steps removes it (UpdateTopicRequest.rollout_policy).
      ...(patch.rolloutPolicy !== undefined && { rolloutPolicy: patch.rolloutPolicy === null ? { steps: [] } : rolloutPolicyToWire(patch.rolloutPolicy) }),
    }, o, cb));
    return topicFromWire(required(res.topic, 'UpdateTopic', 'topic'));
  }

  /**
   * Records a version whose payload is already in place (direct bytes, or uploaded blobs), once:
   * an unknown outcome is an UnavailableError, not retried here (Publisher retries with the id).
   * `publishId`: the same on every retry of one publish, so a retry returns the version the
   * first attempt made (`replayed`) instead of making another; "" or absent: no protection.
   * `signature`: the publisher's (core's signContent over topic, metadata and pointer).
   * `noRollout`: on a topic with a rollout policy, reach every consumer at once instead of
   * starting a rollout (explicit scopes do too); either way it supersedes a running rollout.
   */
  async publishPointer(
    topic: string,
    pointer: DataPointer,
    opts: { metadata?: Record<string, string>; scopes?: readonly Scope[]; publishId?: string; signature?: VersionSignature; noRollout?: boolean } = {},
  ): Promise<PublishedVersion> {
    const res = await this.call<PublishResponse__Output>('Publish', (stubs, o, cb) => stubs.publisher.Publish({
      topic,
      metadata: opts.metadata ?? {},
      pointer: pointerToWire(pointer),
      scopes: (opts.scopes ?? []).map(scopeToWire),
      publishId: opts.publishId ?? '',
      ...(opts.signature && { signature: signatureToWire(opts.signature) }),
      noRollout: opts.noRollout ?? false,
    }, o, cb));
    const record = required(res.record, 'Publish', 'record');
    try {
      return { ...recordFromWire(record), replayed: res.replayed, ...(res.rollout && { rollout: rolloutFromWire(res.rollout) }) };
    } catch (err) {
      // The service answered: the publish was recorded. An answer we cannot read is no refusal.
      throw new ProtocolError(`Publish was answered with a record that cannot be read (the version was recorded): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async addScopes(topic: string, version: Version, scopes: readonly Scope[]): Promise<VersionRecord> {
    const res = await this.call<AddScopesResponse__Output>('AddScopes', (stubs, o, cb) => stubs.publisher.AddScopes({ topic, version: version.toString(), scopes: scopes.map(scopeToWire) }, o, cb));
    return recordFromWire(required(res.record, 'AddScopes', 'record'));
  }

  // ---- lent payload URLs (client/lent.ts) ----

  /** URLs to PUT `size` bytes with `sha256` to every region (part_size 0: the service's choice). */
  async beginUpload(topic: string, size: number, sha256: string, partSize = 0): Promise<LentUpload> {
    const res = await this.call<BeginUploadResponse__Output>('BeginUpload', (stubs, o, cb) => stubs.publisher.BeginUpload({ topic, size, sha256, partSize }, o, cb));
    const pointer = pointerFromWire(required(res.pointer, 'BeginUpload', 'pointer'));
    if (pointer.kind !== 'blob') throw new ProtocolError('BeginUpload answered a pointer that is not a blob');
    const targets = res.targets.map((t) => ({ region: t.region, multipart: t.multipart, parts: t.parts.map((p) => ({ partNumber: p.partNumber, offset: Number(p.offset), size: Number(p.size), url: p.url, headers: p.headers })) }));
    return { uploadId: res.uploadId, pointer, targets, expiresAtMs: Number(res.expiresAtMs) };
  }

  /** Finishes a BeginUpload's multipart uploads; the pointer to publish. */
  async completeUpload(topic: string, uploadId: string, regions: readonly CompletedRegion[]): Promise<DataPointer> {
    const res = await this.call<CompleteUploadResponse__Output>('CompleteUpload', (stubs, o, cb) => stubs.publisher.CompleteUpload({ topic, uploadId, regions: regions.map((r) => ({ region: r.region, parts: [...r.parts] })) }, o, cb));
    return pointerFromWire(required(res.pointer, 'CompleteUpload', 'pointer'));
  }

  /** GET URLs for a version's payload, `region`'s first (none for a direct payload). */
  /**
   * The CA(s) this client checks the service's certificate against (`tls.ca`, or `tls.caFile`
   * as last read), which its lent payload URLs on the service's HTTPS port are checked against
   * too (client/lent.ts); undefined: none given (the system's roots, and NODE_EXTRA_CA_CERTS).
   */
  httpsCa(): string | Buffer | undefined {
    return this.tlsFiles ? (this.tlsFiles.ca ?? undefined) : this.tlsCa;
  }

  async getDownload(topic: string, version: Version, region = ''): Promise<LentDownload & { size: number; sha256: string }> {
    const res = await this.call<GetDownloadResponse__Output>('GetDownload', (stubs, o, cb) => stubs.consumer.GetDownload({ topic, version: version.toString(), region }, o, cb));
    return { size: Number(res.size), sha256: res.sha256, urls: res.urls.map((u) => ({ region: u.region, url: u.url })), expiresAtMs: Number(res.expiresAtMs) };
  }

  // ---- consumer ----

  /** `rejected`: the last version the consumer tried and could not load, if any (the rollout gates count it). */
  async poll(topic: string, identity: ConsumerIdentity, lastSeen: Version, rejected?: Rejection): Promise<PollResult> {
    const res = await this.call<PollResponse__Output>('Poll', (stubs, o, cb) =>
      stubs.consumer.Poll({ topic, identity: identityToWire(identity), lastSeenVersion: lastSeen.toString(), ...(rejected && { rejected: rejectionToWire(rejected) }) }, o, cb),
    );
    return { ...fromUpdate(res.update), ...contractOfAnswer(res.maxStalenessMs) };
  }

  /**
   * Polls many topics in one request; results in the order of `cursors`. Topics the server
   * left for another request (its answer reached its size budget) are asked for again, in
   * further BatchPolls, until each is answered; records whose direct bytes were left out
   * come flagged `directOmitted`. `opts.deadline` bounds every round.
   */
  async batchPoll(identity: ConsumerIdentity, cursors: readonly TopicCursor[], opts: CallOptions = {}): Promise<BatchPollResult[]> {
    const results: BatchPollResult[] = new Array(cursors.length);
    let pending = cursors.map((_, i) => i);
    while (pending.length > 0) {
      const asked = pending;
      const res = await this.call<BatchPollResponse__Output>('BatchPoll', (stubs, o, cb) => stubs.consumer.BatchPoll({
        identity: identityToWire(identity),
        topics: asked.map((i) => cursorToWire(cursors[i] as TopicCursor)),
      }, o, cb), opts);
      if (res.results.length !== asked.length) throw new ProtocolError(`BatchPoll answered ${res.results.length} results for ${asked.length} topics`);
      pending = [];
      res.results.forEach((r, k) => {
        const i = asked[k] as number;
        // The first result of an answer is never left out: each round answers at least one topic.
        if (r.errorCode === DEFERRED_CODE && k > 0) pending.push(i);
        else results[i] = { topic: r.topic, ...fromUpdate(r.update), ...contractOfAnswer(r.maxStalenessMs), ...(r.errorCode && { error: { code: r.errorCode, message: r.errorMessage } }) };
      });
    }
    return results;
  }

  /**
   * Watches topics: the answer for each, as BatchPoll gives it, first once per topic (in the
   * order of `cursors`, `initial`), then again whenever it changes, for as long as the stream
   * lasts. The iteration ends without an error when `opts.signal` aborts or the caller stops
   * iterating, and throws an ImprintError when the stream fails (UNIMPLEMENTED: the server
   * does not watch, e.g. a publish-role instance; RESOURCE_EXHAUSTED with a retry hint: its
   * stream bounds are reached; UNAVAILABLE: it went away, or is stopping). Resuming is the
   * caller's: watch again with the versions it now holds. With an address list, a stream that
   * fails UNAVAILABLE moves the next call to the next address.
   */
  async *watch(identity: ConsumerIdentity, cursors: readonly TopicCursor[], opts: WatchCallOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    const k = this.order()[0] as number;
    const call = (this.stubs[k] as Stubs).consumer.Watch({ identity: identityToWire(identity), topics: cursors.map(cursorToWire) });
    const cancel = () => call.cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });
    if (opts.signal?.aborted) cancel();
    let initial = cursors.length;
    try {
      for await (const msg of call as AsyncIterable<WatchResponse__Output>) {
        if (msg.result) {
          const r = msg.result;
          yield { kind: 'result', topic: r.topic, ...fromUpdate(r.update), ...contractOfAnswer(r.maxStalenessMs), ...(r.errorCode && { error: { code: r.errorCode, message: r.errorMessage } }), initial: initial-- > 0 };
        } else if (msg.heartbeat && opts.heartbeats) yield { kind: 'heartbeat', sentAtMs: Number(msg.heartbeat.sentAtMs) };
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      // The next call starts elsewhere when this address went away.
      if ((err as Partial<grpc.ServiceError>).code === grpc.status.UNAVAILABLE && k === this.current) this.current = (k + 1) % this.stubs.length;
      throw fromGrpcError(err, this.stubs.length > 1 ? `Watch (${this.stubs[k]?.address})` : 'Watch');
    } finally {
      opts.signal?.removeEventListener('abort', cancel);
      call.cancel();
    }
  }

  /**
   * Tells the service what this consumer holds of each topic and what it could not load (the
   * rollout gates count it): what a watching consumer says when it swaps or rejects, since it
   * sends no polls. At most 500 topics, each once.
   */
  async report(identity: ConsumerIdentity, cursors: readonly TopicCursor[]): Promise<void> {
    await this.call<ReportResponse__Output>('Report', (stubs, o, cb) => stubs.consumer.Report({ identity: identityToWire(identity), topics: cursors.map(cursorToWire) }, o, cb));
  }

  async getVersion(topic: string, version: Version): Promise<VersionRecord> {
    const res = await this.call<GetVersionResponse__Output>('GetVersion', (stubs, o, cb) => stubs.consumer.GetVersion({ topic, version: version.toString() }, o, cb));
    return recordFromWire(required(res.record, 'GetVersion', 'record'));
  }

  async listVersions(topic: string, opts: { pageSize?: number; pageToken?: string } = {}): Promise<{ versions: VersionRecord[]; nextPageToken: string }> {
    const res = await this.call<ListVersionsResponse__Output>('ListVersions', (stubs, o, cb) => stubs.consumer.ListVersions({ topic, pageSize: opts.pageSize ?? 0, pageToken: opts.pageToken ?? '' }, o, cb));
    return { versions: res.versions.map(recordFromWire), nextPageToken: res.nextPageToken };
  }

  async latestAt(topic: string, identity: ConsumerIdentity, atMs: number): Promise<VersionRecord | undefined> {
    const res = await this.call<GetLatestAtResponse__Output>('GetLatestAt', (stubs, o, cb) => stubs.consumer.GetLatestAt({ topic, identity: identityToWire(identity), atMs }, o, cb));
    return res.record ? recordFromWire(res.record) : undefined;
  }

  /**
   * What a consumer holding nothing would have been served at `atMs`: the poll decision over
   * the topic as it stood then, pins in effect included (`pin`: the one that matched).
   */
  async servedAt(topic: string, identity: ConsumerIdentity, atMs: number): Promise<{ record?: VersionRecord; pinned: boolean; pin?: Pin }> {
    const res = await this.call<GetLatestAtResponse__Output>('GetLatestAt', (stubs, o, cb) =>
      stubs.consumer.GetLatestAt({ topic, identity: identityToWire(identity), atMs, applyPins: true }, o, cb),
    );
    return { ...(res.record && { record: recordFromWire(res.record) }), pinned: res.pinned, ...(res.pin && { pin: pinFromWire(res.pin) }) };
  }

  async getTopic(name: string): Promise<Topic> {
    const res = await this.call<GetTopicResponse__Output>('GetTopic', (stubs, o, cb) => stubs.consumer.GetTopic({ name }, o, cb));
    return topicFromWire(required(res.topic, 'GetTopic', 'topic'));
  }

  /** Live topics; with `includeDeleted`, also those deleted and not purged yet (`deletedAtMs` set). */
  async listTopics(opts: { includeDeleted?: boolean } = {}): Promise<Topic[]> {
    return (await this.listTopicsWithStatus(opts)).topics;
  }

  /** The topics listTopics answers, and the publish status of each live one with an expectEveryMs (as of at most 30 s ago on the server). */
  async listTopicsWithStatus(opts: { includeDeleted?: boolean } = {}): Promise<{ topics: Topic[]; publishStatus: PublishStatus[] }> {
    const res = await this.call<ListTopicsResponse__Output>('ListTopics', (stubs, o, cb) => stubs.consumer.ListTopics({ includeDeleted: opts.includeDeleted ?? false }, o, cb));
    return { topics: res.topics.map(topicFromWire), publishStatus: res.publishStatus.map(publishStatusFromWire) };
  }

  // ---- operator ----

  async pin(topic: string, version: Version, opts: { scope?: Scope; reason?: string; createdBy?: string } = {}): Promise<Pin> {
    const res = await this.call<PinResponse__Output>('Pin', (stubs, o, cb) => stubs.operator.Pin({
      topic,
      version: version.toString(),
      scope: scopeToWire(opts.scope ?? {}),
      reason: opts.reason ?? '',
      createdBy: opts.createdBy ?? '',
    }, o, cb));
    return pinFromWire(required(res.pin, 'Pin', 'pin'));
  }

  async unpin(topic: string, scope: Scope = {}): Promise<Pin | undefined> {
    const res = await this.call<UnpinResponse__Output>('Unpin', (stubs, o, cb) => stubs.operator.Unpin({ topic, scope: scopeToWire(scope) }, o, cb));
    return res.removed ? pinFromWire(res.removed) : undefined;
  }

  async listPins(topic: string): Promise<Pin[]> {
    return (await this.call<ListPinsResponse__Output>('ListPins', (stubs, o, cb) => stubs.operator.ListPins({ topic }, o, cb))).pins.map(pinFromWire);
  }

  /** The topic's grants (access control): who may own, publish to, operate and consume it. */
  async getAccess(topic: string): Promise<Grant[]> {
    return (await this.call<GetAccessResponse__Output>('GetAccess', (stubs, o, cb) => stubs.operator.GetAccess({ topic }, o, cb))).grants.map(grantFromWireOutput);
  }

  /** Gives `grant` on the topic (an owner's action); `changed` false when it had it. */
  async grantAccess(topic: string, grant: Grant): Promise<{ changed: boolean; grants: Grant[] }> {
    const res = await this.call<GrantAccessResponse__Output>('GrantAccess', (stubs, o, cb) => stubs.operator.GrantAccess({ topic, grant: grantToWire(grant) }, o, cb));
    return { changed: res.changed, grants: res.grants.map(grantFromWireOutput) };
  }

  /** Takes `grant` back (an owner's action); `changed` false when the topic did not have it. */
  async revokeAccess(topic: string, grant: Grant): Promise<{ changed: boolean; grants: Grant[] }> {
    const res = await this.call<RevokeAccessResponse__Output>('RevokeAccess', (stubs, o, cb) => stubs.operator.RevokeAccess({ topic, grant: grantToWire(grant) }, o, cb));
    return { changed: res.changed, grants: res.grants.map(grantFromWireOutput) };
  }

  /** A topic's change history, newest first; `pageToken`: the previous page's `nextPageToken` ("" when it was the last). */
  async listHistory(topic: string, opts: { pageSize?: number; pageToken?: string } = {}): Promise<{ changes: TopicChange[]; nextPageToken: string }> {
    const res = await this.call<ListHistoryResponse__Output>('ListHistory', (stubs, o, cb) => stubs.operator.ListHistory({ topic, pageSize: opts.pageSize ?? 0, pageToken: opts.pageToken ?? '' }, o, cb));
    return { changes: res.changes.map(changeFromWire), nextPageToken: res.nextPageToken };
  }

  /**
   * The topic, its heads, pins, newest changes and consumers. `consumers.sinceMs`: the start of
   * the consumers window (default: the server's, the last 24 hours); `consumers.nodeLimit`: list
   * up to this many nodes (0 to 10000; default none), lowest version first; `consumers.version`:
   * list only nodes holding it.
   */
  async describeTopic(name: string, consumers: { sinceMs?: number; nodeLimit?: number; version?: bigint } = {}): Promise<TopicDescription> {
    const nodeLimit = consumers.nodeLimit ?? 0;
    const res = await this.call<DescribeTopicResponse__Output>('DescribeTopic', (stubs, o, cb) =>
      stubs.operator.DescribeTopic({ name, consumersSinceMs: consumers.sinceMs ?? 0, consumersNodeLimit: nodeLimit, consumersVersion: (consumers.version ?? 0n).toString() }, o, cb),
    );
    return {
      topic: topicFromWire(required(res.topic, 'DescribeTopic', 'topic')),
      heads: res.heads.map(headFromWire),
      pins: res.pins.map(pinFromWire),
      versionCount: Number(res.versionCount),
      consumers: res.consumers ? consumersFromWire(res.consumers, nodeLimit > 0) : { error: res.consumersError || 'the server gave no consumers' },
      recentChanges: res.recentChanges.map(changeFromWire),
      publishStatus: res.publishStatus ? publishStatusFromWire(res.publishStatus) : { topic: name, overdueSinceMs: 0 },
      ...(res.rollout && { rollout: rolloutFromWire(res.rollout) }),
    };
  }

  // ---- rollouts ----

  /** A rollout of the topic (`version` absent: its newest) and the consumers gate's count. NotFoundError when there is none. */
  async getRollout(topic: string, version?: Version): Promise<RolloutStatus> {
    const res = await this.call<GetRolloutResponse__Output>('GetRollout', (stubs, o, cb) => stubs.operator.GetRollout({ topic, version: (version ?? 0n).toString() }, o, cb));
    return { rollout: rolloutOf(res.rollout, 'GetRollout'), progress: progressFromWire(res.progress) };
  }

  /** The topic's rollouts, newest first; `pageToken`: the previous page's `nextPageToken` ("" when it was the last). */
  async listRollouts(topic: string, opts: { pageSize?: number; pageToken?: string } = {}): Promise<{ rollouts: Rollout[]; nextPageToken: string }> {
    const res = await this.call<ListRolloutsResponse__Output>('ListRollouts', (stubs, o, cb) => stubs.operator.ListRollouts({ topic, pageSize: opts.pageSize ?? 0, pageToken: opts.pageToken ?? '' }, o, cb));
    return { rollouts: res.rollouts.map((r, i) => rolloutFromWire(r, `rollouts[${i}]`)), nextPageToken: res.nextPageToken };
  }

  /** Holds the topic's running rollout where it is (no step applied, the bake clock stopped). */
  async pauseRollout(topic: string, reason = ''): Promise<Rollout> {
    return rolloutOf((await this.call<{ rollout: Rollout__Output | null }>('PauseRollout', (stubs, o, cb) => stubs.operator.PauseRollout({ topic, reason }, o, cb))).rollout, 'PauseRollout');
  }

  /** Goes on with the topic's paused rollout, with the bake it had left. */
  async resumeRollout(topic: string): Promise<Rollout> {
    return rolloutOf((await this.call<{ rollout: Rollout__Output | null }>('ResumeRollout', (stubs, o, cb) => stubs.operator.ResumeRollout({ topic }, o, cb))).rollout, 'ResumeRollout');
  }

  /** Withdraws the rollout's version: every consumer holding it moves back to what it had before. The record and history stay. */
  async cancelRollout(topic: string, reason = ''): Promise<Rollout> {
    return rolloutOf((await this.call<{ rollout: Rollout__Output | null }>('CancelRollout', (stubs, o, cb) => stubs.operator.CancelRollout({ topic, reason }, o, cb))).rollout, 'CancelRollout');
  }

  /** Skips the current step's bake and gates (the next step now); `full`: the version is the latest for everyone now. */
  async promoteRollout(topic: string, opts: { full?: boolean } = {}): Promise<Rollout> {
    return rolloutOf((await this.call<{ rollout: Rollout__Output | null }>('PromoteRollout', (stubs, o, cb) => stubs.operator.PromoteRollout({ topic, full: opts.full ?? false }, o, cb))).rollout, 'PromoteRollout');
  }

  /**
   * The moves of a topic's consumer nodes from one version to another, newest first, from the
   * server's audit data. `sinceMs` default: the last 24 hours; `untilMs` default: now;
   * `nodeId`: one node only; `pageSize`: 1 to 1000 (default 100). `truncated`: more matched.
   */
  async listMoves(topic: string, opts: { sinceMs?: number; untilMs?: number; nodeId?: string; pageSize?: number } = {}): Promise<{ moves: Move[]; truncated: boolean }> {
    const res = await this.call<ListMovesResponse__Output>('ListMoves', (stubs, o, cb) =>
      stubs.operator.ListMoves({ topic, sinceMs: opts.sinceMs ?? 0, untilMs: opts.untilMs ?? 0, nodeId: opts.nodeId ?? '', pageSize: opts.pageSize ?? 0 }, o, cb),
    );
    return { moves: res.moves.map(moveFromWire), truncated: res.truncated };
  }

  /**
   * The calls refused on a topic by access control, newest first, from the server's audit data:
   * who was refused which action, by which method, how many times. `sinceMs` default: the last
   * 24 hours; `untilMs` default: now; `pageSize`: 1 to 1000 (default 100). `truncated`: more matched.
   */
  async listDenials(topic: string, opts: { sinceMs?: number; untilMs?: number; pageSize?: number } = {}): Promise<{ denials: Denial[]; truncated: boolean }> {
    const res = await this.call<ListDenialsResponse__Output>('ListDenials', (stubs, o, cb) =>
      stubs.operator.ListDenials({ topic, sinceMs: opts.sinceMs ?? 0, untilMs: opts.untilMs ?? 0, pageSize: opts.pageSize ?? 0 }, o, cb),
    );
    return { denials: res.denials.map(denialFromWire), truncated: res.truncated };
  }

  close(): void {
    for (const s of this.stubs) s.publisher.close();
    this.tlsFiles?.close();
  }
}
