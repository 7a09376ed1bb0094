/**
 * Consumer outcomes taken in (core/rollout.ts: ConsumerOutcome): what each node says it holds
 * (a poll's last_seen_version, a Watch request's cursors, a Report) and what it could not load
 * (`rejected`), written to the store (MetadataStore.recordOutcomes) for the topics with a
 * running or paused rollout, where the consumers gate counts them.
 *
 *   1. heard() (on the request's path: no I/O, no promise): a word for a topic that has an
 *      active rollout, or that changed since the active rollouts were last read (it may have
 *      just begun one), is kept in the pending buffer, the node's newest word replacing its
 *      older one. A word equal to what was last written for the node during that rollout is not
 *      kept. The buffer holds at most `maxPending` nodes' words; a word beyond is dropped and
 *      counted (`dropped`, logged at most once a minute).
 *   2. Every `flushMs`: the active rollouts are read again (store.activeRollouts) when a topic
 *      changed since the last read or `activeRefreshMs` has passed; then each pending word of a
 *      topic with an active rollout that differs from the node's last written word for that
 *      rollout (its first word during the rollout, a move, a new rejection) is written, in
 *      batches of `batchSize`. Words for topics without an active rollout, and words heard before it began, are let go.
 *   3. A failed read or write fails no request: it is counted, logged at most once a minute, and
 *      its words go back to the buffer (unless the node said something newer meanwhile) to be
 *      written at the next flush.
 * A node's rejection stays with it for the rollout: a later word without one keeps the
 * rejection last written (a version, once rejected by a node, stays rejected by it).
 *
 * Memory: the buffer (`maxPending` words) and what was last written per node of each active
 * rollout (`maxRemembered` nodes in all; beyond, the oldest are forgotten, which costs at most
 * one more write of the same word). Both are emptied of rollouts that ended at each read of
 * the active rollouts.
 */
import { EventEmitter } from 'node:events';
import { ImprintError, nodeKey, type ConsumerIdentity, type ConsumerOutcome, type Rejection, type Rollout, type Version } from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { MetadataStore } from '../store/metadata-store.js';
import type { PollChanges } from './changes.js';

