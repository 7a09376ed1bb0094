/**
 * The consume role's PollSource (core/poll.ts): an in-memory table of every topic's heads and
 * pins (its PollState), kept current from the store's change feed, so a poll answers from
 * memory and never sees half a change.
 *
 * - Tail (every `tailMs`, by a FeedFollower): each topic a page of the feed names is read
 *   again (`pollState`), its cached records that may be stale are dropped, its entry is swapped
 *   in with one assignment, and THEN `notify(topic)` tells whoever listens (Watch). Work grows
 *   with the changes, not with the topics.
 * - Full re-read (the safety net: at start, every `refreshMs`, when the feed says the cursor is
 *   too old, after feed reads failed in a row): every topic read into a new Map, swapped in with
 *   one assignment; `notify` for each topic whose heads, pins, grants or rollout differ from before.
 * One at a time (a tail never runs beside a full re-read, nor two of either), with a bounded
 * number of topics read in parallel and the event loop let go every few milliseconds. A
 * failure keeps the table as it is (counted, logged once per period).
 *
 * What the table does not have (a topic created since the last read) is read once, however
 * many polls ask for it at the same moment (single flight), and kept in the table. A read that
 * finds no such topic is remembered (at most absentMaxEntries names, each for absentTtlMs), so
 * polls for unknown topics cost no store read each; a topic created later is found by the feed
 * (or the next full re-read), which forgets it was missing.
 *
 * Version records are immutable per (topic, version) in the fields a consumer relies on, and
 * their consistency check (digest, and the sha256 of direct bytes) is done once, when a
 * record is read; the verdict is kept with it in a bounded cache (least recently used out first,
 * by second chance: see `record`). Scopes may still be added to
 * a version: a cached record is read again when its topic's heads change, and one the feed
 * names (scopes added, version deleted) is dropped.
 *
 * What memory holds is answered at once, without a promise (a topic in the table, a cached
 * record): the poll decision over this source is then synchronous, and a BatchPoll of such
 * topics allocates no promise per topic. The rest is one shared store read each: a topic the
 * table lacks, a record not cached, and the pages of older records the rare path of a failing
 * record reads (concurrent callers asking for the same page share one read).
 */
import { EventEmitter } from 'node:events';
import { ImprintError, scopeKey, verdictOf, type Awaitable, type PollSource, type RecordVerdict, type Version, type VersionRecord } from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { FeedCursor, FeedEntry } from '../store/change-feed.js';
import type { MetadataStore, PollState } from '../store/metadata-store.js';
import { FeedFollower } from './feed-follower.js';

