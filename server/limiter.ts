/**
 * Adaptive concurrency limits per calling application, so one noisy application cannot
 * starve the others on a consume-role instance (in the spirit of Netflix's
 * concurrency-limits). Pure and deterministic: time comes from the injected clock, latency
 * from the caller of `release`; nothing here reads a timer of its own.
 *
 * Which algorithm, and why: a gradient limit (Netflix's `GradientLimit`), with AIMD's
 * multiplicative decrease on failures. AIMD alone moves on a binary signal (a drop, a
 * timeout), so it only backs off once requests already fail; what overload looks like first
 * here is latency rising (store reads queueing behind misses, a busy event loop). The gradient
 * compares each application's recent latency with its baseline, the lowest latency it had in
 * a sliding window, and shrinks the limit as soon as the ratio worsens:
 *
 *   gradient = clamp(tolerance × baseline / recent, 0.5, 1)
 *   target   = limit × gradient + √limit        (√limit: the queue allowed at baseline latency;
 *                                                 it is what makes the limit grow)
 *   limit    = (1 − smoothing) × limit + smoothing × target, kept within [minLimit, maxLimit]
 *
 * At baseline latency the limit grows by about smoothing × √limit per request; it settles
 * where limit = 1 / (1 − gradient)². A request that failed (`ok` false: the work itself broke,
 * e.g. the store timed out) multiplies the limit by `backoffRatio`. An application using less
 * than half its limit does not grow it: an idle limit says nothing about what it could take.
 *
 * Fair sharing: besides its own limit, an application shares `globalLimit` (in flight over
 * all applications) with the others active in the last `activeWindowMs` (or with requests in
 * flight). Each active application is owed a fair share, globalLimit / active. While it is
 * alone, an application may use the whole global limit; while others are active, it gets no
 * more than its share: every other active application's unused share stays reserved for it,
 * so a quiet application is served at once when its requests come, without waiting for the
 * noisy one's to finish. The total in flight never exceeds `globalLimit`.
 *
 * A rejection carries a retry hint: the time the requests ahead of the caller take to drain
 * at the current latency, within [minRetryAfterMs, maxRetryAfterMs].
 *
 * Weights: a request may count as several (a BatchPoll weighs by its topics, see
 * server/grpc/throttle.ts). In flight, limits and shares are counted in these units; a
 * request heavier than what the application may have in flight is still admitted when the
 * application has nothing in flight (and the server nothing at all, for the global limit), so
 * a heavy request waits its turn but is never refused forever.
 */
import { InvalidArgumentError } from '../core/index.js';

export interface LimiterOptions {
  /** The limit an application starts with. @default 20 */
  readonly initialLimit?: number;
  /** @default 4 */
  readonly minLimit?: number;
  /** @default 200 */
  readonly maxLimit?: number;
  /** In flight over all applications at most. @default 256 */
  readonly globalLimit?: number;
  /** Recent latency may reach tolerance × baseline before the limit shrinks. @default 2 */
  readonly tolerance?: number;
  /** Weight of each new target in the limit. @default 0.2 */
  readonly smoothing?: number;
  /** Samples the recent latency averages over (an exponential moving average). @default 10 */
  readonly recentSamples?: number;
  /** The baseline is the lowest latency of the last one to two of these windows. @default 30000 */
  readonly baselineWindowMs?: number;
  /** Latencies below this count as this, so sub-millisecond noise does not move limits. @default 1 */
  readonly latencyFloorMs?: number;
  /** The limit is multiplied by this after a failed request. @default 0.9 */
  readonly backoffRatio?: number;
  /** An application is active (owed a share) for this long after a request. @default 1000 */
  readonly activeWindowMs?: number;
  /** @default 25 */
  readonly minRetryAfterMs?: number;
  /** @default 5000 */
  readonly maxRetryAfterMs?: number;
  /** Applications tracked at most; beyond, new ones share one entry named "(other)". @default 1000 */
  readonly maxApps?: number;
  /** Milliseconds, monotonic. @default performance.now */
  readonly clock?: () => number;
}