export interface OutcomesOptions {
  readonly store: Pick<MetadataStore, 'activeRollouts' | 'recordOutcomes'>;
  /** Word of topics that changed (a rollout may have begun): their words are kept until the active rollouts are read again. @default none */
  readonly changes?: PollChanges;
  /** How often pending words are written, ms (10 to 60000). @default 500 */
  readonly flushMs?: number;
  /** The active rollouts are read again at least this often, ms (100 to 3600000), and after any change. @default 10000 */
  readonly activeRefreshMs?: number;
  /** Nodes' words the buffer holds at most (1 to 10000000); beyond, words are dropped and counted. @default 100000 */
  readonly maxPending?: number;
  /** Nodes whose last written word is remembered, across active rollouts (1 to 10000000). @default 1000000 */
  readonly maxRemembered?: number;
  /** Outcomes one recordOutcomes call writes at most (1 to 10000). @default 500 */
  readonly batchSize?: number;
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

type Resolved = Required<Omit<OutcomesOptions, 'store' | 'changes'>>;

/** A bad ConsumerOutcomes option: names the field and the rule. */
export class OutcomesOptionError extends ImprintError {
  constructor(field: string, rule: string, got: unknown) {
    super('INVALID_ARGUMENT', `outcomes.${field} ${rule} (got ${String(got)})`);
  }
}

export const OUTCOMES_DEFAULTS = { flushMs: 500, activeRefreshMs: 10_000, maxPending: 100_000, maxRemembered: 1_000_000, batchSize: 500 } as const;

function withDefaults(o: OutcomesOptions): Resolved {
  const r: Resolved = {
    flushMs: o.flushMs ?? OUTCOMES_DEFAULTS.flushMs,
    activeRefreshMs: o.activeRefreshMs ?? OUTCOMES_DEFAULTS.activeRefreshMs,
    maxPending: o.maxPending ?? OUTCOMES_DEFAULTS.maxPending,
    maxRemembered: o.maxRemembered ?? OUTCOMES_DEFAULTS.maxRemembered,
    batchSize: o.batchSize ?? OUTCOMES_DEFAULTS.batchSize,
    log: o.log ?? silentLogger,
    clock: o.clock ?? Date.now,
  };
  const whole = (field: keyof Resolved, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new OutcomesOptionError(field, `must be a whole number from ${min} to ${max}`, v);
  };
  whole('flushMs', r.flushMs, 10, 60_000);
  whole('activeRefreshMs', r.activeRefreshMs, 100, 3_600_000);
  whole('maxPending', r.maxPending, 1, 10_000_000);
  whole('maxRemembered', r.maxRemembered, 1, 10_000_000);
  whole('batchSize', r.batchSize, 1, 10_000);
  return r;
}

/** What the outcomes did so far (metrics, tests). */
export interface OutcomesStats {
  /** Outcomes written to the store. */
  readonly recorded: number;
  /** Words dropped because the buffer was full. */
  readonly dropped: number;
  /** Store reads or writes that failed (their words are tried again). */
  readonly failures: number;
  /** Words waiting to be written. */
  readonly pending: number;
}

/** One node's newest word on a topic, as heard. */
interface Word {
  readonly topic: string;
  readonly identity: ConsumerIdentity;
  readonly holds: Version;
  readonly rejection?: Rejection;
  readonly atMs: number;
}

/** What was last written for a node during a rollout. */
interface Written {
  readonly said: string;
  readonly rejection?: Rejection;
}

/** While reads or writes keep failing, or words are dropped, one log line per this period. */
const LOG_EVERY_MS = 60_000;

function saidOf(holds: Version, rejection: Rejection | undefined): string {
  return rejection ? `${holds}\u0001${rejection.version}\u0001${rejection.stage}\u0001${rejection.reason}` : `${holds}`;
}

/**
 * Events: `flushed` ({ recorded }) after each flush that wrote outcomes, `failed` (the error)
 * after a flush whose read or write failed.
 */
export class ConsumerOutcomes extends EventEmitter {
  private readonly store: OutcomesOptions['store'];
  private readonly o: Resolved;
  /** Topic -> its running or paused rollout's version and start, as last read. */
  private active = new Map<string, Pick<Rollout, 'version' | 'startedAtMs'>>();
  private lastActiveReadAt = Number.NEGATIVE_INFINITY;
  /** Topics that changed since the active rollouts were last read. */
  private changed = new Set<string>();
  /** `topic\0nodeKey` -> the node's newest word. */
  private pending = new Map<string, Word>();
  /** `topic\0version` -> nodeKey -> what was last written for it during that rollout. */
  private readonly written = new Map<string, Map<string, Written>>();
  private rememberedCount = 0;
  private readonly unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private counts = { recorded: 0, dropped: 0, failures: 0 };
  private lastFailureLogAt = Number.NEGATIVE_INFINITY;
  private lastDropLogAt = Number.NEGATIVE_INFINITY;

  constructor(options: OutcomesOptions) {
    super();
    this.store = options.store;
    this.o = withDefaults(options);
    this.unsubscribe = options.changes?.subscribe((topic) => void this.changed.add(topic));
  }

  /** Whether a word on `topic` would be kept now: it has an active rollout, or changed since they were read. */
  wants(topic: string): boolean {
    return this.active.has(topic) || this.changed.has(topic);
  }

  /** Step 1: a node's word on a topic (see the module comment). Never throws, never waits. */
  heard(topic: string, identity: ConsumerIdentity, holds: Version, rejection?: Rejection): void {
    const r = this.active.get(topic);
    if (r === undefined && !this.changed.has(topic)) return;
    const node = nodeKey(identity);
    if (r !== undefined) {
      const before = this.written.get(`${topic}\u0000${r.version}`)?.get(node);
      if (before && before.said === saidOf(holds, rejection ?? before.rejection)) return;
    }
    const key = `${topic}\u0000${node}`;
    if (!this.pending.has(key) && this.pending.size >= this.o.maxPending) {
      this.counts.dropped++;
      const now = this.o.clock();
      if (now - this.lastDropLogAt >= LOG_EVERY_MS) {
        this.lastDropLogAt = now;
        this.o.log.warn('consumer outcomes dropped: the buffer is full (the store is slow or down); the nodes say it again with their next poll', { maxPending: this.o.maxPending, dropped: this.counts.dropped });
      }
      return;
    }
    this.pending.set(key, { topic, identity, holds, ...(rejection && { rejection }), atMs: this.o.clock() });
  }