export interface PollTableOptions {
  readonly store: MetadataStore;
  /** Topics read in parallel during a refresh. @default 8 */
  readonly refreshConcurrency?: number;
  /** Version records kept at most. @default 10000 */
  readonly recordCacheEntries?: number;
  /** Bytes of direct payloads kept at most (records pointing at blobs count 1 KiB). @default 268435456 (256 MiB) */
  readonly recordCacheBytes?: number;
  /**
   * How long a read that found no such topic is believed, across refreshes, so polls for a
   * topic that does not exist cost one store read per this period, not one per poll (a topic
   * created meanwhile is found by the next refresh). 0: never believed. @default 60000
   */
  readonly absentTtlMs?: number;
  /** Names of missing topics remembered at most; the oldest is forgotten first. @default 10000 */
  readonly absentMaxEntries?: number;
  /** Once started: the safety net, every topic read again this often, ms (100 to 86400000). @default 300000 */
  readonly refreshMs?: number;
  /** Once started: the change feed read this often, ms (10 to 600000). @default 100 */
  readonly tailMs?: number;
  /**
   * Called with a topic once a change to it is in the table (a poll asked now gets the new
   * answer): by the tail for each topic the feed names, by a full re-read for each topic whose
   * heads, pins, grants or rollout differ. @default nobody is told
   */
  readonly notify?: (topic: string) => void;
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

type Resolved = Required<Omit<PollTableOptions, 'store' | 'refreshMs' | 'tailMs'>>;

function withDefaults(o: PollTableOptions): Resolved {
  const r: Resolved = {
    refreshConcurrency: o.refreshConcurrency ?? 8,
    recordCacheEntries: o.recordCacheEntries ?? 10_000,
    recordCacheBytes: o.recordCacheBytes ?? 256 * 1024 * 1024,
    absentTtlMs: o.absentTtlMs ?? 60_000,
    absentMaxEntries: o.absentMaxEntries ?? 10_000,
    notify: o.notify ?? (() => {}),
    log: o.log ?? silentLogger,
    clock: o.clock ?? Date.now,
  };
  const whole = (field: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new PollTableOptionError(field, `must be a whole number >= ${min}`, v);
  };
  whole('refreshConcurrency', r.refreshConcurrency, 1);
  whole('recordCacheEntries', r.recordCacheEntries, 1);
  whole('recordCacheBytes', r.recordCacheBytes, 1);
  whole('absentTtlMs', r.absentTtlMs, 0);
  whole('absentMaxEntries', r.absentMaxEntries, 1);
  const within = (field: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new PollTableOptionError(field, `must be a whole number of milliseconds from ${min} to ${max}`, v);
  };
  within('refreshMs', o.refreshMs, 100, 86_400_000);
  within('tailMs', o.tailMs, 10, 600_000);
  return r;
}

/** A bad PollTable option: names the field and the rule. */
export class PollTableOptionError extends ImprintError {
  constructor(field: string, rule: string, got: unknown) {
    super('INVALID_ARGUMENT', `pollTable.${field} ${rule} (got ${String(got)})`);
  }
}

/** One topic in the table: its PollState, read in one store call, and the stamp cached records are checked against. */
export interface TopicEntry extends PollState {
  /** Changes when the topic's heads change; a cached record with another stamp is read again. */
  readonly stamp: number;
  /** @internal The heads, as text, that the stamp stands for. */
  readonly headsKey: string;
  /** @internal The pins, as text (a full re-read tells of a topic whose heads or pins differ). */
  readonly pinsKey: string;
  /** @internal The grants, as text (a full re-read tells of a topic whose grants differ: a Watch re-decides access). */
  readonly grantsKey: string;
  /** @internal The running or paused rollout (version, step, state) and the withdrawn versions, as text (a step, a pause or a cancel tells its watchers). */
  readonly rolloutKey: string;
}

/** One whole table. Replaced by a full re-read; the tail swaps single entries in, a miss adds a topic it lacked. */
interface Table {
  readonly generation: number;
  readonly entries: Map<string, TopicEntry>;
}

export type RefreshResult =
  | {
      readonly ok: true;
      readonly generation: number;
      readonly topics: number;
      readonly durationMs: number;
      /** The change feed's head, taken before the read: what changed after it comes by the feed. */
      readonly cursor: FeedCursor;
    }
  | { readonly ok: false; readonly error: unknown; readonly durationMs: number };

/** Store reads the table made, by kind (a refresh counts its listTopics and each pollState). */
export interface PollTableStats {
  readonly generation: number;
  readonly topics: number;
  readonly refreshes: number;
  readonly refreshFailures: number;
  /** Topics asked for that the table had (no store read). */
  readonly hits: number;
  /** Topics asked for that it lacked: a pooled store read (or a wait for one), or a name remembered missing. */
  readonly misses: number;
  /** Names of missing topics remembered now. */
  readonly absent: number;
  readonly storeReads: { readonly listTopics: number; readonly pollState: number; readonly getVersion: number; readonly listVersions: number };
  readonly recordCache: { readonly entries: number; readonly bytes: number; readonly hits: number; readonly misses: number };
}

interface CachedVerdict {
  readonly stamp: number;
  readonly verdict: RecordVerdict;
  readonly bytes: number;
  /** Asked for since it was put at the back: an eviction moves it to the back once more, unmarked, instead. */
  used: boolean;
}

/** Whether two entries of a topic may answer a poll differently: their heads, pins, grants or rollouts differ. */
function differs(a: TopicEntry, b: TopicEntry): boolean {
  return a.headsKey !== b.headsKey || a.pinsKey !== b.pinsKey || a.grantsKey !== b.grantsKey || a.rolloutKey !== b.rolloutKey;
}

/** Longest stretch a refresh runs without letting polls in, ms. */
const REFRESH_SLICE_MS = 2;
const BLOB_RECORD_BYTES = 1024;
/** While refreshes keep failing, one log line per this period. */
const FAILURE_LOG_EVERY_MS = 60_000;

/**
 * Events: `refreshed` (RefreshResult with ok true) after each swap, `refresh-failed`
 * (RefreshResult with ok false) when a refresh failed and the old table stays.
 */
export class PollTable extends EventEmitter implements PollSource<TopicEntry> {
  private readonly store: MetadataStore;
  private readonly o: Resolved;
  private table: Table = { generation: 0, entries: new Map() };
  /** Topics a miss found missing, and when (oldest first); kept across refreshes. */
  private readonly absent = new Map<string, number>();
  private lastGoodAt: number | undefined;
  private refreshing: Promise<RefreshResult> | undefined;
  /** Full re-reads and tails, one after another: the end of the last one. */
  private lock: Promise<unknown> = Promise.resolve();
  private readonly follower: FeedFollower;
  private started = false;
  private nextStamp = 1;
  /** Refreshes failed in a row, and when the last of them was logged. */
  private failStreak = 0;
  private lastFailureLogAt = Number.NEGATIVE_INFINITY;
  private readonly topicReads = new Map<string, Promise<TopicEntry | undefined>>();
  private readonly recordReads = new Map<string, Promise<RecordVerdict>>();
  private readonly pageReads = new Map<string, Promise<readonly VersionRecord[]>>();
  /**
   * Map order is the order of eviction (oldest first), with second chance: a hit marks its record
   * (a Map delete and set per hit cost ~0.2 µs, most of a cached answer's cost); an eviction
   * passes over a marked record once, moving it to the back unmarked.
   */
  private readonly records = new Map<string, CachedVerdict>();
  private recordBytes = 0;
  /** Counts feed pages that dropped records: a record read while one did may be stale and is not kept. */
  private recordDrops = 0;
  private counts = { refreshes: 0, refreshFailures: 0, hits: 0, misses: 0, listTopics: 0, pollState: 0, getVersion: 0, listVersions: 0, recordHits: 0, recordMisses: 0 };

