/**
 * Subscribers: keep an in-memory copy of each followed topic current. All subscriptions of
 * one Subscriber share one Watch stream (each change arrives as it happens) or, in poll mode
 * and while Watch is unavailable, one BatchPoll per tick; each new version goes through the
 * swap cycle (signature → fetch → verify → decode → swap → notify), and any failure keeps
 * the current value. Given `trustedKeys`, a version's record must carry a signature by one of
 * them (core/signing.ts) before its payload is even fetched: a service or bucket that hands
 * out what no trusted publisher signed never gets it swapped in.
 *
 * Watch, step by step (watchLoop): 1. open a stream with the version each subscription holds
 * as its cursor; 2. each answer runs its swap cycle, as a polled one would; 3. when the stream
 * fails, goes silent for `watch.idleMs` or ends, open another after a backoff (the server's
 * retry hint when it gives one); 4. fall back to BatchPoll every intervalMs, for
 * `watch.pollForMs`, when the server does not serve Watch (UNIMPLEMENTED), after
 * `watch.failures` stream failures within `watch.withinMs`, or when a stream fails while a
 * subscription is still starting (polling has the start-up budget and the fallback snapshot);
 * then back to 1.
 *
 * Rollouts (the gates hear what consumers could load): a version that fails to fetch, verify
 * (size, sha256, digest, signature), decode or pass the application's `validate` is the
 * topic's rejection until the subscription holds that version or a newer one; every BatchPoll
 * and Watch request carries it with the topic's cursor, and a watching subscriber also calls
 * Report (once for all its topics) when it swaps or rejects. An answer marked rolled back
 * (its rollout was cancelled) moves the subscription to the older version it names.
 */
import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import { Registry } from 'prom-client';
import {
  DataIntegrityError,
  ImprintError,
  SignatureRejectedError,
  parseTrustedKey,
  signatureProblem,
  contractViolated,
  decideFromSnapshot,
  InvalidArgumentError,
  identityAttributes,
  olderMatches,
  validateIdentity,
  validateTopicName,
  type ConsumerIdentity,
  type Snapshot,
  type Version,
  type VersionRecord,
  type Rejection,
  type RejectStage,
} from '../core/index.js';
import type { BlobStore } from './blob-store/blob-store.js';
import type { SnapshotReader } from './fallback.js';
import { fetchPayload, type FetchOptions } from './fetch.js';
import { lentStores } from './lent.js';
import { readOptionsWithDefaults, type ReadOptions, type SlowRegionEvent } from './hedge.js';
import { NotServedError } from './errors.js';
import { partOptionsWithDefaults, type PartOptions } from './parts.js';
import type { BatchPollResult, ImprintClient, TopicCursor } from './imprint-client.js';
import { clientMetrics, type ClientMetrics } from './metrics.js';
import { retryDelayFromHint, waitForRetryHint } from './retry-hint.js';
import { MAX_REJECTION_REASON } from '../proto/convert.js';

export type Step = 'poll' | 'watch' | 'report' | 'fallback' | 'signature' | 'fetch' | 'verify' | 'decode' | 'validate' | 'notify';

/** The stage a failed step is reported as (the rollout gates' RejectStage): a signature is verified; a throwing listener refuses the value as validate does. */
const REJECT_STAGE_OF: Partial<Record<Step, RejectStage>> = { signature: 'verify', fetch: 'fetch', verify: 'verify', decode: 'decode', validate: 'validate', notify: 'validate' };

export interface UpdatedEvent<T> {
  readonly topic: string;
  readonly version: Version;
  readonly previous: Version;
  readonly pinned: boolean;
  /** An older version the service moved it back to: the rollout of the one it held was cancelled. */
  readonly rolledBack: boolean;
  readonly value: T;
  readonly record: VersionRecord;
}

/** The service moved a subscription back to an older version (the `rolled-back` event), before it is loaded. */
export interface RolledBackEvent {
  readonly topic: string;
  /** The version held, whose rollout was cancelled. */
  readonly from: Version;
  /** The version it moves to. */
  readonly to: Version;
}

/** A version a subscription could not load, as the rollout gates hear it (the `rejection` event, once per version). */
export interface RejectionEvent extends Rejection {
  readonly topic: string;
}

/** A region was slow to answer a read of this subscriber's (see SlowRegionEvent); `topic` is "" for the fallback snapshot. */
export interface SlowRegionSubscriberEvent extends SlowRegionEvent {
  readonly topic: string;
}

export interface RejectedEvent {
  readonly topic: string;
  readonly version: Version;
  readonly step: Step;
  readonly reason: string;
  readonly error: unknown;
}

export interface SubscribeOptions<T> {
  /** Turns the verified payload into the value readers get. May be async; a throw rejects the version. */
  readonly decode: (bytes: Buffer, record: VersionRecord) => T | Promise<T>;
  /** What `current` is until a version loads (and after the start-up budget, if none could). */
  readonly defaultValue?: T;
  /**
   * This topic's trusted keys, in place of the Subscriber's `trustedKeys` ([]: none required
   * for this topic). @default the Subscriber's
   */
  readonly trustedKeys?: readonly string[];
  /**
   * The application's own check of a decoded value, run after decode and before the swap:
   * throw or return false (or a promise of either) and the version is rejected: the current
   * value stays, the rejection is counted (imprint_client_rejections_total, stage "validate")
   * and reported to the service, whose rollout gates count it. It may be sync or async; it
   * runs inside the topic's swap cycle, so the topic's next version waits for it, and one that
   * takes longer than `validateTimeoutMs` rejects the version. A failed check is retried like
   * the other steps (`retry`), then not again until the service names the version again.
   * @default none (every decoded value is accepted)
   */
  readonly validate?: (value: T, record: VersionRecord) => boolean | void | Promise<boolean | void>;
  /** How long `validate` may take, ms. @default 30000 */
  readonly validateTimeoutMs?: number;
}

