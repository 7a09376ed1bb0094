/** firstToDeliver (client/hedge.ts): hedging, first-byte timeouts and failures, with attempts the test controls. */
import { describe, expect, it } from 'vitest';
import { RegionTimeoutError, firstToDeliver, readOptionsWithDefaults, type AttemptContext, type SlowRegionEvent } from '../../client/hedge.js';
import { InvalidArgumentError } from '../../core/index.js';

/** How a fake region behaves once asked. */
type Behaviour =
  | { readonly kind: 'deliver'; readonly value: string } // answers and delivers at once
  | { readonly kind: 'fail'; readonly error: Error } // fails at once
  | { readonly kind: 'silent' } // never answers; ends only when aborted
  | { readonly kind: 'answer-then-fail'; readonly error: Error } // answers, then fails mid-body
  | { readonly kind: 'answer-then-wait'; readonly release: Promise<string> }; // answers, delivers when released

interface Region {
  readonly name: string;
  readonly behaviour: Behaviour;
}

function harness(regions: Region[], timing = { hedgeDelayMs: 30, firstByteTimeoutMs: 400 }, signal?: AbortSignal) {
  const started: string[] = [];
  const aborted: string[] = [];
  const events: SlowRegionEvent[] = [];
  const whenAborted = (name: string, s: AbortSignal): Promise<never> =>
    new Promise((_, reject) =>
      s.addEventListener('abort', () => {
        aborted.push(name);
        reject(s.reason as Error);
      }),
    );
  const attempt = async (r: Region, ctx: AttemptContext): Promise<string> => {
    started.push(r.name);
    const b = r.behaviour;
    switch (b.kind) {
      case 'deliver':
        ctx.answered();
        return b.value;
      case 'fail':
        throw b.error;
      case 'silent':
        return whenAborted(r.name, ctx.signal);
      case 'answer-then-fail':
        ctx.answered();
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw b.error;
      case 'answer-then-wait':
        ctx.answered();
        return Promise.race([b.release, whenAborted(r.name, ctx.signal)]);
    }
  };
  const run = () => firstToDeliver(regions, (r) => r.name, attempt, { ...timing, what: 'model v1', onSlowRegion: (e) => events.push(e), ...(signal && { signal }) });
  return { run, started, aborted, events };
}

const deliver = (value: string): Behaviour => ({ kind: 'deliver', value });
const fail = (message: string): Behaviour => ({ kind: 'fail', error: new Error(message) });
const silent: Behaviour = { kind: 'silent' };

