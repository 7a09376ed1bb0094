/**
 * core/consumers-fold.ts' storage, pure: folds sharing one NodeTable keep a node's key once and
 * let it go with the last of them; a held table does not reuse a freed number; the fold's data
 * restores the same fold; JsonBytes writes numbers as JSON.stringify does. (What the view
 * answers is audit-consumers.test.ts'.)
 */
import { describe, expect, it } from 'vitest';
import { ConsumersFold, JsonBytes, NodeTable, consumersView, nodeKey, type HoldingEvent } from '../../core/index.js';
import { identity } from '../helpers.js';

const T0 = 1_764_000_000_000;

const hold = (nodeId: string, atMs: number, o: { version?: string; replica?: string; topic?: string; moved?: boolean; pinned?: boolean } = {}): HoldingEvent => ({
  kind: 'hold',
  atMs,
  topic: o.topic ?? 'model',
  identity: identity({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId }),
  replica: o.replica ?? 'r1',
  version: o.version ?? '1',
  previous: '0',
  moved: o.moved ?? true,
  pinned: o.pinned ?? false,
});

const keyOf = (nodeId: string) => nodeKey({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId });

describe('ConsumersFold over a shared NodeTable', () => {
  it("keeps each node's key once for every topic's fold, and forgets it when the last fold prunes it", () => {
    const nodes = new NodeTable();
    const a = new ConsumersFold(nodes);
    const b = new ConsumersFold(nodes);
    for (let i = 0; i < 10; i++) {
      a.add(hold(`n${i}`, T0, { topic: 'a' }));
      b.add(hold(`n${i}`, T0, { topic: 'b' }));
    }
    b.add(hold('late', T0 + 1000, { topic: 'b' }));
    expect(nodes.size).toBe(11);
    expect([a.nodes, b.nodes]).toEqual([10, 11]);
    a.prune(T0 + 1);
    expect(a.empty).toBe(true);
    expect(nodes.size).toBe(11); // b still holds them
    b.prune(T0 + 1);
    expect(nodes.size).toBe(1);
    expect(b.view('b', { sinceMs: 0, nodeLimit: 10 }).nodes?.map((n) => n.nodeId)).toEqual(['late']);
  });

  it('does not reuse a freed number while held (a save in pieces names nodes by number), and does after', () => {
    const nodes = new NodeTable();
    const fold = new ConsumersFold(nodes);
    for (let i = 0; i < 4; i++) fold.add(hold(`n${i}`, T0 + i));
    const release = nodes.hold();
    fold.prune(T0 + 2); // n0 and n1 go
    expect([nodes.key(0), nodes.key(1)]).toEqual([null, null]);
    fold.add(hold('m0', T0 + 10));
    expect(nodes.numberOf(keyOf('m0'))).toBe(4);
    release();
    fold.add(hold('m1', T0 + 11));
    expect(nodes.numberOf(keyOf('m1'))).toBeLessThan(2);
    expect(nodes.length).toBe(5);
  });

  it("remembers the last identity object's number only while its node is kept (one poll's topics share one object)", () => {
    const nodes = new NodeTable();
    const fold = new ConsumersFold(nodes);
    const x = hold('x', T0);
    fold.add(x);
    fold.add({ ...x, topic: 'other' } as HoldingEvent);
    expect(nodes.size).toBe(1);
    fold.prune(T0 + 1); // x goes; its number is free
    fold.add({ ...x, atMs: T0 + 20 } as HoldingEvent); // the same identity object as before: a node anew
    fold.add(hold('y', T0 + 10));
    expect(nodes.size).toBe(2);
    expect(fold.view('model', { sinceMs: 0, nodeLimit: 10 }).nodes?.map((n) => `${n.nodeId}@${n.lastSeenMs - T0}`)).toEqual(['x@20', 'y@10']);
  });

  it('restores from its data the same fold: the same data again and the same views (several replicas, gone words, pins, moves, summaries, versions pruned)', () => {
    const events: HoldingEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(hold(`old${i}`, T0 + i, { version: '0' })); // pruned, with their version
    for (let i = 0; i < 60; i++) {
      const nodeId = `n${i % 20}`;
      const at = T0 + i * 1000;
      events.push(hold(nodeId, at, { version: String(1 + (i % 7)), replica: `r${i % 3}`, moved: i % 2 === 0, pinned: i % 5 === 0 }));
      if (i % 6 === 0) events.push({ kind: 'gone', atMs: at + 1, topic: 'model', identity: identity({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId }), replica: `r${i % 3}`, version: '3', seenMs: at - 500 });
      if (i % 10 === 0) events.push({ kind: 'summary', atMs: at + 2, topic: 'model', replica: 'r1', app: 'scorer', cluster: 'c1', region: 'eu', version: '2', nodeCount: 3, pinnedCount: 0, errorCount: 1, foldedPolls: 2, periodMs: 60_000 });
    }
    const fold = new ConsumersFold();
    for (const e of events) fold.add(e);
    fold.prune(T0 + 30_000);
    expect(fold.toJSON().nodes?.slice(0, 5)).toEqual([null, null, null, null, null]);
    // New nodes and words after the prune take the slots it freed.
    for (let i = 0; i < 8; i++) {
      const e = hold(`new${i}`, T0 + 70_000 + i, { version: '9', replica: `r${i % 2}` });
      events.push(e);
      fold.add(e);
    }
    const data = JSON.parse(JSON.stringify(fold.toJSON())) as ReturnType<ConsumersFold['toJSON']>;
    expect(data.words).not.toContain('0');
    // As its own (nodes numbered anew), and over the node table written beside it (the same numbers: the same data).
    const own = ConsumersFold.fromJSON(data);
    const nodes = NodeTable.fromKeys(data.nodes ?? []);
    const beside = ConsumersFold.fromJSON({ words: data.words, moves: data.moves, summaries: data.summaries }, nodes);
    nodes.dropUnreferenced();
    expect(beside.toJSON()).toEqual(data);
    expect(nodes.size).toBe(28);
    for (const q of [{ sinceMs: T0 + 30_000, nodeLimit: 100 }, { sinceMs: T0 + 50_000, nodeLimit: 100, version: '3' }]) {
      expect(own.view('model', q)).toEqual(fold.view('model', q));
      expect(beside.view('model', q)).toEqual(fold.view('model', q));
      expect(fold.view('model', q)).toEqual(consumersView('model', q, events));
    }
  });
});

describe('JsonBytes', () => {
  it('writes numbers and text as JSON.stringify does', () => {
    const values = [0, -0, 7, 10, 99_999_999, 100_000_000, 2 ** 31 - 1, 2 ** 31, T0, T0 + 100_000_007, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 0.3, T0 + 0.3, -5, -T0];
    const w = new JsonBytes();
    w.raw('[');
    values.forEach((v, i) => {
      if (i > 0) w.char(0x2c);
      w.number(v);
    });
    w.raw(`,${JSON.stringify('é\u0000"x')}]`);
    expect(new TextDecoder().decode(w.take())).toBe(JSON.stringify([...values, 'é\u0000"x']));
    expect(w.length).toBe(0);
  });
});