/** @default of SubscribeOptions.validateTimeoutMs */
export const VALIDATE_TIMEOUT_MS = 30_000;

/** The calls a subscriber makes (an ImprintClient, or a fake in unit tests). Without `watch` it polls. */
export type ConsumerApi = Pick<ImprintClient, 'batchPoll' | 'listVersions' | 'getVersion' | 'latestAt'> & Partial<Pick<ImprintClient, 'watch' | 'report' | 'getDownload' | 'httpsCa'>>;

/** When a Watch stream counts as failed, and when the subscriber polls instead (see the module comment). */
export interface WatchSettings {
  /** Stream failures within `withinMs` after which the subscriber polls for `pollForMs`. @default 3 */
  readonly failures?: number;
  /** @default 60000 */
  readonly withinMs?: number;
  /** How long the subscriber polls (every intervalMs) before it tries Watch again, ms. @default 300000 */
  readonly pollForMs?: number;
  /**
   * A stream with no message for this long counts as failed (the server sends a heartbeat
   * every 15 s by default, --watch-heartbeat-ms). @default 45000
   */
  readonly idleMs?: number;
  /**
   * A watching subscriber's Report waits a random 0 to this many ms after what it holds or
   * rejected changed (what changes meanwhile goes in the same Report), 0 to 60000. A publish
   * swaps every watcher of its topic within a moment; reporting at once, they all call the
   * service in that moment, while it still pushes the version to the rest of them (in the
   * watch bench, 1000 watchers' p99 went from 750-940 ms to under 400 without their Reports).
   * 0: at once. @default 1000
   */
  readonly reportSpreadMs?: number;
}

export const WATCH_SETTINGS_DEFAULTS = { failures: 3, withinMs: 60_000, pollForMs: 300_000, idleMs: 45_000, reportSpreadMs: 1_000 } as const;

/** Why a subscriber stopped watching for a while (the `watch-fallback` event). */
export interface WatchFallbackEvent {
  readonly error: unknown;
  /** When it tries Watch again, ms since the epoch. */
  readonly untilMs: number;
}

/**
 * `hedgeDelayMs` and `firstByteTimeoutMs` (ReadOptions, hedge.ts), `partSize` and
 * `partConcurrency` (PartOptions, parts.ts) apply to every payload fetch.
 */
export interface SubscriberOptions extends ReadOptions, PartOptions {
  readonly client: ConsumerApi;
  /** Who this consumer is; matched against scopes and pins. */
  readonly identity: ConsumerIdentity;
  /** Blob stores in order of preference: the closest region first. @default [] (payloads read through the service's lent URLs: client/lent.ts) */
  readonly blobStores?: readonly BlobStore[];
  /**
   * 'watch': one Watch stream brings each change as it happens, with BatchPoll as its fallback
   * (see `watch`); 'poll': a BatchPoll every `intervalMs`, always. A client without `watch`
   * polls. @default 'watch'
   */
  readonly mode?: 'watch' | 'poll';
  /** When a Watch stream counts as failed and how long the subscriber then polls. @default see WATCH_SETTINGS_DEFAULTS */
  readonly watch?: WatchSettings;
  /** Between BatchPolls (poll mode, and while Watch is unavailable). @default 30000 */
  readonly intervalMs?: number;
  /** Each wait is intervalMs × (1 ± jitter). @default 0.1 */
  readonly jitter?: number;
  /**
   * How long `ready()` waits for a first version before settling for the default. While a
   * subscription starts, the service has the first half of it (each call's deadline is cut to
   * fit, and retries stop there) and the fallback snapshot the rest, so a service that hangs
   * still leaves time to start from the snapshot. @default 30000
   */
  readonly startupBudgetMs?: number;
  /** On start-up, how many older versions to try when the latest cannot be loaded. @default 3 */
  readonly olderVersionsToTry?: number;
  /**
   * Retries of one step, with exponential backoff and jitter. A poll answered
   * RESOURCE_EXHAUSTED with a retry hint (a throttling consume-role server) is retried no
   * sooner than the hint, which is believed up to `maxTimeoutMs`.
   * @default { retries: 3, minTimeoutMs: 200, maxTimeoutMs: 5000 }
   */
  readonly retry?: { readonly retries: number; readonly minTimeoutMs: number; readonly maxTimeoutMs: number };
  /** Where the metrics go. @default a private registry */
  readonly registry?: Registry;
  /**
   * Reads the janitor's fallback snapshot when the service cannot be reached after the
   * retries: decisions are then made from it (same scope and pin rules) and payloads fetched
   * from the blob stores directly. @default none (values are kept until the service is back)
   */
  readonly fallback?: SnapshotReader;
  /**
   * Ed25519 public keys (PEM, or the raw 32 bytes in base64): when any, a version is swapped in
   * only when its record is signed by one of them (checked before its payload is fetched); one
   * that is not is rejected like a payload with a bad sha256 (step `signature`). The keys are
   * the subscriber's own, not the topic's as the service says, so a compromised service cannot
   * change them. @default [] (signatures are not checked)
   */
  readonly trustedKeys?: readonly string[];
  /**
   * The time the staleness contract is judged by (when a subscription confirmed it holds its
   * latest version, and imprint_client_contract_violated), ms since the epoch. @default Date.now
   */
  readonly clock?: () => number;
}