  constructor(options: PollTableOptions) {
    super();
    this.store = options.store;
    this.o = withDefaults(options);
    this.follower = new FeedFollower({
      feed: this.store,
      apply: (topics, entries) => this.applyChanges(topics, entries),
      reread: async () => {
        const r = await this.refresh();
        return r.ok ? r.cursor : undefined;
      },
      ...(options.refreshMs !== undefined && { rereadMs: options.refreshMs }),
      ...(options.tailMs !== undefined && { tailMs: options.tailMs }),
      log: this.o.log,
      clock: this.o.clock,
    });
  }

  /**
   * Reads every topic now, then follows the change feed (every `tailMs`) with a full re-read
   * every `refreshMs`, until stop(). Resolves after the first full re-read, whether it worked or
   * not (misses read the store meanwhile; it is tried again).
   */
  async start(): Promise<RefreshResult | undefined> {
    if (this.started) throw new ImprintError('FAILED_PRECONDITION', 'the poll table is already started');
    this.started = true;
    let first: RefreshResult | undefined;
    const note = (r: RefreshResult) => (first ??= r);
    this.on('refreshed', note).on('refresh-failed', note);
    try {
      await this.follower.start();
    } finally {
      this.off('refreshed', note).off('refresh-failed', note);
    }
    return first;
  }

  /** Stops following the feed and waits for a read under way. The table stays readable. */
  async stop(): Promise<void> {
    await this.follower.stop();
    await this.refreshing;
  }

  /** What keeps the table current once started: feed reads, full re-reads and why, lag (metrics). */
  get feed(): FeedFollower {
    return this.follower;
  }

