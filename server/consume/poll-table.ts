/**
 * The consume role's in-memory table: every topic's heads and pins (its PollState), read
 * from the store every few seconds into a new Map and swapped in with one assignment, so a
 * poll answers from memory and never sees half a refresh. What the table does not have (a
 * topic created since the last refresh) is read once, however many polls ask for it at the
 * same moment (single flight), and kept in the table until the next refresh replaces it.
 * A read that finds no such topic is remembered across refreshes (at most absentMaxEntries
 * names, each for absentTtlMs), so polls for unknown topics cost no store read each; a topic
 * created later is still found by the next refresh, which lists every topic.
 *
 * Version records are immutable per (topic, version) in the fields a consumer relies on, and
 * their consistency check (digest, and the sha256 of direct bytes) is done once, when a
 * record is read; the verdict is kept with it in a bounded LRU. Scopes may still be added to
 * a version: a cached record is read again when its topic's heads change (a scope attached to
 * a version that becomes a head). Scopes added to a version that heads nothing are seen when
 * the entry leaves the LRU; such a record is only served through a pin.
 *
 * `answerPoll` gives exactly the answers of ImprintService.decide, from the table.
 */
import { EventEmitter } from 'node:events';
import {
  ImprintError,
  NotFoundError,
  identityAttributes,
  isUpdate,
  recordProblem,
  resolveTarget,
  scopeKey,
  scopeMatches,
  type ConsumerIdentity,
  type Version,
  type VersionRecord,
} from '../../core/index.js';
import { silentLogger, type Logger } from '../log.js';
import type { PollAnswer } from '../service.js';
import type { MetadataStore, PollState } from '../store/metadata-store.js';

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
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

type Resolved = Required<Omit<PollTableOptions, 'store'>>;

