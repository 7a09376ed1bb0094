/**
 * The client half of throttling, against a real grpc-js server on 127.0.0.1: the ImprintClient
 * names its application on every request (`app` option, `x-imprint-app`), a RESOURCE_EXHAUSTED
 * answer reaches the caller as a ResourceExhaustedError carrying the server's retry hint, and a
 * throttled Subscriber waits at least that hint before it polls again.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ImprintClient, Subscriber } from '../../client/index.js';
import { InvalidArgumentError, ResourceExhaustedError } from '../../core/index.js';
import { loadImprintProto } from '../../proto/loader.js';
import { APP_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import { silentLogger } from '../../log/index.js';
import {
  ConcurrencyLimiter,
  ImprintService,
  Poller,
  SqliteMetadataStore,
  StorePollSource,
  appFromCall,
  consumerHandlers,
  operatorHandlers,
  publisherHandlers,
  throttledUnary,
  type LimiterOptions,
} from '../../server/index.js';
import { MemoryAuditSink, MemoryPollObserver, directPointer, identity, tempDir } from '../helpers.js';

type Unary = grpc.handleUnaryCall<unknown, unknown>;

/** What the server saw of one call: when it arrived, the application it named, and how it was answered. */
interface Arrival {
  readonly method: string;
  readonly app: string | undefined;
  /** performance.now() at arrival (same process as the client). */
  readonly at: number;
  code?: grpc.status;
  /** The `x-imprint-retry-after-ms` trailer of the answer, if any. */
  hintMs?: number;
}

/** A RESOURCE_EXHAUSTED to answer instead of running the handler: the hint in the trailer, the message, both or neither. */
interface Refusal {
  readonly trailerMs?: number;
  readonly messageMs?: number;
}

interface Harness {
  readonly address: string;
  readonly service: ImprintService;
  readonly arrivals: Arrival[];
  /** The next calls of `method` are refused, one per refusal, before any real handler runs. */
  refuseNext(method: string, ...refusals: Refusal[]): void;
  /** Consumer.Poll and BatchPoll wait for this before answering (when `gatePolls` was set). */
  releasePolls(): void;
  readonly limiter: ConcurrencyLimiter | undefined;
  /** A client of this server, closed by stop(). */
  client(opts?: { app?: string }): ImprintClient;
  stop(): Promise<void>;
}

/**
 * The real Publisher, Consumer and Operator handlers over ImprintService, the Poller and SQLite, each
 * wrapped to record its arrivals. With `limiter`, Poll and BatchPoll go through the real
 * throttling wrapper (throttledUnary, per appFromCall); with `gatePolls`, they hold until
 * releasePolls(), so a caller keeps its slot.
 */
