/**
 * The janitor's loop: each job (snapshot, purge, topic purge) runs on its own interval,
 * and only while this janitor holds the job's lease in the metadata store, so several
 * janitors may run and only one does each job at a time. Each success is recorded in the
 * store too, so every janitor judges a job overdue from the same facts (health()). Beside
 * them it runs a rollout driver (server/rollout) between start() and stop(), under its own
 * lease shared with the serving instances that run one.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KeyedBlobStore } from '../client/blob-store/blob-store.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { JanitorStore } from '../server/store/metadata-store.js';
import { RolloutDriver, type RolloutDriverSettings } from '../server/rollout/index.js';
import { purgeRetention, type PurgeResult } from './purge.js';
import { writeSnapshot, type SnapshotResult } from './snapshot.js';
import { DEFAULT_DELETE_GRACE_MS, purgeDeletedTopics, type TopicPurgeResult } from './topic-purge.js';

export type JobName = 'snapshot' | 'purge' | 'topic-purge';

export interface JanitorOptions {
  readonly store: JanitorStore;
  /** One per region. */
  readonly blobStores: readonly KeyedBlobStore[];
  /** @default 5 minutes */
  readonly snapshotEveryMs?: number;
  /** How often the retention purge and the topic purge run. @default 24 hours */
  readonly purgeEveryMs?: number;
  /** How long after DeleteTopic a deleted topic is purged (0: at the next topic purge). @default 7 days */
  readonly deleteGraceMs?: number;
  /** A job is overdue when it has not succeeded for twice its interval plus this. @default 1 minute */
  readonly overdueGraceMs?: number;
  /** The rollout driver's tick, lease and webhook retry, or 'off' (`--rollout-driver off`). @default on, a tick every 1000 ms */
  readonly rolloutDriver?: RolloutDriverSettings | 'off';
  /** @default "<hostname>-<random>" */
  readonly holder?: string;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

/** ok: the job did all its work; failed: it threw, or left part undone (a region, an object); skipped: another janitor holds the lease. */
export type JobResultKind = 'ok' | 'failed' | 'skipped';

export interface JobOutcome {
  readonly job: JobName;
  /** False when another janitor holds the lease. */
  readonly ran: boolean;
  readonly outcome: JobResultKind;
  /** How long the job ran (0 when skipped). */
  readonly durationMs: number;
  readonly result?: SnapshotResult | PurgeResult | TopicPurgeResult;
  readonly error?: string;
}

/** A job the janitor runs and how often. */
export interface JobSchedule {
  readonly job: JobName;
  readonly everyMs: number;
  /** When the loop first runs it after start(). */
  readonly firstAfterMs: number;
}

export interface JobHealth {
  readonly job: JobName;
  readonly everyMs: number;
  /** The job's last success by any janitor (the store's record); undefined before any. */
  readonly lastSuccessMs: number | undefined;
  /** Overdue from this time on: twice the interval plus the grace after the last success, or after this janitor started when later. */
  readonly dueByMs: number;
  readonly overdue: boolean;
}

export interface JanitorHealth {
  /** False when a job is overdue. */
  readonly ok: boolean;
  readonly jobs: readonly JobHealth[];
}

/** Whether a job left part of its work undone: it failed, or failed in a region or on an object. */
function incomplete(result: JobOutcome['result']): boolean {
  return result !== undefined && (('failed' in result && result.failed.length > 0) || ('failures' in result && result.failures.length > 0));
}

type Resolved = Required<Omit<JanitorOptions, 'log' | 'clock' | 'rolloutDriver'>> & { log: Logger; clock: () => number };

/** Emits 'job' (JobOutcome) after each run of a job, skipped ones included. */
export class Janitor extends EventEmitter {
  private readonly o: Resolved;
  /** The jobs this janitor runs, in the order runOnce runs them. */
  readonly jobs: readonly JobSchedule[];
  private readonly startedAtMs: number;
  private readonly lastSuccess = new Map<JobName, number>();
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();
  /** Advances running rollouts while this janitor holds the rollout lease (absent with rolloutDriver 'off'). */
  readonly rolloutDriver?: RolloutDriver;

  constructor(o: JanitorOptions) {
    super();
    this.o = Janitor.withDefaults(o);
    if (o.rolloutDriver !== 'off') this.rolloutDriver = new RolloutDriver({ store: this.o.store, ...o.rolloutDriver, holder: this.o.holder, clock: this.o.clock, log: this.o.log });
    const { snapshotEveryMs, purgeEveryMs } = this.o;
    this.jobs = [
      { job: 'snapshot', everyMs: snapshotEveryMs, firstAfterMs: 0 },
      { job: 'purge', everyMs: purgeEveryMs, firstAfterMs: purgeEveryMs },
      { job: 'topic-purge', everyMs: purgeEveryMs, firstAfterMs: purgeEveryMs },
    ];
    this.startedAtMs = this.o.clock();
  }