  /**
   * Reads every topic's PollState into a new Map and swaps it in with one assignment, then
   * notifies each topic whose heads, pins, grants or rollout differ. A failure keeps the old table (logged,
   * counted, `refresh-failed`). Never rejects; calls during a refresh share it, and it waits
   * for a tail under way.
   */
  refresh(): Promise<RefreshResult> {
    this.refreshing ??= this.exclusive(() => this.build()).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * Makes the changes one page of the feed names visible: re-reads each topic, drops the
   * cached records the entries name, swaps each topic's entry in, then notifies it. Waits for
   * a full re-read under way. Rejects when a read fails (the topics read before stay in; the
   * follower reads the page again).
   */
  applyChanges(topics: readonly string[], entries: readonly FeedEntry[]): Promise<void> {
    return this.exclusive(async () => {
      // 1. Records the entries name (scopes added, a version deleted) are read again when asked.
      for (const e of entries) if (e.version !== 0n) this.dropRecord(`${e.topic}\u0000${e.version}`);
      if (entries.length > 0) this.recordDrops++;
      // 2. Each topic's state, read a few at a time, swapped into the current table one by one,
      //    and only then told about.
      //    Told only when its heads, pins, grants or rollout differ: an entry that changes no answer (a topic's
      //    description, a Cassandra hint of a change that did not happen, an entry given again)
      //    tells nobody.
      await this.forEachTopic(topics, (topic, state) => {
        const entries = this.table.entries;
        const old = entries.get(topic);
        if (state) {
          const entry = this.entryFor(state, old);
          entries.set(topic, entry);
          this.absent.delete(topic);
          if (old && !differs(old, entry)) return;
        } else if (!entries.delete(topic)) return;
        this.o.notify(topic);
      });
      // 3. The table is current as of this read.
      this.lastGoodAt = this.o.clock();
    });
  }

  /** When the table was last known current (the clock's milliseconds: Unix time by default); undefined before the first. */
  currentAt(): number | undefined {
    return this.lastGoodAt;
  }

  /** Milliseconds since the table was last known current (a full re-read or a feed read applied); Infinity before the first. */
  age(): number {
    return this.lastGoodAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, this.o.clock() - this.lastGoodAt);
  }

  /** Counts a swap: tests and metrics. */
  get generation(): number {
    return this.table.generation;
  }

  stats(): PollTableStats {
    const c = this.counts;
    return {
      generation: this.table.generation,
      topics: this.table.entries.size,
      refreshes: c.refreshes,
      refreshFailures: c.refreshFailures,
      hits: c.hits,
      misses: c.misses,
      absent: this.absent.size,
      storeReads: { listTopics: c.listTopics, pollState: c.pollState, getVersion: c.getVersion, listVersions: c.listVersions },
      recordCache: { entries: this.records.size, bytes: this.recordBytes, hits: c.recordHits, misses: c.recordMisses },
    };
  }

  /** Every topic's entry in the current table: no store read, nothing counted. */
  entries(): IterableIterator<TopicEntry> {
    return this.table.entries.values();
  }

  /** The topic's entry in the current table, if it has one: no store read, nothing counted. */
  peek(topic: string): TopicEntry | undefined {
    return this.table.entries.get(topic);
  }

  /**
   * The topic's entry: from the table at once, else one store read shared by every concurrent
   * caller, whose result joins the current table. Undefined: the topic does not exist (at
   * once while a read that found none is believed, see absentTtlMs).
   */
  state(topic: string): Awaitable<TopicEntry | undefined> {
    const hit = this.table.entries.get(topic);
    if (hit) {
      this.counts.hits++;
      return hit;
    }
    this.counts.misses++;
    const absentAt = this.absent.get(topic);
    if (absentAt !== undefined && this.o.clock() - absentAt < this.o.absentTtlMs) return undefined;
    let read = this.topicReads.get(topic);
    if (!read) {
      read = this.readTopic(topic).finally(() => this.topicReads.delete(topic));
      this.topicReads.set(topic, read);
    }
    return read;
  }