type Resolved = Required<LimiterOptions>;

/** The entry all applications beyond `maxApps` share. */
export const OTHER_APPS = '(other)';

export function limiterWithDefaults(o: LimiterOptions = {}): Resolved {
  const r: Resolved = {
    initialLimit: o.initialLimit ?? 20,
    minLimit: o.minLimit ?? 4,
    maxLimit: o.maxLimit ?? 200,
    globalLimit: o.globalLimit ?? 256,
    tolerance: o.tolerance ?? 2,
    smoothing: o.smoothing ?? 0.2,
    recentSamples: o.recentSamples ?? 10,
    baselineWindowMs: o.baselineWindowMs ?? 30_000,
    latencyFloorMs: o.latencyFloorMs ?? 1,
    backoffRatio: o.backoffRatio ?? 0.9,
    activeWindowMs: o.activeWindowMs ?? 1000,
    minRetryAfterMs: o.minRetryAfterMs ?? 25,
    maxRetryAfterMs: o.maxRetryAfterMs ?? 5000,
    maxApps: o.maxApps ?? 1000,
    clock: o.clock ?? (() => performance.now()),
  };
  const whole = (field: keyof LimiterOptions, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`limiter.${field}`, `must be a whole number >= ${min}`, v);
  };
  whole('minLimit', r.minLimit, 1);
  whole('maxLimit', r.maxLimit, r.minLimit);
  whole('globalLimit', r.globalLimit, 1);
  whole('maxApps', r.maxApps, 1);
  whole('recentSamples', r.recentSamples, 1);
  if (!(r.initialLimit >= r.minLimit && r.initialLimit <= r.maxLimit)) throw new InvalidArgumentError('limiter.initialLimit', `must be within [minLimit, maxLimit] = [${r.minLimit}, ${r.maxLimit}]`, r.initialLimit);
  if (!(r.tolerance >= 1)) throw new InvalidArgumentError('limiter.tolerance', 'must be >= 1', r.tolerance);
  if (!(r.smoothing > 0 && r.smoothing <= 1)) throw new InvalidArgumentError('limiter.smoothing', 'must be in (0, 1]', r.smoothing);
  if (!(r.backoffRatio > 0 && r.backoffRatio < 1)) throw new InvalidArgumentError('limiter.backoffRatio', 'must be in (0, 1)', r.backoffRatio);
  for (const f of ['baselineWindowMs', 'activeWindowMs', 'latencyFloorMs', 'minRetryAfterMs'] as const) {
    if (!(r[f] > 0 && Number.isFinite(r[f]))) throw new InvalidArgumentError(`limiter.${f}`, 'must be a positive number', r[f]);
  }
  if (!(r.maxRetryAfterMs >= r.minRetryAfterMs)) throw new InvalidArgumentError('limiter.maxRetryAfterMs', 'must be >= minRetryAfterMs', r.maxRetryAfterMs);
  return r;
}

/** A granted slot. Release it exactly once with how long the work took and whether it worked. */
export interface Lease {
  readonly admitted: true;
  readonly app: string;
  /** `ok` false: the work failed in a way that suggests overload (store timeout, internal error). Later calls are ignored. */
  release(latencyMs: number, ok: boolean): void;
}

export type RejectReason = 'app-limit' | 'fair-share' | 'global-limit';

export interface Rejection {
  readonly admitted: false;
  readonly app: string;
  readonly reason: RejectReason;
  /** Wait at least this long before retrying. */
  readonly retryAfterMs: number;
  /** The limit that applied (the app's own, its fair share, or the global one) and what was in flight against it. */
  readonly limit: number;
  readonly inflight: number;
  /** For a person: names the app, the limit and the hint. */
  readonly message: string;
}

/** What one application looks like to the limiter (metrics, tests). */
export interface AppLimitState {
  readonly app: string;
  readonly limit: number;
  readonly inflight: number;
  /** Recent latency (moving average), ms; undefined before the first sample. */
  readonly recentMs: number | undefined;
  /** Lowest latency of the baseline window, ms; undefined before the first sample. */
  readonly baselineMs: number | undefined;
  readonly throttled: number;
}

