/**
 * The janitor's loop: each job (snapshot, purge, audit-index purge) runs on its own interval,
 * and only while this janitor holds the job's lease in the metadata store, so several
 * janitors may run and only one does each job at a time.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KeyedBlobStore } from '../client/blob-store/blob-store.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { JanitorStore } from '../server/store/metadata-store.js';
import { purgeRetention, type PurgeResult } from './purge.js';
import { writeSnapshot, type SnapshotResult } from './snapshot.js';

export type JobName = 'snapshot' | 'purge' | 'audit-purge';

export interface JanitorOptions {
  readonly store: JanitorStore;
  /** One per region. */
  readonly blobStores: readonly KeyedBlobStore[];
  /** @default 5 minutes */
  readonly snapshotEveryMs?: number;
  /** @default 24 hours */
  readonly purgeEveryMs?: number;
  /** Deletes audit indices past their retention (Elasticsearch sink); none: the job does not run. */
  readonly purgeAuditIndices?: (nowMs: number) => Promise<string[]>;
  /** @default "<hostname>-<random>" */
  readonly holder?: string;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface JobOutcome {
  readonly job: JobName;
  /** False when another janitor holds the lease. */
  readonly ran: boolean;
  readonly result?: SnapshotResult | PurgeResult | string[];
  readonly error?: string;
}

export class Janitor {
  private readonly o: Required<Omit<JanitorOptions, 'purgeAuditIndices' | 'log' | 'clock'>> & Pick<JanitorOptions, 'purgeAuditIndices'> & { log: Logger; clock: () => number };
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(o: JanitorOptions) {
    this.o = {
      store: o.store,
      blobStores: o.blobStores,
      snapshotEveryMs: o.snapshotEveryMs ?? 5 * 60_000,
      purgeEveryMs: o.purgeEveryMs ?? 24 * 60 * 60_000,
      purgeAuditIndices: o.purgeAuditIndices,
      holder: o.holder ?? `${hostname()}-${randomUUID().slice(0, 8)}`,
      clock: o.clock ?? Date.now,
      log: o.log ?? silentLogger,
    };
  }

  get holder(): string {
    return this.o.holder;
  }

  /** Runs one job if this janitor gets its lease (held for twice the job's interval, at least 10 minutes). */
  async runJob(job: JobName): Promise<JobOutcome> {
    const { store, holder, clock, log } = this.o;
    const every = job === 'snapshot' ? this.o.snapshotEveryMs : this.o.purgeEveryMs;
    const ttl = Math.max(2 * every, 10 * 60_000);
    if (!(await store.acquireLease(`janitor:${job}`, holder, ttl, clock()))) {
      log.info('another janitor holds the lease; skipping', { job, holder });
      return { job, ran: false };
    }
    try {
      const result =
        job === 'snapshot'
          ? await writeSnapshot({ store, blobStores: this.o.blobStores, clock, log })
          : job === 'purge'
            ? await purgeRetention({ store, blobStores: this.o.blobStores, clock, log })
            : await (this.o.purgeAuditIndices?.(clock()) ?? Promise.resolve([]));
      return { job, ran: true, result };
    } catch (err) {
      log.error('janitor job failed; it runs again next interval', { job, err });
      return { job, ran: true, error: err instanceof Error ? err.message : String(err) };
    } finally {
      await store.releaseLease(`janitor:${job}`, holder).catch(() => {});
    }
  }

  /** Each job once (`imprint janitor --once`). */
  async runOnce(): Promise<JobOutcome[]> {
    const jobs: JobName[] = ['snapshot', 'purge', ...(this.o.purgeAuditIndices ? (['audit-purge'] as const) : [])];
    const out: JobOutcome[] = [];
    for (const j of jobs) out.push(await this.runJob(j));
    return out;
  }

  /** Runs the jobs on their intervals until stop(); the first snapshot at once. */
  start(): void {
    const every = (job: JobName, ms: number, first: number) => {
      const run = () => {
        const p = this.runJob(job).finally(() => this.running.delete(p));
        this.running.add(p);
      };
      this.timers.push(setTimeout(run, first), setInterval(run, ms));
    };
    every('snapshot', this.o.snapshotEveryMs, 0);
    every('purge', this.o.purgeEveryMs, this.o.purgeEveryMs);
    if (this.o.purgeAuditIndices) every('audit-purge', this.o.purgeEveryMs, this.o.purgeEveryMs);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.allSettled([...this.running]);
  }
}
