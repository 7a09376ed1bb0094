/**
 * Reads that do not wait on a hung region. Each region, in order of preference, gets an
 * attempt; an attempt has "answered" when its first bytes arrived.
 *  - Hedge: when an attempt has not answered within `hedgeDelayMs`, the next region starts as
 *    well. The first attempt to deliver a whole result wins; the others are aborted.
 *  - First-byte timeout: an attempt that has not answered within `firstByteTimeoutMs` is
 *    abandoned (aborted) and counts as that region's failure.
 *  - A failed attempt starts the next region at once, unless another one is already delivering.
 * Verification stays with the caller's attempt (a result is whole and verified, or a failure).
 * Used by payload fetches (fetch.ts) and fallback snapshot reads (fallback.ts).
 */
import { ImprintError, InvalidArgumentError } from '../core/index.js';

export interface ReadOptions {
  /** Start the next region as well when one has given no first byte within this (ms; ≥ firstByteTimeoutMs: no hedging). @default 1000 */
  readonly hedgeDelayMs?: number;
  /** Abandon a region that has given no first byte within this (ms), and try the next. @default 5000 */
  readonly firstByteTimeoutMs?: number;
}

export const READ_DEFAULTS: Readonly<Required<ReadOptions>> = { hedgeDelayMs: 1000, firstByteTimeoutMs: 5000 };

/** Fills and checks ReadOptions; `names` are the caller's names for the two fields (the CLI's flags). */
export function readOptionsWithDefaults(o: ReadOptions, names: Readonly<Record<keyof ReadOptions, string>> = { hedgeDelayMs: 'hedgeDelayMs', firstByteTimeoutMs: 'firstByteTimeoutMs' }): Required<ReadOptions> {
  const hedgeDelayMs = o.hedgeDelayMs ?? READ_DEFAULTS.hedgeDelayMs;
  if (!Number.isInteger(hedgeDelayMs) || hedgeDelayMs < 0 || hedgeDelayMs > 600_000) throw new InvalidArgumentError(names.hedgeDelayMs, 'must be a whole number of milliseconds from 0 to 600000', hedgeDelayMs);
  const firstByteTimeoutMs = o.firstByteTimeoutMs ?? READ_DEFAULTS.firstByteTimeoutMs;
  if (!Number.isInteger(firstByteTimeoutMs) || firstByteTimeoutMs < 1 || firstByteTimeoutMs > 600_000) {
    throw new InvalidArgumentError(names.firstByteTimeoutMs, 'must be a whole number of milliseconds from 1 to 600000', firstByteTimeoutMs);
  }
  return { hedgeDelayMs, firstByteTimeoutMs };
}

/** A region that was slow to answer: the next one was started beside it (hedged), or it was dropped (abandoned). */
export interface SlowRegionEvent {
  readonly region: string;
  readonly outcome: 'hedged' | 'abandoned';
  /** How long it had been silent. */
  readonly afterMs: number;
  /** What was being read ("model v42", "the fallback snapshot"). */
  readonly what: string;
}

/** A region gave no first byte within the first-byte timeout. */
export class RegionTimeoutError extends ImprintError {
  constructor(region: string, ms: number) {
    super('UNAVAILABLE', `region ${region} gave no first byte within ${ms} ms; abandoned`);
  }
}

export interface AttemptContext {
  /** Aborted when the attempt is abandoned, loses to another region, or the caller aborts. */
  readonly signal: AbortSignal;
  /** Call when the first bytes arrived: stops the hedge and first-byte timers. */
  answered(): void;
}

export interface RegionFailure {
  readonly region: string;
  readonly error: unknown;
}

export interface HedgeOptions extends Required<ReadOptions> {
  readonly what: string;
  readonly signal?: AbortSignal;
  readonly onSlowRegion?: (e: SlowRegionEvent) => void;
}

interface Running {
  answered: boolean;
  readonly controller: AbortController;
}

/**
 * The value of the first attempt to succeed, or every region's failure. Returns only once
 * every other attempt has settled (aborted ones clean up first).
 * @throws the caller's abort reason when `o.signal` aborts.
 */
export async function firstToDeliver<S, T>(
  sources: readonly S[],
  regionOf: (source: S) => string,
  attempt: (source: S, ctx: AttemptContext) => Promise<T>,
  o: HedgeOptions,
): Promise<{ readonly value: T } | { readonly failures: readonly RegionFailure[] }> {
  o.signal?.throwIfAborted();
  if (sources.length === 0) return { failures: [] };
  const failures: RegionFailure[] = [];
  const running = new Set<Running>();
  const settled: Promise<void>[] = [];
  let next = 0;
  let done = false;
  let settle!: (r: { value: T } | { failures: RegionFailure[] } | undefined) => void;
  const outcome = new Promise<{ value: T } | { failures: RegionFailure[] } | undefined>((resolve) => (settle = resolve));
  const finish = (r: { value: T } | { failures: RegionFailure[] } | undefined, reason: unknown): void => {
    if (done) return;
    done = true;
    for (const a of running) a.controller.abort(reason);
    settle(r);
  };
  const onCallerAbort = (): void => finish(undefined, o.signal?.reason);
  o.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const start = (): void => {
    const source = sources[next];
    if (done || source === undefined) return;
    next++;
    const region = regionOf(source);
    const a: Running = { answered: false, controller: new AbortController() };
    running.add(a);
    const stillSilent = (): boolean => !a.answered && !done;
    const hedge = setTimeout(() => {
      if (!stillSilent()) return;
      o.onSlowRegion?.({ region, outcome: 'hedged', afterMs: o.hedgeDelayMs, what: o.what });
      start();
    }, o.hedgeDelayMs);
    const abandon = setTimeout(() => {
      if (!stillSilent()) return;
      o.onSlowRegion?.({ region, outcome: 'abandoned', afterMs: o.firstByteTimeoutMs, what: o.what });
      a.controller.abort(new RegionTimeoutError(region, o.firstByteTimeoutMs));
    }, o.firstByteTimeoutMs);
    const stopTimers = (): void => {
      clearTimeout(hedge);
      clearTimeout(abandon);
    };
    const ctx: AttemptContext = {
      signal: a.controller.signal,
      answered: () => {
        a.answered = true;
        stopTimers();
      },
    };
    settled.push(
      attempt(source, ctx).then(
        (value) => {
          stopTimers();
          running.delete(a);
          finish({ value }, new Error(`another region delivered ${o.what} first`));
        },
        (err: unknown) => {
          stopTimers();
          running.delete(a);
          if (done) return;
          const reason: unknown = a.controller.signal.reason;
          failures.push({ region, error: reason instanceof RegionTimeoutError ? reason : err });
          if (![...running].some((r) => r.answered)) start();
          if (running.size === 0) finish({ failures }, undefined);
        },
      ),
    );
  };

  start();
  const r = await outcome;
  o.signal?.removeEventListener('abort', onCallerAbort);
  await Promise.allSettled(settled);
  if (r === undefined) throw o.signal?.reason;
  return r;
}
