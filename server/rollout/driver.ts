/**
 * The rollout driver: advances every running rollout (core/rollout.ts) through its steps, in
 * whichever process holds the store's lease "rollout-driver" (serve in the all and publish
 * roles, and the janitor, each run one; only the holder acts). Every `tickMs` the holder reads
 * the active rollouts and, for each running one, in order:
 *   a. the consumers gate's early rejection: once any step applied so far has the consumers
 *      gate, more rejections of the version than the policy's maxRejections reject the rollout
 *      at once (the gate stays armed for the later steps);
 *   b. the current step's webhook gate, until it has answered 2xx for this step: a POST (at
 *      most every `webhookRetryMs`, never two at once for one rollout), and on a 2xx the
 *      durable webhookPassedMove, so that no driver calls it again for the step;
 *   c. once the step has baked: every gate of the step decides (the webhook waits for its
 *      first answer on this driver before it can fail); all pass -> the next step (or
 *      completion after the last); one fails -> the rollout is rejected with the verdicts as
 *      the reason.
 * Paused rollouts are left alone. Every change goes through store.changeRollout with the
 * revision it was computed from, so a lost race (an operator, another driver) writes nothing
 * and the rollout is read again next tick; no step is applied twice. A store failure is
 * logged (once per streak of failed ticks), counted, and the tick is tried again next time.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  InvalidArgumentError,
  advanceMove,
  bakeLeftMs,
  cancelMove,
  consumersGateProblem,
  currentStep,
  rolloutProgress,
  scopeKey,
  webhookPassedMove,
  type Actor,
  type Rollout,
  type RolloutAction,
  type RolloutMove,
  type RolloutProgress,
} from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { JanitorStore } from '../store/metadata-store.js';

/** The store's lease the driver runs under. */
export const ROLLOUT_LEASE = 'rollout-driver';

/** What the driver needs of the store. */
export type RolloutDriverStore = Pick<JanitorStore, 'activeRollouts' | 'changeRollout' | 'listOutcomes' | 'acquireLease' | 'releaseLease'>;

/** Whether `store` has the lease the driver needs (both stores do; a handed-in test store may not). */
export function canDriveRollouts(store: object): store is RolloutDriverStore {
  const s = store as Partial<RolloutDriverStore>;
  return typeof s.acquireLease === 'function' && typeof s.releaseLease === 'function';
}

/** The driver's timings (serve's and the janitor's --rollout-tick-ms). */
export interface RolloutDriverSettings {
  /** How often the lease holder looks at the running rollouts, ms (10 to 60000). @default 1000 */
  readonly tickMs?: number;
  /** How long the lease is held past each tick, ms (at least 2 ticks, at most 600000): how soon another instance takes over from one that died. @default 5 ticks */
  readonly leaseTtlMs?: number;
  /** The least time between two calls of a step's webhook while it has not answered 2xx, ms (100 to 600000). @default 5000 */
  readonly webhookRetryMs?: number;
}

export const ROLLOUT_DRIVER_DEFAULTS = { tickMs: 1000, leaseTicks: 5, webhookRetryMs: 5000 } as const;

const OPTION_NAMES = { tickMs: 'rolloutDriver.tickMs', leaseTtlMs: 'rolloutDriver.leaseTtlMs', webhookRetryMs: 'rolloutDriver.webhookRetryMs' } as const;

/** Checks the settings and fills in the defaults; an error names the field as `names` says (the CLI: its flag). */
export function rolloutDriverWithDefaults(s: RolloutDriverSettings = {}, names: Partial<Record<keyof RolloutDriverSettings, string>> = {}): Required<RolloutDriverSettings> {
  const name = { ...OPTION_NAMES, ...names };
  const tickMs = s.tickMs ?? ROLLOUT_DRIVER_DEFAULTS.tickMs;
  if (!Number.isInteger(tickMs) || tickMs < 10 || tickMs > 60_000) throw new InvalidArgumentError(name.tickMs, 'must be a whole number of milliseconds from 10 to 60000', tickMs);
  const leaseTtlMs = s.leaseTtlMs ?? ROLLOUT_DRIVER_DEFAULTS.leaseTicks * tickMs;
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 2 * tickMs || leaseTtlMs > 600_000) throw new InvalidArgumentError(name.leaseTtlMs, `must be a whole number of milliseconds from two ticks (${2 * tickMs}) to 600000`, leaseTtlMs);
  const webhookRetryMs = s.webhookRetryMs ?? ROLLOUT_DRIVER_DEFAULTS.webhookRetryMs;
  if (!Number.isInteger(webhookRetryMs) || webhookRetryMs < 100 || webhookRetryMs > 600_000) throw new InvalidArgumentError(name.webhookRetryMs, 'must be a whole number of milliseconds from 100 to 600000', webhookRetryMs);
  return { tickMs, leaseTtlMs, webhookRetryMs };
}

