import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BoundCounter, BoundHistogram } from '../../server/bound-metrics.js';
import { seededRandom } from '../helpers.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

describe('bound metrics', () => {
  it("a BoundHistogram's exposition is a prom-client Histogram's for the same observations (values on bounds, past the last, never observed series)", async () => {
    const mine = new Registry();
    const theirs = new Registry();
    const config = { name: 'x_seconds', help: 'x by method', labelNames: ['method'] as const, buckets: BUCKETS };
    const bound = new BoundHistogram({ ...config, registers: [mine] });
    const reference = new Histogram({ ...config, labelNames: ['method'], registers: [theirs] });
    const random = seededRandom(7);
    const methods = ['Poll', 'BatchPoll', 'Watch'];
    const children = methods.map((method) => bound.labels({ method }));
    bound.labels({ method: 'NeverObserved' });
    for (let i = 0; i < 2000; i++) {
      const m = Math.floor(random() * 2); // Watch bound, never observed
      const v = i % 10 === 0 ? (BUCKETS[i % BUCKETS.length] as number) : i % 97 === 0 ? 7 + random() : random() * random() * 0.3;
      children[m]?.observe(v);
      reference.observe({ method: methods[m] as string }, v);
    }
    expect(await mine.metrics()).toBe(await theirs.metrics());
    expect(await mine.metrics()).toContain('x_seconds_bucket{le="0.005",method="Poll"}');
    bound.reset();
    reference.reset();
    expect(await mine.metrics()).toBe(await theirs.metrics());
  });

  it('a BoundHistogram refuses labels it was not made with, and values that are not numbers', () => {
    const h = new BoundHistogram({ name: 'y_seconds', help: 'y', labelNames: ['method'], buckets: BUCKETS, registers: [] });
    expect(() => h.labels({ method: 'Poll', extra: 'x' } as { method: string })).toThrow(/extra/);
    expect(() => h.labels({} as { method: string })).toThrow(/labelset/);
    expect(() => h.labels({ method: 'Poll' }).observe(Number.NaN)).toThrow(/not a valid number/);
  });

  it("a BoundCounter's bound series show from the start and read exactly what they counted, beside its other series, at every read", async () => {
    const mine = new Registry();
    const c = new BoundCounter({ name: 'r_total', help: 'r', labelNames: ['method', 'outcome'], registers: [mine] });
    const ok = c.bound({ method: 'Poll', outcome: 'ok' });
    expect(await mine.metrics()).toContain('r_total{method="Poll",outcome="ok"} 0');
    for (let i = 0; i < 5; i++) ok.inc();
    c.inc({ method: 'Poll', outcome: 'NOT_FOUND' });
    expect(await mine.metrics()).toMatch(/r_total\{method="Poll",outcome="ok"\} 5\n/);
    ok.inc();
    ok.inc();
    const values = (await c.get()).values.map((v) => `${v.labels.outcome} ${v.value}`);
    expect(values).toEqual(['ok 7', 'NOT_FOUND 1']);
    expect(() => c.bound({ method: 'Poll', nope: 'x' } as { method: string })).toThrow(/nope/);
  });
});
