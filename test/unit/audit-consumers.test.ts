/**
 * core/holdings.ts' view, pure: the events of every replica merged by node (latest evidence
 * wins, a gone event counts at the node's last poll), summaries bringing a live node's last
 * sighting forward, the window, the node list, and the history of moves.
 */
import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  compareVersions,
  consumersView,
  holdingChange,
  movesOf,
  summarize,
  type GoneEvent,
  type HoldEvent,
  type HoldingEvent,
  type SummaryEvent,
} from '../../core/index.js';
import { dailyIndexName, dayOfIndex } from '../../server/audit/elasticsearch.js';

const id = (nodeId: string, app = 'scorer', cluster = 'c1', region = 'eu') => ({ app, cluster, region, nodeId, labels: {} });

function hold(nodeId: string, atMs: number, version: string, previous: string, o: { replica?: string; app?: string; cluster?: string; region?: string; pinned?: boolean; topic?: string } = {}): HoldEvent {
  return { kind: 'hold', atMs, topic: o.topic ?? 't', identity: id(nodeId, o.app, o.cluster, o.region), replica: o.replica ?? 'r1', version, previous, moved: version !== previous, pinned: o.pinned ?? false };
}
function gone(nodeId: string, atMs: number, seenMs: number, version: string, replica = 'r1'): GoneEvent {
  return { kind: 'gone', atMs, topic: 't', identity: id(nodeId), replica, version, seenMs };
}
function summary(atMs: number, version: string, nodeCount: number, o: { replica?: string; foldedPolls?: number } = {}): SummaryEvent {
  return { kind: 'summary', atMs, topic: 't', replica: o.replica ?? 'r1', app: 'scorer', cluster: 'c1', region: 'eu', version, nodeCount, pinnedCount: 0, errorCount: 0, foldedPolls: o.foldedPolls ?? 0, periodMs: 1000 };
}

