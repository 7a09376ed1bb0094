/**
 * Follows the store's change feed (server/store/change-feed.ts) for a server that answers
 * polls: every `tailMs` it reads the feed from its cursor and hands the topics a page names to
 * `apply` (the consume role's table re-reads them and swaps them in; the all role only says
 * they changed), and now and then it has everything read again (`reread`), the safety net:
 *
 * - at start (there is no cursor yet), every `rereadMs`, when the feed answers that the cursor
 *   is too old, and after `failuresBeforeReread` feed reads failed in a row; `reread` takes the
 *   feed's head BEFORE it reads, and the follower goes on from there, so what changes
 *   meanwhile comes again by the feed.
 *
 * One step at a time: the next step is scheduled when the last one ended, so a slow read is
 * never stacked up behind another (a page that said `more` is followed at once, on the next
 * turn of the event loop). A failed step keeps the cursor (the changes come again) and the
 * next one waits longer, up to FAILED_STEP_MAX_DELAY_MS.
 *
 * Events: `reread` (RereadResult) after each full re-read, ok or not.
 */
import { EventEmitter } from 'node:events';
import { ImprintError } from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { ChangeFeed, FeedCursor, FeedEntry } from '../store/change-feed.js';

/** Why everything was read again. */
export type RereadReason = 'start' | 'interval' | 'cursor-too-old' | 'failure';
export const REREAD_REASONS: readonly RereadReason[] = ['start', 'interval', 'cursor-too-old', 'failure'];

export interface RereadResult {
  readonly reason: RereadReason;
  readonly ok: boolean;
  readonly durationMs: number;
}

export interface FeedFollowerOptions {
  readonly feed: ChangeFeed;
  /**
   * Makes the changes of one page visible (resolves once they are), called for every page
   * read, empty ones too. `topics`: each topic the page names, once. A rejection keeps the
   * cursor: the page comes again.
   */
  readonly apply: (topics: readonly string[], entries: readonly FeedEntry[]) => Promise<void>;
  /**
   * Reads everything again, taking the feed's head (feedHead) before it reads: resolves with
   * that head when it worked, undefined when not (it logs its own failure).
   */
  readonly reread: (reason: RereadReason) => Promise<FeedCursor | undefined>;
  /** How often the feed is read, ms (10 to 600000). @default 100 */
  readonly tailMs?: number;
  /** How often everything is read again anyway, ms; Infinity: only when needed. @default 300000 */
  readonly rereadMs?: number;
  /** What a successful `reread` did, as its log line says it. @default 'read every topic again' */
  readonly rereadSays?: string;
  /** Entries one feed read asks for at most. @default 1000 */
  readonly pageLimit?: number;
  /** Feed reads failed in a row after which everything is read again. @default 3 */
  readonly failuresBeforeReread?: number;
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

type Resolved = Required<Omit<FeedFollowerOptions, 'feed' | 'apply' | 'reread'>>;

/** A bad FeedFollower option: names the field and the rule. */
export class FeedFollowerOptionError extends ImprintError {
  constructor(field: string, rule: string, got: unknown) {
    super('INVALID_ARGUMENT', `feedFollower.${field} ${rule} (got ${String(got)})`);
  }
}

function withDefaults(o: FeedFollowerOptions): Resolved {
  const r: Resolved = {
    tailMs: o.tailMs ?? 100,
    rereadMs: o.rereadMs ?? 300_000,
    rereadSays: o.rereadSays ?? 'read every topic again',
    pageLimit: o.pageLimit ?? 1000,
    failuresBeforeReread: o.failuresBeforeReread ?? 3,
    log: o.log ?? silentLogger,
    clock: o.clock ?? Date.now,
  };
  const whole = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new FeedFollowerOptionError(field, `must be a whole number from ${min} to ${max}`, v);
  };
  whole('tailMs', r.tailMs, 10, 600_000);
  if (r.rereadMs !== Number.POSITIVE_INFINITY) whole('rereadMs', r.rereadMs, 100, 86_400_000);
  whole('pageLimit', r.pageLimit, 1, 10_000);
  whole('failuresBeforeReread', r.failuresBeforeReread, 1, 1000);
  return r;
}

/** What the follower did so far (metrics, tests). */
export interface FeedFollowerStats {
  /** Feed reads by outcome. */
  readonly feedReads: { readonly ok: number; readonly failed: number };
  /** Entries read, and topics handed to apply (once per page each). */
  readonly entries: number;
  readonly changesApplied: number;
  /** Full re-reads that worked, by reason; and those that failed. */
  readonly rereads: Readonly<Record<RereadReason, number>>;
  readonly rereadFailures: number;
  /** Writer time (ms) of the newest entry applied; undefined before the first. */
  readonly positionMs: number | undefined;
  /** Seconds from an entry's writer time to when it was applied, for the entries applied since the last call of takeLags(). */
  readonly pendingLags: number;
}