type Resolved = Required<Omit<SubscriberOptions, 'registry' | 'fallback' | 'watch'>> & {
  readonly watch: Required<WatchSettings>;
  readonly metrics: ClientMetrics;
  readonly registry: Registry;
  readonly fallback: SnapshotReader | undefined;
};

function withDefaults(o: SubscriberOptions): Resolved {
  const intervalMs = o.intervalMs ?? 30_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new InvalidArgumentError('intervalMs', 'must be at least 10', intervalMs);
  const startupBudgetMs = o.startupBudgetMs ?? 30_000;
  if (!Number.isFinite(startupBudgetMs) || startupBudgetMs < 1) throw new InvalidArgumentError('startupBudgetMs', 'must be at least 1', startupBudgetMs);
  const jitter = o.jitter ?? 0.1;
  if (!(jitter >= 0 && jitter < 1)) throw new InvalidArgumentError('jitter', 'must be in [0, 1)', jitter);
  const olderVersionsToTry = o.olderVersionsToTry ?? 3;
  if (!Number.isInteger(olderVersionsToTry) || olderVersionsToTry < 0) throw new InvalidArgumentError('olderVersionsToTry', 'must be a whole number >= 0', olderVersionsToTry);
  validateIdentity(o.identity);
  const mode = o.mode ?? 'watch';
  if (mode !== 'watch' && mode !== 'poll') throw new InvalidArgumentError('mode', 'must be "watch" or "poll"', mode);
  const watch = { ...WATCH_SETTINGS_DEFAULTS, ...o.watch };
  for (const [field, min] of [['failures', 1], ['withinMs', 1], ['pollForMs', 10], ['idleMs', 10], ['reportSpreadMs', 0]] as const) {
    if (!Number.isInteger(watch[field]) || watch[field] < min) throw new InvalidArgumentError(`watch.${field}`, `must be a whole number >= ${min}`, watch[field]);
  }
  if (watch.reportSpreadMs > 60_000) throw new InvalidArgumentError('watch.reportSpreadMs', 'must be at most 60000', watch.reportSpreadMs);
  const registry = o.registry ?? new Registry();
  return {
    ...readOptionsWithDefaults(o),
    ...partOptionsWithDefaults(o),
    client: o.client,
    identity: o.identity,
    mode,
    watch,
    blobStores: o.blobStores ?? [],
    intervalMs,
    jitter,
    startupBudgetMs,
    olderVersionsToTry,
    retry: o.retry ?? { retries: 3, minTimeoutMs: 200, maxTimeoutMs: 5_000 },
    registry,
    metrics: clientMetrics(registry),
    fallback: o.fallback,
    clock: o.clock ?? Date.now,
    trustedKeys: trustedKeysOf(o.trustedKeys, 'trustedKeys'),
  };
}

/** Trusted keys as handed in (PEM or raw base64) to raw base64, each checked; errors name the option. */
function trustedKeysOf(keys: readonly string[] | undefined, field: string): readonly string[] {
  return (keys ?? []).map((k, i) => parseTrustedKey(k, `${field}[${i}]`));
}

