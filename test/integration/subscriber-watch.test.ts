/**
 * The Subscriber on Watch, against real servers: it watches by default (a publish is swapped
 * in with no poll due); against a server whose Watch is refused (UNIMPLEMENTED) or keeps
 * failing it falls back to BatchPoll, and goes back to Watch after `watch.pollForMs`; with
 * mode 'poll' it never watches; after a real `imprint serve` process is killed and started
 * again it resumes from the version it holds.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, NotServedError, Subscriber, type SubscriberOptions, type UpdatedEvent, type WatchFallbackEvent } from '../../client/index.js';
import { loadImprintProto } from '../../proto/loader.js';
import { silentLogger } from '../../log/index.js';
import {
  ImprintService,
  PollChangeHub,
  Poller,
  SqliteMetadataStore,
  StorePollSource,
  Watchers,
  consumerHandlers,
} from '../../server/index.js';
import { startServe } from '../cli-process.js';
import { MemoryAuditSink, MemoryPollObserver, directPointer, identity, startTestServer, tempDir, until } from '../helpers.js';

const text = (b: Buffer) => b.toString('utf8');

/** What a subscriber did: versions swapped in, fallbacks, and streams that gave their first answers. */
function observe(subscriber: Subscriber, topic: string, options: { decode: (b: Buffer) => string }) {
  const sub = subscriber.subscribe(topic, options);
  const seen = { versions: [] as bigint[], fallbacks: [] as WatchFallbackEvent[], watching: 0 };
  sub.on('updated', (e: UpdatedEvent<string>) => seen.versions.push(e.version));
  subscriber.on('watch-fallback', (e: WatchFallbackEvent) => seen.fallbacks.push(e));
  subscriber.on('watching', () => seen.watching++);
  return { sub, seen };
}

const refusal = (how: 'unimplemented' | 'unavailable'): Partial<grpc.StatusObject> =>
  how === 'unimplemented' ? { code: grpc.status.UNIMPLEMENTED, details: 'no Watch here' } : { code: grpc.status.UNAVAILABLE, details: 'Watch is failing' };

/**
 * An all-role server assembled by hand so its Watch can be refused (UNIMPLEMENTED) or failed
 * (UNAVAILABLE, ending open streams too) at will, counting the BatchPolls it answers.
 */
async function switchableServer() {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: `${dir}/imprint.db` });
  const audit = new MemoryAuditSink();
  const changes = new PollChangeHub();
  const service = new ImprintService({ store, audit, changes });
  const poller = new Poller({ source: new StorePollSource(store), observer: new MemoryPollObserver() });
  const watchers = new Watchers({ poller, changes });
  const handlers = consumerHandlers(service, poller, silentLogger, {}, watchers);
  const state = { watch: 'serve' as 'serve' | 'unimplemented' | 'unavailable', batchPolls: 0 };
  const open = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  const server = new grpc.Server();
  server.addService(loadImprintProto().proto.imprint.v1.ConsumerService.service, {
    ...handlers,
    BatchPoll: (call, callback) => {
      state.batchPolls++;
      handlers.BatchPoll(call, callback);
    },
    Watch: (call) => {
      if (state.watch !== 'serve') call.emit('error', refusal(state.watch));
      else {
        open.add(call as grpc.ServerWritableStream<unknown, unknown>);
        call.on('close', () => open.delete(call as grpc.ServerWritableStream<unknown, unknown>));
        handlers.Watch(call);
      }
    },
  } satisfies typeof handlers);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  await service.createTopic({ name: 'model', owner: 'o', description: '', retention: {} });
  return {
    address: `127.0.0.1:${port}`,
    state,
    publish: (t: string) => service.publish({ topic: 'model', metadata: {}, pointer: directPointer(t), scopes: [{}] }),
    /** Sets how Watch is answered from now on; a refusal also ends the streams open now with it. */
    setWatch(how: typeof state.watch) {
      state.watch = how;
      if (how !== 'serve') for (const call of open) call.emit('error', refusal(how));
    },
    async stop() {
      watchers.close();
      server.forceShutdown();
      await store.close();
    },
  };
}

