/** The gRPC plumbing of throttling: which application a call counts against, and the wrapped handler. */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { APP_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import { ConcurrencyLimiter, UNKNOWN_APP, appFromCall, batchPollWeight, consumeMetrics, guardConsumerHandlers, throttledUnary } from '../../server/index.js';
import type { ConsumerServiceHandlers } from '../../proto/gen/imprint/v1/ConsumerService.js';

interface Req {
  readonly identity?: { readonly app?: unknown } | null;
}

interface Answer {
  readonly err: Partial<grpc.StatusObject> | null;
  readonly value?: string | null;
  readonly trailer?: grpc.Metadata;
}

function metadata(app?: string): grpc.Metadata {
  const m = new grpc.Metadata();
  if (app !== undefined) m.set(APP_METADATA_KEY, app);
  return m;
}

/** The parts of a ServerUnaryCall the wrapper reads. */
function call(request: Req, app?: string, cancelled = false): grpc.ServerUnaryCall<Req, string> {
  // A test double: only metadata, request and cancelled are read.
  return { metadata: metadata(app), request, cancelled } as unknown as grpc.ServerUnaryCall<Req, string>;
}

function invoke(h: grpc.handleUnaryCall<Req, string>, c: grpc.ServerUnaryCall<Req, string>): Answer[] {
  const answers: Answer[] = [];
  h(c, (err, value, trailer) => answers.push({ err, ...(value !== undefined && { value }), ...(trailer && { trailer }) }));
  return answers;
}

describe('appFromCall', () => {
  it.each<[string, Req, string | undefined, string]>([
    ['metadata wins', { identity: { app: 'from-identity' } }, 'from-metadata', 'from-metadata'],
    ['identity.app without metadata', { identity: { app: 'scorer' } }, undefined, 'scorer'],
    ['metadata that is not a valid name is ignored', { identity: { app: 'scorer' } }, 'has space', 'scorer'],
    ['an empty identity.app', { identity: { app: '' } }, undefined, UNKNOWN_APP],
    ['no identity at all', {}, undefined, UNKNOWN_APP],
    ['an identity.app that is not a string', { identity: { app: 42 } }, undefined, UNKNOWN_APP],
  ])('%s', (_what, request, app, expected) => {
    expect(appFromCall(call(request, app))).toBe(expected);
  });
});

describe('throttledUnary', () => {
  function setup() {
    const clock = { now: 0 };
    const limiter = new ConcurrencyLimiter({ clock: () => clock.now, initialLimit: 4, minLimit: 1, maxLimit: 4, backoffRatio: 0.5, minRetryAfterMs: 30 });
    const metrics = consumeMetrics({ limiter });
    const pending: grpc.sendUnaryData<string>[] = [];
    const handler: grpc.handleUnaryCall<Req, string> = (_c, cb) => pending.push(cb);
    const h = throttledUnary(limiter, appFromCall, handler, { metrics, clock: () => clock.now });
    return { clock, limiter, metrics, pending, h };
  }

  it('answers RESOURCE_EXHAUSTED with the hint in the trailing metadata and the message, and counts it', async () => {
    const { limiter, metrics, pending, h } = setup();
    for (let i = 0; i < 4; i++) expect(invoke(h, call({}, 'noisy'))).toEqual([]);
    const [answer] = invoke(h, call({}, 'noisy'));
    expect(answer?.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const hint = answer?.err?.metadata?.get(RETRY_AFTER_METADATA_KEY)[0];
    expect(hint).toBe('30');
    expect(answer?.err?.details).toBe('application "noisy" is over its concurrency limit (4 in flight, limit 4); retry after 30 ms');
    expect(pending).toHaveLength(4);
    expect(limiter.state('noisy')?.inflight).toBe(4);
    // Another application is not affected.
    expect(invoke(h, call({ identity: { app: 'quiet' } }))).toEqual([]);
    const throttled = await metrics.registry.getSingleMetric('imprint_consume_throttled_total')?.get();
    expect(throttled?.values).toEqual([{ labels: { app: 'noisy' }, value: 1 }]);
  });

  it('releases the slot when the handler answers, with its latency, backing off on failures only', () => {
    const { clock, limiter, pending, h } = setup();
    invoke(h, call({}, 'a'));
    clock.now = 7;
    pending.shift()?.(null, 'ok');
    expect(limiter.state('a')).toMatchObject({ inflight: 0, recentMs: 7, limit: 4 });
    invoke(h, call({}, 'a'));
    pending.shift()?.({ code: grpc.status.NOT_FOUND, details: 'no such topic' });
    expect(limiter.state('a')?.limit).toBe(4); // the caller's mistake is not overload
    invoke(h, call({}, 'a'));
    pending.shift()?.({ code: grpc.status.UNAVAILABLE, details: 'store down' });
    expect(limiter.state('a')).toMatchObject({ inflight: 0, limit: 2 });
  });

  it('answers INTERNAL and frees the slot when the handler throws', () => {
    const limiter = new ConcurrencyLimiter({ initialLimit: 1, minLimit: 1, maxLimit: 1 });
    const h = throttledUnary<Req, string>(limiter, appFromCall, () => {
      throw new Error('boom');
    });
    const [answer] = invoke(h, call({}, 'a'));
    expect(answer?.err).toMatchObject({ code: grpc.status.INTERNAL, details: 'internal error: boom' });
    expect(limiter.state('a')?.inflight).toBe(0);
  });

  it('does not run a call whose caller already went away', () => {
    const { limiter, pending, h } = setup();
    const [answer] = invoke(h, call({}, 'a', true));
    expect(answer?.err?.code).toBe(grpc.status.CANCELLED);
    expect(pending).toHaveLength(0);
    expect(limiter.state('a')).toBeUndefined();
  });
});

describe('guardConsumerHandlers: a BatchPoll weighs by its topics', () => {
  it.each([
    [0, 1],
    [1, 1],
    [8, 1],
    [9, 2],
    [200, 25],
    [500, 63],
  ])('%i topics weigh %i', (topics, weight) => {
    expect(batchPollWeight({ topics: Array.from({ length: topics }, () => ({ topic: 't', lastSeenVersion: '0', rejected: null })) })).toBe(weight);
  });

  it('charges a 200-topic BatchPoll 25 times what a 1-topic one costs against the application limit', () => {
    const limiter = new ConcurrencyLimiter({ clock: () => 0, initialLimit: 30, minLimit: 30, maxLimit: 30 });
    const pending: grpc.sendUnaryData<unknown>[] = [];
    const hold = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => void pending.push(cb);
    // Every method holds its call until the test answers it.
    const handlers = Object.fromEntries(['Poll', 'BatchPoll', 'GetVersion', 'ListVersions', 'GetLatestAt', 'GetTopic', 'ListTopics'].map((m) => [m, hold])) as unknown as ConsumerServiceHandlers;
    const guarded = guardConsumerHandlers(handlers, { limiter });
    const batch = (topics: number) => {
      const request = { identity: { app: 'scorer' }, topics: Array.from({ length: topics }, (_, i) => ({ topic: `t${i}`, lastSeenVersion: '0' })) };
      const answers: Answer[] = [];
      guarded.BatchPoll({ metadata: metadata(), request, cancelled: false } as unknown as Parameters<typeof guarded.BatchPoll>[0], (err) => answers.push({ err }));
      return answers;
    };
    expect(batch(1)).toEqual([]);
    expect(limiter.state('scorer')?.inflight).toBe(1);
    expect(batch(200)).toEqual([]);
    expect(limiter.state('scorer')?.inflight).toBe(26);
    // A second 200-topic BatchPoll is over the limit of 30; 1-topic ones still get in.
    expect(batch(200)[0]?.err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    for (let i = 0; i < 4; i++) expect(batch(1)).toEqual([]);
    expect(limiter.state('scorer')?.inflight).toBe(30);
    for (const cb of pending.splice(0)) cb(null, {});
    expect(limiter.state('scorer')?.inflight).toBe(0);
  });
});