interface AppState {
  readonly app: string;
  limit: number;
  inflight: number;
  recentMs: number | undefined;
  /** Windowed minimum: the current window's min and the previous one's. */
  baseCur: number;
  basePrev: number;
  baseStart: number;
  lastActive: number;
  throttled: number;
}

/** A lease as a small object rather than a closure per request (the hot path of every call). */
class Grant implements Lease {
  readonly admitted = true;
  private released = false;
  constructor(
    private readonly limiter: ConcurrencyLimiter,
    private readonly s: AppState,
    private readonly inflightAtStart: number,
    private readonly weight: number,
  ) {}

  get app(): string {
    return this.s.app;
  }

  release(latencyMs: number, ok: boolean): void {
    if (this.released) return;
    this.released = true;
    this.limiter.onRelease(this.s, this.inflightAtStart, this.weight, latencyMs, ok);
  }
}

export class ConcurrencyLimiter {
  private readonly o: Resolved;
  private readonly apps = new Map<string, AppState>();
  private total = 0;
  private readonly alpha: number;
  private lastForget = Number.NEGATIVE_INFINITY;
  /** Latency of any application, for hints to one that has no sample yet. */
  private anyRecentMs: number | undefined;

  constructor(options: LimiterOptions = {}) {
    this.o = limiterWithDefaults(options);
    this.alpha = 2 / (this.o.recentSamples + 1);
  }

  get options(): Readonly<Resolved> {
    return this.o;
  }

  /** In flight over all applications. */
  get inflight(): number {
    return this.total;
  }

  /**
   * Admits one request of `appName` weighing `weight` units (a Lease to release when it is
   * answered), or says why not and when to retry. Never throws.
   */
  tryAcquire(appName: string, weight = 1): Lease | Rejection {
    const now = this.o.clock();
    const s = this.stateOf(appName, now);
    this.roll(s, now);
    s.lastActive = now;
    const own = Math.floor(s.limit);
    const w = Number.isInteger(weight) && weight > 1 ? weight : 1;
    // 1. The application's own adaptive limit (a request heavier than it goes in alone).
    if (s.inflight > 0 && s.inflight + w > own) return this.reject(s, 'app-limit', own, s.inflight);
    // 2. Its share of the global limit, among the applications active now.
    const active = this.activeOthers(s, now);
    const share = Math.max(1, Math.floor(this.o.globalLimit / (active.length + 1)));
    if (s.inflight + w <= share || s.inflight === 0) {
      if (this.total > 0 && this.total + w > this.o.globalLimit) return this.reject(s, 'global-limit', this.o.globalLimit, this.total);
    } else {
      let reserved = 0;
      for (const a of active) reserved += Math.max(0, share - a.inflight);
      if (this.total + w + reserved > this.o.globalLimit) return this.reject(s, 'fair-share', share, s.inflight);
    }
    // 3. Admitted.
    s.inflight += w;
    this.total += w;
    return new Grant(this, s, s.inflight, w);
  }

  /** One application's state, or undefined when it is not tracked. */
  state(app: string): AppLimitState | undefined {
    const s = this.apps.get(app);
    if (!s) return undefined;
    const base = Math.min(s.baseCur, s.basePrev);
    return { app: s.app, limit: s.limit, inflight: s.inflight, recentMs: s.recentMs, baselineMs: Number.isFinite(base) ? base : undefined, throttled: s.throttled };
  }

  /** Every tracked application. */
  states(): AppLimitState[] {
    return [...this.apps.keys()].flatMap((a) => this.state(a) ?? []);
  }

