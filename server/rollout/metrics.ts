/**
 * The rollout driver's Prometheus metrics, on the registry of the process that runs it (serve
 * in the all and publish roles, the janitor); README.md "Metrics" lists them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RolloutAction } from '../../core/index.js';
import { TICK_OUTCOMES, WEBHOOK_OUTCOMES, type RolloutDriver, type RolloutDriverChange, type RolloutTick, type WebhookOutcome } from './driver.js';

/** The actions a driver takes (an operator's pause, resume, promote and cancel are the service's). */
const DRIVER_ACTIONS: readonly RolloutAction[] = ['step', 'complete', 'reject', 'webhook-passed'];
const GATES = ['consumers', 'webhook'] as const;

/** Registers the driver's metrics on `registry`; returns what stops listening to it. */
export function rolloutMetrics(driver: RolloutDriver, registry: Registry): () => void {
  const registers = [registry];
  const changes = new Counter({ name: 'imprint_rollout_changes_total', help: 'Rollout changes this driver made, by action: step, complete, reject, webhook-passed', labelNames: ['action'], registers });
  const rejections = new Counter({ name: 'imprint_rollout_rejections_total', help: 'Rollouts this driver rejected (cancelled by a gate), by the gate whose verdict did it', labelNames: ['gate'], registers });
  const webhooks = new Counter({ name: 'imprint_rollout_webhook_calls_total', help: 'Webhook gate calls by outcome: passed (2xx), refused (another status), failed (no answer: timeout, connection refused)', labelNames: ['outcome'], registers });
  const ticks = new Counter({ name: 'imprint_rollout_driver_ticks_total', help: 'Driver ticks by outcome: ok, failed (the store failed), standby (another instance holds the lease)', labelNames: ['outcome'], registers });
  const active = new Gauge({ name: 'imprint_rollouts', help: 'Active rollouts by state (running, paused), as the lease holder last read them; 0 on a standby', labelNames: ['state'], registers });
  new Gauge({
    name: 'imprint_rollout_driver_last_tick_timestamp_seconds',
    help: 'When this driver last completed a tick as the lease holder, Unix seconds (0 before any)',
    registers,
    collect() {
      this.set((driver.lastTickAtMs ?? 0) / 1000);
    },
  });
  // Every series is there from the start, so a rate or an alert has something to read.
  for (const action of DRIVER_ACTIONS) changes.inc({ action }, 0);
  for (const gate of GATES) rejections.inc({ gate }, 0);
  for (const outcome of WEBHOOK_OUTCOMES) webhooks.inc({ outcome }, 0);
  for (const outcome of TICK_OUTCOMES) ticks.inc({ outcome }, 0);
  for (const state of ['running', 'paused']) active.set({ state }, 0);

  const onChange = (c: RolloutDriverChange) => {
    changes.inc({ action: c.action });
    for (const gate of c.gates ?? []) rejections.inc({ gate });
  };
  const onWebhook = (outcome: WebhookOutcome) => webhooks.inc({ outcome });
  const onTick = (t: RolloutTick) => {
    ticks.inc({ outcome: t.outcome });
    if (t.outcome === 'failed') return; // the last good count stays
    active.set({ state: 'running' }, t.running);
    active.set({ state: 'paused' }, t.paused);
  };
  driver.on('change', onChange);
  driver.on('webhook', onWebhook);
  driver.on('tick', onTick);
  return () => {
    driver.off('change', onChange);
    driver.off('webhook', onWebhook);
    driver.off('tick', onTick);
  };
}
