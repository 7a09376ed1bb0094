/**
 * What a Subscriber tells the rollout gates, against a stub ConsumerService that records what
 * it is sent (test/stub-consumer.ts): the `validate` hook runs before the swap and a refusal
 * keeps the current value; a version that fails to verify, decode or validate is the topic's
 * rejection, carried by every later BatchPoll and Watch cursor until a version at or above it
 * is held; a watching subscriber sends Report (one call for its topics) when it swaps or
 * rejects, and a failing Report disturbs nothing; an answer marked rolled back moves it to
 * the older version (and an older one not so marked is still refused).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { ImprintClient, Subscriber, type RejectionEvent, type RolledBackEvent, type SubscriberOptions, type UpdatedEvent } from '../../client/index.js';
import { identity, until } from '../helpers.js';
import { startStubConsumer, type SeenCursor } from '../stub-consumer.js';

const text = (b: Buffer) => b.toString('utf8');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(opts: Partial<SubscriberOptions> = {}) {
  const stub = await startStubConsumer();
  const client = new ImprintClient({ address: stub.address });
  const registry = new Registry();
  const subscriber = new Subscriber({ client, identity: identity({ nodeId: 'n1' }), intervalMs: 60_000, retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 }, registry, ...opts });
  cleanups.push(() => stub.stop(), () => client.close(), () => subscriber.close());
  return { stub, client, subscriber, registry };
}

const rejectedOf = (cursors: readonly SeenCursor[] | undefined, topic = 'model') => cursors?.find((c) => c.topic === topic)?.rejected;
const last = <T>(xs: readonly T[]): T | undefined => xs[xs.length - 1];

async function rejections(registry: Registry, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric('imprint_client_rejections_total')?.get();
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

describe('Subscriber: the validate hook and rejections (polling)', () => {
  it('a version validate refuses is not swapped in, is sent as the rejection with every poll, and stops being sent once a newer version is held', async () => {
    const { stub, subscriber, registry } = await setUp({ mode: 'poll' });
    stub.addRecord('model', 1n, 'good-1');
    stub.addRecord('model', 2n, 'bad-2');
    stub.addRecord('model', 3n, 'good-3');
    stub.answer('model', { version: 1n });
    const sub = subscriber.subscribe('model', { decode: text, validate: (v) => !v.startsWith('bad') });
    const seen: RejectionEvent[] = [];
    sub.on('rejection', (e: RejectionEvent) => seen.push(e));
    await sub.ready();
    await subscriber.pollNow(); // the first poll's end (ready() resolves inside it)
    expect(sub.current).toBe('good-1');
    expect(rejectedOf(last(stub.batchPolls))).toBeUndefined();

    stub.answer('model', { version: 2n });
    await subscriber.pollNow();
    expect(sub.current).toBe('good-1');
    expect(sub.version).toBe(1n);
    expect(seen).toEqual([expect.objectContaining({ topic: 'model', version: 2n, stage: 'validate' })]);
    expect(sub.rejection).toMatchObject({ version: 2n, stage: 'validate' });
    expect(await rejections(registry, { topic: 'model', stage: 'validate' })).toBe(1);

    // The next poll says so (and the one after: until a version at or above it is held).
    stub.answer('model', { version: 1n });
    await subscriber.pollNow();
    await subscriber.pollNow();
    for (const cursors of stub.batchPolls.slice(-2)) {
      expect(cursors[0]?.lastSeen).toBe(1n);
      expect(rejectedOf(cursors)).toMatchObject({ version: 2n, stage: 'validate', reason: 'validate: the hook returned false' });
    }

    stub.answer('model', { version: 3n });
    await subscriber.pollNow();
    expect(sub.current).toBe('good-3');
    await subscriber.pollNow();
    expect(last(stub.batchPolls)?.[0]).toEqual({ topic: 'model', lastSeen: 3n });
    expect(sub.rejection).toBeUndefined();
  });

  it.each([
    ['validate throws (async)', { validate: async () => Promise.reject(new Error('scores out of range')) }, 'validate', 'scores out of range'],
    ['validate does not answer in time', { validate: () => new Promise<boolean>(() => {}), validateTimeoutMs: 50 }, 'validate', 'did not answer within 50 ms'],
    ['decode throws', { decode: () => { throw new Error('not JSON'); } }, 'decode', 'not JSON'],
    ['a listener throws', { listener: true }, 'validate', 'listener says no'],
  ] as const)('%s: the version is rejected at that stage and the current value stays', async (_name, how, stage, reason) => {
    const { stub, subscriber, registry } = await setUp({ mode: 'poll' });
    stub.addRecord('model', 1n, 'one');
    stub.addRecord('model', 2n, 'two');
    stub.answer('model', { version: 1n });
    const sub = subscriber.subscribe('model', {
      decode: (b: Buffer) => ('decode' in how && b.toString() === 'two' ? how.decode() : text(b)),
      ...('validate' in how && { validate: (v: string) => (v === 'two' ? how.validate() : true) }),
      ...('validateTimeoutMs' in how && { validateTimeoutMs: how.validateTimeoutMs }),
    });
    await sub.ready();
    await subscriber.pollNow(); // the first poll's end (ready() resolves inside it)
    if ('listener' in how)
      sub.onUpdate((e) => {
        if (e.version === 2n) throw new Error('listener says no');
      });
    stub.answer('model', { version: 2n });
    await subscriber.pollNow();
    expect(sub.current).toBe('one');
    expect(sub.rejection).toMatchObject({ version: 2n, stage, reason: expect.stringContaining(reason) });
    expect(await rejections(registry, { topic: 'model', stage })).toBe(1);
    await subscriber.pollNow();
    expect(rejectedOf(last(stub.batchPolls))).toMatchObject({ version: 2n, stage });
  });

  it('a payload whose sha256 does not match is rejected at verify, with a reason cut to 1024 characters at most', async () => {
    const { stub, subscriber } = await setUp({ mode: 'poll' });
    stub.addRecord('model', 1n, 'one');
    stub.addRecord('model', 2n, 'two', { sha256: 'f'.repeat(64) });
    stub.answer('model', { version: 1n });
    const sub = subscriber.subscribe('model', { decode: text, validate: () => { throw new Error('x'.repeat(5000)); } });
    stub.answer('model', { version: 2n });
    await until('the first version held', () => sub.version === 1n || sub.rejection !== undefined);
    await subscriber.pollNow();
    expect(sub.rejection).toMatchObject({ version: 2n, stage: 'verify' });
    stub.addRecord('model', 3n, 'three');
    stub.answer('model', { version: 3n });
    await subscriber.pollNow();
    // validate refuses v3 with a 5000-character message: what is sent is at most 1024.
    await subscriber.pollNow();
    const r = rejectedOf(last(stub.batchPolls));
    expect(r).toMatchObject({ version: 3n, stage: 'validate' });
    expect(r?.reason.length).toBe(1024);
  });

  it('rejects a validateTimeoutMs that is not a whole number of ms, naming it', async () => {
    const { subscriber } = await setUp({ mode: 'poll' });
    expect(() => subscriber.subscribe('model', { decode: text, validateTimeoutMs: 0 })).toThrow(/validateTimeoutMs must be a whole number of ms >= 1/);
  });
});

describe('Subscriber: reports while watching', () => {
  it('spreads its Report over watch.reportSpreadMs after a swap, with what changed meanwhile in the same call', async () => {
    // The spread's draw, fixed at half of it: the Report comes 1 s after the swap.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    cleanups.push(() => random.mockRestore());
    const { stub, subscriber } = await setUp({ watch: { reportSpreadMs: 2_000 } });
    stub.addRecord('model', 1n, 'one');
    stub.addRecord('model', 2n, 'two');
    stub.answer('model', { version: 1n });
    const sub = subscriber.subscribe('model', { decode: text });
    await sub.ready();
    const swappedAt = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    expect(stub.reports).toEqual([]);
    // A second swap inside the spread: no second call, the one Report says v2.
    stub.answer('model', { version: 2n });
    await until('v2 swapped in', () => sub.version === 2n);
    await until('a report', () => stub.reports.length > 0);
    expect(Date.now() - swappedAt).toBeGreaterThanOrEqual(950);
    await new Promise((r) => setTimeout(r, 300));
    expect(stub.reports).toEqual([[{ topic: 'model', lastSeen: 2n }]]);
  });

  it('refuses a watch.reportSpreadMs that is not a whole number from 0 to 60000, naming it', async () => {
    const { client } = await setUp();
    const make = (reportSpreadMs: number) => () => new Subscriber({ client, identity: identity({ nodeId: 'n2' }), watch: { reportSpreadMs } });
    expect(make(-1)).toThrow(/watch\.reportSpreadMs must be a whole number >= 0/);
    expect(make(2.5)).toThrow(/watch\.reportSpreadMs must be a whole number >= 0/);
    expect(make(60_001)).toThrow(/watch\.reportSpreadMs must be at most 60000/);
    await make(0)().close();
  });

  it('reports once when it swaps and once when it rejects, the Watch cursors carry the rejection, and a failing Report changes nothing', async () => {
    const { stub, subscriber } = await setUp();
    stub.addRecord('model', 1n, 'good-1');
    stub.addRecord('model', 2n, 'bad-2');
    stub.addRecord('model', 3n, 'good-3');
    stub.answer('model', { version: 1n });
    const sub = subscriber.subscribe('model', { decode: text, validate: (v) => !v.startsWith('bad') });
    await sub.ready();
    await until('a report of v1', () => stub.reports.some((r) => r[0]?.lastSeen === 1n));
    expect(stub.reports).toEqual([[{ topic: 'model', lastSeen: 1n }]]);

    stub.answer('model', { version: 2n });
    await until('a report of the rejection', () => stub.reports.length === 2);
    expect(stub.reports[1]).toEqual([{ topic: 'model', lastSeen: 1n, rejected: expect.objectContaining({ version: 2n, stage: 'validate' }) }]);
    expect(sub.current).toBe('good-1');

    // A failing Report: the subscription goes on, and the next swap is reported.
    stub.failReports = true;
    const failed: unknown[] = [];
    subscriber.on('report-failed', (e: unknown) => failed.push(e));
    stub.answer('model', { version: 3n });
    await until('v3 swapped in', () => sub.version === 3n);
    await until('the failed report', () => failed.length === 1);
    expect(sub.current).toBe('good-3');
    stub.failReports = false;

    // A new stream (a second topic restarts it) carries each topic's cursor with its rejection.
    stub.addRecord('other', 5n, 'bad-5');
    stub.answer('other', { version: 5n });
    const other = subscriber.subscribe('other', { decode: text, validate: (v) => !v.startsWith('bad'), defaultValue: 'none' });
    await until('the rejection of other v5', () => other.rejection !== undefined);
    await until('a report of both topics', () => stub.reports.some((r) => r.length === 2));
    expect(last(stub.reports)).toEqual([
      { topic: 'model', lastSeen: 3n },
      { topic: 'other', lastSeen: 0n, rejected: expect.objectContaining({ version: 5n, stage: 'validate' }) },
    ]);
    // Restart the stream: its cursors say what is held and rejected.
    const streams = stub.watches.length;
    stub.addRecord('third', 1n, 'x');
    stub.answer('third', { version: 1n });
    subscriber.subscribe('third', { decode: text });
    await until('a new stream', () => stub.watches.length > streams);
    expect(last(stub.watches)).toEqual(
      expect.arrayContaining([{ topic: 'model', lastSeen: 3n }, { topic: 'other', lastSeen: 0n, rejected: expect.objectContaining({ version: 5n, stage: 'validate' }) }]),
    );
  });

  it('swaps of several topics at once go in one Report', async () => {
    const { stub, subscriber } = await setUp();
    for (const t of ['a', 'b', 'c']) {
      stub.addRecord(t, 1n, `${t}1`);
      stub.answer(t, { version: 1n });
    }
    // Each topic's check waits for the same moment, so the three swaps happen together.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let checks = 0;
    const subs = ['a', 'b', 'c'].map((t) => subscriber.subscribe(t, { decode: text, validate: async () => (checks++, await gate, true) }));
    await until('three checks waiting', () => checks === 3);
    release();
    await Promise.all(subs.map((s) => s.ready()));
    await until('a report', () => stub.reports.length > 0);
    expect(stub.reports).toEqual([expect.arrayContaining(['a', 'b', 'c'].map((topic) => ({ topic, lastSeen: 1n })))]);
  });

  it('a polling subscriber sends no Report: its polls carry what it holds', async () => {
    const { stub, subscriber } = await setUp({ mode: 'poll' });
    stub.addRecord('model', 1n, 'one');
    stub.answer('model', { version: 1n });
    const sub = subscriber.subscribe('model', { decode: text });
    await sub.ready();
    await subscriber.pollNow();
    expect(stub.reports).toEqual([]);
  });
});

describe('Subscriber: rolled-back answers', () => {
  it('moves to the older version an answer marked rolled back names, with a rolled-back event; an older one not so marked is refused', async () => {
    const { stub, subscriber } = await setUp({ mode: 'poll' });
    stub.addRecord('model', 1n, 'one');
    stub.addRecord('model', 2n, 'two');
    stub.answer('model', { version: 2n });
    const sub = subscriber.subscribe('model', { decode: text });
    await sub.ready();
    await subscriber.pollNow(); // the first poll's end (ready() resolves inside it)
    expect(sub.version).toBe(2n);
    const updates: UpdatedEvent<string>[] = [];
    const back: RolledBackEvent[] = [];
    sub.on('updated', (e: UpdatedEvent<string>) => updates.push(e));
    subscriber.on('rolled-back', (e: RolledBackEvent) => back.push(e));

    // Older, not pinned, not rolled back: never (invariant 3).
    stub.answer('model', { version: 1n });
    await subscriber.pollNow();
    expect(sub.version).toBe(2n);

    stub.answer('model', { version: 1n, rolledBack: true });
    await subscriber.pollNow();
    expect(sub.version).toBe(1n);
    expect(sub.current).toBe('one');
    expect(back).toEqual([{ topic: 'model', from: 2n, to: 1n }]);
    expect(updates).toEqual([expect.objectContaining({ version: 1n, previous: 2n, rolledBack: true, pinned: false })]);
  });

  it('a rolled-back answer on a Watch stream is followed too', async () => {
    const { stub, subscriber } = await setUp();
    stub.addRecord('model', 1n, 'one');
    stub.addRecord('model', 2n, 'two');
    stub.answer('model', { version: 2n });
    const sub = subscriber.subscribe('model', { decode: text });
    await sub.ready();
    stub.answer('model', { version: 1n, rolledBack: true });
    await until('rolled back to v1', () => sub.version === 1n);
    await until('a report of v1', () => last(stub.reports)?.[0]?.lastSeen === 1n);
  });
});