async function startHarness(opts: { limiter?: LimiterOptions; gatePolls?: boolean } = {}): Promise<Harness> {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  const audit = new MemoryAuditSink();
  const service = new ImprintService({ store, audit });
  const poller = new Poller({ source: new StorePollSource(store), observer: new MemoryPollObserver() });
  const arrivals: Arrival[] = [];
  const refusals = new Map<string, Refusal[]>();
  const limiter = opts.limiter ? new ConcurrencyLimiter(opts.limiter) : undefined;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  const recorded = (method: string, h: Unary): Unary => (call, callback) => {
    const app = call.metadata.get(APP_METADATA_KEY)[0];
    const arrival: Arrival = { method, app: typeof app === 'string' ? app : undefined, at: performance.now() };
    arrivals.push(arrival);
    const answer: grpc.sendUnaryData<unknown> = (err, value, trailer, flags) => {
      arrival.code = err?.code ?? grpc.status.OK;
      const hint = err?.metadata?.get(RETRY_AFTER_METADATA_KEY)[0];
      if (hint !== undefined) arrival.hintMs = Number(hint);
      callback(err, value, trailer, flags);
    };
    const refusal = refusals.get(method)?.shift();
    if (refusal) {
      const metadata = new grpc.Metadata();
      if (refusal.trailerMs !== undefined) metadata.set(RETRY_AFTER_METADATA_KEY, String(refusal.trailerMs));
      const details = `application "${arrival.app ?? '?'}" is over its concurrency limit${refusal.messageMs === undefined ? '' : `; retry after ${refusal.messageMs} ms`}`;
      answer({ code: grpc.status.RESOURCE_EXHAUSTED, details, metadata });
      return;
    }
    h(call, answer);
  };
  const gated = (h: Unary): Unary => (call, callback) => {
    void released.then(() => h(call, callback));
  };
  const wrapAll = <H extends object>(handlers: H, polls = false): H =>
    Object.fromEntries(
      Object.entries(handlers).map(([method, h]: [string, Unary]) => {
        let out = h;
        if (polls && (method === 'Poll' || method === 'BatchPoll')) {
          if (opts.gatePolls) out = gated(out);
          if (limiter) out = throttledUnary(limiter, appFromCall, out);
        }
        return [method, recorded(method, out)];
      }),
    ) as H;

  const { proto } = loadImprintProto();
  const server = new grpc.Server();
  server.addService(proto.imprint.v1.PublisherService.service, wrapAll(publisherHandlers(service, silentLogger)));
  server.addService(proto.imprint.v1.ConsumerService.service, wrapAll(consumerHandlers(service, poller, silentLogger), true));
  server.addService(proto.imprint.v1.OperatorService.service, wrapAll(operatorHandlers(service, silentLogger)));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;
  const clients: ImprintClient[] = [];
  return {
    address,
    service,
    arrivals,
    limiter,
    refuseNext(method, ...more) {
      refusals.set(method, [...(refusals.get(method) ?? []), ...more]);
    },
    releasePolls: () => release(),
    client(o = {}) {
      const c = new ImprintClient({ address, deadlineMs: 5_000, ...o });
      clients.push(c);
      return c;
    },
    async stop() {
      release();
      for (const c of clients) c.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Counts the Publisher stubs ImprintClient builds (the first thing it builds, and the owner
 * of the channel the other two share) until restore().
 */
function countPublisherStubs(): { made: () => number; restore: () => void } {
  const v1 = loadImprintProto().proto.imprint.v1;
  const original = v1.PublisherService;
  let made = 0;
  class Counting extends original {
    constructor(...args: ConstructorParameters<typeof original>) {
      super(...args);
      made++;
    }
  }
  v1.PublisherService = Counting as typeof original;
  return { made: () => made, restore: () => void (v1.PublisherService = original) };
}

/** The error `p` rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('ImprintClient and Subscriber against a throttling server', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
    const h = await startHarness(opts);
    cleanups.push(() => h.stop());
    return h;
  }

  async function seed(h: Harness, topic = 'model', text = 'v1'): Promise<void> {
    await h.service.createTopic({ name: topic, owner: 'o', description: '', retention: {} });
    await h.service.publish({ topic, metadata: {}, pointer: directPointer(text), scopes: [{}] });
  }

  describe('the app option', () => {
    it('names the application as x-imprint-app on Publisher, Consumer (Poll, BatchPoll) and Operator calls; without it, none is sent', async () => {
      const h = await harness();
      const c = h.client({ app: 'scorer' });
      expect(c.app).toBe('scorer');
      // The request's identity names another application: the metadata is the option's, not the identity's.
      const who = identity({ app: 'from-identity' });
      await c.createTopic({ name: 'model' });
      await c.publishPointer('model', directPointer('v1'), { scopes: [{}] });
      expect((await c.poll('model', who, 0n)).record?.version).toBe(1n);
      expect((await c.batchPoll(who, [{ topic: 'model', lastSeen: 0n }])).map((r) => r.record?.version)).toEqual([1n]);
      await c.getTopic('model');
      expect(await c.listPins('model')).toEqual([]);
      expect(h.arrivals.map((a) => [a.method, a.app])).toEqual([
        ['CreateTopic', 'scorer'],
        ['Publish', 'scorer'],
        ['Poll', 'scorer'],
        ['BatchPoll', 'scorer'],
        ['GetTopic', 'scorer'],
        ['ListPins', 'scorer'],
      ]);

      const plain = h.client();
      expect(plain.app).toBeUndefined();
      h.arrivals.length = 0;
      await plain.getTopic('model');
      await plain.poll('model', who, 0n);
      await plain.listPins('model');
      expect(h.arrivals.map((a) => [a.method, a.app])).toEqual([
        ['GetTopic', undefined],
        ['Poll', undefined],
        ['ListPins', undefined],
      ]);
    });

    it.each<[string, string]>([
      ['empty', ''],
      ['a space', 'has space'],
      ['a tab', 'tab\there'],
      ['a newline', 'line\nbreak'],
      ['a comma', 'a,b'],
      ['an equals sign', 'a=b'],
      ['over 256 characters', 'x'.repeat(257)],
    ])('refuses an app with %s, naming the field and the rule, before any channel exists', (_what, app) => {
      const stubs = countPublisherStubs();
      cleanups.push(async () => stubs.restore());
      const err = (() => {
        try {
          new ImprintClient({ address: '127.0.0.1:1', app });
        } catch (e) {
          return e;
        }
        throw new Error('expected the constructor to throw');
      })();
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'app', rule: 'must be 1-256 characters without whitespace, "," or "="' });
      expect((err as Error).message).toMatch(/^app must be 1-256 characters without whitespace/);
      expect(stubs.made()).toBe(0);
    });

    it('accepts a 256-character name (and the stub counter above does see a channel being made)', () => {
      const stubs = countPublisherStubs();
      cleanups.push(async () => stubs.restore());
      const c = new ImprintClient({ address: '127.0.0.1:1', app: 'x'.repeat(256) });
      cleanups.push(async () => c.close());
      expect(c.app).toHaveLength(256);
      expect(stubs.made()).toBe(1);
    });
  });

  describe('RESOURCE_EXHAUSTED', () => {
    it('reaches the caller of poll and batchPoll as a ResourceExhaustedError carrying the retry hint and the gRPC cause', async () => {
      const h = await harness();
      await seed(h);
      const c = h.client({ app: 'scorer' });
      const who = identity({ app: 'scorer' });

      h.refuseNext('Poll', { trailerMs: 300 }, { messageMs: 75 }, {});
      const fromTrailer = await rejection(c.poll('model', who, 0n));
      expect(fromTrailer).toBeInstanceOf(ResourceExhaustedError);
      expect(fromTrailer).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryAfterMs: 300, message: 'application "scorer" is over its concurrency limit' });
      expect((fromTrailer as Error).cause).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
      // No trailer: the hint in the message; neither: no hint.
      expect(await rejection(c.poll('model', who, 0n))).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryAfterMs: 75 });
      const none = await rejection(c.poll('model', who, 0n));
      expect(none).toBeInstanceOf(ResourceExhaustedError);
      expect((none as ResourceExhaustedError).retryAfterMs).toBeUndefined();

      h.refuseNext('BatchPoll', { trailerMs: 300 });
      const batch = await rejection(c.batchPoll(who, [{ topic: 'model', lastSeen: 0n }]));
      expect(batch).toBeInstanceOf(ResourceExhaustedError);
      expect((batch as ResourceExhaustedError).retryAfterMs).toBe(300);
      // Refusals spent: served again.
      expect((await c.poll('model', who, 0n)).record?.version).toBe(1n);
      expect(h.arrivals.filter((a) => a.method === 'Poll').map((a) => a.code)).toEqual([
        grpc.status.RESOURCE_EXHAUSTED,
        grpc.status.RESOURCE_EXHAUSTED,
        grpc.status.RESOURCE_EXHAUSTED,
        grpc.status.OK,
      ]);
    });

    it('end to end through throttledUnary: the app option decides whose share a call counts against, and the refusal carries the limiter hint', async () => {
      const h = await harness({ limiter: { initialLimit: 1, minLimit: 1, maxLimit: 1, minRetryAfterMs: 40 }, gatePolls: true });
      await seed(h);
      // Both clients send the same identity.app; only the app option tells them apart.
      const who = identity({ app: 'shared' });
      const scorer = h.client({ app: 'scorer' });
      const ranker = h.client({ app: 'ranker' });
      const held = scorer.poll('model', who, 0n);
      await vi.waitFor(() => expect(h.limiter?.state('scorer')?.inflight).toBe(1));

      const err = await rejection(scorer.poll('model', who, 0n));
      expect(err).toBeInstanceOf(ResourceExhaustedError);
      const hint = (err as ResourceExhaustedError).retryAfterMs;
      expect(hint).toBeGreaterThanOrEqual(40);
      expect((err as Error).message).toMatch(new RegExp(`^application "scorer" is over .*; retry after ${hint} ms$`));
      // Another application has its own share: admitted (it waits on the same gate, it is not refused).
      const other = ranker.poll('model', who, 0n);
      await vi.waitFor(() => expect(h.limiter?.state('ranker')?.inflight).toBe(1));

      h.releasePolls();
      expect((await held).record?.version).toBe(1n);
      expect((await other).record?.version).toBe(1n);
      expect(h.arrivals.filter((a) => a.method === 'Poll').map((a) => [a.app, a.code, a.hintMs])).toEqual([
        ['scorer', grpc.status.OK, undefined],
        ['scorer', grpc.status.RESOURCE_EXHAUSTED, hint],
        ['ranker', grpc.status.OK, undefined],
      ]);
      expect(h.limiter?.state('scorer')?.throttled).toBe(1);
    });
  });

  describe('a throttled Subscriber', () => {
    /** A subscriber whose own backoff is short (10-20 ms), so any longer wait is the server's hint. */
    function subscriber(h: Harness, retry = { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 30_000 }): Subscriber {
      const s = new Subscriber({
        client: h.client({ app: 'scorer' }),
        identity: identity({ app: 'scorer' }),
        intervalMs: 600_000, // one tick: the first poll and its retries
        startupBudgetMs: 20_000,
        retry,
      });
      cleanups.push(() => s.close());
      return s;
    }

    const batchPolls = (h: Harness) => h.arrivals.filter((a) => a.method === 'BatchPoll');

    it('polls again no sooner than the hint, then swaps the update in', async () => {
      const hintMs = 400;
      const h = await harness();
      await seed(h);
      h.refuseNext('BatchPoll', { trailerMs: hintMs });
      const s = subscriber(h);
      const failed: unknown[] = [];
      s.on('poll-failed', (e: unknown) => failed.push(e));
      const sub = s.subscribe('model', { decode: (b) => b.toString() });
      await sub.ready();
      expect(sub.current).toBe('v1');
      expect(sub.version).toBe(1n);
      const [first, second, ...rest] = batchPolls(h);
      expect(rest).toEqual([]);
      expect(first).toMatchObject({ app: 'scorer', code: grpc.status.RESOURCE_EXHAUSTED, hintMs });
      expect(second).toMatchObject({ app: 'scorer', code: grpc.status.OK });
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(hintMs - 20);
      expect(failed).toEqual([]);
    });

    it('control: without a hint the retry comes after the short backoff only, sooner than the hint would have allowed', async () => {
      const h = await harness();
      await seed(h);
      h.refuseNext('BatchPoll', {});
      const s = subscriber(h);
      const sub = s.subscribe('model', { decode: (b) => b.toString() });
      await sub.ready();
      expect(sub.current).toBe('v1');
      const [first, second] = batchPolls(h);
      expect(first).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
      expect(first?.hintMs).toBeUndefined();
      expect(second).toMatchObject({ code: grpc.status.OK });
      expect(second!.at - first!.at).toBeLessThan(400);
    });

    it('believes a hint only up to its maxTimeoutMs', async () => {
      const h = await harness();
      await seed(h);
      h.refuseNext('BatchPoll', { trailerMs: 600_000 });
      const s = subscriber(h, { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 50 });
      const sub = s.subscribe('model', { decode: (b) => b.toString() });
      await sub.ready(); // within the 20 s start-up budget, so not the 600 s hint
      expect(sub.current).toBe('v1');
      expect(batchPolls(h).map((a) => a.code)).toEqual([grpc.status.RESOURCE_EXHAUSTED, grpc.status.OK]);
    });

    it('close() cuts a hint wait short and polls no more', async () => {
      const h = await harness();
      await seed(h);
      h.refuseNext('BatchPoll', { trailerMs: 20_000 });
      const s = subscriber(h);
      const failed: unknown[] = [];
      s.on('poll-failed', (e: unknown) => failed.push(e));
      const sub = s.subscribe('model', { decode: (b) => b.toString(), defaultValue: 'none' });
      await vi.waitFor(() => expect(batchPolls(h)).toHaveLength(1));
      const closed = await Promise.race([s.close().then(() => 'closed'), new Promise((r) => setTimeout(r, 5_000, 'still waiting'))]);
      expect(closed).toBe('closed');
      expect(batchPolls(h)).toHaveLength(1);
      expect(failed).toHaveLength(1);
      expect(sub.current).toBe('none');
    });

    it('after the last retry it reports the failure without waiting out the hint', async () => {
      const h = await harness();
      await seed(h);
      h.refuseNext('BatchPoll', { trailerMs: 20_000 });
      const s = subscriber(h, { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 30_000 });
      const failed = new Promise<{ error: unknown }>((resolve) => s.once('poll-failed', resolve));
      s.subscribe('model', { decode: (b) => b.toString(), defaultValue: 'none' });
      const outcome = await Promise.race([failed, new Promise((r) => setTimeout(r, 5_000, 'still waiting'))]);
      expect(outcome).toMatchObject({ error: { code: 'RESOURCE_EXHAUSTED', retryAfterMs: 20_000 } });
      expect(batchPolls(h)).toHaveLength(1);
    });
  });
});
