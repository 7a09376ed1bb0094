/**
 * Watch streams, whatever the transport: a watcher names its identity and cursors (topic,
 * version held) once, and is sent each topic's poll answer whenever it changes. The answers
 * are the Poller's (the one decision, core/poll.ts); this file decides only when to ask and
 * what to send.
 *
 *   1. On connect: every topic asked at once through the Poller (each answer observed by the
 *      audit's holdings, as a BatchPoll's are), the answers sent in request order.
 *   2. On each word from PollChanges for a watched topic: the topic is marked and, after a
 *      short coalescing window (COALESCE_MS), asked again with the version last sent as what
 *      the watcher holds (the holdings hear the move); the answer is sent only when it differs from the last
 *      one sent (an update is always new: the decision never gives back what the watcher
 *      holds, and never an older one unless pinned). Ten words in the window ask once.
 *   3. Backpressure: while the transport's buffer is full nothing is sent and marked topics
 *      wait; when it drains each is asked then, so only its newest answer goes out.
 *   4. Every `heartbeatMs` a heartbeat, so the watcher can tell a quiet stream from a dead one
 *      (one timer per instance turns a wheel of streams, not a timer per stream).
 *   5. Every `auditIntervalMs` (each stream at its own offset) every topic is asked again:
 *      the holdings see the watcher's node as long as it watches (it never goes quiet), and a
 *      word that was lost is made up for.
 *   6. Bounds: at most `maxStreams` streams on the instance and `maxStreamsPerApp` per calling
 *      application; beyond them open() throws RESOURCE_EXHAUSTED with a retry hint.
 *   7. close(): every stream ends UNAVAILABLE (the watcher resumes elsewhere from its cursors).
 */
import { ImprintError, ResourceExhaustedError, checkSetting, UnavailableError, type Awaitable, type ConsumerIdentity, type PollAnswer, type Version } from '../../core/index.js';
import type { PollChanges } from './changes.js';
import type { Poller } from './poller.js';
import type { Principal } from '../auth/principal.js';

/** The bounds and timings of Watch streams (`--watch-*` flags, IMPRINT_WATCH_* variables). */
export interface WatchOptions {
  /** Streams open at once on one instance, 1 to 1000000. @default 20000 */
  readonly maxStreams?: number;
  /** Streams open at once per calling application, 1 to 1000000. @default 5000 */
  readonly maxStreamsPerApp?: number;
  /** A heartbeat on every stream this often, ms (100 to 600000). @default 15000 */
  readonly heartbeatMs?: number;
  /**
   * Each stream's topics are asked again this often, ms (1000 to 86400000), counted in
   * heartbeats (at least one): its node stays seen in audit (it must be shorter than the
   * holdings' quiet window) and a lost word is made good. @default 120000 (2 min)
   */
  readonly auditIntervalMs?: number;
}

export const WATCH_DEFAULTS = { maxStreams: 20_000, maxStreamsPerApp: 5_000, heartbeatMs: 15_000, auditIntervalMs: 120_000 } as const;

/** Checks the Watch options (naming the flag and variable of each) and fills in the defaults above. */
export function watchWithDefaults(o: WatchOptions = {}): Required<WatchOptions> {
  const whole = (field: keyof WatchOptions, flag: string, min: number, max: number): number => checkSetting(o[field] ?? WATCH_DEFAULTS[field], `watch.${field}`, flag, min, max);
  return {
    maxStreams: whole('maxStreams', 'watch-max-streams', 1, 1_000_000),
    maxStreamsPerApp: whole('maxStreamsPerApp', 'watch-max-streams-per-app', 1, 1_000_000),
    heartbeatMs: whole('heartbeatMs', 'watch-heartbeat-ms', 100, 600_000),
    auditIntervalMs: whole('auditIntervalMs', 'watch-audit-interval-ms', 1_000, 86_400_000),
  };
}

/** Words for one topic within this window are answered once. */
export const COALESCE_MS = 10;