/** `--rollout-tick-ms` as the CLI reads it (serve and janitor): the driver's settings, or an error naming the flag. */
export function rolloutTickFlag(text: string): Required<RolloutDriverSettings> {
  const flag = 'rollout-tick-ms';
  if (!/^[0-9]+$/.test(text.trim())) throw new InvalidArgumentError(flag, 'must be a whole number of milliseconds from 10 to 60000', text);
  return rolloutDriverWithDefaults({ tickMs: Number(text) }, { tickMs: flag });
}

export interface RolloutDriverOptions extends RolloutDriverSettings {
  readonly store: RolloutDriverStore;
  /** This driver's name in the lease. @default "<hostname>-<random>" */
  readonly holder?: string;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

/** A change the driver made (event 'change'). */
export interface RolloutDriverChange {
  readonly rollout: Rollout;
  readonly action: RolloutAction;
  readonly reason: string;
  /** A rejection: the gates whose verdict rejected it. */
  readonly gates?: readonly ('consumers' | 'webhook')[];
}

/** passed: 2xx; refused: another status; failed: no answer (timeout, connection refused, ...). */
export type WebhookOutcome = 'passed' | 'refused' | 'failed';
export const WEBHOOK_OUTCOMES: readonly WebhookOutcome[] = ['passed', 'refused', 'failed'];

/** ok: the holder looked at every rollout; failed: the store failed; standby: another instance holds the lease. */
export type TickOutcome = 'ok' | 'failed' | 'standby';
export const TICK_OUTCOMES: readonly TickOutcome[] = ['ok', 'failed', 'standby'];

/** What one tick saw (event 'tick'). */
export interface RolloutTick {
  readonly outcome: TickOutcome;
  readonly atMs: number;
  /** Active rollouts by state, as the holder read them (0 on a standby or a failed read). */
  readonly running: number;
  readonly paused: number;
}

/** The JSON body of a webhook call (docs/ROLLOUTS.md). */
export interface WebhookBody {
  readonly topic: string;
  readonly version: string;
  /** The step's index (0: the first). */
  readonly step: number;
  readonly steps: number;
  /** The step's scopes as `k=v,k=v` ("" : everyone). */
  readonly scopes: readonly string[];
  readonly percent: number;
  readonly rolloutStartedAt: string;
  readonly stepStartedAt: string;
  readonly progress: RolloutProgress;
}

/** One rollout step's webhook calls on this driver. */
interface WebhookState {
  /** rollout key + step. */
  readonly key: string;
  lastCallAtMs: number;
  inFlight: boolean;
  /** The last answer, when there was one. */
  last?: { readonly outcome: WebhookOutcome; readonly text: string };
}

const DRIVER_ACTOR: Actor = { principal: 'rollout-driver', authenticated: false, peer: '' };

/** Waits for `p` (never rejects), at most `ms`. */
async function within(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

const keyOf = (r: Pick<Rollout, 'topic' | 'version'>): string => `${r.topic}\n${r.version}`;

/**
 * Emits 'change' (RolloutDriverChange) for each change it made, 'webhook' (WebhookOutcome)
 * for each webhook answer, 'tick' (RolloutTick) after each tick.
 */
export class RolloutDriver extends EventEmitter {
  readonly settings: Required<RolloutDriverSettings>;
  readonly holder: string;
  private readonly store: RolloutDriverStore;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly webhooks = new Map<string, WebhookState>();
  private readonly aborts = new Set<AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = true;
  private failedTicks = 0;
  private holding = false;
  /** When a tick of this driver last completed as the lease holder (undefined before any). */
  lastTickAtMs: number | undefined;

  constructor(o: RolloutDriverOptions) {
    super();
    this.settings = rolloutDriverWithDefaults(o);
    this.store = o.store;
    this.holder = o.holder ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
    this.clock = o.clock ?? Date.now;
    this.log = o.log ?? silentLogger;
  }

  /** Ticks every tickMs (the first at once) until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      this.current = this.tick().then(
        () => undefined,
        (err: unknown) => this.log.error('rollout driver tick threw', { err }),
      ).finally(() => {
        this.current = undefined;
        if (!this.stopped) this.timer = setTimeout(loop, this.settings.tickMs);
      });
    };
    loop();
  }

  /**
   * Stops ticking, waits for the tick under way, abandons webhook calls in flight and gives the
   * lease up. A store that hangs holds it up for at most the lease's time for each of the two
   * waits (a tick cut short applies nothing twice: its changes are compare-and-sets).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const bound = this.settings.leaseTtlMs;
    await within(this.current, bound);
    for (const a of this.aborts) a.abort();
    if (this.holding) {
      const released = this.store.releaseLease(ROLLOUT_LEASE, this.holder).catch((err: unknown) => this.log.warn('could not give the rollout driver lease up; another instance takes over when it expires', { err }));
      await within(released, bound);
    }
    this.holding = false;
  }

  /** One tick: under the lease, every running rollout looked at once. */
  async tick(): Promise<RolloutTick> {
    const now = this.clock();
    let result: RolloutTick;
    let error: { err: unknown; r?: Rollout } | undefined;
    try {
      // 1. Only the lease holder acts.
      this.holding = await this.store.acquireLease(ROLLOUT_LEASE, this.holder, this.settings.leaseTtlMs, now);
      if (!this.holding) {
        this.webhooks.clear();
        result = { outcome: 'standby', atMs: now, running: 0, paused: 0 };
      } else {
        // 2. Every running rollout, one after the other (a failure of one does not stop the others).
        const active = await this.store.activeRollouts();
        let failed = false;
        for (const r of active) {
          if (r.state !== 'running') continue;
          try {
            await this.drive(r);
          } catch (err) {
            failed = true;
            error ??= { err, r };
          }
        }
        this.forgetEnded(active);
        const running = active.filter((r) => r.state === 'running').length;
        result = { outcome: failed ? 'failed' : 'ok', atMs: now, running, paused: active.length - running };
      }
    } catch (err) {
      error = { err };
      result = { outcome: 'failed', atMs: now, running: 0, paused: 0 };
    }
    // 3. A failed tick is logged once per streak (a store that is down would log every tick);
    //    one that worked ends the streak.
    if (error) {
      const { err, r } = error;
      if (this.failedTicks === 0) this.log.error('rollout driver: the store failed; trying again every tick', { err, ...(r && { topic: r.topic, version: String(r.version) }) });
      this.failedTicks++;
    } else if (result.outcome === 'ok') {
      if (this.failedTicks > 0) this.log.info('rollout driver: the store answers again', { failedTicks: this.failedTicks });
      this.failedTicks = 0;
      this.lastTickAtMs = now;
    }
    this.emit('tick', result);
    return result;
  }

  /** Steps a-c for one running rollout. */
  private async drive(start: Rollout): Promise<void> {
    let r = start;
    const now = this.clock();
    const step = currentStep(r);
    const armed = r.policy.steps.slice(0, r.step + 1).some((s) => s.gates.includes('consumers'));
    const needWebhook = step.gates.includes('webhook') && r.webhookPassedStep !== r.step;
    const progress = armed || needWebhook ? rolloutProgress(r, await this.store.listOutcomes(r.topic, r.version)) : undefined;
    // a. The consumers gate's early rejection.
    if (armed && progress && progress.rejections > r.policy.maxRejections) {
      await this.apply(r, cancelMove(r, now, `consumers gate: ${consumersGateProblem(r.policy, progress) ?? ''}`, true), ['consumers']);
      return;
    }
    // b. The webhook gate, until it has answered 2xx for this step.
    let hook: WebhookState | undefined;
    if (needWebhook && progress) {
      hook = this.webhook(r, progress, now);
      if (hook.last?.outcome === 'passed') {
        const written = await this.apply(r, webhookPassedMove(r, now));
        if (!written) return;
        r = written;
      }
    }
    // c. Baked: the step's gates decide.
    if (bakeLeftMs(r, now) > 0) return;
    const problems: { gate: 'consumers' | 'webhook'; text: string }[] = [];
    if (step.gates.includes('consumers')) {
      const p = progress ?? rolloutProgress(r, await this.store.listOutcomes(r.topic, r.version));
      const problem = consumersGateProblem(r.policy, p);
      if (problem) problems.push({ gate: 'consumers', text: problem });
    }
    if (step.gates.includes('webhook') && r.webhookPassedStep !== r.step) {
      // No answer yet on this driver: wait for the first one before judging.
      if (!hook?.last || hook.last.outcome === 'passed') return;
      problems.push({ gate: 'webhook', text: hook.last.text });
    }
    if (problems.length === 0) {
      await this.apply(r, advanceMove(r, now));
      return;
    }
    await this.apply(
      r,
      cancelMove(r, now, problems.map((p) => `${p.gate} gate: ${p.text}`).join('; '), true),
      problems.map((p) => p.gate),
    );
  }

  /** Writes a move computed from `r` (its revision); the rollout as written, or undefined when the race was lost. */
  private async apply(r: Rollout, move: RolloutMove, gates?: RolloutDriverChange['gates']): Promise<Rollout | undefined> {
    const written = await this.store.changeRollout({ next: move.next, expectedRevision: r.revision, action: move.action, reason: move.reason }, this.clock(), DRIVER_ACTOR);
    if (!written) {
      this.log.debug('rollout changed meanwhile; read again next tick', { topic: r.topic, version: String(r.version), revision: r.revision, action: move.action });
      return undefined;
    }
    const fields = { topic: r.topic, version: String(r.version), step: written.step, state: written.state, action: move.action, reason: move.reason };
    if (move.action === 'reject') this.log.warn('rollout rejected', fields);
    else this.log.info(`rollout ${move.action}`, fields);
    this.emit('change', { rollout: written, action: move.action, reason: move.reason, ...(gates && { gates }) } satisfies RolloutDriverChange);
    return written;
  }

  /** The step's webhook state, with a call started when none is in flight and the last is old enough. */
  private webhook(r: Rollout, progress: RolloutProgress, now: number): WebhookState {
    const key = `${keyOf(r)}\n${r.step}`;
    let state = this.webhooks.get(key);
    if (!state) {
      state = { key, lastCallAtMs: -Infinity, inFlight: false };
      this.webhooks.set(key, state);
    }
    if (!state.inFlight && now - state.lastCallAtMs >= this.settings.webhookRetryMs && !this.stopped) {
      state.inFlight = true;
      state.lastCallAtMs = now;
      const s = state;
      void this.callWebhook(r, progress).then((last) => {
        s.last = last;
        s.inFlight = false;
        this.emit('webhook', last.outcome);
        const fields = { topic: r.topic, version: String(r.version), step: r.step, outcome: last.outcome, answer: last.text };
        if (last.outcome === 'passed') this.log.info('rollout webhook passed', fields);
        else this.log.warn('rollout webhook did not pass; called again while the step bakes', fields);
      });
    }
    return state;
  }

  /** One POST of the webhook; never rejects. */
  private async callWebhook(r: Rollout, progress: RolloutProgress): Promise<NonNullable<WebhookState['last']>> {
    const url = r.policy.webhookUrl ?? '';
    const step = currentStep(r);
    const body: WebhookBody = {
      topic: r.topic,
      version: String(r.version),
      step: r.step,
      steps: r.policy.steps.length,
      scopes: step.scopes.map(scopeKey),
      percent: step.percent,
      rolloutStartedAt: new Date(r.startedAtMs).toISOString(),
      stepStartedAt: new Date(r.stepStartedAtMs).toISOString(),
      progress,
    };
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new Error('timeout')), r.policy.webhookTimeoutMs);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: abort.signal, redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { outcome: 'passed', text: `webhook answered ${res.status}` };
      return { outcome: 'refused', text: `webhook answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
    } catch (err) {
      if (abort.signal.aborted && !this.stopped) return { outcome: 'failed', text: `webhook did not answer within ${r.policy.webhookTimeoutMs} ms` };
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return { outcome: 'failed', text: `webhook call failed: ${err instanceof Error ? err.message : String(err)}${cause}` };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  /** Webhook states of rollouts no longer running, or of steps passed, are dropped. */
  private forgetEnded(active: readonly Rollout[]): void {
    const live = new Set(active.filter((r) => r.state === 'running').map((r) => `${keyOf(r)}\n${r.step}`));
    for (const [key, s] of this.webhooks) if (!live.has(key) && !s.inFlight) this.webhooks.delete(key);
  }
}
