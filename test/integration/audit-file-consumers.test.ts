/**
 * The consumers view and the moves from the embedded file sink: real polls through a real
 * server (Poll and BatchPoll, a publish, a pin) heard by its holdings, then the audit sink's
 * answer, DescribeTopic's node list and ListMoves, a summary, and nodes gone quiet.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumersFromFile } from '../../server/audit/consumers.js';
import { FileAuditSink } from '../../server/audit/file.js';
import { directPointer, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';

describe('consumers from the file audit sink', () => {
  let t: TestServer;
  let now = 1_000;

  beforeAll(async () => {
    t = await startTestServer({ clock: () => now });
    const c = t.client;
    await c.createTopic({ name: 'model' });
    await c.createTopic({ name: 'other' });
    await c.publishPointer('model', directPointer('v1'));
    await c.publishPointer('other', directPointer('o1'));
    // An early consumer, outside the window asked for below.
    await c.poll('model', identity({ app: 'legacy', cluster: 'old', nodeId: 'x1' }), 0n);
    now = 10_000;
    for (let i = 0; i < 4; i++) await c.poll('model', identity({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId: `s${i}` }), 0n);
    for (let i = 0; i < 2; i++) await c.batchPoll(identity({ app: 'ranker', cluster: 'c2', region: 'us', nodeId: `r${i}` }), [{ topic: 'model', lastSeen: 0n }, { topic: 'other', lastSeen: 0n }]);
    now = 20_000;
    await c.publishPointer('model', directPointer('v2'));
    // Two scorers move to 2; one polls again without an update and stays on 2.
    for (let i = 0; i < 2; i++) await c.poll('model', identity({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId: `s${i}` }), 1n);
    now = 21_000;
    await c.poll('model', identity({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 's0' }), 2n);
    // r0 moves to 2, then an operator pins the rankers back to 1 and r0 follows.
    await c.poll('model', identity({ app: 'ranker', cluster: 'c2', region: 'us', nodeId: 'r0' }), 1n);
    now = 22_000;
    await c.pin('model', 1n, { scope: { app: 'ranker' }, reason: 'test' });
    await c.batchPoll(identity({ app: 'ranker', cluster: 'c2', region: 'us', nodeId: 'r0' }), [{ topic: 'model', lastSeen: 2n }]);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('answers per app, cluster and region with the version each node holds by its latest evidence', async () => {
    const sink = t.server.audit;
    expect(sink.consumers).toBeTypeOf('function');
    const r = await sink.consumers?.('model', { sinceMs: 5_000 });
    // Before any summary, a node's last sighting is its latest hold event (s0's poll at 21 s changed nothing).
    expect(r).toEqual({
      topic: 'model',
      sinceMs: 5_000,
      nodeCount: 6,
      liveCount: 6,
      lastSeenMs: 22_000,
      foldedPolls: 0,
      versions: [
        { version: '2', nodeCount: 2, lastSeenMs: 20_000 },
        { version: '1', nodeCount: 4, lastSeenMs: 22_000 },
      ],
      groups: [
        { app: 'ranker', cluster: 'c2', region: 'us', nodeCount: 2, lastSeenMs: 22_000, versions: [{ version: '1', nodeCount: 2, lastSeenMs: 22_000 }] },
        {
          app: 'scorer',
          cluster: 'c1',
          region: 'eu',
          nodeCount: 4,
          lastSeenMs: 20_000,
          versions: [
            { version: '2', nodeCount: 2, lastSeenMs: 20_000 },
            { version: '1', nodeCount: 2, lastSeenMs: 10_000 },
          ],
        },
      ],
    });
  });

  it('an earlier window also sees the early consumer; another topic has its own consumers', async () => {
    const all = await t.server.audit.consumers?.('model', { sinceMs: 0 });
    expect(all?.nodeCount).toBe(7);
    expect(all?.groups.map((g) => `${g.app}/${g.cluster}/${g.region}`)).toEqual(['legacy/old/', 'ranker/c2/us', 'scorer/c1/eu']);
    const other = await t.server.audit.consumers?.('other', { sinceMs: 0 });
    expect(other?.groups).toEqual([{ app: 'ranker', cluster: 'c2', region: 'us', nodeCount: 2, lastSeenMs: 10_000, versions: [{ version: '1', nodeCount: 2, lastSeenMs: 10_000 }] }]);
  });

  it('DescribeTopic lists the nodes, lowest version first, with since and pinned; and the moves, newest first', async () => {
    const d = await t.client.describeTopic('model', { sinceMs: 5_000, nodeLimit: 10 });
    if ('error' in d.consumers) throw new Error(d.consumers.error);
    expect(d.consumers.nodes?.map((n) => [n.app, n.nodeId, n.version, n.sinceMs, n.pinned])).toEqual([
      ['ranker', 'r0', '1', 22_000, true],
      ['ranker', 'r1', '1', 10_000, false],
      ['scorer', 's2', '1', 10_000, false],
      ['scorer', 's3', '1', 10_000, false],
      ['scorer', 's0', '2', 20_000, false],
      ['scorer', 's1', '2', 20_000, false],
    ]);
    const onlyV2 = await t.client.describeTopic('model', { sinceMs: 5_000, nodeLimit: 1, version: 2n });
    expect('error' in onlyV2.consumers ? [] : onlyV2.consumers.nodes?.map((n) => n.nodeId)).toEqual(['s0']);
    const moves = await t.client.listMoves('model', { sinceMs: 15_000 });
    expect(moves.moves.map((m) => `${m.atMs} ${m.nodeId} ${m.from}->${m.to}${m.pinned ? ' pinned' : ''}`)).toEqual(['22000 r0 2->1 pinned', '21000 r0 1->2', '20000 s0 1->2', '20000 s1 1->2']);
    expect(moves.truncated).toBe(false);
    expect((await t.client.listMoves('model', { sinceMs: 1, nodeId: 'x1' })).moves.map((m) => `${m.atMs} ${m.from}->${m.to}`)).toEqual(['1000 0->1']);
  });

  it('a summary brings live nodes forward; after the quiet window they are gone, at their last poll', async () => {
    const holdings = t.server.holdings;
    if (!holdings) throw new Error('the all role has holdings');
    now = 23_000;
    await holdings.sweep();
    const swept = await t.server.audit.consumers?.('model', { sinceMs: 5_000, nodeLimit: 10 });
    // Seven now: legacy's x1 (its hold at 1 s) is still within the quiet window, so the summary counts it into this window too.
    expect(swept?.nodes?.map((n) => [n.nodeId, n.lastSeenMs])).toEqual(['x1', 'r0', 'r1', 's2', 's3', 's0', 's1'].map((id) => [id, 23_000]));
    now = 23_000 + holdings.quietMs;
    await holdings.sweep();
    const quiet = await t.server.audit.consumers?.('model', { sinceMs: 5_000, nodeLimit: 10 });
    expect(quiet).toMatchObject({ nodeCount: 6, liveCount: 0 });
    // s0 polled last at 21 s without a change: the gone event carries it.
    expect(quiet?.nodes?.map((n) => [n.nodeId, n.lastSeenMs, n.live])).toEqual([
      ['r0', 22_000, false],
      ['r1', 10_000, false],
      ['s2', 10_000, false],
      ['s3', 10_000, false],
      ['s0', 21_000, false],
      ['s1', 20_000, false],
    ]);
    expect((await t.server.audit.consumers?.('model', { sinceMs: 22_001 }))?.nodeCount).toBe(0);
  });

  it('a topic nobody polls has no consumers', async () => {
    await t.client.createTopic({ name: 'unused' });
    expect(await t.server.audit.consumers?.('unused', { sinceMs: 0 })).toEqual({ topic: 'unused', sinceMs: 0, nodeCount: 0, liveCount: 0, versions: [], groups: [], foldedPolls: 0 });
  });

  it('reads past a torn last line and answers for a missing file', async () => {
    const copy = path.join(tempDir(), 'events.jsonl');
    fs.copyFileSync(t.server.options.auditFile, copy);
    fs.appendFileSync(copy, '{"kind":"hold","atMs":30000,"topic":"model","identity":{"app":"torn"');
    expect(await consumersFromFile(copy, 'model', { sinceMs: 5_000 })).toEqual(await t.server.audit.consumers?.('model', { sinceMs: 5_000 }));
    expect((await consumersFromFile(path.join(tempDir(), 'none.jsonl'), 'model', { sinceMs: 0 })).nodeCount).toBe(0);
  });

  it('a file sink answers for what it recorded before the call (it flushes first)', async () => {
    const sink = new FileAuditSink({ file: path.join(tempDir(), 'audit', 'events.jsonl') });
    try {
      for (let i = 0; i < 1000; i++) {
        const version = String(1 + Math.floor(i / 500));
        sink.record({ kind: 'hold', atMs: i, topic: 't', identity: identity({ app: 'a', nodeId: `n${i % 10}` }), replica: 'r', version, previous: '0', moved: true, pinned: false });
      }
      const r = await sink.consumers('t', { sinceMs: 0 });
      expect(r.nodeCount).toBe(10);
      expect(r.versions).toEqual([{ version: '2', nodeCount: 10, lastSeenMs: 999 }]);
    } finally {
      await sink.close();
    }
  });
});