/** A failure at one step of the swap cycle. */
class StepError extends ImprintError {
  constructor(
    readonly step: Step,
    cause: unknown,
  ) {
    super(cause instanceof ImprintError ? cause.code : 'INTERNAL', `${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

const reasonOf = (err: unknown): string =>
  err instanceof StepError ? reasonOf(err.cause) : err instanceof SignatureRejectedError ? err.reason : err instanceof ImprintError ? err.code : err instanceof Error ? err.name : 'unknown';

/**
 * One topic's current value. `current` is one reference swapped in one assignment: a reader
 * sees the old value or the new one, never a mix or undefined (once ready).
 */
export class Subscription<T> extends EventEmitter {
  readonly topic: string;
  /** @internal When it was subscribed (ms since the epoch): its start-up budget runs from here. */
  readonly startedAtMs = Date.now();
  private value: T | undefined;
  private held: Version = 0n;
  private record: VersionRecord | undefined;
  private readonly updateListeners: ((e: UpdatedEvent<T>) => void)[] = [];
  private readySettled = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  /** Serializes swap cycles of this topic. */
  private cycle: Promise<void> = Promise.resolve();
  /** @internal The keys its versions must be signed by (raw base64; none: not checked), set by the Subscriber. */
  trustedKeys: readonly string[] = [];
  /** The last version it could not load, until it holds that version or a newer one (sent with its cursor). */
  private rejected: Rejection | undefined;
  /** The topic's max-staleness as the last answer (service or fallback snapshot) gave it; undefined: none. */
  maxStalenessMs: number | undefined;
  /**
   * When it last confirmed that it holds its latest version (core/staleness.ts): subscribed,
   * an answer of no update, or the version an answer named loaded. `behind` while a version an
   * answer named has not loaded (a heartbeat then confirms nothing).
   */
  confirmedAtMs: number;
  behind = false;

  constructor(
    topic: string,
    readonly options: SubscribeOptions<T>,
    nowMs: number = Date.now(),
  ) {
    super();
    this.topic = topic;
    this.confirmedAtMs = nowMs;
    this.value = options.defaultValue;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {}); // ready() callers see it; no unhandled rejection otherwise
  }

  /** The value readers use: the newest good version's, or the default until one loads. */
  get current(): T | undefined {
    return this.value;
  }

  /** The version held (0n: the default, nothing loaded). */
  get version(): Version {
    return this.held;
  }

  get currentRecord(): VersionRecord | undefined {
    return this.record;
  }

  /** The version it last could not load and why, while it holds an older one; undefined: none. */
  get rejection(): Rejection | undefined {
    return this.rejected !== undefined && this.held < this.rejected.version ? this.rejected : undefined;
  }

  /** @internal What it holds and rejected, as polls, Watch and Report send it. */
  cursor(): TopicCursor {
    const rejected = this.rejection;
    return { topic: this.topic, lastSeen: this.held, ...(rejected && { rejected }) };
  }

  /** @internal Remembers a version it could not load (its reason cut to the contract's 1024 characters). */
  reject(version: Version, stage: RejectStage, reason: string): Rejection {
    this.rejected = { version, stage, reason: reason.slice(0, MAX_REJECTION_REASON) };
    return this.rejected;
  }

  /** Resolves once the first version is loaded, or once the start-up budget is spent with a default in place. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Called after each swap. A listener that throws rejects the version: the previous value is put back. */
  onUpdate(listener: (e: UpdatedEvent<T>) => void): () => void {
    this.updateListeners.push(listener);
    return () => {
      const i = this.updateListeners.indexOf(listener);
      if (i >= 0) this.updateListeners.splice(i, 1);
    };
  }

  /** @internal */
  enqueue(work: () => Promise<void>): Promise<void> {
    this.cycle = this.cycle.then(work, work);
    return this.cycle;
  }

  /** @internal Swaps in a verified, decoded value, then notifies; a throwing listener restores the previous one. */
  commit(value: T, record: VersionRecord, pinned: boolean, rolledBack = false): void {
    const previous = { value: this.value, held: this.held, record: this.record };
    // swap
    this.value = value;
    this.held = record.version;
    this.record = record;
    // notify
    const event: UpdatedEvent<T> = { topic: this.topic, version: record.version, previous: previous.held, pinned, rolledBack, value, record };
    try {
      for (const l of this.updateListeners) l(event);
    } catch (err) {
      this.value = previous.value;
      this.held = previous.held;
      this.record = previous.record;
      throw new StepError('notify', err);
    }
    this.settleReady();
    this.emit('updated', event);
  }

  /** @internal */
  settleReady(err?: Error): void {
    if (this.readySettled) return;
    this.readySettled = true;
    if (err) this.rejectReady(err);
    else this.resolveReady();
  }

  /** @internal */
  get isReady(): boolean {
    return this.readySettled;
  }

  /**
   * @internal An answer as of `atMs` named `version` (undefined: no update), once acted on:
   * confirmed when the subscription holds it (or, not pinned, a newer one), else behind.
   */
  answeredAt(atMs: number, version?: Version, pinned = false): void {
    this.behind = version !== undefined && !(this.held === version || (!pinned && this.held > version));
    if (!this.behind) this.confirmedAtMs = Math.max(this.confirmedAtMs, atMs);
  }

  /** Whether it is outside its topic's max-staleness at `nowMs` (core/staleness.ts). */
  contractViolated(nowMs: number): boolean {
    return contractViolated(this.maxStalenessMs, this.confirmedAtMs, nowMs);
  }
}

export class Subscriber extends EventEmitter {
  private readonly o: Resolved;
  private readonly subs = new Map<string, Subscription<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private ticking: Promise<void> | undefined;
  /** Aborted by close(): cuts short a wait for a server's retry hint. */
  private readonly stopping = new AbortController();
  /** The Watch stream open now, if any: aborted with "restart" (a new topic), "idle" or "close". */
  private stream: AbortController | undefined;
  private watching: Promise<void> | undefined;
  /** Polling instead of watching until then (ms since the epoch): Watch failed. */
  private pollingUntil = 0;
  /** When recent streams failed (ms since the epoch), within watch.withinMs. */
  private streamFailures: number[] = [];
  /** A Report is due (a swap or a rejection since the last one was sent), and the loop sending it. */
  private reportDue = false;
  private reporting: Promise<void> | undefined;

  constructor(options: SubscriberOptions) {
    super();
    this.o = withDefaults(options);
    this.o.metrics.contracts.add(this.contracts);
  }

  /** Each subscription whose topic has a max-staleness, and whether it is outside it now. */
  private readonly contracts = () => {
    const now = this.o.clock();
    return [...this.subs.values()].filter((s) => s.maxStalenessMs !== undefined).map((s) => ({ topic: s.topic, violated: s.contractViolated(now) }));
  };

  get registry(): Registry {
    return this.o.registry;
  }

  /** Follows a topic: on the Watch stream (opened again to add it), or in the next BatchPoll, at once. */
  subscribe<T>(topic: string, options: SubscribeOptions<T>): Subscription<T> {
    validateTopicName(topic);
    if (this.closed) throw new ImprintError('FAILED_PRECONDITION', 'subscriber is closed');
    if (this.subs.has(topic)) throw new InvalidArgumentError('topic', 'is already subscribed by this subscriber', topic);
    const validateTimeoutMs = options.validateTimeoutMs ?? VALIDATE_TIMEOUT_MS;
    if (!Number.isInteger(validateTimeoutMs) || validateTimeoutMs < 1) throw new InvalidArgumentError('validateTimeoutMs', 'must be a whole number of ms >= 1', validateTimeoutMs);
    if (options.validate !== undefined && typeof options.validate !== 'function') throw new InvalidArgumentError('validate', 'must be a function', typeof options.validate);
    const sub = new Subscription<T>(topic, options, this.o.clock());
    sub.trustedKeys = options.trustedKeys ? trustedKeysOf(options.trustedKeys, 'trustedKeys') : this.o.trustedKeys;
    this.subs.set(topic, sub as Subscription<unknown>);
    const budget = setTimeout(() => {
      if (sub.isReady) return;
      if (options.defaultValue !== undefined) sub.settleReady();
      else sub.settleReady(new ImprintError('UNAVAILABLE', `no version of "${topic}" could be loaded within ${this.o.startupBudgetMs} ms and there is no default value`));
    }, this.o.startupBudgetMs);
    budget.unref();
    if (this.polls()) this.schedule(0);
    else this.watchAll();
    return sub;
  }

  /** Stops watching and polling. Values stay readable. */
  async close(): Promise<void> {
    this.closed = true;
    this.o.metrics.contracts.delete(this.contracts);
    this.stopping.abort();
    this.stream?.abort('close');
    if (this.timer) clearTimeout(this.timer);
    await this.watching;
    await this.ticking;
    // A Report in flight is not waited for (it may take the call's deadline when the service is
    // down); it sends nothing more once closed, and its failure is caught.
  }

  /** 'watch' while a Watch stream feeds the subscriptions (or is being opened), 'poll' while BatchPolls do. */
  get following(): 'watch' | 'poll' {
    return this.polls() ? 'poll' : 'watch';
  }

  /** Whether BatchPolls keep the subscriptions current now: poll mode, a client without Watch, or Watch failed a while ago. */
  private polls(): boolean {
    return this.o.mode === 'poll' || !this.o.client.watch || Date.now() < this.pollingUntil;
  }

  /** Polls now (tests, and operators who want an immediate refresh). */
  async pollNow(): Promise<void> {
    await this.tick();
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.polls()) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick().finally(() => {
        const j = this.o.jitter;
        this.schedule(this.o.intervalMs * (1 - j + Math.random() * 2 * j));
      });
    }, delayMs);
  }

  private tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.pollAll().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /**
   * While a subscription is starting: when the service's half of its start-up budget ends, and
   * the whole budget (ms since the epoch). The earliest-started subscription of the poll counts.
   */
  private startupDeadlines(subs: readonly Subscription<unknown>[]): { service: number; fallback: number } | undefined {
    const starting = subs.filter((s) => !s.isReady);
    if (starting.length === 0) return undefined;
    const since = Math.min(...starting.map((s) => s.startedAtMs));
    return { service: since + this.o.startupBudgetMs / 2, fallback: since + this.o.startupBudgetMs };
  }

  /** One BatchPoll for every subscription; each update runs its swap cycle. */
  private async pollAll(): Promise<void> {
    const subs = [...this.subs.values()];
    if (subs.length === 0) return;
    const { metrics, retry } = this.o;
    const startup = this.startupDeadlines(subs);
    const remaining = (until: number | undefined) => (until === undefined ? Infinity : Math.max(0, until - Date.now()));
    let results;
    try {
      results = await pRetry(() => this.o.client.batchPoll(this.o.identity, subs.map((s) => s.cursor()), startup && { deadline: startup.service }), {
        retries: retry.retries,
        minTimeout: retry.minTimeoutMs,
        maxTimeout: retry.maxTimeoutMs,
        // Starting: no attempt or wait past the service's half of the budget.
        maxRetryTime: remaining(startup?.service),
        randomize: true,
        // Every failure is retried while open, RESOURCE_EXHAUSTED included (a throttled poll
        // is worth repeating once the server's share frees up).
        shouldRetry: () => !this.closed,
        // A throttled poll waits out the server's hint before p-retry's own backoff, so the
        // next attempt comes no sooner than the server asked (not after the last attempt).
        onFailedAttempt: async ({ error, retriesLeft }) => {
          if (retriesLeft > 0 && !this.closed) await waitForRetryHint(error, { maxMs: Math.min(retry.maxTimeoutMs, remaining(startup?.service)), signal: this.stopping.signal });
        },
      });
    } catch (err) {
      for (const s of subs) metrics.failures.inc({ topic: s.topic, step: 'poll', reason: reasonOf(err) });
      this.emit('poll-failed', { error: err });
      if (this.o.fallback) await this.pollSnapshot(subs, this.o.fallback, startup && AbortSignal.timeout(remaining(startup.fallback)));
      return;
    }
    metrics.lastPollSuccess.set(Date.now() / 1000);
    metrics.fallbackActive.set(0);
    await Promise.all(results.map((r) => this.answered(r)));
  }

  /** One topic's answer (a BatchPoll's or a Watch stream's): its swap cycle, when it brings a version. */
  private async answered(r: BatchPollResult): Promise<void> {
    const { metrics } = this.o;
    const sub = this.subs.get(r.topic);
    if (!sub) return;
    if (r.error) {
      metrics.failures.inc({ topic: r.topic, step: 'poll', reason: r.error.code });
      this.emit('poll-failed', { topic: r.topic, error: new ImprintError('INTERNAL', `${r.error.code}: ${r.error.message}`) });
      return;
    }
    const atMs = this.o.clock();
    sub.maxStalenessMs = r.maxStalenessMs;
    if (!r.record) {
      sub.answeredAt(atMs);
      if (sub.version === 0n && !sub.isReady && sub.options.defaultValue !== undefined) sub.settleReady();
      return;
    }
    const record = r.record;
    const pinned = r.pinned;
    const rolledBack = r.rolledBack === true;
    const directOmitted = r.directOmitted === true;
    await sub.enqueue(async () => {
      await this.update(sub, record, pinned, directOmitted, rolledBack);
      sub.answeredAt(atMs, record.version, pinned || rolledBack);
    });
  }

  /** Watches (again, with every subscription: a new one restarts the stream) unless a stream is being read already. */
  private watchAll(): void {
    if (this.watching) {
      this.stream?.abort('restart');
      return;
    }
    this.watching = this.watchLoop().finally(() => {
      this.watching = undefined;
    });
  }

  /** The Watch cycle of the module comment, while watching. */
  private async watchLoop(): Promise<void> {
    const { watch: w, retry, metrics } = this.o;
    let attempt = 0;
    // Subscriptions made together (in one turn of the event loop) start one stream, not one each.
    await new Promise((resolve) => setImmediate(resolve));
    while (!this.closed && !this.polls() && this.subs.size > 0) {
      // 1. A stream, with what each subscription holds as its cursor.
      const subs = [...this.subs.values()];
      const stream = new AbortController();
      this.stream = stream;
      let error: unknown;
      try {
        await this.readStream(subs, stream, () => {
          attempt = 0;
        });
      } catch (err) {
        error = err;
      }
      this.stream = undefined;
      metrics.watching.set(0);
      if (this.closed) return;
      if (stream.signal.reason === 'restart') continue;
      // 3. It failed, went silent, or ended.
      error ??= new ImprintError('UNAVAILABLE', stream.signal.aborted ? 'the Watch stream went silent' : 'the Watch stream ended');
      const now = Date.now();
      this.streamFailures = [...this.streamFailures.filter((t) => now - t < w.withinMs), now];
      metrics.failures.inc({ topic: '', step: 'watch', reason: reasonOf(error) });
      this.emit('watch-failed', { error });
      // 4. Polling for a while instead.
      if (error instanceof NotServedError || this.streamFailures.length >= w.failures || [...this.subs.values()].some((s) => !s.isReady)) {
        this.fallBackToPolling(error);
        await this.sleep(w.pollForMs);
        if (this.closed) return;
        this.pollingUntil = 0;
        this.streamFailures = [];
        if (this.timer) clearTimeout(this.timer);
        await this.ticking;
        continue;
      }
      const backoff = Math.min(retry.maxTimeoutMs, retry.minTimeoutMs * 2 ** attempt++) * (0.5 + Math.random() / 2);
      await this.sleep(Math.max(backoff, retryDelayFromHint(error, { maxMs: retry.maxTimeoutMs }) ?? 0));
    }
  }

  /** Reads one stream until it ends: each answer to its swap cycle; `healthy` once every topic has its first answer. */
  private async readStream(subs: readonly Subscription<unknown>[], stream: AbortController, healthy: () => void): Promise<void> {
    const { metrics, watch: w } = this.o;
    const watch = this.o.client.watch;
    if (!watch) return;
    // A stream that says nothing for idleMs (while a subscription starts: past the service's half of its budget) is dropped.
    const startup = this.startupDeadlines(subs);
    let idle: NodeJS.Timeout | undefined;
    const alive = () => {
      clearTimeout(idle);
      const ms = startup && subs.some((s) => !s.isReady) ? Math.min(w.idleMs, Math.max(1, startup.service - Date.now())) : w.idleMs;
      idle = setTimeout(() => stream.abort('idle'), ms);
      idle.unref();
    };
    let firstAnswers = subs.length;
    try {
      alive();
      for await (const e of watch.call(this.o.client, this.o.identity, subs.map((s) => s.cursor()), { signal: stream.signal, heartbeats: true })) {
        alive();
        // Any message, a heartbeat too, says the service is answering.
        metrics.lastPollSuccess.set(Date.now() / 1000);
        if (e.kind !== 'result') {
          // A heartbeat after every first answer: nothing changed, so each subscription not behind still holds its latest.
          if (firstAnswers <= 0) for (const s of subs) if (!s.behind) s.answeredAt(this.o.clock());
          continue;
        }
        if (e.initial && --firstAnswers === 0) {
          healthy();
          metrics.watching.set(1);
          metrics.fallbackActive.set(0);
          this.emit('watching', { topics: subs.map((s) => s.topic) });
        }
        // Not awaited: a slow download must not stop the stream being read (each topic's cycles run in turn).
        void this.answered(e);
      }
    } finally {
      clearTimeout(idle);
    }
  }

  /** Step 4: BatchPolls from now on, for watch.pollForMs. */
  private fallBackToPolling(error: unknown): void {
    this.pollingUntil = Date.now() + this.o.watch.pollForMs;
    const event: WatchFallbackEvent = { error, untilMs: this.pollingUntil };
    this.emit('watch-fallback', event);
    this.schedule(0);
  }

  /** Waits `ms`, or less when the subscriber closes. */
  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The service is unreachable: decide from the newest snapshot any region has (read until `signal`, if given). */
  private async pollSnapshot(subs: Subscription<unknown>[], reader: SnapshotReader, signal?: AbortSignal): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = await reader.read({ onSlowRegion: (e) => this.slowRegion('', e), ...(signal && { signal }) });
    } catch (err) {
      this.o.metrics.failures.inc({ topic: '', step: 'fallback', reason: reasonOf(err) });
      this.emit('fallback-failed', { error: err });
      return;
    }
    this.o.metrics.fallbackActive.set(1);
    this.emit('fallback-used', { snapshotWrittenAtMs: snapshot.writtenAtMs });
    await Promise.all(
      subs.map(async (sub) => {
        const d = decideFromSnapshot(snapshot, sub.topic, this.o.identity, sub.version);
        // What the snapshot confirms, it confirms as of when it was written.
        if (d.known) sub.maxStalenessMs = d.maxStalenessMs;
        if (d.record) {
          const record = d.record;
          await sub.enqueue(async () => {
            await this.update(sub, record, d.pinned);
            sub.answeredAt(snapshot.writtenAtMs, record.version, d.pinned);
          });
        } else if (d.known) sub.answeredAt(snapshot.writtenAtMs);
      }),
    );
  }

  /**
   * Loads one announced version (`directOmitted`: announced without its direct bytes;
   * `rolledBack`: an older one the service moves it back to); one it cannot load becomes the
   * topic's rejection; on a first load that fails, tries older matching versions. A watching
   * subscriber then reports what it holds and rejected.
   */
  private async update(sub: Subscription<unknown>, record: VersionRecord, pinned: boolean, directOmitted = false, rolledBack = false): Promise<void> {
    // Never older than what we hold unless the server says it is pinned or rolled back (invariant 3).
    if (record.version === sub.version || (record.version < sub.version && !pinned && !rolledBack)) return;
    if (rolledBack && record.version < sub.version) this.rolledBack(sub, record.version);
    try {
      await this.swapWithRetry(sub, record, pinned, this.o.retry.retries, directOmitted, rolledBack);
    } catch (err) {
      if (!this.closed) this.rejection(sub, record.version, err);
      if (sub.version !== 0n || this.o.olderVersionsToTry === 0) return;
      // Start-up with a broken latest: take the newest good older one.
      for (const older of await this.olderCandidates(sub.topic, record.version)) {
        try {
          await this.swapWithRetry(sub, older, false, 0);
          break;
        } catch {
          // rejected and reported; try the next
        }
      }
    } finally {
      this.reportSoon();
    }
  }

  /** The service moves `sub` back from a version whose rollout was cancelled: said as an event before the older one loads. */
  private rolledBack(sub: Subscription<unknown>, to: Version): void {
    const event: RolledBackEvent = { topic: sub.topic, from: sub.version, to };
    sub.emit('rolled-back', event);
    this.emit('rolled-back', event);
  }

  /** A version `sub` could not load (after its retries): the topic's rejection, counted and said as an event. */
  private rejection(sub: Subscription<unknown>, version: Version, err: unknown): void {
    const stage = (err instanceof StepError && REJECT_STAGE_OF[err.step]) || 'fetch';
    const rejection = sub.reject(version, stage, err instanceof Error ? err.message : String(err));
    this.o.metrics.rejections.inc({ topic: sub.topic, stage });
    const event: RejectionEvent = { topic: sub.topic, ...rejection };
    sub.emit('rejection', event);
    this.emit('rejection', event);
  }

  /**
   * A watching subscriber tells the service what it holds and rejected when that changes (its
   * stream carries no polls): one Report for every topic, the changes of one moment coalesced
   * into one call. A Report that fails changes nothing else: the next one, or the cursors of
   * the next stream or poll, say it again. A polling subscriber says it with its next poll.
   */
  private reportSoon(): void {
    if (this.closed || this.polls() || !this.o.client.report) return;
    this.reportDue = true;
    this.reporting ??= this.reportLoop().finally(() => {
      this.reporting = undefined;
    });
  }

  private async reportLoop(): Promise<void> {
    const report = this.o.client.report;
    if (!report) return;
    while (this.reportDue && !this.closed) {
      // Spread over watch.reportSpreadMs, so a topic's watchers, all swapped by one publish, do
      // not all call at once; what changes meanwhile goes in the same call.
      await this.sleep(Math.random() * this.o.watch.reportSpreadMs);
      if (this.closed) return;
      this.reportDue = false;
      const cursors = [...this.subs.values()].map((s) => s.cursor());
      try {
        // Report takes at most 500 topics a call (as BatchPoll does).
        for (let i = 0; i < cursors.length; i += 500) await report.call(this.o.client, this.o.identity, cursors.slice(i, i + 500));
        this.emit('reported', { topics: cursors });
      } catch (err) {
        this.o.metrics.failures.inc({ topic: '', step: 'report', reason: reasonOf(err) });
        this.emit('report-failed', { error: err });
      }
    }
  }

  private async olderCandidates(topic: string, below: Version): Promise<VersionRecord[]> {
    const attrs = identityAttributes(this.o.identity);
    try {
      const page = await this.o.client.listVersions(topic, { pageSize: 100, pageToken: below.toString() });
      return page.versions.filter((v) => olderMatches(v, attrs)).slice(0, this.o.olderVersionsToTry);
    } catch {
      return [];
    }
  }

  private async swapWithRetry(sub: Subscription<unknown>, record: VersionRecord, pinned: boolean, retries = this.o.retry.retries, directOmitted = false, rolledBack = false): Promise<void> {
    const { retry } = this.o;
    await pRetry(() => this.swapCycle(sub, record, pinned, directOmitted, rolledBack), {
      retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      randomize: true,
      // A record's signature is what it is: reading it again cannot help.
      shouldRetry: ({ error }) => !this.closed && !(error instanceof StepError && error.step === 'signature'),
      onFailedAttempt: ({ error }) => {
        const step = error instanceof StepError ? error.step : 'fetch';
        this.o.metrics.failures.inc({ topic: sub.topic, step, reason: reasonOf(error) });
        const event: RejectedEvent = { topic: sub.topic, version: record.version, step, reason: error.message, error };
        sub.emit('rejected', event);
        this.emit('rejected', event);
      },
    });
  }

  /** Payload reads: the hedge and first-byte timeout, the parts, and slow regions reported as `slow-region` events and a metric. */
  private fetchOptions(topic: string): FetchOptions {
    const { hedgeDelayMs, firstByteTimeoutMs, partSize, partConcurrency } = this.o;
    const { client } = this.o;
    // No store of our own for a record's locations: the service's lent URLs (client/lent.ts).
    const getDownload = client.getDownload?.bind(client);
    const httpsCa = client.httpsCa?.bind(client);
    const lent = getDownload && ((r: VersionRecord) => lentStores({ getDownload, ...(httpsCa && { httpsCa }) }, r));
    return { hedgeDelayMs, firstByteTimeoutMs, partSize, partConcurrency, onSlowRegion: (e) => this.slowRegion(topic, e), ...(lent && { lent }) };
  }

  private slowRegion(topic: string, e: SlowRegionEvent): void {
    this.o.metrics.slowRegions.inc({ region: e.region, outcome: e.outcome });
    const event: SlowRegionSubscriberEvent = { ...e, topic };
    this.subs.get(topic)?.emit('slow-region', event);
    this.emit('slow-region', event);
  }

  /** The swap cycle, one step a line; a throw at any step leaves the current value in place. */
  private async swapCycle(sub: Subscription<unknown>, announced: VersionRecord, pinned: boolean, directOmitted: boolean, rolledBack: boolean): Promise<void> {
    const started = performance.now();
    // 0. the whole record, when the poll announced it without its direct bytes
    const record = directOmitted ? await this.wholeRecord(announced) : announced;
    // 0b. signed by a key this subscriber trusts, before anything is fetched (core/signing.ts)
    const problem = signatureProblem(record, record.signature, sub.trustedKeys);
    if (problem) throw new StepError('signature', new SignatureRejectedError(problem));
    // 1. fetch (direct, or the closest region first; the next beside it when it is slow) and 2. verify size and sha256
    const bytes = await fetchPayload(record, this.o.blobStores, this.fetchOptions(sub.topic)).catch((err: unknown) => {
      throw new StepError(err instanceof DataIntegrityError ? 'verify' : 'fetch', err);
    });
    this.o.metrics.fetchedBytes.inc({ topic: sub.topic }, bytes.length);
    // 3. decode
    let value: unknown;
    try {
      value = await sub.options.decode(bytes, record);
    } catch (err) {
      throw new StepError('decode', err);
    }
    // 4. the application's own check (false, a throw or no answer in time rejects the version)
    await this.validate(sub, value, record);
    // 5. swap and 6. notify (a throwing listener puts the previous value back)
    sub.commit(value, record, pinned, rolledBack);
    this.o.metrics.version.set({ topic: sub.topic }, Number(record.version));
    this.o.metrics.publishedAt.set({ topic: sub.topic }, record.publishedAtMs / 1000);
    this.o.metrics.swapSeconds.observe({ topic: sub.topic }, (performance.now() - started) / 1000);
  }

  /** Step 4 of the swap cycle: the subscription's `validate`, if any, within its validateTimeoutMs. */
  private async validate(sub: Subscription<unknown>, value: unknown, record: VersionRecord): Promise<void> {
    const check = sub.options.validate;
    if (!check) return;
    const ms = sub.options.validateTimeoutMs ?? VALIDATE_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ImprintError('UNAVAILABLE', `validate did not answer within ${ms} ms`)), ms);
      });
      const ok = await Promise.race([Promise.resolve().then(() => check(value, record)), late]);
      if (ok === false) throw new ImprintError('FAILED_PRECONDITION', 'the hook returned false');
    } catch (err) {
      throw new StepError('validate', err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A record a BatchPoll announced without its direct bytes, read whole with GetVersion; it
   * must be the record announced (digest, size and sha256), and its bytes are then verified
   * against that size and sha256 like any payload.
   */
  private async wholeRecord(announced: VersionRecord): Promise<VersionRecord> {
    let record: VersionRecord;
    try {
      record = await this.o.client.getVersion(announced.topic, announced.version);
    } catch (err) {
      throw new StepError('fetch', err);
    }
    const a = announced.pointer;
    if (record.digest !== announced.digest || record.pointer.size !== a.size || record.pointer.sha256 !== a.sha256) {
      throw new StepError('verify', new DataIntegrityError(`${announced.topic} v${announced.version} read with GetVersion is not the record the poll announced`));
    }
    return record;
  }

  /**
   * A version's payload, verified, whatever this consumer holds. With trusted keys (the
   * subscription's for a topic it follows, else the Subscriber's `trustedKeys`, or the
   * `trustedKeys` given here: PEM or raw base64), its record must be signed by one of them,
   * checked before anything is fetched: SignatureRejectedError (FAILED_PRECONDITION, its
   * `reason` missing, untrusted-key or bad-signature) otherwise.
   */
  async downloadVersion(topic: string, version: Version, opts: { trustedKeys?: readonly string[] } = {}): Promise<{ record: VersionRecord; bytes: Buffer }> {
    const keys = opts.trustedKeys ? trustedKeysOf(opts.trustedKeys, 'trustedKeys') : (this.subs.get(topic)?.trustedKeys ?? this.o.trustedKeys);
    const record = await this.o.client.getVersion(topic, version);
    const problem = signatureProblem(record, record.signature, keys);
    if (problem) throw new SignatureRejectedError(problem);
    return { record, bytes: await fetchPayload(record, this.o.blobStores, this.fetchOptions(topic)) };
  }

  /** The version this consumer would have been given at `atMs`. */
  latestAt(topic: string, atMs: number): Promise<VersionRecord | undefined> {
    return this.o.client.latestAt(topic, this.o.identity, atMs);
  }
}
