/**
 * Holdings (server/audit/holdings.ts): what one instance remembers of each node per topic, and
 * what it tells the sink. A node polling the same version again is no event; first sight, a
 * move and a flipped pin flag are one hold event each; a node quiet for quietMs is one gone
 * event; every sweep one summary per group; a full table folds new nodes into counts.
 */
import { describe, expect, it } from 'vitest';
import { ConsumersFold, InvalidArgumentError, consumersView, type HoldingEvent } from '../../core/index.js';
import { Holdings } from '../../server/audit/holdings.js';
import { identity } from '../helpers.js';

function setup(o: { maxHoldings?: number; quietMs?: number } = {}) {
  const events: HoldingEvent[] = [];
  let now = 1_000_000;
  const h = new Holdings({ sink: { record: (e) => events.push(e) > 0 }, replica: 'r1', quietMs: o.quietMs ?? 60_000, summaryMs: 30_000, ...(o.maxHoldings && { maxHoldings: o.maxHoldings }), clock: () => now });
  return { h, events, advance: (ms: number) => (now += ms), now: () => now };
}

const node = (nodeId: string, cluster = 'c1') => identity({ app: 'scorer', cluster, region: 'eu', nodeId });

describe('Holdings', () => {
  it('first sight, a move and a pin flag are events; polling the same version again is not', () => {
    const { h, events, advance } = setup();
    h.observe('t', node('n1'), '0', '1', false);
    for (let i = 0; i < 5; i++) {
      advance(1000);
      h.observe('t', node('n1'), '1', '1', false); // a new identity object each poll, as requests bring
    }
    h.observe('t', node('n1'), '1', '2', false);
    h.observe('t', node('n1'), '2', '1', true); // pinned back
    h.observe('t', node('n1'), '1', '1', false); // unpinned, already on the latest
    expect(events.map((e) => (e.kind === 'hold' ? `${e.previous}->${e.version}${e.pinned ? ' pinned' : ''} moved=${e.moved}` : e.kind))).toEqual([
      '0->1 moved=true',
      '1->2 moved=true',
      '2->1 pinned moved=true',
      '1->1 moved=false',
    ]);
    expect(events[0]).toMatchObject({ kind: 'hold', atMs: 1_000_000, topic: 't', replica: 'r1', identity: node('n1') });
    expect(h.stats()).toMatchObject({ observed: 9, holdings: 1, nodes: 1, topics: 1, events: { hold: 4, gone: 0, summary: 0 } });
  });

  it("first sight of a node that already held a version (another replica's, or before a restart) is no move", () => {
    const { h, events } = setup();
    h.observe('t', node('n1'), '7', '7', false);
    expect(events).toEqual([expect.objectContaining({ kind: 'hold', previous: '7', version: '7', moved: false })]);
  });

  it('a failed poll keeps what the node had, is counted into the summary, and is no event; one of a node it does not hold is not remembered', async () => {
    const { h, events, advance } = setup();
    h.observe('t', node('n1'), '0', '3', false);
    h.observe('t', node('n1'), '3', '3', false, true);
    h.observe('t', node('n1'), '3', '3', false, true);
    h.observe('t', node('n2'), '2', '2', false, true); // n2's first poll of t failed
    h.observe('ghost', node('n1'), '0', '0', false, true); // a topic that does not exist
    expect(h.stats()).toMatchObject({ holdings: 1, nodes: 1, topics: 1 });
    advance(30_000);
    await h.sweep();
    expect(events.filter((e) => e.kind === 'hold').map((e) => (e.kind === 'hold' ? `${e.identity.nodeId} ${e.version}` : ''))).toEqual(['n1 3']);
    expect(events.filter((e) => e.kind === 'summary').map((e) => (e.kind === 'summary' ? [e.version, e.nodeCount, e.errorCount] : []))).toEqual([['3', 1, 2]]);
    // Error counts are per period.
    advance(30_000);
    h.observe('t', node('n1'), '3', '3', false);
    events.length = 0;
    await h.sweep();
    expect(events.map((e) => (e.kind === 'summary' ? e.errorCount : -1))).toEqual([0]);
  });

  it('a node quiet for quietMs is one gone event at the sweep, forgotten, and seen again as new', async () => {
    const { h, events, advance, now } = setup({ quietMs: 60_000 });
    h.observe('t', node('n1'), '0', '1', false);
    h.observe('u', node('n1'), '0', '5', false);
    const lastPoll = now();
    advance(30_000);
    h.observe('u', node('n1'), '5', '5', false); // still polls u
    advance(30_000);
    events.length = 0;
    await h.sweep();
    expect(events.filter((e) => e.kind === 'gone')).toEqual([{ kind: 'gone', atMs: now(), topic: 't', identity: node('n1'), replica: 'r1', version: '1', seenMs: lastPoll }]);
    expect(h.stats()).toMatchObject({ holdings: 1, nodes: 1, topics: 1 });
    advance(60_000);
    await h.sweep();
    expect(h.stats()).toMatchObject({ holdings: 0, nodes: 0, topics: 0 });
    events.length = 0;
    h.observe('t', node('n1'), '1', '1', false);
    expect(events).toEqual([expect.objectContaining({ kind: 'hold', previous: '1', version: '1' })]);
  });

  it('summaries count live nodes per app, cluster, region and version, and the view over them is exact', async () => {
    const { h, events, advance, now } = setup();
    for (let i = 0; i < 30; i++) h.observe('t', node(`n${i}`, i % 3 === 0 ? 'canary' : 'c1'), '0', i % 3 === 0 ? '2' : '1', i % 3 === 0);
    advance(30_000);
    await h.sweep();
    const summaries = events.filter((e) => e.kind === 'summary');
    expect(summaries.map((e) => (e.kind === 'summary' ? [e.cluster, e.version, e.nodeCount, e.pinnedCount, e.periodMs] : []))).toEqual([
      ['c1', '1', 20, 0, 30_000],
      ['canary', '2', 10, 10, 30_000],
    ]);
    const view = consumersView('t', { sinceMs: 0, nodeLimit: 5, version: '2' }, events);
    expect(view).toMatchObject({ nodeCount: 30, liveCount: 30, lastSeenMs: now() });
    expect(view.versions.map((v) => [v.version, v.nodeCount])).toEqual([
      ['2', 10],
      ['1', 20],
    ]);
    expect(view.nodes?.map((n) => n.nodeId)).toEqual(['n0', 'n12', 'n15', 'n18', 'n21']);
  });

  it('beyond maxHoldings new nodes are not remembered: their polls are folded into the summary', async () => {
    const { h, events, advance } = setup({ maxHoldings: 10 });
    for (let round = 0; round < 3; round++) for (let i = 0; i < 25; i++) h.observe('t', node(`n${i}`), '1', '1', false);
    expect(h.stats()).toMatchObject({ holdings: 10, nodes: 10, folded: 45 });
    expect(events.filter((e) => e.kind === 'hold')).toHaveLength(10);
    advance(30_000);
    await h.sweep();
    expect(events.filter((e) => e.kind === 'summary')).toEqual([expect.objectContaining({ nodeCount: 10, foldedPolls: 45 })]);
    expect(consumersView('t', { sinceMs: 0 }, events)).toMatchObject({ nodeCount: 10, foldedPolls: 45 });
  });

  it('slots and node numbers of gone nodes are reused; versions no slot holds are dropped; a gone event carries the identity with its labels', async () => {
    const { h, events, advance, now } = setup({ quietMs: 60_000 });
    const labelled = (i: number) => identity({ app: 'scorer', cluster: 'c1', region: 'eu', nodeId: `n${i}`, labels: { tier: `t${i % 2}` } });
    for (let v = 1; v <= 5; v++) for (let i = 0; i < 100; i++) h.observe('t', labelled(i), String(v - 1), String(v), false);
    advance(60_000);
    for (let i = 50; i < 100; i++) h.observe('t', labelled(i), '5', '5', false); // n0..n49 go quiet
    events.length = 0;
    await h.sweep();
    const goneEvents = events.filter((e) => e.kind === 'gone');
    expect(goneEvents).toHaveLength(50);
    expect(goneEvents[7]).toEqual({ kind: 'gone', atMs: now(), topic: 't', identity: labelled(7), replica: 'r1', version: '5', seenMs: now() - 60_000 });
    expect(h.stats()).toMatchObject({ holdings: 50, nodes: 50 });
    // New nodes take the freed places; every holding still answers for its own node.
    for (let i = 100; i < 150; i++) h.observe('t', labelled(i), '0', '5', false);
    expect(h.stats()).toMatchObject({ holdings: 100, nodes: 100 });
    expect(h.holding('t', labelled(120))).toMatchObject({ version: '5', pinned: false });
    expect(h.holding('t', labelled(7))).toBeUndefined();
    expect(h.holding('t', labelled(60))).toMatchObject({ version: '5', seenMs: now() });
    events.length = 0;
    h.observe('t', labelled(60), '5', '6', false);
    expect(events).toEqual([expect.objectContaining({ kind: 'hold', previous: '5', version: '6', identity: labelled(60) })]);
  });

  it('a node holding more topics than its block has room for finds each holding; dropped topics give their ids and cells to new ones without crossing', async () => {
    const { h, events, advance } = setup({ quietMs: 60_000 });
    const held = (topics: string[], n = node('n1')) => topics.map((t) => h.holding(t, n)?.version ?? 'none');
    const holds = () => events.filter((e) => e.kind === 'hold').map((e) => (e.kind === 'hold' ? `${e.topic} ${e.identity.nodeId} ${e.previous}->${e.version}` : ''));
    const ts = Array.from({ length: 12 }, (_, i) => `t${i}`); // 8 in n1's block, 4 beyond it
    ts.forEach((t, i) => h.observe(t, node('n1'), '0', String(i + 1), false));
    h.observe('t4', node('n2'), '0', '40', false);
    h.observe('t10', node('n2'), '0', '100', false);
    expect(holds()).toHaveLength(14);
    events.length = 0;
    ts.forEach((t, i) => h.observe(t, node('n1'), String(i + 1), String(i + 1), false)); // the same again: no event
    expect(holds()).toEqual([]);
    expect(held(ts)).toEqual(ts.map((_, i) => String(i + 1)));
    // n1 stops polling t0..t3 (in its block) and t10 (beyond it): gone; the four tables only n1
    // held, empty, are dropped; t10's stays (n2 holds it).
    const still = ts.filter((t) => !['t0', 't1', 't2', 't3', 't10'].includes(t));
    const poll = () => still.forEach((t) => h.observe(t, node('n1'), String(Number(t.slice(1)) + 1), String(Number(t.slice(1)) + 1), false));
    advance(60_000);
    poll();
    h.observe('t4', node('n2'), '40', '40', false);
    h.observe('t10', node('n2'), '100', '100', false);
    await h.sweep();
    expect(events.filter((e) => e.kind === 'gone').map((e) => `${e.topic} ${e.kind === 'gone' ? e.identity.nodeId : ''}`)).toEqual(['t0 n1', 't1 n1', 't2 n1', 't3 n1', 't10 n1']);
    expect(h.stats()).toMatchObject({ holdings: 9, topics: 8 });
    events.length = 0;
    // New topics take the dropped tables' ids and n1's freed cells (t0, back as a new table, the
    // one t10 had beyond the block). Each is a first sight, once; the topics still held make no
    // event; t10 polled again by n1 is a first sight too, in a cell of its own.
    for (const t of ['u0', 'u1', 'u2', 'u3', 't0']) h.observe(t, node('n1'), '0', `${t}-1`, false);
    for (const t of ['u0', 'u1', 'u2', 'u3', 't0']) h.observe(t, node('n1'), `${t}-1`, `${t}-1`, false);
    poll();
    h.observe('t10', node('n1'), '0', '11', false);
    expect(holds()).toEqual(['u0 n1 0->u0-1', 'u1 n1 0->u1-1', 'u2 n1 0->u2-1', 'u3 n1 0->u3-1', 't0 n1 0->t0-1', 't10 n1 0->11']);
    expect(held(['u0', 'u1', 'u2', 'u3', 't0', 't1', ...ts.slice(4)])).toEqual(['u0-1', 'u1-1', 'u2-1', 'u3-1', 't0-1', 'none', '5', '6', '7', '8', '9', '10', '11', '12']);
    expect(held(['t4', 't10', 'u0'], node('n2'))).toEqual(['40', '100', 'none']);
    expect(h.stats()).toMatchObject({ holdings: 15, nodes: 2 });
  });

  it('a later sweep says nothing of the nodes an earlier one forgot (their slots stay free)', async () => {
    const { h, events, advance } = setup({ quietMs: 60_000 });
    for (let i = 0; i < 10; i++) h.observe('t', node(`n${i}`), '0', '1', false);
    advance(60_000);
    for (let i = 5; i < 10; i++) h.observe('t', node(`n${i}`), '1', '1', false);
    await h.sweep();
    expect(events.filter((e) => e.kind === 'gone')).toHaveLength(5);
    for (const sweep of [1, 2]) {
      advance(30_000);
      for (let i = 5; i < 10; i++) h.observe('t', node(`n${i}`), '1', '1', false);
      events.length = 0;
      await h.sweep();
      expect(events.map((e) => (e.kind === 'summary' ? `summary ${e.nodeCount}` : e.kind)), `sweep ${sweep}`).toEqual(['summary 5']);
    }
    expect(h.stats()).toMatchObject({ holdings: 5, nodes: 5 });
  });

  it('a sweep that yields to polls (new nodes, re-polls, a gone node back) sees each node held at its start and still held once, and says each quiet one gone once', async () => {
    let now = 1_000_000;
    const events: HoldingEvent[] = [];
    let gone = 0;
    const sink = {
      record: (e: HoldingEvent) => {
        // Slow now and then, so the sweep runs past its 5 ms slices and yields.
        if (e.kind === 'gone' && ++gone % 50 === 0) for (const until = performance.now() + 1; performance.now() < until; );
        return events.push(e) > 0;
      },
    };
    const h = new Holdings({ sink, replica: 'r1', quietMs: 60_000, summaryMs: 30_000, clock: () => now });
    const N = 6000;
    for (let i = 0; i < N; i++) h.observe('t', node(`n${i}`), '0', '1', false);
    now += 60_000;
    for (let i = 1; i < N; i += 2) h.observe('t', node(`n${i}`), '1', '1', false); // odd ones live, even ones quiet
    events.length = 0;
    let done = false;
    const sweeping = h.sweep().then(() => (done = true));
    let turns = 0;
    let added = 0;
    const back = new Set<string>();
    while (!done) {
      await new Promise((r) => setImmediate(r));
      turns++;
      for (let k = 0; k < 300; k++) h.observe('t', node(`m${added++}`), '0', '1', false); // the table grows meanwhile
      const evenOne = `n${(turns * 998) % N}`; // a quiet node polls again: live if not swept yet, else new
      back.add(evenOne);
      h.observe('t', node(evenOne), '1', '1', false);
    }
    await sweeping;
    expect(turns).toBeGreaterThan(2);
    const goneIds = events.flatMap((e) => (e.kind === 'gone' ? [e.identity.nodeId] : []));
    expect(new Set(goneIds).size).toBe(goneIds.length); // none twice
    const quiet = Array.from({ length: N / 2 }, (_, i) => `n${2 * i}`);
    expect(quiet.filter((id) => !back.has(id) && !goneIds.includes(id))).toEqual([]); // none skipped
    expect(goneIds.every((id) => quiet.includes(id))).toBe(true);
    const counted = events.reduce((sum, e) => sum + (e.kind === 'summary' ? e.nodeCount : 0), 0);
    expect(counted).toBeGreaterThanOrEqual(N / 2 + back.size - goneIds.filter((id) => back.has(id)).length);
    expect(counted).toBeLessThanOrEqual(N / 2 + back.size + added);
    for (let i = 1; i < N; i += 2) expect(h.holding('t', node(`n${i}`))).toBeDefined();
    for (let i = 0; i < added; i++) expect(h.holding('t', node(`m${i}`))).toBeDefined();
    expect(h.stats().holdings).toBe(N / 2 + added + back.size);
  });

  it('an event the sink drops is said again: a hold at the next poll, a gone at the next sweep; nothing is remembered that the audit did not hear', async () => {
    const taken: HoldingEvent[] = [];
    let open = false;
    let now = 1_000_000;
    const h = new Holdings({ sink: { record: (e) => open && taken.push(e) > 0 }, replica: 'r1', quietMs: 60_000, summaryMs: 30_000, clock: () => now });
    for (let i = 0; i < 10; i++) h.observe('t', node(`n${i}`), '0', '1', false); // a cold start: the buffer is full
    expect(h.stats()).toMatchObject({ holdings: 0, refused: 10, events: { hold: 0 } });
    open = true;
    now += 30_000;
    for (let i = 0; i < 10; i++) h.observe('t', node(`n${i}`), '1', '1', false); // their next poll
    expect(taken.map((e) => (e.kind === 'hold' ? `${e.identity.nodeId} ${e.previous}->${e.version}` : e.kind))).toEqual(Array.from({ length: 10 }, (_, i) => `n${i} 1->1`));
    expect(h.stats()).toMatchObject({ holdings: 10, events: { hold: 10 } });
    // A move the sink drops is not taken as made: the next poll says it.
    open = false;
    h.observe('t', node('n0'), '1', '2', false);
    expect(h.holding('t', node('n0'))?.version).toBe('1');
    open = true;
    h.observe('t', node('n0'), '1', '2', false);
    expect(h.holding('t', node('n0'))?.version).toBe('2');
    // Gone events dropped: the nodes stay until a sweep can say it.
    now += 120_000;
    open = false;
    await h.sweep();
    expect(h.stats().holdings).toBe(10);
    open = true;
    taken.length = 0;
    await h.sweep();
    expect(taken.filter((e) => e.kind === 'gone')).toHaveLength(10);
    expect(h.stats()).toMatchObject({ holdings: 0, nodes: 0, groups: 0 });
  });

  it('refuses settings out of range, naming the flag', () => {
    const sink = { record: () => true };
    expect(() => new Holdings({ sink, quietMs: 5 })).toThrow(InvalidArgumentError);
    expect(() => new Holdings({ sink, summaryMs: 0 })).toThrow(/--audit-summary-ms/);
    expect(() => new Holdings({ sink, maxHoldings: 1.5 })).toThrow(/IMPRINT_AUDIT_MAX_HOLDINGS/);
  });

  it('stop({ summarize }) sweeps once more; start() sweeps every summaryMs', async () => {
    const events: HoldingEvent[] = [];
    const h = new Holdings({ sink: { record: (e) => events.push(e) > 0 }, summaryMs: 1000 });
    h.observe('t', node('n1'), '0', '1', false);
    h.start();
    const deadline = Date.now() + 10_000;
    while (h.stats().sweeps === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.stats().sweeps).toBe(1);
    await h.stop({ summarize: true });
    expect(h.stats().sweeps).toBe(2);
    expect(events.filter((e) => e.kind === 'summary')).toHaveLength(2);
  });
});