/** Longest wait after failed steps, ms. */
const FAILED_STEP_MAX_DELAY_MS = 2000;
/** A failed full re-read is tried again no sooner than this, ms (tails go on meanwhile). */
const REREAD_RETRY_MS = 1000;
/** While feed reads keep failing, one log line per this period. */
const FAILURE_LOG_EVERY_MS = 60_000;
/** Lags kept between two scrapes at most. */
const MAX_PENDING_LAGS = 10_000;

export class FeedFollower extends EventEmitter {
  private readonly feed: ChangeFeed;
  private readonly apply: FeedFollowerOptions['apply'];
  private readonly rereadAll: FeedFollowerOptions['reread'];
  private readonly o: Resolved;
  private cursor: FeedCursor | undefined;
  /** A full re-read that is due (set until one works). */
  private pending: RereadReason | undefined = 'start';
  private lastRereadAt = Number.NEGATIVE_INFINITY;
  private lastRereadFailedAt = Number.NEGATIVE_INFINITY;
  private failStreak = 0;
  private lastFailureLogAt = Number.NEGATIVE_INFINITY;
  private running: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private lags: number[] = [];
  private counts = {
    ok: 0,
    failed: 0,
    entries: 0,
    changesApplied: 0,
    rereadFailures: 0,
    positionMs: undefined as number | undefined,
    rereads: { start: 0, interval: 0, 'cursor-too-old': 0, failure: 0 } as Record<RereadReason, number>,
  };

  constructor(options: FeedFollowerOptions) {
    super();
    this.feed = options.feed;
    this.apply = options.apply;
    this.rereadAll = options.reread;
    this.o = withDefaults(options);
  }

  get tailMs(): number {
    return this.o.tailMs;
  }

  /** Runs the first step (a full re-read) and resolves after it, worked or not; then one step every tailMs until stop(). */
  async start(): Promise<void> {
    if (!this.stopped) throw new ImprintError('FAILED_PRECONDITION', 'the feed follower is already started');
    this.stopped = false;
    await this.runStep();
  }

  /** Stops following and waits for a step under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  stats(): FeedFollowerStats {
    const c = this.counts;
    return {
      feedReads: { ok: c.ok, failed: c.failed },
      entries: c.entries,
      changesApplied: c.changesApplied,
      rereads: { ...c.rereads },
      rereadFailures: c.rereadFailures,
      positionMs: c.positionMs,
      pendingLags: this.lags.length,
    };
  }

  /** The lags (seconds from commit to applied) recorded since the last call (metrics take them at each scrape). */
  takeLags(): number[] {
    const out = this.lags;
    this.lags = [];
    return out;
  }

  // ---- internals ----

  /** One step, then the next one scheduled after it ended. */
  private async runStep(): Promise<void> {
    if (this.stopped) return;
    this.running = this.step();
    const again = await this.running;
    this.running = undefined;
    if (this.stopped) return;
    // The next feed read, or the safety net's full re-read if that comes first (1 ms later: a
    // timer may fire within the millisecond before it, which would find it not yet due). One
    // that is pending already (or failed) keeps the step's own wait.
    const rereadDueIn = this.pending === undefined ? Math.max(0, this.lastRereadAt + this.o.rereadMs - this.o.clock()) + 1 : Number.POSITIVE_INFINITY;
    this.timer = setTimeout(() => void this.runStep(), Math.min(again, rereadDueIn));
    this.timer.unref();
  }

