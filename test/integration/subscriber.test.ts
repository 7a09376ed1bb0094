/** Subscribers against a real embedded server: swaps, pins, outages, corrupt payloads. */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, Subscriber, type RejectedEvent, type UpdatedEvent } from '../../client/index.js';
import { identity, startTestServer, tempDir } from '../helpers.js';

interface Model {
  readonly version: string;
  readonly data: Buffer;
  readonly checksum: string;
}

const decodeModel = (bytes: Buffer): Model => {
  const text = bytes.subarray(0, 32).toString('utf8').trim();
  return { version: text, data: bytes, checksum: createHash('sha256').update(bytes).digest('hex') };
};

const payload = (label: string, size = 256): Buffer => Buffer.concat([Buffer.from(label.padEnd(32)), randomBytes(size)]);

function nextEvent<E>(sub: { on(n: string, f: (e: E) => void): unknown; off(n: string, f: (e: E) => void): unknown }, name: string, pred: (e: E) => boolean = () => true, timeoutMs = 10_000): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), timeoutMs);
    const on = (e: E) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      sub.off(name, on);
      resolve(e);
    };
    sub.on(name, on);
  });
}

describe('Subscriber', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(opts: { intervalMs?: number; dataDir?: string; mode?: 'watch' | 'poll'; metrics?: boolean } = {}) {
    const blobRoot = tempDir();
    const store = new LocalBlobStore({ root: blobRoot });
    const t = await startTestServer({ ...(opts.dataDir && { dataDir: opts.dataDir }), blobStores: [store], ...(opts.metrics && { metricsPort: 0 }) });
    const publisher = new Publisher({ client: t.client, blobStores: [store] });
    const consumerClient = new ImprintClient({ address: t.address, deadlineMs: 2_000 });
    const subscriber = new Subscriber({
      client: consumerClient,
      identity: identity({ app: 'scorer', region: 'us-east-1', nodeId: 'n1' }),
      blobStores: [store],
      intervalMs: opts.intervalMs ?? 100,
      ...(opts.mode && { mode: opts.mode }),
      startupBudgetMs: 3_000,
      retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 50 },
    });
    cleanups.push(async () => {
      await subscriber.close();
      consumerClient.close();
      await t.stop().catch(() => {});
    });
    return { t, store, blobRoot, publisher, subscriber, consumerClient };
  }

  it('swaps in a new version within one interval, and readers see whole values', async () => {
    const { t, publisher, subscriber } = await setup({ intervalMs: 200 });
    await t.client.createTopic({ name: 'model' });
    await publisher.publish('model', payload('v1'));
    const sub = subscriber.subscribe('model', { decode: decodeModel });
    await sub.ready();
    expect(sub.current?.version).toBe('v1');
    expect(sub.version).toBe(1n);

    const started = Date.now();
    const updated = nextEvent<UpdatedEvent<Model>>(sub, 'updated');
    await publisher.publish('model', payload('v2'));
    const e = await updated;
    expect(Date.now() - started).toBeLessThan(200 * 1.1 + 500);
    expect(e).toMatchObject({ version: 2n, previous: 1n, pinned: false });
    expect(sub.current?.version).toBe('v2');
  });

  it('50 readers in a tight loop during 100 swaps never see a torn or undefined value', async () => {
    const { t, publisher, subscriber } = await setup({ intervalMs: 60_000 });
    await t.client.createTopic({ name: 'hot' });
    await publisher.publish('hot', payload('v1', 2048));
    const sub = subscriber.subscribe('hot', { decode: decodeModel });
    await sub.ready();
    let done = false;
    let reads = 0;
    const problems: string[] = [];
    const seen = new Set<string>();
    const readers = Array.from({ length: 50 }, async () => {
      while (!done) {
        const v = sub.current;
        reads++;
        if (v === undefined) problems.push('undefined');
        else {
          if (createHash('sha256').update(v.data).digest('hex') !== v.checksum) problems.push(`torn ${v.version}`);
          seen.add(v.version);
        }
        await yieldToLoop();
      }
    });
    for (let i = 2; i <= 101; i++) {
      const updated = nextEvent<UpdatedEvent<Model>>(sub, 'updated', (e) => e.version === BigInt(i));
      await publisher.publish('hot', payload(`v${i}`, 2048));
      await subscriber.pollNow();
      await updated;
    }
    done = true;
    await Promise.all(readers);
    expect(problems).toEqual([]);
    expect(sub.version).toBe(101n);
    expect(reads).toBeGreaterThan(5_000);
    expect(seen.size).toBeGreaterThan(50);
  }, 60_000);

  it('keeps its value while the server is down, and recovers when it returns', async () => {
    const { t, publisher, subscriber } = await setup();
    await t.client.createTopic({ name: 'outage' });
    await publisher.publish('outage', payload('v1'));
    const sub = subscriber.subscribe('outage', { decode: decodeModel });
    await sub.ready();
    const port = t.server.port;
    const dataDir = t.dataDir;
    await t.stop();

    await nextEvent(subscriber, 'poll-failed');
    await nextEvent(subscriber, 'poll-failed');
    expect(sub.current?.version).toBe('v1');
    const failures = (await subscriber.registry.getSingleMetric('imprint_client_failures_total')?.get())?.values ?? [];
    expect(failures.some((v) => v.labels.step === 'poll' && v.labels.reason === 'UNAVAILABLE' && v.value > 0)).toBe(true);

    // Back on the same address, with a new version published meanwhile.
    const { startImprintServer } = await import('../../server/index.js');
    const { silentLogger } = await import('../../log/index.js');
    const back = await startImprintServer({ dataDir, port, log: silentLogger });
    cleanups.push(() => back.stop());
    // Its own subchannel: the shared one is still backing off from the outage.
    const pc = new ImprintClient({ address: `127.0.0.1:${port}`, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    cleanups.push(async () => pc.close());
    const updated = nextEvent<UpdatedEvent<Model>>(sub, 'updated');
    await new Publisher({ client: pc }).publish('outage', payload('v2'));
    expect((await updated).version).toBe(2n);
    expect(sub.current?.version).toBe('v2');
  }, 30_000);

  it('rejects a corrupted blob, keeps its value, and counts the failure', async () => {
    const { t, publisher, subscriber, blobRoot } = await setup({ intervalMs: 60_000 });
    await t.client.createTopic({ name: 'corrupt' });
    await publisher.publish('corrupt', payload('v1'));
    const sub = subscriber.subscribe('corrupt', { decode: decodeModel });
    await sub.ready();
    const big = await publisher.publish('corrupt', payload('v2', 2 * 1024 * 1024));
    const key = big.pointer.kind === 'blob' ? (big.pointer.locations[0]?.key ?? '') : '';
    const fd = fs.openSync(path.join(blobRoot, key), 'r+');
    fs.writeSync(fd, Buffer.from('flipped'), 0, 7, 4096);
    fs.closeSync(fd);

    const rejected = nextEvent<RejectedEvent>(sub, 'rejected');
    await subscriber.pollNow();
    const r = await rejected;
    expect(r).toMatchObject({ version: 2n, step: 'verify' });
    expect(r.reason).toMatch(/sha256/);
    expect(sub.current?.version).toBe('v1');
    expect(sub.version).toBe(1n);
    const failures = (await subscriber.registry.getSingleMetric('imprint_client_failures_total')?.get())?.values ?? [];
    expect(failures.find((v) => v.labels.topic === 'corrupt' && v.labels.step === 'verify')?.value).toBeGreaterThan(0);
  });

  it('moves back to a pinned older version and says so; after unpin it goes forward, never older', async () => {
    const { t, publisher, subscriber } = await setup();
    await t.client.createTopic({ name: 'pinned' });
    await publisher.publish('pinned', payload('v1'));
    await publisher.publish('pinned', payload('v2'));
    const sub = subscriber.subscribe('pinned', { decode: decodeModel });
    await sub.ready();
    expect(sub.version).toBe(2n);

    const back = nextEvent<UpdatedEvent<Model>>(sub, 'updated');
    await t.client.pin('pinned', 1n, { reason: 'v2 is bad' });
    expect(await back).toMatchObject({ version: 1n, previous: 2n, pinned: true });
    expect(sub.current?.version).toBe('v1');

    const forward = nextEvent<UpdatedEvent<Model>>(sub, 'updated');
    await t.client.unpin('pinned');
    expect(await forward).toMatchObject({ version: 2n, previous: 1n, pinned: false });
  });

  it('on start-up with a broken latest, takes the newest good older version', async () => {
    const { t, publisher, subscriber, blobRoot } = await setup({ intervalMs: 60_000 });
    await t.client.createTopic({ name: 'broken' });
    await publisher.publish('broken', payload('v1'));
    await publisher.publish('broken', payload('v2'));
    const v3 = await publisher.publish('broken', payload('v3', 2 * 1024 * 1024));
    fs.rmSync(path.join(blobRoot, v3.pointer.kind === 'blob' ? (v3.pointer.locations[0]?.key ?? '') : ''));
    const sub = subscriber.subscribe('broken', { decode: decodeModel });
    const rejected: RejectedEvent[] = [];
    sub.on('rejected', (e: RejectedEvent) => rejected.push(e));
    await sub.ready();
    expect(sub.version).toBe(2n);
    expect(sub.current?.version).toBe('v2');
    expect(rejected.map((r) => [r.version, r.step])).toContainEqual([3n, 'fetch']);
  });

  it('a decode failure or a throwing listener keeps the current value', async () => {
    const { t, publisher, subscriber } = await setup({ intervalMs: 60_000 });
    await t.client.createTopic({ name: 'strict' });
    await publisher.publish('strict', Buffer.from('{"ok":1}'));
    const sub = subscriber.subscribe('strict', { decode: (b) => JSON.parse(b.toString()) as { ok: number } });
    await sub.ready();

    await publisher.publish('strict', Buffer.from('{not json'));
    const badDecode = nextEvent<RejectedEvent>(sub, 'rejected');
    await subscriber.pollNow();
    expect((await badDecode).step).toBe('decode');
    expect(sub.current).toEqual({ ok: 1 });

    await publisher.publish('strict', Buffer.from('{"ok":3}'));
    const off = sub.onUpdate(() => {
      throw new Error('scorer refused the model');
    });
    const badListener = nextEvent<RejectedEvent>(sub, 'rejected', (e) => e.step === 'notify');
    await subscriber.pollNow();
    expect((await badListener).reason).toContain('scorer refused the model');
    expect(sub.current).toEqual({ ok: 1 });
    expect(sub.version).toBe(1n);

    off();
    const good = nextEvent<UpdatedEvent<{ ok: number }>>(sub, 'updated');
    await subscriber.pollNow();
    expect((await good).value).toEqual({ ok: 3 });
  });

  it('with the service unreachable, ready() settles for the default after the start-up budget', async () => {
    const client = new ImprintClient({ address: '127.0.0.1:1', deadlineMs: 200 });
    const subscriber = new Subscriber({ client, identity: identity({ app: 'x' }), intervalMs: 100, startupBudgetMs: 300, retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 } });
    cleanups.push(async () => {
      await subscriber.close();
      client.close();
    });
    const withDefault = subscriber.subscribe('anything', { decode: (b) => b.toString(), defaultValue: 'builtin' });
    const without = subscriber.subscribe('other', { decode: (b) => b.toString() });
    await withDefault.ready();
    expect(withDefault.current).toBe('builtin');
    expect(withDefault.version).toBe(0n);
    await expect(without.ready()).rejects.toThrow(/no version of "other" could be loaded/);
  });

  it('coalesces every subscription into one BatchPoll per tick', async () => {
    const { t, publisher, subscriber } = await setup({ intervalMs: 60_000, mode: 'poll', metrics: true });
    const topics = Array.from({ length: 20 }, (_, i) => `many-${i}`);
    for (const name of topics) {
      await t.client.createTopic({ name });
      await publisher.publish(name, payload(name));
    }
    const subs = topics.map((name) => subscriber.subscribe(name, { decode: decodeModel }));
    await Promise.all(subs.map((s) => s.ready()));
    await t.server.audit.flush();
    const { readAuditFile } = await import('../../server/index.js');
    const holds = readAuditFile(t.server.options.auditFile).filter((e) => e.kind === 'hold' && e.identity.nodeId === 'n1');
    // One hold event per topic (first sight); 20 topics answered by a single first tick: one BatchPoll, 20 polls observed.
    expect(holds.length).toBe(20);
    const requests = await t.server.metrics?.requests.get();
    expect(requests?.values.filter((v) => v.labels.method === 'BatchPoll').map((v) => [v.labels.outcome, v.value])).toEqual([['ok', 1]]);
    expect(t.server.holdings?.stats().observed).toBe(20);
    expect(subs.every((s, i) => s.current?.version === topics[i])).toBe(true);
  });
});