/** Slots of the heartbeat wheel (see Watchers). */
const WHEEL_SLOTS = 16;

/** How long a watcher refused for the stream bounds is asked to wait (x-imprint-retry-after-ms). */
export const WATCH_RETRY_AFTER_MS = 5_000;

/** One topic's answer as a stream sends it: the Poller's answer, or why it could not answer. */
export type WatchOutcome = { readonly answer: PollAnswer } | { readonly error: unknown };

/** Where a stream's messages go (the transport). A send that returns false: the buffer is full, wait for drained(). */
export interface WatchSink {
  result(topic: string, outcome: WatchOutcome): boolean;
  heartbeat(atMs: number): boolean;
  /** Ends the stream with an error (the server is stopping). */
  end(err: ImprintError): void;
}

export interface WatchCursor {
  readonly topic: string;
  readonly lastSeen: Version;
}

/** What a topic waits for: to be asked again (on a word, or for the periodic check), or an answer already asked for. */
type Pending = 'ask' | Promise<WatchOutcome> | WatchOutcome;

/** What a stream keeps of a topic: the version the watcher holds by what it was sent, and the last answer sent. */
interface Watched {
  held: Version;
  /** "none" (nothing to do: the watcher holds its answer, or was told there is nothing newer), or "error:CODE"; undefined before the first answer. */
  last: string | undefined;
}

export interface WatchStats {
  readonly streams: number;
  /** Answers sent after the first ones (a topic's answer changed). */
  readonly pushes: number;
  readonly heartbeats: number;
  /** Streams refused, by reason: the instance's bound or the application's. */
  readonly refused: { readonly instance: number; readonly app: number };
}

export interface WatchersDeps {
  readonly poller: Poller;
  readonly changes: PollChanges;
  readonly options?: WatchOptions;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Spreads the streams over the heartbeat wheel and their audits over the interval. @default Math.random */
  readonly random?: () => number;
}

/** The Watch streams of one server: their bounds, the words routed to them, their counts. */
export class Watchers {
  readonly options: Required<WatchOptions>;
  private readonly byTopic = new Map<string, Set<WatchStream>>();
  private readonly perApp = new Map<string, number>();
  private readonly streams = new Set<WatchStream>();
  /** The names streams keep (topics, identity parts), one string each however many streams name it. */
  private readonly names = new Interned();
  private readonly unsubscribe: () => void;
  private closed = false;
  /**
   * The heartbeat wheel: one timer per instance, not two per stream (10k streams). Each stream
   * has one of WHEEL_SLOTS slots (`WatchStream.wheelSlot`); the timer turns every heartbeatMs /
   * WHEEL_SLOTS and beats the streams of one slot, so each stream beats every heartbeatMs.
   */
  private turns = 0;
  private wheelTimer: NodeJS.Timeout | undefined;
  pushes = 0;
  heartbeats = 0;
  private readonly refused = { instance: 0, app: 0 };

  constructor(readonly deps: WatchersDeps) {
    this.options = watchWithDefaults(deps.options);
    this.unsubscribe = deps.changes.subscribe((topic) => {
      const watching = this.byTopic.get(topic);
      if (watching) for (const s of watching) s.changed(topic);
    });
  }

