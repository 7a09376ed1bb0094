/**
 * The rollout driver over real parts: a SQLite store, a real node:http server as the webhook,
 * the real driver and its metrics. Consumer outcomes are written with store.recordOutcomes, as
 * serving instances write them. Bake times are short; nothing waits on a fixed sleep: tests
 * wait on the store's state or the driver's events, and timing assertions are lower bounds
 * (a step is never applied before its bake).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { pauseMove, resumeMove, validateRolloutPolicy, type ConsumerOutcome, type Rollout, type RolloutPolicy, type RolloutStep } from '../../core/index.js';
import { ROLLOUT_LEASE, RolloutDriver, rolloutMetrics, type RolloutDriverChange, type WebhookBody } from '../../server/rollout/index.js';
import { SqliteMetadataStore } from '../../server/index.js';
import { directPointer, eventually, identity, metricSample, startTestServer, tempDir } from '../helpers.js';

const TOPIC = 'features';

/** Resolves after `n` more ticks of `driver`. */
function ticks(driver: RolloutDriver, n: number): Promise<void> {
  return new Promise((resolve) => {
    let k = 0;
    const on = () => {
      if (++k < n) return;
      driver.off('tick', on);
      resolve();
    };
    driver.on('tick', on);
  });
}

const step = (s: Partial<RolloutStep> & Pick<RolloutStep, 'bakeMs'>): RolloutStep => ({ scopes: [{}], percent: 100, gates: [], ...s });