  /** @internal Called once per lease by Grant.release. */
  onRelease(s: AppState, inflightAtStart: number, weight: number, latencyMs: number, ok: boolean): void {
    const now = this.o.clock();
    s.inflight -= weight;
    this.total -= weight;
    this.roll(s, now);
    const o = this.o;
    const lat = Math.max(o.latencyFloorMs, Number.isFinite(latencyMs) ? latencyMs : o.latencyFloorMs);
    // 1. Samples: the baseline window's minimum and the recent moving average.
    if (lat < s.baseCur) s.baseCur = lat;
    s.recentMs = s.recentMs === undefined ? lat : s.recentMs + this.alpha * (lat - s.recentMs);
    this.anyRecentMs = this.anyRecentMs === undefined ? lat : this.anyRecentMs + this.alpha * (lat - this.anyRecentMs);
    // 2. A failure: multiplicative decrease.
    if (!ok) {
      s.limit = Math.max(o.minLimit, s.limit * o.backoffRatio);
      return;
    }
    // 3. The gradient; no growth while the application uses less than half its limit.
    const baseline = Math.min(s.baseCur, s.basePrev);
    const gradient = Math.min(1, Math.max(0.5, (o.tolerance * baseline) / s.recentMs));
    if (gradient === 1 && inflightAtStart < s.limit / 2) return;
    const target = s.limit * gradient + Math.sqrt(s.limit);
    s.limit = Math.min(o.maxLimit, Math.max(o.minLimit, (1 - o.smoothing) * s.limit + o.smoothing * target));
  }

  private reject(s: AppState, reason: RejectReason, limit: number, inflight: number): Rejection {
    s.throttled++;
    const o = this.o;
    const latency = s.recentMs ?? this.anyRecentMs ?? o.latencyFloorMs;
    // The requests ahead of the caller drain `limit` at a time, each taking about `latency`.
    const retryAfterMs = Math.min(o.maxRetryAfterMs, Math.max(o.minRetryAfterMs, Math.ceil((latency * (inflight + 1)) / Math.max(1, limit))));
    const what = reason === 'app-limit' ? 'its concurrency limit' : reason === 'fair-share' ? 'its fair share of the server' : 'the server-wide concurrency limit';
    return {
      admitted: false,
      app: s.app,
      reason,
      retryAfterMs,
      limit,
      inflight,
      message: `application "${s.app}" is over ${what} (${inflight} in flight, limit ${limit}); retry after ${retryAfterMs} ms`,
    };
  }

  /** The other applications active now (a request in the window, or one in flight). */
  private activeOthers(self: AppState, now: number): AppState[] {
    const out: AppState[] = [];
    for (const a of this.apps.values()) {
      if (a !== self && (a.inflight > 0 || now - a.lastActive < this.o.activeWindowMs)) out.push(a);
    }
    return out;
  }

  private roll(s: AppState, now: number): void {
    const o = this.o;
    if (now - s.baseStart >= o.baselineWindowMs) {
      s.basePrev = now - s.baseStart >= 2 * o.baselineWindowMs ? Number.POSITIVE_INFINITY : s.baseCur;
      s.baseCur = Number.POSITIVE_INFINITY;
      s.baseStart = now;
    }
  }

  private stateOf(app: string, now: number): AppState {
    const found = this.apps.get(app);
    if (found) return found;
    if (this.apps.size >= this.o.maxApps && now - this.lastForget >= this.o.activeWindowMs) {
      this.lastForget = now;
      this.forgetIdle(now);
    }
    const name = this.apps.size >= this.o.maxApps ? OTHER_APPS : app;
    const existing = this.apps.get(name);
    if (existing) return existing;
    const s: AppState = {
      app: name,
      limit: this.o.initialLimit,
      inflight: 0,
      recentMs: undefined,
      baseCur: Number.POSITIVE_INFINITY,
      basePrev: Number.POSITIVE_INFINITY,
      baseStart: now,
      lastActive: now,
      throttled: 0,
    };
    this.apps.set(name, s);
    return s;
  }

  /** Drops applications with nothing in flight and no request for a baseline window. */
  private forgetIdle(now: number): void {
    for (const [name, a] of this.apps) {
      if (a.inflight === 0 && name !== OTHER_APPS && now - a.lastActive >= this.o.baselineWindowMs) this.apps.delete(name);
    }
  }
}