  /**
   * The record of `version` with its consistency verdict: at once from the cache while the
   * topic's stamp holds, else one store read shared by every concurrent caller.
   */
  record(topic: string, entry: TopicEntry, version: Version): Awaitable<RecordVerdict> {
    const key = `${topic}\u0000${version}`;
    const cached = this.records.get(key);
    if (cached && cached.stamp === entry.stamp) {
      // Marked, not moved: the next eviction that reaches it moves it to the back instead.
      cached.used = true;
      this.counts.recordHits++;
      return cached.verdict;
    }
    this.counts.recordMisses++;
    const flightKey = `${key}\u0000${entry.stamp}`;
    let read = this.recordReads.get(flightKey);
    if (!read) {
      read = this.readRecord(topic, version, entry.stamp, key).finally(() => this.recordReads.delete(flightKey));
      this.recordReads.set(flightKey, read);
    }
    return read;
  }

  /**
   * Up to `limit` records below `below`, newest first (the rare path of a failing record for a
   * consumer holding nothing): a store read, shared by concurrent callers asking for the same page.
   */
  versionsBelow(topic: string, below: Version, limit: number): Promise<readonly VersionRecord[]> {
    const key = `${topic}\u0000${below}\u0000${limit}`;
    let read = this.pageReads.get(key);
    if (!read) {
      this.counts.listVersions++;
      read = this.store.listVersions(topic, { below, limit }).finally(() => this.pageReads.delete(key));
      this.pageReads.set(key, read);
    }
    return read;
  }

  // ---- internals ----

  /** Runs `work` after every full re-read and tail before it has ended. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Reads each topic's PollState, refreshConcurrency at a time, and hands it to `take` as it
   * comes. A synchronous store (SQLite) would hold the event loop for the whole read: after
   * every slice of REFRESH_SLICE_MS, every worker steps aside (setImmediate) so polls get answered.
   */
  private async forEachTopic(topics: readonly string[], take: (topic: string, state: PollState | undefined) => void): Promise<void> {
    let i = 0;
    let sliceStart = performance.now();
    const worker = async () => {
      while (i < topics.length) {
        const name = topics[i++];
        if (name === undefined) break;
        this.counts.pollState++;
        take(name, await this.store.pollState(name));
        if (performance.now() - sliceStart >= REFRESH_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.refreshConcurrency, Math.max(1, topics.length)) }, worker));
  }

  private async build(): Promise<RefreshResult> {
    const t0 = this.o.clock();
    try {
      // 0. Where the change feed is now: what changes while this reads comes again through it.
      const cursor = await this.store.feedHead();
      // 1. Which topics there are.
      this.counts.listTopics++;
      const topics = await this.store.listTopics();
      // 2. Each one's heads and pins, a few at a time, into a new Map.
      const previous = this.table.entries;
      const next = new Map<string, TopicEntry>();
      await this.forEachTopic(
        topics.map((t) => t.name),
        (name, state) => {
          if (state) next.set(name, this.entryFor(state, previous.get(name)));
        },
      );
      // 3. Swap: one assignment; a poll holds either the old table or this one. Topics it
      //    lists are no longer missing.
      const before = this.table.entries;
      this.table = { generation: this.table.generation + 1, entries: next };
      for (const name of this.absent.keys()) if (next.has(name)) this.absent.delete(name);
      // 4. Tell of the topics whose heads, pins, grants or rollout differ (new ones included), not of every topic.
      for (const [name, entry] of next) {
        const old = before.get(name);
        if (!old || differs(old, entry)) this.o.notify(name);
      }
      this.lastGoodAt = this.o.clock();
      this.counts.refreshes++;
      if (this.failStreak > 0) {
        this.o.log.info('poll table refresh works again', { failedRefreshes: this.failStreak, topics: next.size });
        this.failStreak = 0;
      }
      const result: RefreshResult = { ok: true, generation: this.table.generation, topics: next.size, durationMs: this.o.clock() - t0, cursor };
      this.emit('refreshed', result);
      return result;
    } catch (error) {
      this.counts.refreshFailures++;
      const result: RefreshResult = { ok: false, error, durationMs: this.o.clock() - t0 };
      // The first failure of a streak is logged, then one line a minute while it lasts (a
      // store that is down for an hour is not 1800 lines).
      this.failStreak++;
      const now = this.o.clock();
      if (this.failStreak === 1 || now - this.lastFailureLogAt >= FAILURE_LOG_EVERY_MS) {
        this.lastFailureLogAt = now;
        this.o.log.warn('poll table refresh failed; serving the previous table', { error, failedRefreshes: this.failStreak, ageMs: this.age(), generation: this.table.generation });
      }
      this.emit('refresh-failed', result);
      return result;
    }
  }

