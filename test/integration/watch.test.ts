/**
 * Watch over gRPC against real servers (startImprintServer): the all role pushes its own
 * commits (publish, add scopes, pin, unpin) to a watcher at once; the request is checked as a
 * BatchPoll's; streams are bounded per instance and per application (RESOURCE_EXHAUSTED with
 * the retry hint in trailing metadata); heartbeats reach the client; a publish-role instance
 * refuses Watch as it refuses Poll; a stopping server ends its streams UNAVAILABLE; metrics
 * count streams, pushes, heartbeats and refusals.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, NotServedError, Subscriber, retryAfterMsOf, type WatchEvent } from '../../client/index.js';
import { ImprintError } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer } from '../../server/index.js';
import { directPointer, identity, startTestServer, tempDir, type TestServer, until } from '../helpers.js';

/** Reads a watch stream in the background: what came, and how it ended. */
class Watching {
  readonly events: WatchEvent[] = [];
  error: ImprintError | undefined;
  ended = false;
  private readonly stop = new AbortController();
  constructor(client: ImprintClient, topics: readonly { topic: string; lastSeen: bigint }[], opts: { app?: string; heartbeats?: boolean } = {}) {
    void (async () => {
      try {
        for await (const e of client.watch(identity(opts.app === undefined ? {} : { app: opts.app }), topics, { signal: this.stop.signal, heartbeats: opts.heartbeats ?? false })) this.events.push(e);
      } catch (err) {
        this.error = err instanceof ImprintError ? err : new ImprintError('INTERNAL', String(err));
      } finally {
        this.ended = true;
      }
    })();
  }
  /** Results as "topic vN", "topic vN pinned", "topic none", "topic CODE". */
  get results(): string[] {
    return this.events.flatMap((e) => (e.kind === 'result' ? [`${e.topic} ${e.error ? e.error.code : e.record ? `v${e.record.version}${e.pinned ? ' pinned' : ''}` : 'none'}`] : []));
  }
  close(): void {
    this.stop.abort();
  }
}