  /** Flushes every flushMs until stop(). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.o.flushMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending once more (a failure is logged, not thrown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    await this.flush();
  }

  stats(): OutcomesStats {
    return { ...this.counts, pending: this.pending.size };
  }

  /** Steps 2 and 3 now (a flush under way is waited for instead). Never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    // 2a. The active rollouts, read again when a topic changed or it is time.
    const now = this.o.clock();
    if (this.changed.size > 0 || now - this.lastActiveReadAt >= this.o.activeRefreshMs) {
      const seen = this.changed;
      this.changed = new Set();
      try {
        const rollouts = await this.store.activeRollouts();
        this.active = new Map(rollouts.map((r) => [r.topic, { version: r.version, startedAtMs: r.startedAtMs }]));
        this.lastActiveReadAt = now;
        this.forgetEnded();
      } catch (error) {
        // 3. The words wait for the next flush (their topics are still "changed").
        for (const t of seen) this.changed.add(t);
        this.failed('consumer outcomes: reading the active rollouts failed; their words are written at a later flush', error);
        return;
      }
    }
    if (this.pending.size === 0) return;
    // 2b. The words that say something new about an active rollout.
    const words = this.pending;
    this.pending = new Map();
    const batch: { key: string; node: string; outcome: ConsumerOutcome }[] = [];
    for (const [key, w] of words) {
      const r = this.active.get(w.topic);
      // Only for a rollout that had begun when the node said it.
      if (r === undefined || w.atMs < r.startedAtMs) continue;
      const { version } = r;
      const node = key.slice(w.topic.length + 1);
      const before = this.written.get(`${w.topic}\u0000${version}`)?.get(node);
      const rejection = w.rejection ?? before?.rejection;
      if (before?.said === saidOf(w.holds, rejection)) continue;
      batch.push({ key, node, outcome: { topic: w.topic, version, identity: w.identity, holds: w.holds, ...(rejection && { rejection }), atMs: w.atMs } });
    }
    // 2c. Written in batches; 3. what fails goes back to the buffer.
    let recorded = 0;
    for (let i = 0; i < batch.length; i += this.o.batchSize) {
      const slice = batch.slice(i, i + this.o.batchSize);
      try {
        await this.store.recordOutcomes(slice.map((b) => b.outcome));
      } catch (error) {
        this.failed('consumer outcomes: writing them failed; they are tried again at the next flush', error);
        for (const b of batch.slice(i)) this.putBack(b.key, words.get(b.key));
        break;
      }
      for (const b of slice) this.remember(b.node, b.outcome);
      recorded += slice.length;
    }
    this.counts.recorded += recorded;
    if (recorded > 0) this.emit('flushed', { recorded });
  }

  /** A word whose write failed, back in the buffer unless the node said something newer meanwhile (or the buffer is full: dropped). */
  private putBack(key: string, w: Word | undefined): void {
    if (!w || this.pending.has(key)) return;
    if (this.pending.size >= this.o.maxPending) {
      this.counts.dropped++;
      return;
    }
    this.pending.set(key, w);
  }

  private remember(node: string, o: ConsumerOutcome): void {
    const rk = `${o.topic}\u0000${o.version}`;
    let nodes = this.written.get(rk);
    if (!nodes) this.written.set(rk, (nodes = new Map()));
    if (!nodes.has(node)) this.rememberedCount++;
    nodes.set(node, { said: saidOf(o.holds, o.rejection), ...(o.rejection && { rejection: o.rejection }) });
    // Beyond the bound the oldest rollout's nodes go first (a forgotten node is written once more).
    for (const [k, m] of this.written) {
      if (this.rememberedCount <= this.o.maxRemembered) break;
      for (const n of m.keys()) {
        if (this.rememberedCount <= this.o.maxRemembered) break;
        m.delete(n);
        this.rememberedCount--;
      }
      if (m.size === 0) this.written.delete(k);
    }
  }

  /** What was remembered of rollouts that are no longer active. */
  private forgetEnded(): void {
    for (const [k, m] of this.written) {
      const topic = k.slice(0, k.indexOf('\u0000'));
      if (this.active.get(topic)?.version.toString() === k.slice(topic.length + 1)) continue;
      this.rememberedCount -= m.size;
      this.written.delete(k);
    }
  }

  private failed(message: string, error: unknown): void {
    this.counts.failures++;
    const now = this.o.clock();
    if (now - this.lastFailureLogAt >= LOG_EVERY_MS) {
      this.lastFailureLogAt = now;
      this.o.log.warn(message, { error, failures: this.counts.failures, pending: this.pending.size });
    }
    this.emit('failed', error);
  }
}
