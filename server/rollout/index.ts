/** server/rollout: the driver that advances rollouts under a lease (bake times, the consumers and webhook gates, rejection), and its metrics. */
export {
  RolloutDriver,
  ROLLOUT_LEASE,
  ROLLOUT_DRIVER_DEFAULTS,
  TICK_OUTCOMES,
  WEBHOOK_OUTCOMES,
  canDriveRollouts,
  rolloutDriverWithDefaults,
  rolloutTickFlag,
  type RolloutDriverChange,
  type RolloutDriverOptions,
  type RolloutDriverSettings,
  type RolloutDriverStore,
  type RolloutTick,
  type TickOutcome,
  type WebhookBody,
  type WebhookOutcome,
} from './driver.js';
export { rolloutMetrics } from './metrics.js';