  private entryFor(state: PollState, previous: TopicEntry | undefined): TopicEntry {
    const headsKey = state.heads
      .map((h) => `${scopeKey(h.scope)}\u0001${h.version}\u0001${h.sinceMs}`)
      .sort()
      .join('\u0002');
    const pinsKey = state.pins
      .map((p) => `${scopeKey(p.scope)}\u0001${p.version}`)
      .sort()
      .join('\u0002');
    const grantsKey = state.grants.map((g) => `${g.role}\u0001${g.grantee}`).join('\u0002');
    const r = state.rollout;
    const rolloutKey = `${r ? `${r.version}\u0001${r.step}\u0001${r.state}` : ''}\u0002${state.withdrawn.join(',')}`;
    const stamp = previous && previous.headsKey === headsKey ? previous.stamp : this.nextStamp++;
    return { topic: state.topic, heads: state.heads, pins: state.pins, grants: state.grants, withdrawn: state.withdrawn, ...(r && { rollout: r }), stamp, headsKey, pinsKey, grantsKey, rolloutKey };
  }

  private async readTopic(topic: string): Promise<TopicEntry | undefined> {
    this.counts.pollState++;
    const state = await this.store.pollState(topic);
    // The table may have been swapped while reading: add to the current one, and only what it lacks.
    const table = this.table;
    if (!state) {
      this.rememberAbsent(topic);
      return undefined;
    }
    const present = table.entries.get(topic);
    if (present) return present;
    const entry = this.entryFor(state, undefined);
    table.entries.set(topic, entry);
    return entry;
  }

  /** Remembers that `topic` does not exist, as the newest entry; the oldest go beyond absentMaxEntries. */
  private rememberAbsent(topic: string): void {
    this.absent.delete(topic);
    this.absent.set(topic, this.o.clock());
    for (const name of this.absent.keys()) {
      if (this.absent.size <= this.o.absentMaxEntries) break;
      this.absent.delete(name);
    }
  }

  private dropRecord(key: string): void {
    const old = this.records.get(key);
    if (!old) return;
    this.records.delete(key);
    this.recordBytes -= old.bytes;
  }

  private async readRecord(topic: string, version: Version, stamp: number, key: string): Promise<RecordVerdict> {
    this.counts.getVersion++;
    const drops = this.recordDrops;
    const record = await this.store.getVersion(topic, version);
    const verdict = verdictOf(topic, version, record);
    if (drops !== this.recordDrops) return verdict;
    const bytes = record?.pointer.kind === 'direct' ? record.pointer.bytes.length + BLOB_RECORD_BYTES : BLOB_RECORD_BYTES;
    this.dropRecord(key);
    if (bytes <= this.o.recordCacheBytes) {
      // Room made first (so the new record is not the one passed over to), then it goes to the back.
      for (const [k, v] of this.records) {
        if (this.records.size < this.o.recordCacheEntries && this.recordBytes + bytes <= this.o.recordCacheBytes) break;
        this.records.delete(k);
        if (v.used) {
          // Its second chance: to the back, unmarked (the loop reaches it again only after every other).
          v.used = false;
          this.records.set(k, v);
        } else this.recordBytes -= v.bytes;
      }
      this.records.set(key, { stamp, verdict, bytes, used: false });
      this.recordBytes += bytes;
    }
    return verdict;
  }
}