describe('Subscriber on Watch', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function subscriberOf(address: string, opts: Partial<SubscriberOptions> = {}) {
    const client = new ImprintClient({ address, deadlineMs: 2_000 });
    const subscriber = new Subscriber({ client, identity: identity(), startupBudgetMs: 10_000, retry: { retries: 1, minTimeoutMs: 20, maxTimeoutMs: 200 }, ...opts });
    cleanups.push(async () => {
      await subscriber.close();
      client.close();
    });
    return subscriber;
  }

  it('watches by default: a publish is swapped in with no poll due', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.stop());
    await t.client.createTopic({ name: 'model', owner: 'o' });
    await t.client.publishPointer('model', directPointer('m1'));
    const subscriber = subscriberOf(t.address, { intervalMs: 600_000 });
    const { sub, seen } = observe(subscriber, 'model', { decode: text });
    await sub.ready();
    await until('the stream', () => seen.watching === 1);
    expect(subscriber.following).toBe('watch');
    await t.client.publishPointer('model', directPointer('m2'));
    await until('the swap', () => sub.current === 'm2');
    expect(seen.versions).toEqual([1n, 2n]);
    expect(await subscriber.registry.getSingleMetricAsString('imprint_client_watching')).toMatch(/imprint_client_watching 1$/m);
  });

  it('falls back to BatchPoll at once when Watch is not served, and goes back to Watch after pollForMs', async () => {
    const s = await switchableServer();
    cleanups.push(() => s.stop());
    await s.publish('m1');
    const subscriber = subscriberOf(s.address, { intervalMs: 100, watch: { pollForMs: 1_500 } });
    const { sub, seen } = observe(subscriber, 'model', { decode: text });
    const failures: unknown[] = [];
    subscriber.on('watch-failed', (e: { error: unknown }) => failures.push(e.error));
    await sub.ready();
    await until('the stream', () => seen.watching === 1);
    // The server no longer serves Watch (UNIMPLEMENTED): one failure is enough.
    s.setWatch('unimplemented');
    await until('the fallback', () => seen.fallbacks.length === 1);
    expect(failures).toHaveLength(1);
    expect(seen.fallbacks[0]?.error).toBeInstanceOf(NotServedError);
    expect(subscriber.following).toBe('poll');
    // Polling keeps it current.
    await s.publish('m2');
    await until('the polled swap', () => sub.current === 'm2');
    // Watch is served again: the subscriber watches once pollForMs is over, and stops polling.
    s.setWatch('serve');
    await until('the stream', () => seen.watching === 2);
    expect(subscriber.following).toBe('watch');
    const polls = s.state.batchPolls;
    await s.publish('m3');
    await until('the watched swap', () => sub.current === 'm3');
    expect(s.state.batchPolls).toBe(polls);
    expect(seen.versions).toEqual([1n, 2n, 3n]);
  });

  it('a subscription starting while Watch is not served starts from a BatchPoll', async () => {
    const s = await switchableServer();
    cleanups.push(() => s.stop());
    await s.publish('m1');
    s.setWatch('unimplemented');
    const subscriber = subscriberOf(s.address, { intervalMs: 600_000 });
    const { sub, seen } = observe(subscriber, 'model', { decode: text });
    await sub.ready();
    expect(sub.current).toBe('m1');
    expect(seen.fallbacks).toHaveLength(1);
    expect(s.state.batchPolls).toBe(1);
  });

  it(`falls back after ${3} stream failures within a minute, resuming from what it holds in between`, async () => {
    const s = await switchableServer();
    cleanups.push(() => s.stop());
    await s.publish('m1');
    const subscriber = subscriberOf(s.address, { intervalMs: 100, watch: { pollForMs: 600_000 } });
    const { sub, seen } = observe(subscriber, 'model', { decode: text });
    const failures: unknown[] = [];
    subscriber.on('watch-failed', (e: { error: unknown }) => failures.push(e.error));
    await sub.ready();
    await until('the stream', () => seen.watching === 1);
    s.setWatch('unavailable');
    await until('the fallback', () => seen.fallbacks.length === 1);
    expect(failures).toHaveLength(3);
    expect(subscriber.following).toBe('poll');
    await s.publish('m2');
    await until('the polled swap', () => sub.current === 'm2');
    expect(seen.versions).toEqual([1n, 2n]);
  });

  it("mode 'poll' never watches", async () => {
    const s = await switchableServer();
    cleanups.push(() => s.stop());
    await s.publish('m1');
    s.setWatch('unavailable');
    const subscriber = subscriberOf(s.address, { intervalMs: 100, mode: 'poll' });
    const failures: unknown[] = [];
    subscriber.on('watch-failed', (e: { error: unknown }) => failures.push(e.error));
    const { sub } = observe(subscriber, 'model', { decode: text });
    await sub.ready();
    await s.publish('m2');
    await until('the polled swap', () => sub.current === 'm2');
    expect(subscriber.following).toBe('poll');
    expect(failures).toEqual([]);
  });

  it('resumes from the version it holds after the server process is killed and started again', async () => {
    const dataDir = tempDir();
    const first = await startServe(dataDir);
    let admin = new ImprintClient({ address: first.address });
    let second: Awaited<ReturnType<typeof startServe>> | undefined;
    cleanups.push(async () => {
      admin.close();
      await first.kill();
      await second?.kill();
    });
    await admin.createTopic({ name: 'model', owner: 'o' });
    await admin.publishPointer('model', directPointer('m1'));
    const subscriber = subscriberOf(first.address, { intervalMs: 200, watch: { pollForMs: 1_000 } });
    const { sub, seen } = observe(subscriber, 'model', { decode: text });
    await sub.ready();
    await until('the stream', () => seen.watching === 1);
    await first.kill();
    second = await startServe(dataDir, ['--port', String(first.port)]);
    admin.close();
    // A channel of its own: the shared one to this address is still backing off from the killed process.
    admin = new ImprintClient({ address: second.address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    await admin.publishPointer('model', directPointer('m2'));
    await until('the swap from the new process', () => sub.current === 'm2');
    await until('watching the new process', () => subscriber.following === 'watch' && seen.watching >= 2);
    await admin.publishPointer('model', directPointer('m3'));
    await until('the watched swap', () => sub.current === 'm3');
    expect(seen.versions).toEqual([1n, 2n, 3n]);
  });
});
