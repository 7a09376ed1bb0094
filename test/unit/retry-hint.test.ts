/** Reading the server's retry hint back from what a throttled call fails with, and waiting for it. */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryAfterMsOf, retryDelayFromHint, waitForRetryHint } from '../../client/retry-hint.js';
import { ImprintError, ResourceExhaustedError } from '../../core/index.js';
import { RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';

function serviceError(details: string, trailer?: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (trailer !== undefined) metadata.set(RETRY_AFTER_METADATA_KEY, trailer);
  return Object.assign(new Error(`8 RESOURCE_EXHAUSTED: ${details}`), { code: grpc.status.RESOURCE_EXHAUSTED, details, metadata });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('retry hints', () => {
  it.each<[string, unknown, number | undefined]>([
    ['trailing metadata', serviceError('over its share', '250'), 250],
    ['trailing metadata wins over the message', serviceError('retry after 99 ms', '250'), 250],
    ['the message when there is no trailer', serviceError('app "a" is over its limit; retry after 75 ms'), 75],
    ['an Imprint error wrapping the ServiceError', new ImprintError('RESOURCE_EXHAUSTED', 'throttled', { cause: serviceError('x', '40') }), 40],
    ['a typed error whose message carries it', new ResourceExhaustedError('application "a" is over its fair share (3 in flight, limit 3); retry after 31 ms'), 31],
    ['a retryAfterMs property', Object.assign(new ResourceExhaustedError('throttled'), { retryAfterMs: 500 }), 500],
    ['no hint', serviceError('over its share'), undefined],
    ['a trailer that is not a number', serviceError('x', 'soon'), undefined],
    ['a hint beyond a day is not believed', serviceError('x', '999999999'), undefined],
    ['not an error', 'retry after 5 ms', undefined],
  ])('%s', (_what, err, expected) => {
    expect(retryAfterMsOf(err)).toBe(expected);
  });

  it('adds jitter and caps the delay', () => {
    const err = serviceError('x', '1000');
    expect(retryDelayFromHint(err, { jitter: 0.2, random: () => 0.5 })).toBe(1100);
    expect(retryDelayFromHint(err, { jitter: 0.2, random: () => 0 })).toBe(1000);
    expect(retryDelayFromHint(err, { maxMs: 300, random: () => 0.5 })).toBe(300);
    expect(retryDelayFromHint(serviceError('x'))).toBeUndefined();
  });

  it('waits for the hint before resolving, and not at all without one or once aborted', async () => {
    vi.useFakeTimers();
    let done = false;
    const waiting = waitForRetryHint(serviceError('x', '200'), { jitter: 0 }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(199);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
    await waitForRetryHint(serviceError('no hint'));
    const ac = new AbortController();
    const aborted = waitForRetryHint(serviceError('x', '10000'), { signal: ac.signal });
    ac.abort();
    await aborted;
  });
});