describe('ConsumersFold.jsonPieces', () => {
  it('joined, is exactly toJSON as JSON, for any piece size (moves kept as references to words where they are one)', () => {
    const fold = new ConsumersFold();
    const events: HoldingEvent[] = [];
    for (let i = 0; i < 50; i++) {
      const id = node(`n${i}`, `c${i % 3}`);
      events.push({ kind: 'hold', atMs: 1000 + i, topic: 'model', identity: id, replica: 'r1', version: '2', previous: '1', moved: true, pinned: false });
      if (i % 4 === 0) events.push({ kind: 'hold', atMs: 2000 + i, topic: 'model', identity: id, replica: 'r2', version: '2', previous: '2', moved: false, pinned: i % 8 === 0 });
      if (i % 5 === 0) events.push({ kind: 'gone', atMs: 3000 + i, topic: 'model', identity: id, replica: 'r1', version: '2', seenMs: 2500 + i });
    }
    events.push({ kind: 'summary', atMs: 4000, topic: 'model', replica: 'r1', app: 'scorer', cluster: 'c0', region: 'eu', version: '2', nodeCount: 17, pinnedCount: 0, errorCount: 0, foldedPolls: 3, periodMs: 300_000 });
    for (const e of events) fold.add(e);
    const whole = JSON.stringify(fold.toJSON());
    for (const perPiece of [1, 7, 1000]) {
      const pieces = [...fold.jsonPieces(perPiece)];
      expect(pieces.join('')).toBe(whole);
      if (perPiece === 7) expect(pieces.length).toBeGreaterThan(10);
    }
    expect(ConsumersFold.fromJSON(JSON.parse([...fold.jsonPieces(7)].join('')) as ReturnType<ConsumersFold['toJSON']>).view('model', { sinceMs: 0 })).toEqual(fold.view('model', { sinceMs: 0 }));
  });
});