describe('firstToDeliver', () => {
  it('a region that answers is the only one asked', async () => {
    const h = harness([
      { name: 'east', behaviour: deliver('from east') },
      { name: 'west', behaviour: deliver('from west') },
    ]);
    expect(await h.run()).toEqual({ value: 'from east' });
    expect(h.started).toEqual(['east']);
    expect(h.events).toEqual([]);
  });

  it('a silent region gets the next one started beside it after the hedge delay; the winner aborts it', async () => {
    const h = harness([
      { name: 'east', behaviour: silent },
      { name: 'west', behaviour: deliver('from west') },
    ]);
    expect(await h.run()).toEqual({ value: 'from west' });
    expect(h.started).toEqual(['east', 'west']);
    expect(h.aborted).toEqual(['east']);
    expect(h.events).toEqual([{ region: 'east', outcome: 'hedged', afterMs: 30, what: 'model v1' }]);
  });

  it('hedges down the list while regions stay silent', async () => {
    const h = harness([
      { name: 'a', behaviour: silent },
      { name: 'b', behaviour: silent },
      { name: 'c', behaviour: deliver('from c') },
    ]);
    expect(await h.run()).toEqual({ value: 'from c' });
    expect(h.started).toEqual(['a', 'b', 'c']);
    expect([...h.aborted].sort()).toEqual(['a', 'b']);
    expect(h.events.map((e) => [e.region, e.outcome])).toEqual([
      ['a', 'hedged'],
      ['b', 'hedged'],
    ]);
  });

  it('a region that fails starts the next at once, without waiting for the hedge', async () => {
    const h = harness(
      [
        { name: 'east', behaviour: fail('refused') },
        { name: 'west', behaviour: deliver('from west') },
      ],
      { hedgeDelayMs: 60_000, firstByteTimeoutMs: 60_000 },
    );
    expect(await h.run()).toEqual({ value: 'from west' });
    expect(h.events).toEqual([]);
  });

  it('without hedging, a region silent past the first-byte timeout is abandoned and the next tried', async () => {
    const h = harness(
      [
        { name: 'east', behaviour: silent },
        { name: 'west', behaviour: deliver('from west') },
      ],
      { hedgeDelayMs: 60_000, firstByteTimeoutMs: 40 },
    );
    expect(await h.run()).toEqual({ value: 'from west' });
    expect(h.events).toEqual([{ region: 'east', outcome: 'abandoned', afterMs: 40, what: 'model v1' }]);
    expect(h.aborted).toEqual(['east']);
  });

  it('every region failing gives each failure, a silent one as a RegionTimeoutError', async () => {
    const h = harness(
      [
        { name: 'east', behaviour: silent },
        { name: 'west', behaviour: fail('west broke') },
      ],
      { hedgeDelayMs: 10, firstByteTimeoutMs: 60 },
    );
    const r = await h.run();
    expect('failures' in r).toBe(true);
    const failures = 'failures' in r ? r.failures : [];
    expect(failures.map((f) => f.region)).toEqual(['west', 'east']);
    expect(failures[1]?.error).toBeInstanceOf(RegionTimeoutError);
    expect((failures[1]?.error as Error).message).toBe('region east gave no first byte within 60 ms; abandoned');
    expect((failures[0]?.error as Error).message).toBe('west broke');
  });

  it('a region that answered is not hedged, and when it fails mid-body the next is started', async () => {
    let release!: (v: string) => void;
    const slowBody = harness([
      { name: 'east', behaviour: { kind: 'answer-then-wait', release: new Promise<string>((r) => (release = r)) } },
      { name: 'west', behaviour: deliver('from west') },
    ]);
    const running = slowBody.run();
    await new Promise((r) => setTimeout(r, 100)); // past the 30 ms hedge delay
    release('from east');
    expect(await running).toEqual({ value: 'from east' });
    expect(slowBody.started).toEqual(['east']);

    const broken = harness([
      { name: 'east', behaviour: { kind: 'answer-then-fail', error: new Error('reset mid-body') } },
      { name: 'west', behaviour: deliver('from west') },
    ]);
    expect(await broken.run()).toEqual({ value: 'from west' });
    expect(broken.started).toEqual(['east', 'west']);
  });

  it("the caller's abort ends every attempt and is thrown", async () => {
    const abort = new AbortController();
    const h = harness(
      [
        { name: 'east', behaviour: silent },
        { name: 'west', behaviour: silent },
      ],
      { hedgeDelayMs: 5, firstByteTimeoutMs: 60_000 },
      abort.signal,
    );
    const running = h.run();
    while (h.started.length < 2) await new Promise((r) => setTimeout(r, 5));
    abort.abort(new Error('caller gave up'));
    await expect(running).rejects.toThrow('caller gave up');
    expect([...h.aborted].sort()).toEqual(['east', 'west']);
  });

  it('no regions: no value, no failures', async () => {
    expect(await harness([]).run()).toEqual({ failures: [] });
  });
});

describe('readOptionsWithDefaults', () => {
  it('defaults to a 1 s hedge and a 5 s first-byte timeout', () => {
    expect(readOptionsWithDefaults({})).toEqual({ hedgeDelayMs: 1000, firstByteTimeoutMs: 5000 });
  });

  it.each([
    [{ hedgeDelayMs: -1 }, 'hedgeDelayMs'],
    [{ hedgeDelayMs: 1.5 }, 'hedgeDelayMs'],
    [{ firstByteTimeoutMs: 0 }, 'firstByteTimeoutMs'],
    [{ firstByteTimeoutMs: 600_001 }, 'firstByteTimeoutMs'],
  ])('refuses %j, naming %s', (o, field) => {
    expect(() => readOptionsWithDefaults(o)).toThrow(InvalidArgumentError);
    expect(() => readOptionsWithDefaults(o)).toThrow(new RegExp(`^${field} must be a whole number of milliseconds`));
  });

  it("speaks the caller's names", () => {
    expect(() => readOptionsWithDefaults({ hedgeDelayMs: -1 }, { hedgeDelayMs: 'hedge-delay-ms', firstByteTimeoutMs: 'first-byte-timeout-ms' })).toThrow(/^hedge-delay-ms must/);
  });
});
