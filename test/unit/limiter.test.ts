/** The per-application adaptive concurrency limiter, driven by an injected clock and given latencies. */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import { ConcurrencyLimiter, OTHER_APPS, type Lease, type LimiterOptions, type Rejection } from '../../server/index.js';

function make(opts: LimiterOptions = {}) {
  const clock = { now: 0 };
  const limiter = new ConcurrencyLimiter({ clock: () => clock.now, ...opts });
  return { limiter, clock };
}

function lease(x: Lease | Rejection): Lease {
  if (!x.admitted) throw new Error(`expected admission, got ${x.reason}: ${x.message}`);
  return x;
}

function rejection(x: Lease | Rejection): Rejection {
  if (x.admitted) throw new Error(`expected a rejection of ${x.app}`);
  return x;
}

/** Takes every slot the app can get now; returns the leases and the rejection that stopped it. */
function fill(limiter: ConcurrencyLimiter, app: string): { leases: Lease[]; stop: Rejection } {
  const leases: Lease[] = [];
  for (let i = 0; i < 10_000; i++) {
    const a = limiter.tryAcquire(app);
    if (!a.admitted) return { leases, stop: a };
    leases.push(a);
  }
  throw new Error('never rejected');
}

describe('ConcurrencyLimiter', () => {
  it.each<[LimiterOptions, string]>([
    [{ minLimit: 0 }, 'limiter.minLimit'],
    [{ minLimit: 10, maxLimit: 5 }, 'limiter.maxLimit'],
    [{ initialLimit: 500 }, 'limiter.initialLimit'],
    [{ globalLimit: 0 }, 'limiter.globalLimit'],
    [{ tolerance: 0.5 }, 'limiter.tolerance'],
    [{ smoothing: 0 }, 'limiter.smoothing'],
    [{ backoffRatio: 1 }, 'limiter.backoffRatio'],
    [{ activeWindowMs: 0 }, 'limiter.activeWindowMs'],
    [{ minRetryAfterMs: 100, maxRetryAfterMs: 50 }, 'limiter.maxRetryAfterMs'],
  ])('refuses bad options %j, naming %s', (opts, field) => {
    let err: unknown;
    try {
      new ConcurrencyLimiter(opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });

  it('admits up to the app limit, then rejects with reason app-limit and a retry hint; a release frees a slot', () => {
    const { limiter } = make({ initialLimit: 5, minLimit: 5, maxLimit: 5 });
    const { leases, stop } = fill(limiter, 'a');
    expect(leases).toHaveLength(5);
    expect(stop).toMatchObject({ admitted: false, app: 'a', reason: 'app-limit', limit: 5, inflight: 5 });
    expect(stop.retryAfterMs).toBeGreaterThanOrEqual(limiter.options.minRetryAfterMs);
    expect(stop.message).toMatch(/application "a" is over its concurrency limit \(5 in flight, limit 5\); retry after \d+ ms/);
    leases[0]?.release(3, true);
    expect(limiter.tryAcquire('a').admitted).toBe(true);
    expect(limiter.state('a')?.throttled).toBe(1);
  });

  it('ignores a second release of the same lease', () => {
    const { limiter } = make();
    const l = lease(limiter.tryAcquire('a'));
    lease(limiter.tryAcquire('a'));
    l.release(1, true);
    l.release(1, true);
    expect(limiter.inflight).toBe(1);
    expect(limiter.state('a')?.inflight).toBe(1);
  });

  it.each([
    // latency of the app, limit, in flight -> hint: the queue ahead drains `limit` at a time
    { recentMs: 100, limit: 4, expected: 125 }, // ceil(100 × 5 / 4)
    { recentMs: 1, limit: 4, expected: 25 }, //    below the minimum: 25
    { recentMs: 10_000, limit: 4, expected: 5000 }, // above the maximum: 5000
  ])('retry hint for latency $recentMs ms at limit $limit is $expected ms', ({ recentMs, limit, expected }) => {
    const { limiter } = make({ initialLimit: limit, minLimit: limit, maxLimit: limit });
    lease(limiter.tryAcquire('a')).release(recentMs, true);
    const { stop } = fill(limiter, 'a');
    expect(stop.retryAfterMs).toBe(expected);
  });

  it('throttles a noisy app while a quiet app keeps being served, and never exceeds the global limit', () => {
    const { limiter, clock } = make({ globalLimit: 10, initialLimit: 50, maxLimit: 50, activeWindowMs: 1000 });
    // Each request holds its slot for 5 ms; the quiet app sends 1 per ms, the noisy one 20 per ms.
    const held: { lease: Lease; until: number; latency: number }[] = [];
    const served = { quiet: 0, noisy: 0 };
    const rejected = { quiet: 0, noisy: 0 };
    const reasons = new Set<string>();
    let maxInflight = 0;
    let maxNoisy = 0;
    for (let ms = 0; ms < 2000; ms++) {
      clock.now = ms;
      for (const h of held.filter((x) => x.until <= ms)) h.lease.release(h.latency, true);
      held.splice(0, held.length, ...held.filter((x) => x.until > ms));
      for (const [app, n] of [['quiet', 1], ['noisy', 20]] as const) {
        for (let i = 0; i < n; i++) {
          const a = limiter.tryAcquire(app);
          if (a.admitted) {
            served[app]++;
            held.push({ lease: a, until: ms + 5, latency: 5 });
          } else {
            rejected[app]++;
            reasons.add(a.reason);
            expect(a.retryAfterMs).toBeGreaterThan(0);
          }
          maxInflight = Math.max(maxInflight, limiter.inflight);
          maxNoisy = Math.max(maxNoisy, limiter.state('noisy')?.inflight ?? 0);
        }
      }
    }
    expect(rejected.quiet).toBe(0);
    expect(served.quiet).toBe(2000);
    expect(rejected.noisy).toBeGreaterThan(served.noisy);
    expect(reasons).toEqual(new Set(['fair-share']));
    expect(maxInflight).toBeLessThanOrEqual(10);
    // While the quiet app is active, the noisy one holds at most its share: 10 / 2 apps.
    expect(maxNoisy).toBe(5);
  });

  it('lets one app use the whole global limit while it is alone, and splits it fairly among greedy apps', () => {
    const { limiter } = make({ globalLimit: 12, initialLimit: 50, maxLimit: 50 });
    const alone = fill(limiter, 'a');
    expect(alone.leases).toHaveLength(12);
    expect(alone.stop.reason).toBe('fair-share');
    for (const l of alone.leases) l.release(2, true);
    // Three greedy apps, each taking a slot in turn until nobody can.
    const got = { a: 0, b: 0, c: 0 };
    for (let round = 0; round < 20; round++) for (const app of ['a', 'b', 'c'] as const) if (limiter.tryAcquire(app).admitted) got[app]++;
    expect(got).toEqual({ a: 4, b: 4, c: 4 });
  });

  it('a quiet app arriving after a noisy one filled everything gets the next free slot', () => {
    const { limiter } = make({ globalLimit: 4, initialLimit: 50, maxLimit: 50 });
    const noisy = fill(limiter, 'noisy');
    expect(noisy.leases).toHaveLength(4);
    expect(rejection(limiter.tryAcquire('quiet')).reason).toBe('global-limit');
    noisy.leases[0]?.release(2, true);
    // The freed slot is kept for the quiet app: the noisy one is over its share of 2.
    expect(rejection(limiter.tryAcquire('noisy')).reason).toBe('fair-share');
    expect(limiter.tryAcquire('quiet').admitted).toBe(true);
  });

  it('limits grow while latency stays at the baseline and shrink when it rises, within [min, max]', () => {
    const { limiter, clock } = make({ initialLimit: 20, minLimit: 6, maxLimit: 100, tolerance: 2 });
    const phases = [
      { latencyMs: 2, rounds: 40, direction: 'grows' },
      { latencyMs: 20, rounds: 40, direction: 'shrinks' },
      { latencyMs: 2, rounds: 40, direction: 'grows' },
      { latencyMs: 2, rounds: 400, direction: 'reaches max' },
      { latencyMs: 50, rounds: 400, direction: 'reaches min' },
    ] as const;
    const seen: { direction: string; before: number; after: number }[] = [];
    for (const p of phases) {
      const before = limiter.state('a')?.limit ?? 20;
      for (let r = 0; r < p.rounds; r++) {
        clock.now += 10;
        // Keep the app busy: take every slot, then complete them all at this latency.
        const { leases } = fill(limiter, 'a');
        for (const l of leases) l.release(p.latencyMs, true);
      }
      seen.push({ direction: p.direction, before, after: limiter.state('a')?.limit ?? NaN });
    }
    const [up1, down, up2, max, min] = seen;
    expect(up1!.after).toBeGreaterThan(up1!.before);
    expect(down!.after).toBeLessThan(down!.before);
    expect(up2!.after).toBeGreaterThan(up2!.before);
    expect(max!.after).toBe(100);
    expect(min!.after).toBe(6);
  });

  it('does not grow the limit of an app that uses less than half of it', () => {
    const { limiter } = make({ initialLimit: 20, maxLimit: 100 });
    for (let i = 0; i < 200; i++) lease(limiter.tryAcquire('a')).release(1, true);
    expect(limiter.state('a')?.limit).toBe(20);
  });

  it('shrinks the limit multiplicatively on failures, down to the minimum', () => {
    const { limiter } = make({ initialLimit: 20, minLimit: 4, backoffRatio: 0.5 });
    const limits: number[] = [];
    for (let i = 0; i < 4; i++) {
      lease(limiter.tryAcquire('a')).release(1, false);
      limits.push(limiter.state('a')?.limit ?? NaN);
    }
    expect(limits).toEqual([10, 5, 4, 4]);
  });

  it('the baseline is the lowest latency of the last one to two windows, so a new normal stops the shrinking', () => {
    const { limiter, clock } = make({ baselineWindowMs: 1000 });
    lease(limiter.tryAcquire('a')).release(2, true);
    expect(limiter.state('a')?.baselineMs).toBe(2);
    clock.now = 1000;
    lease(limiter.tryAcquire('a')).release(30, true);
    expect(limiter.state('a')?.baselineMs).toBe(2); // the previous window still counts
    clock.now = 2000;
    lease(limiter.tryAcquire('a')).release(30, true);
    expect(limiter.state('a')?.baselineMs).toBe(30); // 2 ms is two windows old
  });

  it('tracks at most maxApps applications; the rest share one entry', () => {
    const { limiter, clock } = make({ maxApps: 2, initialLimit: 4, minLimit: 4, maxLimit: 4 });
    lease(limiter.tryAcquire('a'));
    lease(limiter.tryAcquire('b'));
    const c = lease(limiter.tryAcquire('c'));
    expect(c.app).toBe(OTHER_APPS);
    expect(limiter.states().map((s) => s.app).sort()).toEqual([OTHER_APPS, 'a', 'b'].sort());
    expect(clock.now).toBe(0);
    // Idle apps are forgotten after a baseline window, making room for new names.
    const fresh = make({ maxApps: 2 });
    lease(fresh.limiter.tryAcquire('a')).release(1, true);
    lease(fresh.limiter.tryAcquire('b')).release(1, true);
    fresh.clock.now = 100_000;
    expect(lease(fresh.limiter.tryAcquire('c')).app).toBe('c');
  });

  it('counts a weighted request as that many: a weight-25 request takes 25 of the limit, and gives them back on release', () => {
    const { limiter } = make({ initialLimit: 30, minLimit: 30, maxLimit: 30 });
    const heavy = lease(limiter.tryAcquire('a', 25));
    expect(limiter.state('a')?.inflight).toBe(25);
    expect(limiter.inflight).toBe(25);
    // A second heavy one is over the limit; five light ones still fit.
    expect(rejection(limiter.tryAcquire('a', 25))).toMatchObject({ reason: 'app-limit', limit: 30, inflight: 25 });
    const light = Array.from({ length: 5 }, () => lease(limiter.tryAcquire('a')));
    expect(rejection(limiter.tryAcquire('a')).reason).toBe('app-limit');
    heavy.release(2, true);
    heavy.release(2, true);
    expect(limiter.state('a')?.inflight).toBe(5);
    for (const l of light) l.release(2, true);
    expect(limiter.inflight).toBe(0);
  });

  it('admits a request heavier than the whole limit when its application has nothing in flight, so it is never refused forever', () => {
    const { limiter } = make({ initialLimit: 4, minLimit: 4, maxLimit: 4, globalLimit: 10 });
    const huge = lease(limiter.tryAcquire('a', 63));
    expect(limiter.inflight).toBe(63);
    expect(rejection(limiter.tryAcquire('a')).reason).toBe('app-limit');
    // Another application waits for the global limit to free up.
    expect(rejection(limiter.tryAcquire('b')).reason).toBe('global-limit');
    huge.release(5, true);
    expect(lease(limiter.tryAcquire('b', 63)).app).toBe('b');
  });

  it('a weight below 1 or fractional counts as 1', () => {
    const { limiter } = make();
    lease(limiter.tryAcquire('a', 0));
    lease(limiter.tryAcquire('a', 2.5));
    expect(limiter.state('a')?.inflight).toBe(2);
  });
});