describe('Watch (all role)', () => {
  let t: TestServer;
  const open: Watching[] = [];
  const watch = (...args: ConstructorParameters<typeof Watching> extends [ImprintClient, ...infer R] ? R : never) => {
    const w = new Watching(t.client, ...args);
    open.push(w);
    return w;
  };

  beforeAll(async () => {
    t = await startTestServer({ metricsPort: 0, watch: { maxStreams: 6, maxStreamsPerApp: 3, heartbeatMs: 200 } });
    await t.client.createTopic({ name: 'model', owner: 'o' });
    await t.client.createTopic({ name: 'rules', owner: 'o' });
    await t.client.publishPointer('model', directPointer('m1'));
  });
  afterAll(async () => {
    for (const w of open) w.close();
    await t.stop();
  });

  it('answers every topic first, then pushes each change this instance commits: publish, pin (older, pinned), unpin, add scopes', async () => {
    const w = watch([
      { topic: 'model', lastSeen: 0n },
      { topic: 'rules', lastSeen: 0n },
      { topic: 'later', lastSeen: 0n },
    ]);
    await until('the first answers', () => w.results.length === 3);
    expect(w.results).toEqual(['model v1', 'rules none', 'later NOT_FOUND']);
    expect(w.events.map((e) => e.kind === 'result' && e.initial)).toEqual([true, true, true]);

    await t.client.publishPointer('model', directPointer('m2'));
    await until('the publish', () => w.results.length === 4);
    await t.client.pin('model', 1n, { reason: 'bad v2' });
    await until('the pin', () => w.results.length === 5);
    await t.client.unpin('model');
    await until('the unpin', () => w.results.length === 6);
    const scoped = await t.client.publishPointer('rules', directPointer('r1'), { scopes: [{ region: 'nowhere' }] });
    await t.client.addScopes('rules', scoped.version, [{}]);
    await until('the added scope', () => w.results.length === 7);
    await t.client.createTopic({ name: 'later', owner: 'o' });
    await t.client.publishPointer('later', directPointer('l1'));
    await until('the new topic', () => w.results.length === 8);
    expect(w.results.slice(3)).toEqual(['model v2', 'model v1 pinned', 'model v2', 'rules v1', 'later v1']);
    expect(w.events.slice(3).map((e) => e.kind === 'result' && e.initial)).toEqual([false, false, false, false, false]);
    // Each record whole, as Poll gives it.
    expect(w.events[3]).toMatchObject({ record: await t.client.getVersion('model', 2n), pinned: false });
    w.close();
  });

  it('checks the request as a BatchPoll, naming the wire field', async () => {
    const dup = watch([
      { topic: 'model', lastSeen: 0n },
      { topic: 'model', lastSeen: 0n },
    ]);
    await until('the refusal', () => dup.ended);
    expect(dup.error?.code).toBe('INVALID_ARGUMENT');
    expect(dup.error?.message).toMatch(/topics\[1\]\.topic must not repeat topics\[0\]\.topic/);
    const noApp = watch([{ topic: 'model', lastSeen: 0n }], { app: '' });
    await until('the refusal', () => noApp.ended);
    expect(noApp.error?.message).toMatch(/identity\.app/);
  });

  it('bounds streams per application and per instance: RESOURCE_EXHAUSTED with x-imprint-retry-after-ms; a closed stream frees its place', async () => {
    const watchers = t.server.watchers;
    if (!watchers) throw new Error('an all-role server watches');
    const before = watchers.stats().streams;
    const a = [watch([{ topic: 'model', lastSeen: 0n }], { app: 'a' }), watch([{ topic: 'model', lastSeen: 0n }], { app: 'a' }), watch([{ topic: 'model', lastSeen: 0n }], { app: 'a' })];
    await until('three streams of a', () => watchers.streamsOf('a') === 3);
    const fourth = watch([{ topic: 'model', lastSeen: 0n }], { app: 'a' });
    await until('the refusal', () => fourth.ended);
    expect(fourth.error?.code).toBe('RESOURCE_EXHAUSTED');
    expect(retryAfterMsOf(fourth.error)).toBe(5000);
    // In the trailing metadata, as the limiter sends it (not only in the message).
    expect((fourth.error?.cause as grpc.ServiceError).metadata.get('x-imprint-retry-after-ms')).toEqual(['5000']);
    expect(fourth.error?.message).toMatch(/application "a" has 3 watch streams open on this instance.*--watch-max-streams-per-app/);

    const others = Array.from({ length: 6 - before - 3 }, () => watch([{ topic: 'model', lastSeen: 0n }], { app: 'b' }));
    await until('the instance full', () => watchers.stats().streams === 6);
    const over = watch([{ topic: 'model', lastSeen: 0n }], { app: 'c' });
    await until('the refusal', () => over.ended);
    expect(over.error?.code).toBe('RESOURCE_EXHAUSTED');
    expect(retryAfterMsOf(over.error)).toBe(5000);
    expect(over.error?.message).toMatch(/--watch-max-streams\)/);

    a[0]?.close();
    await until('the closed stream forgotten', () => watchers.streamsOf('a') === 2);
    const again = watch([{ topic: 'model', lastSeen: 0n }], { app: 'c' });
    await until('the new stream', () => again.results.length === 1);
    expect(again.error).toBeUndefined();

    const metrics = await fetch(`http://127.0.0.1:${t.server.metricsServer?.port}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^imprint_watch_streams 6$/m);
    expect(metrics).toMatch(/^imprint_watch_refused_total\{reason="app"\} 1$/m);
    expect(metrics).toMatch(/^imprint_watch_refused_total\{reason="instance"\} 1$/m);
    expect(metrics).toMatch(/^imprint_watch_pushes_total [1-9]/m);
    for (const w of [...a, ...others, again]) w.close();
    await until('every stream closed', () => watchers.stats().streams === before);
  });

  it('heartbeats reach a client that asks for them', async () => {
    const w = watch([{ topic: 'model', lastSeen: 2n }], { heartbeats: true });
    await until('two heartbeats', () => w.events.filter((e) => e.kind === 'heartbeat').length >= 2);
    const beat = w.events.find((e) => e.kind === 'heartbeat');
    expect(beat).toMatchObject({ kind: 'heartbeat', sentAtMs: expect.any(Number) });
    w.close();
  });
});

describe('Watch within the BatchPoll size budget', () => {
  it('a record beyond the budget comes without its direct bytes (direct_omitted), as in a BatchPoll; a Subscriber on Watch still swaps it in', async () => {
    const t = await startTestServer({ batchPoll: { maxResponseBytes: 1_048_576 } });
    const big = Buffer.alloc(1_048_576, 7);
    try {
      await t.client.createTopic({ name: 'big', owner: 'o' });
      await t.client.createTopic({ name: 'small', owner: 'o' });
      await t.client.publishPointer('big', directPointer(big));
      await t.client.publishPointer('small', directPointer('s1'));
      const w = new Watching(t.client, [
        { topic: 'big', lastSeen: 0n },
        { topic: 'small', lastSeen: 0n },
      ]);
      await until('the first answers', () => w.results.length === 2);
      w.close();
      const [first, second] = w.events;
      expect(first).toMatchObject({ topic: 'big', directOmitted: true, record: { version: 1n, pointer: { kind: 'direct', size: big.length } } });
      expect(first?.kind === 'result' && first.record?.pointer.kind === 'direct' && first.record.pointer.bytes.length).toBe(0);
      expect(second).toMatchObject({ topic: 'small', record: { pointer: { bytes: Buffer.from('s1') } } });
      expect(second?.kind === 'result' && second.directOmitted).toBeFalsy();

      const subscriber = new Subscriber({ client: t.client, identity: identity() });
      try {
        const sub = subscriber.subscribe('big', { decode: (b) => b });
        await sub.ready();
        expect(subscriber.following).toBe('watch');
        expect(sub.current?.equals(big)).toBe(true);
      } finally {
        await subscriber.close();
      }
    } finally {
      await t.stop();
    }
  });
});

describe('Watch elsewhere', () => {
  it('a publish-role instance refuses Watch as it refuses Poll', async () => {
    const dataDir = tempDir();
    const publish = await startImprintServer({ dataDir, port: 0, role: 'publish', log: silentLogger });
    const client = new ImprintClient({ address: `127.0.0.1:${publish.port}` });
    try {
      const w = new Watching(client, [{ topic: 'model', lastSeen: 0n }]);
      await until('the refusal', () => w.ended);
      expect(w.error).toBeInstanceOf(NotServedError);
      expect(w.error?.message).toMatch(/UNIMPLEMENTED/);
      expect(w.error?.message).toMatch(/publish-role instance: polls go to a consume-role/);
    } finally {
      client.close();
      await publish.stop();
    }
  });

  it('a stopping server ends its streams UNAVAILABLE, at once', async () => {
    const t = await startTestServer();
    await t.client.createTopic({ name: 'model', owner: 'o' });
    const w = new Watching(t.client, [{ topic: 'model', lastSeen: 0n }]);
    await until('the first answer', () => w.results.length === 1);
    const stopped = t.server.stop();
    await until('the stream ended', () => w.ended);
    await stopped;
    t.client.close();
    expect(w.error?.code).toBe('UNAVAILABLE');
    expect(w.error?.message).toMatch(/server is stopping/);
  });
});