  private static withDefaults(o: JanitorOptions): Resolved {
    return {
      store: o.store,
      blobStores: o.blobStores,
      snapshotEveryMs: o.snapshotEveryMs ?? 5 * 60_000,
      purgeEveryMs: o.purgeEveryMs ?? 24 * 60 * 60_000,
      deleteGraceMs: o.deleteGraceMs ?? DEFAULT_DELETE_GRACE_MS,
      overdueGraceMs: o.overdueGraceMs ?? 60_000,
      holder: o.holder ?? `${hostname()}-${randomUUID().slice(0, 8)}`,
      clock: o.clock ?? Date.now,
      log: o.log ?? silentLogger,
    };
  }

  get holder(): string {
    return this.o.holder;
  }

  /** When each job last succeeded on this janitor (milliseconds). */
  lastSuccessOnThisJanitor(job: JobName): number | undefined {
    return this.lastSuccess.get(job);
  }

  /** Runs one job if this janitor gets its lease (held for twice the job's interval, at least 10 minutes). */
  async runJob(job: JobName): Promise<JobOutcome> {
    const outcome = await this.attempt(job);
    this.emit('job', outcome);
    return outcome;
  }

  private async attempt(job: JobName): Promise<JobOutcome> {
    const { store, holder, clock, log } = this.o;
    const every = this.jobs.find((j) => j.job === job)?.everyMs ?? this.o.purgeEveryMs;
    const ttl = Math.max(2 * every, 10 * 60_000);
    // 1. Only the lease holder runs the job.
    if (!(await store.acquireLease(`janitor:${job}`, holder, ttl, clock()))) {
      log.info('another janitor holds the lease; skipping', { job, holder });
      return { job, ran: false, outcome: 'skipped', durationMs: 0 };
    }
    const started = clock();
    try {
      // 2. The job.
      const result =
        job === 'snapshot'
          ? await writeSnapshot({ store, blobStores: this.o.blobStores, clock, log })
          : job === 'purge'
            ? await purgeRetention({ store, blobStores: this.o.blobStores, clock, log })
            : await purgeDeletedTopics({ store, blobStores: this.o.blobStores, graceMs: this.o.deleteGraceMs, clock, log });
      const done = clock();
      if (incomplete(result)) return { job, ran: true, outcome: 'failed', durationMs: done - started, result };
      // 3. A success: remembered here (metrics) and in the store (every janitor's health).
      this.lastSuccess.set(job, done);
      await store.recordJobSuccess(job, done).catch((err: unknown) => log.warn('could not record the janitor job success in the store; health may say overdue', { job, err }));
      return { job, ran: true, outcome: 'ok', durationMs: done - started, result };
    } catch (err) {
      log.error('janitor job failed; it runs again next interval', { job, err });
      return { job, ran: true, outcome: 'failed', durationMs: clock() - started, error: err instanceof Error ? err.message : String(err) };
    } finally {
      await store.releaseLease(`janitor:${job}`, holder).catch(() => {});
    }
  }

  /**
   * Whether each job succeeded recently enough, by any janitor (the store's records, so every
   * janitor answers the same): overdue when it has not for twice its interval plus the grace,
   * counted from this janitor's start when that is later. Rejects when the store cannot be read.
   */
  async health(): Promise<JanitorHealth> {
    const recorded = await this.o.store.jobSuccesses();
    const now = this.o.clock();
    const jobs = this.jobs.map(({ job, everyMs }): JobHealth => {
      const lastSuccessMs = recorded.get(job);
      const dueByMs = Math.max(lastSuccessMs ?? 0, this.startedAtMs) + 2 * everyMs + this.o.overdueGraceMs;
      return { job, everyMs, lastSuccessMs, dueByMs, overdue: now > dueByMs };
    });
    return { ok: jobs.every((j) => !j.overdue), jobs };
  }

  /** Each job once (`imprint janitor --once`). */
  async runOnce(): Promise<JobOutcome[]> {
    const out: JobOutcome[] = [];
    for (const { job } of this.jobs) out.push(await this.runJob(job));
    return out;
  }

  /** Runs the jobs on their intervals until stop(); the first snapshot at once. The rollout driver ticks meanwhile. */
  start(): void {
    this.rolloutDriver?.start();
    for (const { job, everyMs, firstAfterMs } of this.jobs) {
      const run = () => {
        const p = this.runJob(job).finally(() => this.running.delete(p));
        this.running.add(p);
      };
      // A first run earlier than the interval's own first tick (the snapshot's: at once).
      if (firstAfterMs < everyMs) this.timers.push(setTimeout(run, firstAfterMs));
      this.timers.push(setInterval(run, everyMs));
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.allSettled([...this.running, this.rolloutDriver?.stop()]);
  }
}