function withDefaults(o: PollTableOptions): Resolved {
  const r: Resolved = {
    refreshConcurrency: o.refreshConcurrency ?? 8,
    recordCacheEntries: o.recordCacheEntries ?? 10_000,
    recordCacheBytes: o.recordCacheBytes ?? 256 * 1024 * 1024,
    absentTtlMs: o.absentTtlMs ?? 60_000,
    absentMaxEntries: o.absentMaxEntries ?? 10_000,
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
  return r;
}

/** A bad PollTable option: names the field and the rule. */
export class PollTableOptionError extends ImprintError {
  constructor(field: string, rule: string, got: unknown) {
    super('INVALID_ARGUMENT', `pollTable.${field} ${rule} (got ${String(got)})`);
  }
}

/** One topic in the table: its PollState, read in one store call, and the stamp cached records are checked against. */
export interface TopicEntry {
  readonly state: PollState;
  /** Changes when the topic's heads change; a cached record with another stamp is read again. */
  readonly stamp: number;
  /** @internal The heads, as text, that the stamp stands for. */
  readonly headsKey: string;
}

/** One whole table. Replaced, never edited, by a refresh; only a miss adds a topic it lacked. */
interface Table {
  readonly generation: number;
  readonly entries: Map<string, TopicEntry>;
}

export type RefreshResult =
  | { readonly ok: true; readonly generation: number; readonly topics: number; readonly durationMs: number }
  | { readonly ok: false; readonly error: unknown; readonly durationMs: number };

/** Store reads the table made, by kind (a refresh counts its listTopics and each pollState). */
export interface PollTableStats {
  readonly generation: number;
  readonly topics: number;
  readonly refreshes: number;
  readonly refreshFailures: number;
  /** Polls answered from the table without a store read for the topic. */
  readonly hits: number;
  /** Polls that needed a pooled store read for the topic (or waited for one). */
  readonly misses: number;
  /** Names of missing topics remembered now. */
  readonly absent: number;
  readonly storeReads: { readonly listTopics: number; readonly pollState: number; readonly getVersion: number; readonly listVersions: number };
  readonly recordCache: { readonly entries: number; readonly bytes: number; readonly hits: number; readonly misses: number };
  /** Polls whose target record failed its consistency check (as ImprintService.integrityFailures). */
  readonly integrityFailures: number;
}

/** A record with its consistency verdict: `problem` set when it must not be served. */
export type RecordVerdict = { readonly record: VersionRecord; readonly problem?: undefined } | { readonly record?: VersionRecord; readonly problem: string };

interface CachedVerdict {
  readonly stamp: number;
  readonly verdict: RecordVerdict;
  readonly bytes: number;
}

const PAGE = 100;
/** Longest stretch a refresh runs without letting polls in, ms. */
const REFRESH_SLICE_MS = 2;
const BLOB_RECORD_BYTES = 1024;
/** While refreshes keep failing, one log line per this period. */
const FAILURE_LOG_EVERY_MS = 60_000;

/**
 * Events: `refreshed` (RefreshResult with ok true) after each swap, `refresh-failed`
 * (RefreshResult with ok false) when a refresh failed and the old table stays.
 */
export class PollTable extends EventEmitter {
  private readonly store: MetadataStore;
  private readonly o: Resolved;
  private table: Table = { generation: 0, entries: new Map() };
  /** Topics a miss found missing, and when (oldest first); kept across refreshes. */
  private readonly absent = new Map<string, number>();
  private lastGoodAt: number | undefined;
  private refreshing: Promise<RefreshResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private nextStamp = 1;
  /** Refreshes failed in a row, and when the last of them was logged. */
  private failStreak = 0;
  private lastFailureLogAt = Number.NEGATIVE_INFINITY;
  private readonly topicReads = new Map<string, Promise<TopicEntry | undefined>>();
  private readonly recordReads = new Map<string, Promise<RecordVerdict>>();
  private readonly goodReads = new Map<string, Promise<VersionRecord | undefined>>();
  /** LRU: Map order is recency order (oldest first). */
  private readonly records = new Map<string, CachedVerdict>();
  private recordBytes = 0;
  /** (topic, version, stamp) whose consistency failure was logged, so a broken head is logged once, not per poll. */
  private readonly loggedFailures = new Set<string>();
  private counts = { refreshes: 0, refreshFailures: 0, hits: 0, misses: 0, listTopics: 0, pollState: 0, getVersion: 0, listVersions: 0, recordHits: 0, recordMisses: 0, integrityFailures: 0 };

  constructor(options: PollTableOptions) {
    super();
    this.store = options.store;
    this.o = withDefaults(options);
  }

  /** Refreshes now, then every `refreshMs` until stop(). Resolves after the first refresh, whether it worked or not (misses read the store meanwhile). */
  async start(refreshMs: number): Promise<RefreshResult> {
    if (!Number.isInteger(refreshMs) || refreshMs < 10) throw new PollTableOptionError('refreshMs', 'must be a whole number of milliseconds >= 10', refreshMs);
    if (!this.stopped) throw new ImprintError('FAILED_PRECONDITION', 'the poll table is already started');
    this.stopped = false;
    const first = await this.refresh();
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.refresh().finally(loop), refreshMs);
      this.timer.unref();
    };
    loop();
    return first;
  }

  /** Stops refreshing and waits for a refresh under way. The table stays readable. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing;
  }

  /**
   * Reads every topic's PollState into a new Map and swaps it in with one assignment. A
   * failure keeps the old table (logged, counted, `refresh-failed`). Never rejects; calls
   * during a refresh share it.
   */
  refresh(): Promise<RefreshResult> {
    this.refreshing ??= this.build().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Milliseconds since the last good refresh; Infinity before the first. */
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
      integrityFailures: c.integrityFailures,
    };
  }

  /** The topic's entry in the current table, without any store read (a hit is counted). */
  lookup(topic: string): TopicEntry | undefined {
    const hit = this.table.entries.get(topic);
    if (hit) this.counts.hits++;
    return hit;
  }

  /** The topic's entry in the current table, not counted (answerPollNow counts what it answers). */
  peek(topic: string): TopicEntry | undefined {
    return this.table.entries.get(topic);
  }

  /** @internal Counts a poll answered from the table without a store read (and from a cached record, when `record`). */
  countHit(record: boolean): void {
    this.counts.hits++;
    if (record) this.counts.recordHits++;
  }

  /** The cached verdict on `version` while the topic's stamp holds, else undefined. `count`: count a record hit. */
  cachedRecord(topic: string, entry: TopicEntry, version: Version, count = true): RecordVerdict | undefined {
    const key = `${topic}\u0000${version}`;
    const cached = this.records.get(key);
    if (!cached || cached.stamp !== entry.stamp) return undefined;
    // Most recently used goes to the end.
    this.records.delete(key);
    this.records.set(key, cached);
    if (count) this.counts.recordHits++;
    return cached.verdict;
  }

  /**
   * The topic's entry: from the table, else one store read shared by every concurrent caller,
   * whose result joins the current table. Undefined: the topic does not exist.
   */
  async state(topic: string): Promise<TopicEntry | undefined> {
    const table = this.table;
    const hit = table.entries.get(topic);
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
   * The record of `version` with its consistency verdict: cached per (topic, version) while
   * the topic's stamp holds, else one store read shared by every concurrent caller.
   */
  async record(topic: string, entry: TopicEntry, version: Version): Promise<RecordVerdict> {
    const cached = this.cachedRecord(topic, entry, version);
    if (cached) return cached;
    const key = `${topic}\u0000${version}`;
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
   * The newest version below `below` whose scopes match and whose record passes (the rare
   * path of a failing record for a consumer holding nothing): store reads, shared by
   * concurrent callers asking the same question.
   */
  newestGood(topic: string, attrs: Readonly<Record<string, string>>, below: Version): Promise<VersionRecord | undefined> {
    const key = `${topic}\u0000${below}\u0000${scopeKey(attrs)}`;
    let read = this.goodReads.get(key);
    if (!read) {
      read = this.readNewestGood(topic, attrs, below).finally(() => this.goodReads.delete(key));
      this.goodReads.set(key, read);
    }
    return read;
  }

  /** @internal Counts (and logs once per version) a target that failed its check. */
  noteIntegrityFailure(topic: string, version: Version, stamp: number, problem: string): void {
    this.counts.integrityFailures++;
    const key = `${topic}\u0000${version}\u0000${stamp}`;
    if (this.loggedFailures.has(key)) return;
    if (this.loggedFailures.size > 10_000) this.loggedFailures.clear();
    this.loggedFailures.add(key);
    this.o.log.warn('record failed its consistency check; not served', { topic, version, problem });
  }

  // ---- internals ----

  private async build(): Promise<RefreshResult> {
    const t0 = this.o.clock();
    try {
      // 1. Which topics there are.
      this.counts.listTopics++;
      const topics = await this.store.listTopics();
      // 2. Each one's heads and pins, a few at a time, into a new Map.
      const previous = this.table.entries;
      const next = new Map<string, TopicEntry>();
      let i = 0;
      // A synchronous store (SQLite) would hold the event loop for the whole refresh: after
      // every slice of REFRESH_SLICE_MS, every worker steps aside so polls get answered.
      let sliceStart = performance.now();
      const worker = async () => {
        while (i < topics.length) {
          const name = topics[i++]?.name;
          if (name === undefined) break;
          this.counts.pollState++;
          const state = await this.store.pollState(name);
          if (state) next.set(name, this.entryFor(state, previous.get(name)));
          if (performance.now() - sliceStart >= REFRESH_SLICE_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.o.refreshConcurrency, Math.max(1, topics.length)) }, worker));
      // 3. Swap: one assignment; a poll holds either the old table or this one. Topics it
      //    lists are no longer missing.
      this.table = { generation: this.table.generation + 1, entries: next };
      for (const name of this.absent.keys()) if (next.has(name)) this.absent.delete(name);
      this.lastGoodAt = this.o.clock();
      this.counts.refreshes++;
      if (this.failStreak > 0) {
        this.o.log.info('poll table refresh works again', { failedRefreshes: this.failStreak, topics: next.size });
        this.failStreak = 0;
      }
      const result: RefreshResult = { ok: true, generation: this.table.generation, topics: next.size, durationMs: this.o.clock() - t0 };
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
    if (previous && previous.headsKey === headsKey) return { state, stamp: previous.stamp, headsKey };
    return { state, stamp: this.nextStamp++, headsKey };
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

  private async readRecord(topic: string, version: Version, stamp: number, key: string): Promise<RecordVerdict> {
    this.counts.getVersion++;
    const record = await this.store.getVersion(topic, version);
    const problem = record ? recordProblem(record) : `version ${version} of topic "${topic}" is missing`;
    const verdict: RecordVerdict = record && !problem ? { record } : { ...(record && { record }), problem: problem ?? 'unknown' };
    const bytes = record?.pointer.kind === 'direct' ? record.pointer.bytes.length + BLOB_RECORD_BYTES : BLOB_RECORD_BYTES;
    const old = this.records.get(key);
    if (old) {
      this.records.delete(key);
      this.recordBytes -= old.bytes;
    }
    if (bytes <= this.o.recordCacheBytes) {
      this.records.set(key, { stamp, verdict, bytes });
      this.recordBytes += bytes;
      for (const [k, v] of this.records) {
        if (this.records.size <= this.o.recordCacheEntries && this.recordBytes <= this.o.recordCacheBytes) break;
        this.records.delete(k);
        this.recordBytes -= v.bytes;
      }
    }
    return verdict;
  }

  private async readNewestGood(topic: string, attrs: Readonly<Record<string, string>>, below: Version): Promise<VersionRecord | undefined> {
    let cursor: Version | undefined = below;
    for (;;) {
      this.counts.listVersions++;
      const page: VersionRecord[] = await this.store.listVersions(topic, { below: cursor, limit: PAGE });
      for (const r of page) {
        if (!r.scopes.some((s) => scopeMatches(s, attrs))) continue;
        if (recordProblem(r)) {
          this.counts.integrityFailures++;
          continue;
        }
        return r;
      }
      if (page.length < PAGE) return undefined;
      cursor = page[page.length - 1]?.version;
    }
  }
}

/**
 * What a consumer holding `lastSeen` (0n: nothing) should do: the same answers as
 * ImprintService.decide, from the table. It is never handed a record that fails its
 * consistency check: a consumer with data gets no update, one with none gets the newest
 * matching version that passes.
 */
/**
 * answerPoll's answer when memory alone decides it (the topic is in the table, and either no
 * update is due or the target's record is cached and good), at once; otherwise undefined and
 * nothing counted, for answerPoll to decide. The hot path of a consume instance: most polls
 * find the node up to date, and a BatchPoll of such topics allocates no promise per topic.
 */
export function answerPollNow(table: PollTable, topic: string, identity: ConsumerIdentity, lastSeen: Version): PollAnswer | undefined {
  const entry = table.peek(topic);
  if (!entry) return undefined;
  const target = resolveTarget(entry.state.heads, entry.state.pins, identity);
  if (!target || !isUpdate(target, lastSeen)) {
    table.countHit(false);
    return { pinned: target?.pinned ?? false };
  }
  const verdict = table.cachedRecord(topic, entry, target.version, false);
  // Not cached, or failing for a consumer that holds nothing (its answer needs store reads).
  if (!verdict || (verdict.problem && lastSeen === 0n)) return undefined;
  table.countHit(true);
  if (!verdict.problem) return { record: verdict.record, pinned: target.pinned };
  // It fails: a consumer with data stays where it is (as answerPoll's step 4).
  table.noteIntegrityFailure(topic, target.version, entry.stamp, verdict.problem);
  return { pinned: false };
}

export async function answerPoll(table: PollTable, topic: string, identity: ConsumerIdentity, lastSeen: Version): Promise<PollAnswer> {
  // 1. The topic's heads and pins, both from one table (one store read when it is not there yet).
  const entry = table.lookup(topic) ?? (await table.state(topic));
  if (!entry) throw new NotFoundError(`topic "${topic}"`);
  // 2. Decide the target: the best pin, else the latest for the consumer's scopes.
  const target = resolveTarget(entry.state.heads, entry.state.pins, identity);
  if (!target || !isUpdate(target, lastSeen)) return { pinned: target?.pinned ?? false };
  // 3. The record, checked once per (topic, version).
  const verdict = await table.record(topic, entry, target.version);
  if (!verdict.problem) return { record: verdict.record, pinned: target.pinned };
  // 4. It fails: keep a consumer with data where it is; give one with none the newest good version.
  table.noteIntegrityFailure(topic, target.version, entry.stamp, verdict.problem);
  if (lastSeen > 0n) return { pinned: false };
  const good = await table.newestGood(topic, identityAttributes(identity), target.version);
  return good ? { record: good, pinned: false } : { pinned: false };
}
