/**
 * A typed, promise-based client for the whole contract: one channel, the three services,
 * wire types translated to core's domain types and statuses to typed errors.
 */
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, type ConsumerIdentity, type DataPointer, type Pin, type Retention, type Scope, type ScopeHead, type Topic, type Version, type VersionRecord } from '../core/index.js';
import {
  consumersFromWire,
  headFromWire,
  identityToWire,
  pinFromWire,
  pointerToWire,
  recordFromWire,
  retentionToWire,
  scopeToWire,
  topicFromWire,
} from '../proto/convert.js';
import type { ConsumerClient } from '../proto/gen/imprint/v1/Consumer.js';
import type { OperatorClient } from '../proto/gen/imprint/v1/Operator.js';
import type { PublisherClient } from '../proto/gen/imprint/v1/Publisher.js';
import type { BatchPollResponse__Output } from '../proto/gen/imprint/v1/BatchPollResponse.js';
import type { DescribeTopicResponse__Output } from '../proto/gen/imprint/v1/DescribeTopicResponse.js';
import type { GetLatestAtResponse__Output } from '../proto/gen/imprint/v1/GetLatestAtResponse.js';
import type { ListPinsResponse__Output } from '../proto/gen/imprint/v1/ListPinsResponse.js';
import type { ListTopicsResponse__Output } from '../proto/gen/imprint/v1/ListTopicsResponse.js';
import type { ListVersionsResponse__Output } from '../proto/gen/imprint/v1/ListVersionsResponse.js';
import type { Pin__Output } from '../proto/gen/imprint/v1/Pin.js';
import type { PollResponse__Output } from '../proto/gen/imprint/v1/PollResponse.js';
import type { Topic__Output } from '../proto/gen/imprint/v1/Topic.js';
import type { UnpinResponse__Output } from '../proto/gen/imprint/v1/UnpinResponse.js';
import type { VersionRecord__Output } from '../proto/gen/imprint/v1/VersionRecord.js';
import type { Update__Output } from '../proto/gen/imprint/v1/Update.js';
import { loadImprintProto } from '../proto/loader.js';
import { fromGrpcError } from './errors.js';
import { appMetadataInterceptor } from './retry-hint.js';
import type { ConsumersView } from '../proto/convert.js';

export interface ClientOptions {
  /** host:port of the Imprint service. @default "127.0.0.1:50051" */
  readonly address?: string;
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
}

/** The identity-value rule (core/scope.ts), the one the server applies to `x-imprint-app`. */
const APP_NAME = /^[^\s,=]{1,256}$/;

/** The `app` option's rule: a name the server would ignore is refused here, not sent. */
function validateApp(app: string): string {
  if (typeof app !== 'string' || !APP_NAME.test(app)) {
    throw new InvalidArgumentError('app', 'must be 1-256 characters without whitespace, "," or "="', app);
  }
  return app;
}

export interface PollResult {
  /** Absent: no update, keep what you hold. */
  readonly record?: VersionRecord;
  readonly pinned: boolean;
}

export interface BatchPollResult extends PollResult {
  readonly topic: string;
  /** A per-topic failure, e.g. NOT_FOUND. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface TopicDescription {
  readonly topic: Topic;
  readonly heads: readonly Omit<ScopeHead, 'sinceMs'>[];
  readonly pins: readonly Pin[];
  readonly versionCount: number;
  /** Who polled the topic in the window (from the server's audit sink), or why it cannot say. */
  readonly consumers: ConsumersView | { readonly error: string };
}

export const DEFAULT_ADDRESS = '127.0.0.1:50051';