describe('consumersView', () => {
  it('counts each node once, by its latest evidence, per app, cluster and region', () => {
    const r = consumersView('t', { sinceMs: 0 }, [
      hold('n1', 100, '1', '0'),
      hold('n1', 200, '2', '1'), // n1 moved to 2
      hold('n2', 150, '1', '0'),
      hold('n3', 120, '2', '0', { cluster: 'c2' }),
      hold('n4', 300, '3', '0', { app: 'ranker', region: 'us' }),
      hold('x', 300, '3', '0', { topic: 'other' }),
    ]);
    expect(r).toMatchObject({ topic: 't', nodeCount: 4, liveCount: 4, lastSeenMs: 300, foldedPolls: 0 });
    expect(r.versions).toEqual([
      { version: '3', nodeCount: 1, lastSeenMs: 300 },
      { version: '2', nodeCount: 2, lastSeenMs: 200 },
      { version: '1', nodeCount: 1, lastSeenMs: 150 },
    ]);
    expect(r.groups.map((g) => [g.app, g.cluster, g.region, g.nodeCount, g.versions.map((v) => `${v.version}:${v.nodeCount}`).join(' ')])).toEqual([
      ['ranker', 'c1', 'us', 1, '3:1'],
      ['scorer', 'c1', 'eu', 2, '2:1 1:1'],
      ['scorer', 'c2', 'eu', 1, '2:1'],
    ]);
    expect(r.nodes).toBeUndefined();
  });

  it('does not depend on the order of the events', () => {
    const all: HoldingEvent[] = [];
    for (let n = 0; n < 20; n++) for (let t = 0; t < 5; t++) all.push(hold(`n${n}`, 1000 + t * 10 + n, String(1 + ((n + t) % 4)), String(1 + ((n + t + 3) % 4)), { app: `a${n % 3}` }));
    all.push(summary(2000, '2', 3), { ...gone('n3', 3000, 1200, '1'), identity: id('n3', 'a0') });
    const q = { sinceMs: 0, nodeLimit: 100 };
    const sorted = consumersView('t', q, all);
    expect(consumersView('t', q, [...all].reverse())).toEqual(sorted);
    expect(consumersView('t', q, [...all].sort((a, b) => ((a.atMs * 7919) % 101) - ((b.atMs * 7919) % 101)))).toEqual(sorted);
    expect(sorted).toMatchObject({ nodeCount: 20, liveCount: 19 });
  });

  it('a node that moved replicas is one node; the old replica reporting it gone later does not hide it', () => {
    const r = consumersView('t', { sinceMs: 0, nodeLimit: 10 }, [
      hold('n1', 100, '1', '0', { replica: 'a' }),
      hold('n1', 500, '1', '1', { replica: 'b' }), // first sight on b: it already held v1
      gone('n1', 900, 400, '1', 'a'), // a gives up on it, its last poll there at 400
    ]);
    expect(r.nodeCount).toBe(1);
    expect(r.nodes).toEqual([{ app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n1', version: '1', sinceMs: 100, lastSeenMs: 500, live: true, pinned: false, replica: 'b' }]);
  });

  it('a node gone quiet counts at its last poll, not live; out of the window once that is before sinceMs', () => {
    const events = [hold('n1', 100, '1', '0'), gone('n1', 700, 150, '1'), hold('n2', 120, '1', '0')];
    const r = consumersView('t', { sinceMs: 0, nodeLimit: 10 }, events);
    expect(r).toMatchObject({ nodeCount: 2, liveCount: 1 });
    expect(r.nodes?.find((n) => n.nodeId === 'n1')).toMatchObject({ live: false, lastSeenMs: 150 });
    expect(consumersView('t', { sinceMs: 151 }, events).nodeCount).toBe(0);
  });

  it("a live node's last sighting is its replica's latest summary of its group; not another replica's, not an empty one", () => {
    const events = [hold('n1', 100, '2', '1'), summary(400, '2', 1), summary(600, '2', 1, { replica: 'other' }), summary(700, '1', 5)];
    const r = consumersView('t', { sinceMs: 0, nodeLimit: 1 }, events);
    expect(r.nodes?.[0]).toMatchObject({ lastSeenMs: 400, sinceMs: 100 });
    // Its replica's latest summary of the group counting nobody (only folded polls) says nothing of it.
    expect(consumersView('t', { sinceMs: 0, nodeLimit: 1 }, [...events, summary(800, '2', 0, { foldedPolls: 3 })]).nodes?.[0]).toMatchObject({ lastSeenMs: 100 });
    // A window starting after its hold still sees it, through the summary.
    expect(consumersView('t', { sinceMs: 300 }, events).nodeCount).toBe(1);
    expect(consumersView('t', { sinceMs: 401 }, events).nodeCount).toBe(0);
  });

  it('since: the latest move to the version it holds; unknown when none is on record', () => {
    const r = consumersView('t', { sinceMs: 0, nodeLimit: 10 }, [hold('n1', 100, '1', '0'), hold('n1', 200, '2', '1'), hold('n1', 300, '2', '2', { replica: 'r2' }), hold('n2', 50, '1', '1')]);
    expect(r.nodes?.map((n) => [n.nodeId, n.version, n.sinceMs])).toEqual([
      ['n2', '1', undefined],
      ['n1', '2', 200],
    ]);
  });

  it('untilMs: only evidence before it (what was live where, then)', () => {
    const events = [hold('n1', 100, '1', '0'), hold('n1', 200, '2', '1'), hold('n2', 250, '2', '0')];
    const r = consumersView('t', { sinceMs: 0, untilMs: 200 }, events);
    expect(r).toMatchObject({ nodeCount: 1, untilMs: 200 });
    expect(r.versions).toEqual([{ version: '1', nodeCount: 1, lastSeenMs: 100 }]);
  });

  it('the node list: lowest version first, then by name, cut at nodeLimit, filtered by version', () => {
    const events = [hold('b', 1, '3', '0'), hold('a', 2, '3', '0'), hold('c', 3, '10', '0'), hold('d', 4, '9', '0')];
    expect(consumersView('t', { sinceMs: 0, nodeLimit: 3 }, events).nodes?.map((n) => n.nodeId)).toEqual(['a', 'b', 'd']);
    expect(consumersView('t', { sinceMs: 0, nodeLimit: 10, version: '3' }, events).nodes?.map((n) => n.nodeId)).toEqual(['a', 'b']);
    expect(consumersView('t', { sinceMs: 0, nodeLimit: 10, version: '4' }, events).nodes).toEqual([]);
  });

  it("one replica's later word replaces its earlier one; across replicas on the same sighting, a live word beats a gone one, then the higher version", () => {
    const first = (events: HoldingEvent[]) => consumersView('t', { sinceMs: 0, nodeLimit: 1 }, events).nodes?.[0];
    expect(first([hold('n1', 5, '10', '9'), gone('n1', 90, 5, '10')])).toMatchObject({ version: '10', live: false, lastSeenMs: 5 });
    expect(first([hold('n1', 5, '10', '9'), hold('n1', 5, '9', '8', { replica: 'r2' })])).toMatchObject({ version: '10', live: true });
    expect(first([hold('n1', 5, '10', '9'), hold('n1', 5, '9', '8', { replica: 'r2' }), gone('n1', 90, 5, '10')])).toMatchObject({ version: '9', live: true, replica: 'r2' });
  });

  it('a node that went back to a replica that still counts it is live there, though another replica saw it last by its own words', () => {
    // a: hold at 100, then summaries; the node visits b at 450 (b: hold, then gone), and polls a again without a change.
    const r = consumersView('t', { sinceMs: 0, nodeLimit: 1 }, [hold('n1', 100, '1', '0', { replica: 'a' }), hold('n1', 450, '1', '1', { replica: 'b' }), gone('n1', 1100, 450, '1', 'b'), summary(1200, '1', 1, { replica: 'a' })]);
    expect(r.nodes?.[0]).toMatchObject({ live: true, replica: 'a', lastSeenMs: 1200, sinceMs: 100 });
  });

  it('sums the folded polls of the latest summaries, one per replica and group', () => {
    const r = consumersView('t', { sinceMs: 0 }, [summary(10, '1', 0, { foldedPolls: 5 }), summary(20, '1', 0, { foldedPolls: 7 }), summary(20, '1', 0, { foldedPolls: 3, replica: 'r2' })]);
    expect(r.foldedPolls).toBe(10);
    expect(r.nodeCount).toBe(0);
  });

  it('an unused topic: no nodes, no groups, no last seen', () => {
    const r = consumersView('quiet', { sinceMs: 10 }, [hold('n1', 5, '1', '0', { topic: 'quiet' })]);
    expect(r).toEqual({ topic: 'quiet', sinceMs: 10, nodeCount: 0, liveCount: 0, versions: [], groups: [], foldedPolls: 0 });
  });

  it('refuses a query that is not one, naming the field', () => {
    expect(() => consumersView('t', { sinceMs: Number.NaN }, [])).toThrow(InvalidArgumentError);
    expect(() => consumersView('t', { sinceMs: 10, untilMs: 5 }, [])).toThrow(/untilMs/);
    expect(() => consumersView('t', { sinceMs: 0, nodeLimit: 10_001 }, [])).toThrow(/nodeLimit/);
    expect(() => consumersView('t', { sinceMs: 0, version: 'v1' }, [])).toThrow(/version/);
  });
});

describe('movesOf', () => {
  const events = [hold('n1', 100, '1', '0'), hold('n1', 200, '2', '1'), hold('n1', 200, '2', '1', { replica: 'r2' }), hold('n2', 300, '2', '2'), hold('n2', 400, '1', '2', { pinned: true })];

  it('every move, newest first, the same move from two replicas once; first sight without a move is none', () => {
    expect(movesOf('t', { sinceMs: 0 }, events)).toEqual({
      topic: 't',
      truncated: false,
      moves: [
        { atMs: 400, app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n2', from: '2', to: '1', pinned: true, replica: 'r1' },
        { atMs: 200, app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n1', from: '1', to: '2', pinned: false, replica: 'r1' },
        { atMs: 100, app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n1', from: '0', to: '1', pinned: false, replica: 'r1' },
      ],
    });
  });

  it('the same move from two replicas is the lower replica name\'s, whatever the order of the events', () => {
    const twice = [hold('n1', 200, '2', '1', { replica: 'r2' }), hold('n1', 200, '2', '1', { replica: 'r1' })];
    expect(movesOf('t', { sinceMs: 0 }, twice).moves.map((m) => m.replica)).toEqual(['r1']);
    expect(movesOf('t', { sinceMs: 0 }, [...twice].reverse()).moves.map((m) => m.replica)).toEqual(['r1']);
  });

  it('window, node and limit', () => {
    expect(movesOf('t', { sinceMs: 150, untilMs: 400 }, events).moves.map((m) => m.atMs)).toEqual([200]);
    expect(movesOf('t', { sinceMs: 0, nodeId: 'n2' }, events).moves.map((m) => m.atMs)).toEqual([400]);
    expect(movesOf('t', { sinceMs: 0, limit: 2 }, events)).toMatchObject({ truncated: true, moves: [{ atMs: 400 }, { atMs: 200 }] });
    expect(() => movesOf('t', { sinceMs: 0, limit: 0 }, events)).toThrow(/limit/);
  });
});

describe('the rules an instance speaks by', () => {
  it('holdingChange: first sight, a move, a pin flag flipped, or nothing', () => {
    const h = { version: '2', pinned: false, seenMs: 0, errors: 0 };
    expect(holdingChange(undefined, { lastSeen: '2', holds: '2', pinned: false, atMs: 1 })).toBe('first');
    expect(holdingChange(h, { lastSeen: '2', holds: '3', pinned: false, atMs: 1 })).toBe('moved');
    expect(holdingChange(h, { lastSeen: '2', holds: '2', pinned: true, atMs: 1 })).toBe('pinned');
    expect(holdingChange(h, { lastSeen: '1', holds: '2', pinned: false, atMs: 1 })).toBe('none');
  });

  it('summarize: one summary per app, cluster, region and version with anything to say, in order', () => {
    const c = (nodeCount: number, pinnedCount: number, errorCount: number, foldedPolls: number) => ({ nodeCount, pinnedCount, errorCount, foldedPolls });
    const counts = new Map([
      ['scorer\u0000c1\u0000us\u00001', c(1, 0, 0, 0)],
      ['scorer\u0000c1\u0000eu\u000010', c(0, 0, 0, 4)],
      ['scorer\u0000c1\u0000eu\u00002', c(2, 1, 1, 0)],
      ['scorer\u0000c1\u0000eu\u00009', c(0, 0, 0, 0)],
    ]);
    expect(summarize('t', 'r1', 99, 10, counts)).toEqual([
      { kind: 'summary', atMs: 99, topic: 't', replica: 'r1', app: 'scorer', cluster: 'c1', region: 'eu', version: '2', nodeCount: 2, pinnedCount: 1, errorCount: 1, foldedPolls: 0, periodMs: 10 },
      { kind: 'summary', atMs: 99, topic: 't', replica: 'r1', app: 'scorer', cluster: 'c1', region: 'eu', version: '10', nodeCount: 0, pinnedCount: 0, errorCount: 0, foldedPolls: 4, periodMs: 10 },
      { kind: 'summary', atMs: 99, topic: 't', replica: 'r1', app: 'scorer', cluster: 'c1', region: 'us', version: '1', nodeCount: 1, pinnedCount: 0, errorCount: 0, foldedPolls: 0, periodMs: 10 },
    ]);
  });

  it('compareVersions: numeric ("10" above "9"), to 2^64-1', () => {
    expect(['10', '9', '0', '100'].sort(compareVersions)).toEqual(['0', '9', '10', '100']);
    expect(compareVersions('18446744073709551615', '18446744073709551614')).toBe(1);
  });
});

describe('daily audit indices', () => {
  it('one index per UTC day, and back', () => {
    const ms = Date.UTC(2026, 0, 9, 23, 59, 59, 999);
    expect(dailyIndexName('imprint-audit', ms)).toBe('imprint-audit-2026.01.09');
    expect(dayOfIndex('imprint-audit', 'imprint-audit-2026.01.09')).toBe(Date.UTC(2026, 0, 9));
    expect(dayOfIndex('imprint-audit', 'imprint-audit-2026.13.09')).toBeUndefined();
    expect(dayOfIndex('imprint-audit', 'imprint-audit-x-2026.01.09')).toBeUndefined();
    expect(dayOfIndex('imprint-audit', 'other-2026.01.09')).toBeUndefined();
  });
});