  /**
   * A stream for a watcher of `app` (counted against its bound) whose request was checked
   * (identity, cursors: batchPollFromWire); its first answers start at once. Throws
   * RESOURCE_EXHAUSTED (with retryAfterMs) beyond the bounds, UNAVAILABLE once closed.
   */
  open(app: string, identity: ConsumerIdentity, cursors: readonly WatchCursor[], sink: WatchSink, principal?: Principal): WatchStream {
    if (this.closed) throw new UnavailableError('the server is stopping: watch another instance');
    const { maxStreams, maxStreamsPerApp } = this.options;
    const ofApp = this.perApp.get(app) ?? 0;
    if (this.streams.size >= maxStreams) {
      this.refused.instance++;
      throw new ResourceExhaustedError(`this instance has ${this.streams.size} watch streams open, its limit (--watch-max-streams); retry after ${WATCH_RETRY_AFTER_MS} ms`, { retryAfterMs: WATCH_RETRY_AFTER_MS });
    }
    if (ofApp >= maxStreamsPerApp) {
      this.refused.app++;
      throw new ResourceExhaustedError(`application "${app}" has ${ofApp} watch streams open on this instance, its limit (--watch-max-streams-per-app); retry after ${WATCH_RETRY_AFTER_MS} ms`, {
        retryAfterMs: WATCH_RETRY_AFTER_MS,
      });
    }
    const random = this.deps.random ?? Math.random;
    const { heartbeatMs, auditIntervalMs } = this.options;
    // What the stream keeps of the watcher, in strings shared with every other stream that names
    // the same (a stream lives for hours, 10k of them on an instance, most naming the same topics).
    const { names } = this;
    const kept: ConsumerIdentity = {
      app: names.take(identity.app),
      cluster: names.take(identity.cluster),
      region: names.take(identity.region),
      nodeId: identity.nodeId,
      labels: Object.keys(identity.labels).length > 0 ? identity.labels : NO_LABELS,
    };
    const topics = cursors.map((c) => names.take(c.topic));
    // Its first audit at 0.5 to 1.5 intervals, so streams opened together do not audit together.
    const stream = new WatchStream(this, names.take(app), kept, topics, cursors, principal, sink, Math.floor((0.5 + random()) * auditIntervalMs), Math.min(WHEEL_SLOTS - 1, Math.floor(random() * WHEEL_SLOTS)));
    this.streams.add(stream);
    if (!this.wheelTimer) {
      this.wheelTimer = setInterval(() => {
        const slot = this.turns++ % WHEEL_SLOTS;
        for (const s of this.streams) if (s.wheelSlot === slot) s.beat(heartbeatMs);
      }, heartbeatMs / WHEEL_SLOTS);
      this.wheelTimer.unref();
    }
    this.perApp.set(stream.app, ofApp + 1);
    for (const topic of topics) {
      let set = this.byTopic.get(topic);
      if (!set) this.byTopic.set(topic, (set = new Set()));
      set.add(stream);
    }
    stream.start();
    return stream;
  }

  /** @internal A stream that ended (cancelled by its watcher, or closed) stops counting. */
  forget(stream: WatchStream): void {
    if (!this.streams.delete(stream)) return;
    const left = (this.perApp.get(stream.app) ?? 1) - 1;
    if (left > 0) this.perApp.set(stream.app, left);
    else this.perApp.delete(stream.app);
    for (const topic of stream.topics()) {
      const set = this.byTopic.get(topic);
      set?.delete(stream);
      if (set?.size === 0) this.byTopic.delete(topic);
      this.names.drop(topic);
    }
    const { app, cluster, region } = stream.identity;
    for (const name of [stream.app, app, cluster, region]) this.names.drop(name);
  }

  stats(): WatchStats {
    return { streams: this.streams.size, pushes: this.pushes, heartbeats: this.heartbeats, refused: { ...this.refused } };
  }

  /** Streams open per application (tests, operators). */
  streamsOf(app: string): number {
    return this.perApp.get(app) ?? 0;
  }

