/**
 * Servers on one SQLite file following its change feed, as `imprint serve` runs them (default
 * refresh-ms: the 5-minute safety net never runs during a test): a publish through a
 * publish-role server reaches Poll on a consume-role server, and its `changes` hub speaks,
 * through the feed alone; two all-role servers hear each other's changes; the metrics say so.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ImprintClient } from '../../client/imprint-client.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer, type PollChanges } from '../../server/index.js';
import { directPointer, identity, tempDir } from '../helpers.js';

const soon = { timeout: 10_000, interval: 10 };

/** Every word `changes` gives, in order. */
function listen(changes: PollChanges | undefined): string[] {
  if (!changes) throw new Error('this server answers polls, so it has a change hub');
  const heard: string[] = [];
  changes.subscribe((t) => heard.push(t));
  return heard;
}

describe('a consume-role server follows the change feed of a publish-role server on the same SQLite file', () => {
  const dataDir = tempDir();
  let publish: ImprintServer;
  let consume: ImprintServer;
  let pub: ImprintClient;
  let con: ImprintClient;
  let heard: string[];

  beforeAll(async () => {
    publish = await startImprintServer({ dataDir, port: 0, role: 'publish', log: silentLogger });
    pub = new ImprintClient({ address: `127.0.0.1:${publish.port}` });
    await pub.createTopic({ name: 'model', owner: 'trust' });
    await pub.publishPointer('model', directPointer('v1'));
    consume = await startImprintServer({ dataDir, port: 0, role: 'consume', metricsPort: 0, log: silentLogger });
    con = new ImprintClient({ address: `127.0.0.1:${consume.port}`, deadlineMs: 3000 });
    heard = listen(consume.changes);
  });
  afterAll(async () => {
    pub.close();
    con.close();
    await consume.stop();
    await publish.stop();
  });

  const eu = identity({ app: 'scorer', region: 'eu-west-1' });
  const us = identity({ app: 'scorer', region: 'us-east-1' });
  const polled = async (who = eu) => {
    const a = await con.poll('model', who, 0n);
    return `v${a.record?.version ?? '-'}${a.pinned ? ' pinned' : ''}`;
  };

  it('has no change hub on the publish role, one on the consume role', () => {
    expect(publish.changes).toBeUndefined();
    expect(consume.changes).toBeDefined();
    expect(consume.options).toMatchObject({ refreshMs: 300_000, tailMs: 100 });
  });

  it('publish, add scopes, pin and unpin reach Poll through the feed, each with a word after the table holds it', async () => {
    const table = consume.table;
    if (!table) throw new Error('a consume-role server has a poll table');
    const generation = table.generation;
    // Each word, with what Poll answered at that moment (asked right away, from the table).
    const answers: string[] = [];
    consume.changes?.subscribe(() => void polled().then((a) => answers.push(a)));
    expect(await polled()).toBe('v1');

    await pub.publishPointer('model', directPointer('v2'), { scopes: [{ region: 'eu-west-1' }] });
    await vi.waitFor(async () => expect(await polled()).toBe('v2'), soon);
    expect(await polled(us)).toBe('v1');
    await pub.addScopes('model', 2n, [{ region: 'us-east-1' }]);
    await vi.waitFor(async () => expect(await polled(us)).toBe('v2'), soon);
    await pub.pin('model', 1n, { reason: 'bad v2' });
    await vi.waitFor(async () => expect(await polled()).toBe('v1 pinned'), soon);
    await pub.unpin('model');
    await vi.waitFor(async () => expect(await polled()).toBe('v2'), soon);

    await vi.waitFor(() => expect(answers).toEqual(['v2', 'v2', 'v1 pinned', 'v2']), soon);
    expect(heard).toEqual(['model', 'model', 'model', 'model']);
    // All of it through the feed: no full re-read since the first.
    expect(table.generation).toBe(generation);
    expect(table.feed.stats().rereads).toEqual({ start: 1, interval: 0, 'cursor-too-old': 0, failure: 0 });
  });

  it('a topic created on the publish side is served by the consume side without a miss', async () => {
    await pub.createTopic({ name: 'fresh', owner: 'trust' });
    await pub.publishPointer('fresh', directPointer('f1'));
    await vi.waitFor(() => expect(heard).toContain('fresh'), soon);
    const misses = consume.table?.stats().misses;
    expect((await con.poll('fresh', eu, 0n)).record?.version).toBe(1n);
    expect(consume.table?.stats().misses).toBe(misses);
  });

  it('serves the feed and event-loop metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${consume.metricsServer?.port}/metrics`)).text();
    expect(text).toMatch(/^imprint_feed_reads_total\{outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^imprint_feed_changes_applied_total [1-9]\d*$/m);
    expect(text).toMatch(/^imprint_feed_rereads_total\{reason="start",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^imprint_feed_rereads_total\{reason="cursor-too-old",outcome="ok"\} 0$/m);
    expect(text).toMatch(/^imprint_feed_lag_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^imprint_feed_position_seconds 1\d{9}(\.\d+)?$/m);
    expect(text).toMatch(/^imprint_event_loop_delay_seconds\{quantile="0.99"\} \d/m);
    expect(text).toMatch(/^imprint_consume_table_age_seconds \d/m);
  });
});

describe('two all-role servers on one SQLite file', () => {
  const dataDir = tempDir();
  let a: ImprintServer;
  let b: ImprintServer;
  let ca: ImprintClient;
  let cb: ImprintClient;

  beforeAll(async () => {
    a = await startImprintServer({ dataDir, port: 0, role: 'all', log: silentLogger });
    b = await startImprintServer({ dataDir, port: 0, role: 'all', log: silentLogger });
    ca = new ImprintClient({ address: `127.0.0.1:${a.port}` });
    cb = new ImprintClient({ address: `127.0.0.1:${b.port}` });
  });
  afterAll(async () => {
    ca.close();
    cb.close();
    await a.stop();
    await b.stop();
  });

  it("each hears the other's changes (and its own)", async () => {
    const heardA = listen(a.changes);
    const heardB = listen(b.changes);
    await ca.createTopic({ name: 'shared', owner: 'o' });
    await ca.publishPointer('shared', directPointer('s1'));
    await vi.waitFor(() => expect(heardB).toContain('shared'), soon);
    await vi.waitFor(() => expect(heardA).toContain('shared'), soon);
    await cb.createTopic({ name: 'other', owner: 'o' });
    await cb.pin('shared', 1n, { reason: 'hold' });
    await vi.waitFor(() => expect(heardA).toEqual(expect.arrayContaining(['other'])), soon);
    const n = heardA.filter((t) => t === 'shared').length;
    await cb.unpin('shared');
    await vi.waitFor(() => expect(heardA.filter((t) => t === 'shared').length).toBeGreaterThan(n), soon);
    expect(a.feed?.stats().rereads.interval).toBe(0);
  });
});