describe('the rollout driver', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function openStore(file = path.join(tempDir('imprint-rollout-'), 'imprint.db')): SqliteMetadataStore {
    const store = SqliteMetadataStore.open({ file });
    cleanups.push(() => store.close());
    return store;
  }

  /** A started driver with its metrics and every change it made. */
  function startDriver(store: SqliteMetadataStore, holder = 'a', extra: { webhookRetryMs?: number } = {}) {
    const driver = new RolloutDriver({ store, holder, tickMs: 20, leaseTtlMs: 200, ...extra });
    const registry = new Registry();
    const unlisten = rolloutMetrics(driver, registry);
    const changes: RolloutDriverChange[] = [];
    driver.on('change', (c: RolloutDriverChange) => changes.push(c));
    driver.start();
    cleanups.push(async () => {
      await driver.stop();
      unlisten();
    });
    return { driver, registry, changes, metrics: () => registry.metrics() };
  }

  /** A topic with `policy` and a first version for everyone, then version 2 published with a rollout. */
  async function publishRollout(store: SqliteMetadataStore, policy: Partial<RolloutPolicy> & { steps: RolloutStep[] }): Promise<Rollout> {
    const p = validateRolloutPolicy(policy);
    if (!(await store.getTopic(TOPIC))) {
      await store.createTopic({ name: TOPIC, owner: 'team', description: '', retention: {}, rolloutPolicy: p }, Date.now());
      await store.publish({ topic: TOPIC, metadata: {}, pointer: directPointer('v1'), scopes: [{}] }, Date.now());
    }
    const published = await store.publish({ topic: TOPIC, metadata: {}, pointer: directPointer(`v-${Date.now()}`), scopes: [], rollout: p }, Date.now());
    if (!published.rollout) throw new Error('the publish started no rollout');
    return published.rollout;
  }

  const rolloutNow = async (store: SqliteMetadataStore, r: Rollout) => {
    const got = await store.getRollout(r.topic, r.version);
    if (!got) throw new Error('rollout gone');
    return got;
  };

  /** The rollout's history entries, oldest first, as "action step". */
  async function historyOf(store: SqliteMetadataStore, r: Rollout): Promise<string[]> {
    const all = await store.listHistory(TOPIC, { limit: 1000 });
    return all
      .filter((c) => c.kind === 'rollout' && c.version === r.version)
      .reverse()
      .map((c) => `${c.details['action']} ${c.details['step']}`);
  }

  function outcome(r: Rollout, node: string, holds: bigint, extra: Partial<ConsumerOutcome> = {}): ConsumerOutcome {
    return { topic: r.topic, version: r.version, identity: identity({ nodeId: node, cluster: extra.identity?.cluster ?? '' }), holds, atMs: Date.now(), ...extra };
  }

  /** A webhook server answering each call with the next of `statuses` (the last one repeats); null: never answers. */
  async function webhookServer(statuses: (number | null)[]) {
    const bodies: WebhookBody[] = [];
    const hanging: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(text) as WebhookBody);
        const status = statuses[Math.min(bodies.length - 1, statuses.length - 1)];
        if (status === null || status === undefined) hanging.push(res);
        else res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const res of hanging) res.destroy();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/gate`, bodies };
  }

  it('advances a three-step rollout a step at a time, each only after its bake, and completes it; passing gates pass', async () => {
    const store = openStore();
    const BAKE = 400;
    const r = await publishRollout(store, {
      steps: [step({ scopes: [{ cluster: 'canary' }], bakeMs: BAKE, gates: ['consumers'] }), step({ scopes: [{ region: 'us-east-1' }], bakeMs: BAKE, gates: ['consumers'] }), step({ bakeMs: BAKE })],
    });
    // The canary node holds the version, an east node holds it too once its step reaches it.
    await store.recordOutcomes([outcome(r, 'canary-1', r.version, { identity: identity({ nodeId: 'canary-1', cluster: 'canary' }) })]);
    const { changes, metrics } = startDriver(store);
    await eventually('step 1', async () => changes.find((c) => c.rollout.step === 1));
    await store.recordOutcomes([{ topic: TOPIC, version: r.version, identity: identity({ nodeId: 'east-1', region: 'us-east-1' }), holds: r.version, atMs: Date.now() }]);
    const done = await eventually('completion', async () => ((await rolloutNow(store, r)).state === 'completed' ? rolloutNow(store, r) : undefined));

    // Each step was applied only once its predecessor had baked.
    const applied = [r, ...changes.map((c) => c.rollout)];
    expect(applied.map((x) => `${x.state} ${x.step}`)).toEqual(['running 0', 'running 1', 'running 2', 'completed 2']);
    for (let i = 1; i < applied.length; i++) expect(applied[i]!.updatedAtMs - applied[i - 1]!.stepStartedAtMs).toBeGreaterThanOrEqual(BAKE);
    expect(await historyOf(store, r)).toEqual(['start 0', 'step 1', 'step 2', 'complete 2']);
    expect(done.rejected).toBe(false);
    // Completed: the latest for everyone.
    expect((await store.scopeHeads(TOPIC)).find((h) => Object.keys(h.scope).length === 0)?.version).toBe(r.version);

    const text = await metrics();
    expect(metricSample(text, 'imprint_rollout_changes_total', { action: 'step' })).toBe(2);
    expect(metricSample(text, 'imprint_rollout_changes_total', { action: 'complete' })).toBe(1);
    expect(metricSample(text, 'imprint_rollout_changes_total', { action: 'reject' })).toBe(0);
    await eventually('the gauge to count no running rollout', async () => metricSample(await metrics(), 'imprint_rollouts', { state: 'running' }) === 0);
    expect(metricSample(await metrics(), 'imprint_rollout_driver_last_tick_timestamp_seconds')).toBeGreaterThan(r.startedAtMs / 1000);
  });

  it('the consumers gate rejects at once when consumers reject the version, long before the bake ends', async () => {
    const store = openStore();
    const r = await publishRollout(store, { steps: [step({ scopes: [{ cluster: 'canary' }], bakeMs: 3_600_000, gates: ['consumers'] }), step({ bakeMs: 0 })], maxRejections: 1 });
    const { driver, changes, metrics } = startDriver(store);
    await eventually('a tick', async () => metricSample(await metrics(), 'imprint_rollouts', { state: 'running' }) === 1);
    // One rejection is allowed (maxRejections 1): still running.
    const bad = (node: string) => outcome(r, node, 1n, { identity: identity({ nodeId: node, cluster: 'canary' }), rejection: { version: r.version, stage: 'validate', reason: 'too few rows' } });
    await store.recordOutcomes([bad('canary-1')]);
    await ticks(driver, 10);
    expect((await rolloutNow(store, r)).state).toBe('running');
    await store.recordOutcomes([bad('canary-2')]);
    const rejected = await eventually('the rejection', async () => changes.find((c) => c.action === 'reject'));
    expect(rejected.rollout).toMatchObject({ state: 'cancelled', rejected: true, step: 0 });
    expect(rejected.reason).toBe('consumers gate: 2 consumer(s) rejected the version (at most 1 allowed)');
    expect(await historyOf(store, r)).toEqual(['start 0', 'reject 0']);
    const text = await metrics();
    expect(metricSample(text, 'imprint_rollout_rejections_total', { gate: 'consumers' })).toBe(1);
    expect(metricSample(text, 'imprint_rollout_changes_total', { action: 'reject' })).toBe(1);
  });

  it('the consumers gate rejects at the bake end when too few reached consumers hold the version, and not before', async () => {
    const store = openStore();
    const BAKE = 400;
    const r = await publishRollout(store, { steps: [step({ scopes: [{ cluster: 'canary' }], bakeMs: BAKE, gates: ['consumers'] }), step({ bakeMs: 0 })], minHoldingPercent: 75 });
    const canary = (node: string, holds: bigint) => outcome(r, node, holds, { identity: identity({ nodeId: node, cluster: 'canary' }) });
    // Two canaries of which one holds the version (50%), and a node outside the step (not counted).
    await store.recordOutcomes([canary('canary-1', r.version), canary('canary-2', 1n), outcome(r, 'other-1', 1n)]);
    const { changes, metrics } = startDriver(store);
    const rejected = await eventually('the rejection', async () => changes.find((c) => c.action === 'reject'));
    expect(rejected.rollout.updatedAtMs - r.stepStartedAtMs).toBeGreaterThanOrEqual(BAKE);
    expect(rejected.reason).toBe('consumers gate: 1 of 2 reached consumers hold the version (50.0%, at least 75% needed)');
    expect(await rolloutNow(store, r)).toMatchObject({ state: 'cancelled', rejected: true, step: 0, reason: rejected.reason });
    expect(metricSample(await metrics(), 'imprint_rollout_rejections_total', { gate: 'consumers' })).toBe(1);
  });

  it('a webhook that answers 503 and then 200 passes: called again while the step bakes, and remembered in the store', async () => {
    const store = openStore();
    const hook = await webhookServer([503, 200]);
    const r = await publishRollout(store, { steps: [step({ scopes: [{ region: 'eu-west-1' }], percent: 50, bakeMs: 1000, gates: ['webhook'] }), step({ bakeMs: 0 })], webhookUrl: hook.url, webhookTimeoutMs: 2000 });
    const { changes, metrics } = startDriver(store, 'a', { webhookRetryMs: 100 });
    await eventually('completion', async () => (await rolloutNow(store, r)).state === 'completed');
    expect(changes.map((c) => c.action)).toEqual(['webhook-passed', 'step', 'complete']);
    // Called until it answered 2xx, then never again for that step.
    expect(hook.bodies).toHaveLength(2);
    expect(hook.bodies[0]).toEqual({
      topic: TOPIC,
      version: String(r.version),
      step: 0,
      steps: 2,
      scopes: ['region=eu-west-1'],
      percent: 50,
      rolloutStartedAt: new Date(r.startedAtMs).toISOString(),
      stepStartedAt: new Date(r.stepStartedAtMs).toISOString(),
      progress: { reached: 0, holding: 0, rejections: 0 },
    });
    expect(await historyOf(store, r)).toEqual(['start 0', 'webhook-passed 0', 'step 1', 'complete 1']);
    const text = await metrics();
    expect(metricSample(text, 'imprint_rollout_webhook_calls_total', { outcome: 'refused' })).toBe(1);
    expect(metricSample(text, 'imprint_rollout_webhook_calls_total', { outcome: 'passed' })).toBe(1);
    expect(metricSample(text, 'imprint_rollout_changes_total', { action: 'webhook-passed' })).toBe(1);
  });

  it('a webhook that keeps failing rejects the rollout after the bake, naming its last status', async () => {
    const store = openStore();
    const hook = await webhookServer([500]);
    const BAKE = 500;
    const r = await publishRollout(store, { steps: [step({ bakeMs: BAKE, gates: ['webhook'] }), step({ bakeMs: 0 })], webhookUrl: hook.url });
    const { changes, metrics } = startDriver(store, 'a', { webhookRetryMs: 100 });
    const rejected = await eventually('the rejection', async () => changes.find((c) => c.action === 'reject'));
    expect(rejected.rollout.updatedAtMs - r.stepStartedAtMs).toBeGreaterThanOrEqual(BAKE);
    expect(rejected.reason).toBe('webhook gate: webhook answered 500 Internal Server Error');
    expect(hook.bodies.length).toBeGreaterThanOrEqual(2);
    const text = await metrics();
    expect(metricSample(text, 'imprint_rollout_rejections_total', { gate: 'webhook' })).toBe(1);
    expect(metricSample(text, 'imprint_rollout_webhook_calls_total', { outcome: 'refused' })).toBeGreaterThanOrEqual(2);
    expect(await historyOf(store, r)).toEqual(['start 0', 'reject 0']);
  });

  it('a webhook that never answers rejects the rollout once the bake is over, naming the timeout', async () => {
    const store = openStore();
    const hook = await webhookServer([null]);
    const r = await publishRollout(store, { steps: [step({ bakeMs: 0, gates: ['webhook'] })], webhookUrl: hook.url, webhookTimeoutMs: 200 });
    const { changes, metrics } = startDriver(store, 'a', { webhookRetryMs: 100 });
    const rejected = await eventually('the rejection', async () => changes.find((c) => c.action === 'reject'));
    // A bake of 0 still waits for the webhook's first answer (here: its timeout).
    expect(rejected.reason).toBe('webhook gate: webhook did not answer within 200 ms');
    expect(rejected.rollout.updatedAtMs - r.stepStartedAtMs).toBeGreaterThanOrEqual(200);
    expect(metricSample(await metrics(), 'imprint_rollout_webhook_calls_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(1);
  });

  it('pause holds the rollout where it is; resume continues with the bake it had left', async () => {
    const store = openStore();
    const BAKE = 600;
    const r = await publishRollout(store, { steps: [step({ bakeMs: BAKE }), step({ bakeMs: BAKE })] });
    const paused = await store.changeRollout({ ...pauseMove(r, Date.now(), 'looking at the canary'), expectedRevision: r.revision }, Date.now());
    if (!paused) throw new Error('pause lost a race');
    const { driver, changes, metrics } = startDriver(store);
    // Ticks spanning more than the bake (each tick waits tickMs after the last): nothing moves.
    const before = Date.now();
    while (Date.now() - before <= BAKE + 100) await ticks(driver, 1);
    expect(changes).toEqual([]);
    expect(await rolloutNow(store, r)).toMatchObject({ state: 'paused', step: 0, bakeLeftMs: paused.bakeLeftMs });
    expect(metricSample(await metrics(), 'imprint_rollouts', { state: 'paused' })).toBe(1);
    // Resumed: step 1 comes once the bake left at the pause has run, not before.
    const resumedAt = Date.now();
    const resumed = await store.changeRollout({ ...resumeMove(paused, resumedAt), expectedRevision: paused.revision }, resumedAt);
    if (!resumed) throw new Error('resume lost a race');
    const next = await eventually('step 1', async () => changes.find((c) => c.rollout.step === 1));
    expect(next.rollout.updatedAtMs - resumedAt).toBeGreaterThanOrEqual(paused.bakeLeftMs ?? 0);
    expect(await historyOf(store, r)).toEqual(['start 0', 'pause 0', 'resume 0', 'step 1']);
  });

  it('two drivers on one SQLite file: only the lease holder acts; when it stops the other goes on, and no step is applied twice', async () => {
    const file = path.join(tempDir('imprint-rollout-'), 'imprint.db');
    const storeA = openStore(file);
    const storeB = openStore(file);
    const r = await publishRollout(storeA, { steps: [step({ bakeMs: 300 }), step({ bakeMs: 300 }), step({ bakeMs: 300 }), step({ bakeMs: 300 })] });
    const a = startDriver(storeA, 'a');
    await eventually('driver a to hold the lease', async () => metricSample(await a.metrics(), 'imprint_rollout_driver_ticks_total', { outcome: 'ok' })! > 0);
    const b = startDriver(storeB, 'b');
    await eventually('step 1', async () => a.changes.find((c) => c.rollout.step === 1));
    // b stands by while a holds the lease.
    expect(metricSample(await b.metrics(), 'imprint_rollout_driver_ticks_total', { outcome: 'standby' })).toBeGreaterThan(0);
    expect(b.changes).toEqual([]);
    // a stops (and gives the lease up): b takes over and finishes.
    await a.driver.stop();
    await eventually('completion', async () => (await rolloutNow(storeB, r)).state === 'completed');
    expect(b.changes.length).toBeGreaterThan(0);
    expect(await historyOf(storeB, r)).toEqual(['start 0', 'step 1', 'step 2', 'step 3', 'complete 3']);
    // Between them the two made each change once: a its part, b the rest.
    expect([...a.changes, ...b.changes].map((c) => `${c.action} ${c.rollout.step}`)).toEqual(['step 1', 'step 2', 'step 3', 'complete 3']);
  });
});

describe('which instances drive rollouts', () => {
  it('serve in the all and publish roles runs a driver, the consume role and --rollout-driver off do not; stop gives the lease up', async () => {
    const dataDir = tempDir('imprint-rollout-roles-');
    const store = SqliteMetadataStore.open({ file: path.join(dataDir, 'imprint.db') });
    try {
      for (const [role, off, drives] of [['all', false, true], ['publish', false, true], ['consume', false, false], ['all', true, false]] as const) {
        const s = await startTestServer({ metadataStore: store, role, rolloutDriver: off ? 'off' : { tickMs: 20, leaseTtlMs: 60_000 } });
        try {
          expect({ role, off, drives: s.server.rolloutDriver !== undefined }).toEqual({ role, off, drives });
          // A driver's tick as the lease holder (its lease lasts a minute: only giving it up frees it below).
          if (drives) await eventually('a tick as the lease holder', async () => s.server.rolloutDriver?.lastTickAtMs !== undefined);
        } finally {
          await s.stop();
        }
        // Stopped: the lease is free at once (a driver that stopped gave it up; none was taken otherwise).
        expect(await store.acquireLease(ROLLOUT_LEASE, 'probe', 60_000, Date.now())).toBe(true);
        await store.releaseLease(ROLLOUT_LEASE, 'probe');
      }
    } finally {
      await store.close();
    }
  });
});