  /** Ends every stream UNAVAILABLE and refuses new ones: the watchers resume elsewhere from their cursors. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.wheelTimer);
    for (const s of [...this.streams]) s.end(new UnavailableError('the server is stopping: watch again, on this instance once it is back or on another, with the versions you hold'));
  }
}

/** One watcher's stream (see the module comment for what it sends when). */
export class WatchStream {
  /**
   * The stream's topics, in request order; a topic's index is its place in `held` and `last`.
   * Columns rather than an object per topic, and no Map for a few topics: a stream lives for
   * hours, 10k of them on an instance.
   */
  private readonly names: readonly string[];
  /** Topic -> index, for a stream of many topics (a few are found by a look along `names`). */
  private readonly index: Map<string, number> | undefined;
  /**
   * By topic index: the version the watcher holds by what it was sent, as a number while it is
   * one exactly (a small integer sits in the array itself; a bigint is an object of its own).
   */
  private readonly held: (number | bigint)[];
  /** By topic index: the last answer sent (see Watched.last). */
  private readonly last: (string | undefined)[];
  /** Topics to answer, in the order they are to be sent; none while there is nothing to send. */
  private pending: Map<string, Pending> | undefined;
  private blocked = false;
  private flushing = false;
  private ended = false;
  private coalesce: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: Watchers,
    readonly app: string,
    readonly identity: ConsumerIdentity,
    /** The cursors' topics (as the stream keeps them: shared strings, Watchers.open). */
    topics: readonly string[],
    cursors: readonly WatchCursor[],
    /** Who watches (each topic's answer is PERMISSION_DENIED while it may not consume it); undefined: anonymous. */
    readonly principal: Principal | undefined,
    private readonly sink: WatchSink,
    /** Ms until its next audit, counted down by its heartbeats. */
    private auditInMs: number,
    /** @internal Its slot of the heartbeat wheel (Watchers). */
    readonly wheelSlot: number,
  ) {
    this.names = topics;
    this.index = topics.length > MAX_SCANNED_TOPICS ? new Map(topics.map((t, i) => [t, i])) : undefined;
    this.held = cursors.map((c) => compactVersion(c.lastSeen));
    this.last = new Array<string | undefined>(cursors.length).fill(undefined);
  }

  /** The index of `topic`, or -1 when the stream does not watch it. */
  private indexOf(topic: string): number {
    return this.index ? (this.index.get(topic) ?? -1) : this.names.indexOf(topic);
  }

  private heldAt(i: number): Version {
    const h = this.held[i] as number | bigint;
    return typeof h === 'bigint' ? h : BigInt(h);
  }

  /** What the stream keeps of `topic`: a copy; `keep` writes one back. */
  private watchedOf(i: number): Watched {
    return { held: this.heldAt(i), last: this.last[i] };
  }

  private keep(i: number, w: Watched): void {
    this.held[i] = compactVersion(w.held);
    this.last[i] = w.last;
  }

  private pend(topic: string, what: Pending): void {
    (this.pending ??= new Map()).set(topic, what);
  }

  topics(): readonly string[] {
    return this.names;
  }

  /** @internal Step 1 (steps 4 and 5 come from the heartbeat wheel of Watchers). */
  start(): void {
    const { poller } = this.owner.deps;
    this.names.forEach((topic, i) => this.pend(topic, settle(() => poller.poll(topic, this.identity, this.heldAt(i), this.principal, 'Watch'))));
    void this.flush();
  }

  /** Step 2: `topic` may have changed. */
  changed(topic: string): void {
    if (this.ended || this.indexOf(topic) < 0) return;
    const waiting = this.pending?.get(topic);
    if (waiting === 'ask') return;
    // An answer not yet sent is superseded (its place in the order kept).
    this.pend(topic, 'ask');
    if (!this.coalesce && !this.blocked) {
      this.coalesce = setTimeout(() => {
        this.coalesce = undefined;
        void this.flush();
      }, COALESCE_MS);
    }
  }

  /** Step 3: the transport's buffer drained. */
  drained(): void {
    this.blocked = false;
    void this.flush();
  }

  /** The watcher went away (cancelled, disconnected): stop everything. */
  cancelled(): void {
    this.stop();
  }

  /** Step 7 for this stream. */
  end(err: ImprintError): void {
    if (this.ended) return;
    this.stop();
    this.sink.end(err);
  }

  private stop(): void {
    this.ended = true;
    clearTimeout(this.coalesce);
    this.pending = undefined;
    this.owner.forget(this);
  }