  /** A full re-read when one is due, else one read of the feed. Resolves with the wait before the next step, ms; never rejects. */
  private async step(): Promise<number> {
    const now = this.o.clock();
    // 1. Everything again, when due: no cursor yet, the feed said so, reads kept failing, or
    //    the safety-net interval passed. A failed one waits REREAD_RETRY_MS before the next try.
    if (this.pending === undefined && now - this.lastRereadAt >= this.o.rereadMs) this.pending = 'interval';
    if (this.pending !== undefined) {
      const retryIn = REREAD_RETRY_MS - (now - this.lastRereadFailedAt);
      if (this.cursor === undefined || retryIn <= 0) return (await this.reread(this.pending)) ? this.o.tailMs : this.failedDelay();
      // Meanwhile the feed is read as usual, unless it said it cannot go on from the cursor.
      if (this.pending === 'cursor-too-old') return retryIn;
    }
    if (this.cursor === undefined) return this.failedDelay();
    // 2. One page after the cursor.
    try {
      const page = await this.feed.readFeed(this.cursor, { limit: this.o.pageLimit });
      if (page.tooOld) {
        this.counts.ok++;
        this.o.log.warn('change feed cursor too old; reading every topic again');
        this.pending = 'cursor-too-old';
        return 0;
      }
      // 3. Its topics made visible, then the cursor moves on.
      const topics = [...new Set(page.entries.map((e) => e.topic))];
      await this.apply(topics, page.entries);
      this.cursor = page.cursor;
      this.noteApplied(page.entries, topics.length);
      this.recovered();
      return page.more ? 0 : this.o.tailMs;
    } catch (error) {
      this.counts.failed++;
      this.failStreak++;
      this.logFailure('change feed read failed; the table keeps what it has and the read is tried again', error);
      if (this.failStreak >= this.o.failuresBeforeReread && this.pending === undefined) this.pending = 'failure';
      return this.failedDelay();
    }
  }

  private async reread(reason: RereadReason): Promise<boolean> {
    const t0 = this.o.clock();
    const head = await this.rereadAll(reason);
    const ok = head !== undefined;
    if (ok) this.cursor = head;
    const durationMs = this.o.clock() - t0;
    if (ok) {
      this.pending = undefined;
      this.lastRereadAt = this.o.clock();
      this.counts.rereads[reason]++;
      this.recovered();
      this.o.log.info(this.o.rereadSays, { reason, durationMs });
    } else {
      this.counts.rereadFailures++;
      this.failStreak++;
      this.lastRereadFailedAt = this.o.clock();
    }
    this.emit('reread', { reason, ok, durationMs } satisfies RereadResult);
    return ok;
  }

  private noteApplied(entries: readonly FeedEntry[], topics: number): void {
    const c = this.counts;
    c.ok++;
    c.entries += entries.length;
    c.changesApplied += topics;
    const now = this.o.clock();
    for (const e of entries) {
      if (c.positionMs === undefined || e.atMs > c.positionMs) c.positionMs = e.atMs;
      // A hint may come before its change, and again once settled: its age says nothing of ours.
      if (!e.hint && this.lags.length < MAX_PENDING_LAGS) this.lags.push(Math.max(0, now - e.atMs) / 1000);
    }
  }

  private failedDelay(): number {
    return Math.min(this.o.tailMs * 2 ** Math.min(this.failStreak, 16), FAILED_STEP_MAX_DELAY_MS);
  }

  /** The first failure of a streak is logged, then one line a minute while it lasts. */
  private logFailure(message: string, error: unknown): void {
    const now = this.o.clock();
    if (this.failStreak <= 1 || now - this.lastFailureLogAt >= FAILURE_LOG_EVERY_MS) {
      this.lastFailureLogAt = now;
      this.o.log.warn(message, { error, failuresInARow: this.failStreak });
    }
  }

  private recovered(): void {
    if (this.failStreak > 0) this.o.log.info('change feed reads work again', { failuresInARow: this.failStreak });
    this.failStreak = 0;
  }
}

/**
 * The all role's follower: its polls read the store, so nothing is kept current; it only tells
 * `notify` of each topic the feed names (Watch listens), so servers sharing one store hear of
 * each other's changes. When the feed cannot vouch for what it missed (cursor too old, reads
 * failing), every topic is told of. No re-read on a timer.
 */
export function noticeFollower(o: { readonly store: ChangeFeed & { listTopics(): Promise<readonly { readonly name: string }[]> }; readonly notify: (topic: string) => void; readonly tailMs?: number; readonly log?: Logger; readonly clock?: () => number }): FeedFollower {
  const log = o.log ?? silentLogger;
  return new FeedFollower({
    feed: o.store,
    apply: async (topics) => {
      for (const t of topics) o.notify(t);
    },
    reread: async (reason) => {
      try {
        const head = await o.store.feedHead();
        // At start nobody listens yet: there is nothing to tell.
        if (reason !== 'start') for (const t of await o.store.listTopics()) o.notify(t.name);
        return head;
      } catch (error) {
        log.warn('could not read the change feed head or list topics; tried again later', { error, reason });
        return undefined;
      }
    },
    rereadMs: Number.POSITIVE_INFINITY,
    rereadSays: 'following the change feed from its head (polls read the store; Watch streams are told of every topic after a gap)',
    ...(o.tailMs !== undefined && { tailMs: o.tailMs }),
    log,
    ...(o.clock && { clock: o.clock }),
  });
}
