/**
 * The consumers view from the embedded file sink: real polls through a real server (Poll and
 * BatchPoll, a pin), then the audit sink's answer.
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

  it('answers per app and cluster with the version each node holds by its latest poll', async () => {
    const sink = t.server.audit;
    expect(sink.consumers).toBeTypeOf('function');
    const r = await sink.consumers?.('model', 5_000);
    expect(r).toEqual({
      topic: 'model',
      sinceMs: 5_000,
      nodeCount: 6,
      lastSeenMs: 22_000,
      versions: [
        { version: '2', nodeCount: 2, lastSeenMs: 21_000 },
        { version: '1', nodeCount: 4, lastSeenMs: 22_000 },
      ],
      groups: [
        { app: 'ranker', cluster: 'c2', nodeCount: 2, lastSeenMs: 22_000, versions: [{ version: '1', nodeCount: 2, lastSeenMs: 22_000 }] },
        {
          app: 'scorer',
          cluster: 'c1',
          nodeCount: 4,
          lastSeenMs: 21_000,
          versions: [
            { version: '2', nodeCount: 2, lastSeenMs: 21_000 },
            { version: '1', nodeCount: 2, lastSeenMs: 10_000 },
          ],
        },
      ],
    });
  });

  it('an earlier window also sees the early consumer; another topic has its own consumers', async () => {
    const all = await t.server.audit.consumers?.('model', 0);
    expect(all?.nodeCount).toBe(7);
    expect(all?.groups.map((g) => `${g.app}/${g.cluster}`)).toEqual(['legacy/old', 'ranker/c2', 'scorer/c1']);
    const other = await t.server.audit.consumers?.('other', 0);
    expect(other?.groups).toEqual([{ app: 'ranker', cluster: 'c2', nodeCount: 2, lastSeenMs: 10_000, versions: [{ version: '1', nodeCount: 2, lastSeenMs: 10_000 }] }]);
  });

  it('a topic nobody polls has no consumers', async () => {
    await t.client.createTopic({ name: 'unused' });
    expect(await t.server.audit.consumers?.('unused', 0)).toEqual({ topic: 'unused', sinceMs: 0, nodeCount: 0, versions: [], groups: [] });
  });

  it('reads past a torn last line and answers for a missing file', async () => {
    const copy = path.join(tempDir(), 'events.jsonl');
    fs.copyFileSync(t.server.options.auditFile, copy);
    fs.appendFileSync(copy, '{"kind":"poll","atMs":30000,"topic":"model","identity":{"app":"torn"');
    expect(await consumersFromFile(copy, 'model', { sinceMs: 5_000 })).toEqual(await t.server.audit.consumers?.('model', 5_000));
    expect((await consumersFromFile(path.join(tempDir(), 'none.jsonl'), 'model', { sinceMs: 0 })).nodeCount).toBe(0);
  });

  it('a file sink answers for what it recorded before the call (it flushes first)', async () => {
    const sink = new FileAuditSink({ file: path.join(tempDir(), 'audit', 'events.jsonl') });
    try {
      for (let i = 0; i < 1000; i++) {
        sink.record({ kind: 'poll', atMs: i, topic: 't', identity: identity({ app: 'a', nodeId: `n${i % 10}` }), lastSeen: '0', holds: String(1 + Math.floor(i / 500)), outcome: 'update', pinned: false });
      }
      const r = await sink.consumers('t', 0);
      expect(r.nodeCount).toBe(10);
      expect(r.versions).toEqual([{ version: '2', nodeCount: 10, lastSeenMs: 999 }]);
    } finally {
      await sink.close();
    }
  });
});