type Invoke<Res> = (options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

function fromUpdate(u: Update__Output | null): PollResult {
  return u?.record ? { record: recordFromWire(u.record), pinned: u.pinned } : { pinned: false };
}

export class ImprintClient {
  readonly address: string;
  /** The application named on every request (`x-imprint-app`), if any. */
  readonly app: string | undefined;
  private readonly deadlineMs: number;
  private readonly publisher: PublisherClient;
  private readonly consumer: ConsumerClient;
  private readonly operator: OperatorClient;

  constructor(opts: ClientOptions = {}) {
    // Validated before any channel exists: a bad option leaves nothing to close.
    this.app = opts.app === undefined ? undefined : validateApp(opts.app);
    this.address = opts.address ?? DEFAULT_ADDRESS;
    this.deadlineMs = opts.deadlineMs ?? 10_000;
    const { proto } = loadImprintProto();
    const v1 = proto.imprint.v1;
    const creds = grpc.credentials.createInsecure();
    // Interceptors are per client object, not per channel: each of the three stubs gets its own
    // (grpc-js takes `interceptors` out of the options before it builds a channel).
    const intercept = (): { interceptors?: grpc.Interceptor[] } => (this.app === undefined ? {} : { interceptors: [appMetadataInterceptor(this.app)] });
    this.publisher = new v1.Publisher(this.address, creds, {
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': opts.maxReconnectBackoffMs ?? 5_000,
      ...opts.channelOptions,
      ...intercept(),
    });
    const channelOverride = this.publisher.getChannel();
    this.consumer = new v1.Consumer(this.address, creds, { channelOverride, ...intercept() });
    this.operator = new v1.Operator(this.address, creds, { channelOverride, ...intercept() });
  }

  private call<Res>(what: string, invoke: Invoke<Res>): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke({ deadline: Date.now() + this.deadlineMs }, (err, res) => {
        if (err || res === undefined) reject(fromGrpcError(err, what));
        else resolve(res);
      });
    });
  }

  // ---- publisher ----

  async createTopic(t: { name: string; owner?: string; description?: string; retention?: Retention }): Promise<Topic> {
    const res = await this.call<Topic__Output>('CreateTopic', (o, cb) => this.publisher.CreateTopic({
      name: t.name,
      owner: t.owner ?? '',
      description: t.description ?? '',
      retention: retentionToWire(t.retention ?? {}),
    }, o, cb));
    return topicFromWire(res);
  }

  async updateTopic(name: string, patch: { owner?: string; description?: string; retention?: Retention }): Promise<Topic> {
    const res = await this.call<Topic__Output>('UpdateTopic', (o, cb) => this.publisher.UpdateTopic({
      name,
      ...(patch.owner !== undefined && { owner: patch.owner }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.retention && { retention: retentionToWire(patch.retention) }),
    }, o, cb));
    return topicFromWire(res);
  }

  /** Records a version whose payload is already in place (direct bytes, or uploaded blobs). */
  async publishPointer(topic: string, pointer: DataPointer, opts: { metadata?: Record<string, string>; scopes?: readonly Scope[] } = {}): Promise<VersionRecord> {
    const res = await this.call<VersionRecord__Output>('Publish', (o, cb) => this.publisher.Publish({
      topic,
      metadata: opts.metadata ?? {},
      pointer: pointerToWire(pointer),
      scopes: (opts.scopes ?? []).map(scopeToWire),
    }, o, cb));
    return recordFromWire(res);
  }

  async addScopes(topic: string, version: Version, scopes: readonly Scope[]): Promise<VersionRecord> {
    const res = await this.call<VersionRecord__Output>('AddScopes', (o, cb) => this.publisher.AddScopes({ topic, version: version.toString(), scopes: scopes.map(scopeToWire) }, o, cb));
    return recordFromWire(res);
  }

  // ---- consumer ----

  async poll(topic: string, identity: ConsumerIdentity, lastSeen: Version): Promise<PollResult> {
    const res = await this.call<PollResponse__Output>('Poll', (o, cb) => this.consumer.Poll({ topic, identity: identityToWire(identity), lastSeenVersion: lastSeen.toString() }, o, cb));
    return fromUpdate(res.update);
  }

  async batchPoll(identity: ConsumerIdentity, cursors: readonly { topic: string; lastSeen: Version }[]): Promise<BatchPollResult[]> {
    const res = await this.call<BatchPollResponse__Output>('BatchPoll', (o, cb) => this.consumer.BatchPoll({
      identity: identityToWire(identity),
      topics: cursors.map((c) => ({ topic: c.topic, lastSeenVersion: c.lastSeen.toString() })),
    }, o, cb));
    return res.results.map((r) => ({
      topic: r.topic,
      ...fromUpdate(r.update),
      ...(r.errorCode && { error: { code: r.errorCode, message: r.errorMessage } }),
    }));
  }

  async getVersion(topic: string, version: Version): Promise<VersionRecord> {
    return recordFromWire(await this.call<VersionRecord__Output>('GetVersion', (o, cb) => this.consumer.GetVersion({ topic, version: version.toString() }, o, cb)));
  }

  async listVersions(topic: string, opts: { pageSize?: number; pageToken?: string } = {}): Promise<{ versions: VersionRecord[]; nextPageToken: string }> {
    const res = await this.call<ListVersionsResponse__Output>('ListVersions', (o, cb) => this.consumer.ListVersions({ topic, pageSize: opts.pageSize ?? 0, pageToken: opts.pageToken ?? '' }, o, cb));
    return { versions: res.versions.map(recordFromWire), nextPageToken: res.nextPageToken };
  }

  async latestAt(topic: string, identity: ConsumerIdentity, atMs: number): Promise<VersionRecord | undefined> {
    const res = await this.call<GetLatestAtResponse__Output>('GetLatestAt', (o, cb) => this.consumer.GetLatestAt({ topic, identity: identityToWire(identity), atMs }, o, cb));
    return res.record ? recordFromWire(res.record) : undefined;
  }

  async getTopic(name: string): Promise<Topic> {
    return topicFromWire(await this.call<Topic__Output>('GetTopic', (o, cb) => this.consumer.GetTopic({ name }, o, cb)));
  }

  async listTopics(): Promise<Topic[]> {
    return (await this.call<ListTopicsResponse__Output>('ListTopics', (o, cb) => this.consumer.ListTopics({}, o, cb))).topics.map(topicFromWire);
  }

  // ---- operator ----

  async pin(topic: string, version: Version, opts: { scope?: Scope; reason?: string; createdBy?: string } = {}): Promise<Pin> {
    const res = await this.call<Pin__Output>('Pin', (o, cb) => this.operator.Pin({
      topic,
      version: version.toString(),
      scope: scopeToWire(opts.scope ?? {}),
      reason: opts.reason ?? '',
      createdBy: opts.createdBy ?? '',
    }, o, cb));
    return pinFromWire(res);
  }

  async unpin(topic: string, scope: Scope = {}): Promise<Pin | undefined> {
    const res = await this.call<UnpinResponse__Output>('Unpin', (o, cb) => this.operator.Unpin({ topic, scope: scopeToWire(scope) }, o, cb));
    return res.removed ? pinFromWire(res.removed) : undefined;
  }

  async listPins(topic: string): Promise<Pin[]> {
    return (await this.call<ListPinsResponse__Output>('ListPins', (o, cb) => this.operator.ListPins({ topic }, o, cb))).pins.map(pinFromWire);
  }

  /** `consumersSinceMs`: the start of the consumers window (default: the server's, the last 24 hours). */
  async describeTopic(name: string, consumersSinceMs = 0): Promise<TopicDescription> {
    const res = await this.call<DescribeTopicResponse__Output>('DescribeTopic', (o, cb) => this.operator.DescribeTopic({ name, consumersSinceMs }, o, cb));
    if (!res.topic) throw new Error('DescribeTopic answered without a topic');
    return {
      topic: topicFromWire(res.topic),
      heads: res.heads.map(headFromWire),
      pins: res.pins.map(pinFromWire),
      versionCount: Number(res.versionCount),
      consumers: res.consumers ? consumersFromWire(res.consumers) : { error: res.consumersError || 'the server gave no consumers' },
    };
  }

  close(): void {
    this.publisher.close();
  }
}
