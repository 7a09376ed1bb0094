/** The janitor's metrics and /healthz, over a real SQLite store and local blob stores (the clock is the janitor's option). */
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalBlobStore } from '../../client/index.js';
import { Janitor, healthzAnswer, janitorMetrics } from '../../janitor/index.js';
import { SqliteMetadataStore, startMetricsServer } from '../../server/index.js';
import { metricSample, tempDir } from '../helpers.js';
import { FlakyBlobStore } from '../flaky-blob-store.js';

const MIN = 60_000;

describe('janitor metrics and health', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setup(clock: () => number, holder = 'a', file = path.join(tempDir(), 'imprint.db')) {
    const store = SqliteMetadataStore.open({ file });
    cleanups.push(() => store.close());
    const blob = new FlakyBlobStore(new LocalBlobStore({ root: tempDir(), region: 'us-east-1' }), 'writes');
    blob.down = false;
    const janitor = new Janitor({ store, blobStores: [blob], snapshotEveryMs: 5 * MIN, purgeEveryMs: 60 * MIN, clock, holder });
    const metrics = janitorMetrics(janitor);
    cleanups.push(() => metrics.close());
    return { store, blob, janitor, metrics, file };
  }

  it('a success sets the job timestamp and counts ok; a failing blob store counts failed; a held lease counts skipped', async () => {
    let now = 1_000 * MIN;
    const { store, blob, janitor, metrics } = setup(() => now);
    let text = await metrics.registry.metrics();
    expect(metricSample(text, 'imprint_janitor_last_success_timestamp_seconds', { job: 'snapshot' })).toBe(0);
    expect(metricSample(text, 'imprint_janitor_job_interval_seconds', { job: 'snapshot' })).toBe(300);
    expect(metricSample(text, 'imprint_janitor_job_interval_seconds', { job: 'purge' })).toBe(3600);
    expect(metricSample(text, 'imprint_janitor_job_interval_seconds', { job: 'topic-purge' })).toBe(3600);
    expect(metricSample(text, 'imprint_janitor_job_runs_total', { job: 'topic-purge', outcome: 'ok' })).toBe(0);
    expect(metricSample(text, 'imprint_janitor_job_runs_total', { job: 'purge', outcome: 'failed' })).toBe(0);
    expect(text).toContain('process_cpu_seconds_total');

    // 1. A success.
    expect((await janitor.runJob('snapshot')).outcome).toBe('ok');
    text = await metrics.registry.metrics();
    expect(metricSample(text, 'imprint_janitor_last_success_timestamp_seconds', { job: 'snapshot' })).toBe(now / 1000);
    expect(metricSample(text, 'imprint_janitor_job_runs_total', { job: 'snapshot', outcome: 'ok' })).toBe(1);
    expect(metricSample(text, 'imprint_janitor_job_duration_seconds_count', { job: 'snapshot' })).toBe(1);
    expect((await store.jobSuccesses()).get('snapshot')).toBe(now);

    // 2. The region refuses writes: the snapshot is not written there, a failure; the timestamp stays.
    const before = now;
    now += 5 * MIN;
    blob.down = true;
    expect((await janitor.runJob('snapshot')).outcome).toBe('failed');
    text = await metrics.registry.metrics();
    expect(metricSample(text, 'imprint_janitor_job_runs_total', { job: 'snapshot', outcome: 'failed' })).toBe(1);
    expect(metricSample(text, 'imprint_janitor_last_success_timestamp_seconds', { job: 'snapshot' })).toBe(before / 1000);
    expect(metricSample(text, 'imprint_janitor_job_duration_seconds_count', { job: 'snapshot' })).toBe(2);
    expect((await store.jobSuccesses()).get('snapshot')).toBe(before);

    // 3. Another janitor holds the lease: skipped, not a run.
    expect(await store.acquireLease('janitor:purge', 'b', 60 * MIN, now)).toBe(true);
    expect((await janitor.runJob('purge')).outcome).toBe('skipped');
    text = await metrics.registry.metrics();
    expect(metricSample(text, 'imprint_janitor_job_runs_total', { job: 'purge', outcome: 'skipped' })).toBe(1);
    expect(metricSample(text, 'imprint_janitor_job_duration_seconds_count', { job: 'purge' })).toBe(0);
  });

  it('/healthz is 200 while every job is on time and 503 naming the overdue job after two intervals without a success', async () => {
    let now = 1_000 * MIN;
    const { janitor, metrics, blob } = setup(() => now);
    const server = await startMetricsServer(metrics.registry, 0, '127.0.0.1', async () => healthzAnswer(await janitor.health()));
    cleanups.push(() => server.close());
    const healthz = async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      return { status: res.status, body: (await res.json()) as { ok: boolean; overdue?: string[]; jobs: Record<string, { overdue: boolean; lastSuccess: string | null }> } };
    };

    // Just started: nothing has run, nothing is overdue yet.
    let h = await healthz();
    expect(h.status).toBe(200);
    expect(Object.keys(h.body.jobs)).toEqual(['snapshot', 'purge', 'topic-purge']);
    expect(h.body.jobs.snapshot?.lastSuccess).toBeNull();

    expect((await janitor.runJob('snapshot')).outcome).toBe('ok');
    expect((await janitor.runJob('purge')).outcome).toBe('ok');
    now += 10 * MIN; // two snapshot intervals, within the grace
    h = await healthz();
    expect(h.status).toBe(200);
    expect(h.body.jobs.snapshot?.lastSuccess).toBe(new Date(now - 10 * MIN).toISOString());

    // Snapshots fail from now on: overdue once two intervals and the grace have passed.
    blob.down = true;
    expect((await janitor.runJob('snapshot')).outcome).toBe('failed');
    now += 2 * MIN;
    h = await healthz();
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ ok: false, overdue: ['snapshot'], jobs: { snapshot: { overdue: true }, purge: { overdue: false } } });

    // A success clears it.
    blob.down = false;
    expect((await janitor.runJob('snapshot')).outcome).toBe('ok');
    expect((await healthz()).status).toBe(200);
    // /metrics is on the same port.
    expect(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).toContain('imprint_janitor_job_runs_total{job="snapshot",outcome="ok"} 2');
  });

  it('a standby janitor judges from the store: on time while the lease holder does the work, overdue when nobody does', async () => {
    let now = 1_000 * MIN;
    const a = setup(() => now, 'a');
    const b = setup(() => now, 'b', a.file);
    for (let i = 0; i < 6; i++) {
      expect((await a.janitor.runJob('snapshot')).outcome).toBe('ok');
      now += 5 * MIN;
    }
    // b never ran a job itself, yet its start is 30 minutes ago (six intervals): it reads a's successes.
    expect(b.janitor.lastSuccessOnThisJanitor('snapshot')).toBeUndefined();
    expect((await b.janitor.health()).ok).toBe(true);
    now += 12 * MIN;
    const h = await b.janitor.health();
    expect(h.ok).toBe(false);
    expect(h.jobs.filter((j) => j.overdue).map((j) => j.job)).toEqual(['snapshot']);
  });

  it('on its intervals, runs each job once per interval: the first purge is not run twice', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] });
    try {
      const { janitor } = setup(Date.now);
      const runs: string[] = [];
      janitor.on('job', (o: { job: string; outcome: string }) => runs.push(`${o.job}:${o.outcome}`));
      janitor.start();
      await vi.advanceTimersByTimeAsync(60 * MIN); // one purge interval: snapshots every 5 minutes, the first at once
      await janitor.stop();
      expect(runs.filter((r) => r.startsWith('purge'))).toEqual(['purge:ok']);
      expect(runs.filter((r) => r.startsWith('topic-purge'))).toEqual(['topic-purge:ok']);
      expect(runs.filter((r) => r.startsWith('snapshot'))).toHaveLength(13);
    } finally {
      vi.useRealTimers();
    }
  });
});
