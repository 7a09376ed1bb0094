/**
 * The janitor's Prometheus metrics (`imprint janitor --metrics-port`), one series per job it
 * runs; README.md "Metrics" lists them with what to do when they move.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { rolloutMetrics } from '../server/rollout/index.js';
import type { Janitor, JanitorHealth, JobOutcome, JobResultKind } from './runner.js';

export interface JanitorMetrics {
  readonly registry: Registry;
  /** Stops listening to the janitor. */
  close(): void;
}

const OUTCOMES: readonly JobResultKind[] = ['ok', 'failed', 'skipped'];

/** Registers the janitor's metrics (its rollout driver's too) and prom-client's default process metrics on `registry`. */
export function janitorMetrics(janitor: Janitor, registry: Registry = new Registry()): JanitorMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'imprint_janitor_last_success_timestamp_seconds',
    help: "When the job last succeeded on this janitor, Unix seconds (0 before any)",
    labelNames: ['job'],
    registers,
    collect() {
      for (const { job } of janitor.jobs) this.set({ job }, (janitor.lastSuccessOnThisJanitor(job) ?? 0) / 1000);
    },
  });
  const interval = new Gauge({ name: 'imprint_janitor_job_interval_seconds', help: "The job's configured interval", labelNames: ['job'], registers });
  const duration = new Histogram({
    name: 'imprint_janitor_job_duration_seconds',
    help: 'How long each run of the job took (runs this janitor did, ok or failed)',
    labelNames: ['job'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  const runs = new Counter({ name: 'imprint_janitor_job_runs_total', help: 'Runs of the job by outcome: ok, failed (it threw or left part undone), skipped (another janitor held the lease)', labelNames: ['job', 'outcome'], registers });
  // Every series is there from the start, so a rate or an alert has something to read.
  for (const { job, everyMs } of janitor.jobs) {
    interval.set({ job }, everyMs / 1000);
    duration.zero({ job });
    for (const outcome of OUTCOMES) runs.inc({ job, outcome }, 0);
  }
  const onJob = (o: JobOutcome) => {
    runs.inc({ job: o.job, outcome: o.outcome });
    if (o.ran) duration.observe({ job: o.job }, o.durationMs / 1000);
  };
  janitor.on('job', onJob);
  const unlistenRollouts = janitor.rolloutDriver && rolloutMetrics(janitor.rolloutDriver, registry);
  return {
    registry,
    close: () => {
      janitor.off('job', onJob);
      unlistenRollouts?.();
    },
  };
}

/** GET /healthz: each job, when it last succeeded (any janitor) and from when it counts as overdue. */
export function healthzAnswer(h: JanitorHealth): { ok: boolean; body: unknown } {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const overdue = h.jobs.filter((j) => j.overdue).map((j) => j.job);
  return {
    ok: h.ok,
    body: {
      ok: h.ok,
      ...(overdue.length > 0 && { overdue }),
      jobs: Object.fromEntries(h.jobs.map((j) => [j.job, { everySeconds: j.everyMs / 1000, lastSuccess: iso(j.lastSuccessMs), overdueAfter: iso(j.dueByMs), overdue: j.overdue }])),
    },
  };
}