  /** @internal Steps 4 and 5: a heartbeat, `heartbeatMs` after the last one; the audit when due. */
  beat(heartbeatMs: number): void {
    if (this.ended) return;
    this.auditInMs -= heartbeatMs;
    if (this.auditInMs <= 0) {
      this.auditInMs = this.owner.options.auditIntervalMs;
      this.audit();
    }
    // A stream whose buffer is full is not idle: the watcher is behind, not gone.
    if (this.blocked) return;
    this.owner.heartbeats++;
    if (!this.sink.heartbeat((this.owner.deps.clock ?? Date.now)())) this.blocked = true;
  }

  private audit(): void {
    for (const topic of this.names) if (typeof this.pending?.get(topic) !== 'object') this.pend(topic, 'ask');
    void this.flush();
  }

  /** Sends what is pending, in order, while the transport takes it. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const { poller } = this.owner.deps;
      while (!this.blocked && !this.ended) {
        const next = this.pending?.entries().next();
        if (!next || next.done) {
          // Nothing left to send: the map goes until there is.
          this.pending = undefined;
          break;
        }
        const [topic, what] = next.value;
        this.pending?.delete(topic);
        const i = this.indexOf(topic);
        if (i < 0) continue;
        const held = this.heldAt(i);
        const asked = what === 'ask' ? settle(() => poller.poll(topic, this.identity, held, this.principal, 'Watch')) : what;
        const outcome = asked instanceof Promise ? await asked : asked;
        // The watcher may have gone, or the topic been marked again, while the answer was read.
        if (this.ended) break;
        if (this.pending?.has(topic) && what !== 'ask') continue;
        const w = this.watchedOf(i);
        this.send(topic, w, outcome);
        this.keep(i, w);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Sends `outcome` when it is a first answer or differs from the last one sent. */
  private send(topic: string, w: Watched, outcome: WatchOutcome): void {
    const first = w.last === undefined;
    let key: string;
    if ('error' in outcome) key = `error:${outcome.error instanceof ImprintError ? outcome.error.code : 'INTERNAL'}`;
    else key = outcome.answer.record ? `update` : 'none';
    // The same again is not sent: an error already sent, or "none" (the watcher holds its answer).
    if (!first && key === w.last) return;
    // After an update the watcher holds it: nothing more to do until the answer changes.
    if ('answer' in outcome && outcome.answer.record) {
      w.held = outcome.answer.record.version;
      w.last = 'none';
    } else w.last = key;
    if (!first) this.owner.pushes++;
    if (!this.sink.result(topic, outcome)) this.blocked = true;
  }
}

/** A stream of more topics than this finds a topic's index by a Map, not a look along its list. */
const MAX_SCANNED_TOPICS = 16;

/** Labels of a watcher that sent none: one object for every such stream. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** A version as a stream keeps it: a number while that is exact. */
function compactVersion(v: Version): number | bigint {
  return v <= MAX_EXACT ? Number(v) : v;
}

/**
 * Strings kept by many streams, one copy each: taken by each stream that keeps one, dropped
 * when it ends, forgotten when no stream keeps it (so names that stop being used do not pile up).
 */
class Interned {
  private readonly kept = new Map<string, { readonly name: string; n: number }>();

  take(name: string): string {
    const k = this.kept.get(name);
    if (k) {
      k.n++;
      return k.name;
    }
    this.kept.set(name, { name, n: 1 });
    return name;
  }

  drop(name: string): void {
    const k = this.kept.get(name);
    if (k && --k.n === 0) this.kept.delete(name);
  }
}

/** An answer asked for, as an outcome that never throws (a failure is one to send). */
function settle(ask: () => Awaitable<PollAnswer>): Promise<WatchOutcome> | WatchOutcome {
  try {
    const a = ask();
    return a instanceof Promise ? a.then((answer) => ({ answer }), (error: unknown) => ({ error })) : { answer: a };
  } catch (error) {
    return { error };
  }
}
