/**
 * The AuditSink conformance suite: the file sink and the Elasticsearch sink run it unchanged.
 *
 * A simulated fleet (3 apps x 4 clusters x 2 regions x 100 nodes, two topics) polls through
 * two real Holdings (two consume replicas, a fake clock, sweeps called here) that feed the
 * sink, through first polls, a publish, a pin of one cluster back to the older version, an
 * unpin, nodes handed over from one replica to the other, and nodes that stop polling. After
 * each phase the sink's consumers view and moves must be exactly what this file's own model
 * of the fleet says. The model (FleetModel) is written from the rules as documented (who
 * reports what, and whose word counts: core/holdings.ts and server/audit/holdings.ts), never
 * by calling them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerIdentity } from '../../core/index.js';
import type { AuditEvent, AuditSink, AuditStats, DeniedEvent, ConsumerNode, ConsumersQuery, Move, MovesPage, MovesQuery, TopicConsumers, VersionHeld } from '../../server/audit/audit-sink.js';
import { Holdings } from '../../server/audit/holdings.js';

export interface AuditSinkHarness {
  readonly sink: AuditSink;
  /** Makes what the sink has written visible to its reads (Elasticsearch: refresh the indices). */
  visible(): Promise<void>;
  cleanup(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// The model: what each replica remembers and reports, and what the view must then say

const QUIET_MS = 60_000;

interface Memory {
  version: string;
  pinned: boolean;
  lastPoll: number;
}

/** A replica's word on a node: a hold (seen at its time) or a gone (seen last at its last poll there). */
interface Word {
  readonly kind: 'hold' | 'gone';
  /** When the replica said it. */
  readonly atMs: number;
  readonly seenMs: number;
  readonly replica: string;
  readonly version: string;
  readonly pinned: boolean;
}

interface SweepRecord {
  readonly topic: string;
  readonly replica: string;
  readonly atMs: number;
  /** Per app|cluster|region|version: live nodes the replica tracked, polls it could not track. */
  readonly groups: ReadonlyMap<string, { readonly nodeCount: number; readonly folded: number }>;
}

const keyOf = (id: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region' | 'nodeId'>) => `${id.app}|${id.cluster}|${id.region}|${id.nodeId}`;
const groupOf = (id: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region'>, version: string) => `${id.app}|${id.cluster}|${id.region}|${version}`;
const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Versions are decimal numbers here. */
const numeric = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** A replica's view of one topic: the nodes it tracks, and the polls it had to fold since its last summary. */
interface ReplicaTopic {
  readonly tracked: Map<string, Memory>;
  folded: Map<string, number>;
}

export class FleetModel {
  private readonly capacity = new Map<string, number>();
  private readonly trackedCount = new Map<string, number>();
  private readonly replicaTopics = new Map<string, ReplicaTopic>();
  private readonly identities = new Map<string, ConsumerIdentity>();
  /** Per topic|node, each replica's latest word. */
  private readonly words = new Map<string, Map<string, Word>>();
  private readonly lastMove = new Map<string, { readonly atMs: number; readonly version: string }>();
  private readonly moveLog: Array<Move & { readonly topic: string }> = [];
  private readonly sweeps: SweepRecord[] = [];
  /** The latest time anything happened (a view is "as of now"). */
  private nowMs = 0;

  /** A replica that tracks at most `capacity` (topic, node) pairs. */
  addReplica(name: string, capacity = Number.POSITIVE_INFINITY): void {
    this.capacity.set(name, capacity);
    this.trackedCount.set(name, 0);
  }

  private replicaTopic(replica: string, topic: string): ReplicaTopic {
    const k = `${replica}|${topic}`;
    let rt = this.replicaTopics.get(k);
    if (!rt) {
      rt = { tracked: new Map(), folded: new Map() };
      this.replicaTopics.set(k, rt);
    }
    return rt;
  }

  /** A replica's new word replaces its earlier one (said later; at the same ms, the higher version). */
  private note(topic: string, key: string, w: Word): void {
    let byReplica = this.words.get(`${topic}|${key}`);
    if (!byReplica) {
      byReplica = new Map();
      this.words.set(`${topic}|${key}`, byReplica);
    }
    const cur = byReplica.get(w.replica);
    if (!cur || w.atMs > cur.atMs || (w.atMs === cur.atMs && numeric(w.version, cur.version) > 0)) byReplica.set(w.replica, w);
  }

  /** A node polled `replica` at `atMs`, saying it held `lastSeen`; the answer leaves it holding `holds`. */
  poll(topic: string, replica: string, id: ConsumerIdentity, lastSeen: string, holds: string, pinned: boolean, atMs: number): void {
    this.nowMs = Math.max(this.nowMs, atMs);
    const key = keyOf(id);
    this.identities.set(key, id);
    const rt = this.replicaTopic(replica, topic);
    const m = rt.tracked.get(key);
    let previous: string;
    if (m) {
      m.lastPoll = atMs;
      if (m.version === holds && m.pinned === pinned) return; // nothing changed: no event
      previous = m.version;
      m.version = holds;
      m.pinned = pinned;
    } else {
      const count = this.trackedCount.get(replica) ?? 0;
      if (count >= (this.capacity.get(replica) ?? 0)) {
        // The replica's memory is full: the poll is only counted in its group's summary.
        const g = groupOf(id, holds);
        rt.folded.set(g, (rt.folded.get(g) ?? 0) + 1);
        return;
      }
      this.trackedCount.set(replica, count + 1);
      rt.tracked.set(key, { version: holds, pinned, lastPoll: atMs });
      previous = lastSeen; // first sight: the node's word
    }
    this.note(topic, key, { kind: 'hold', atMs, seenMs: atMs, replica, version: holds, pinned });
    if (previous !== holds) {
      const last = this.lastMove.get(`${topic}|${key}`);
      if (!last || atMs > last.atMs) this.lastMove.set(`${topic}|${key}`, { atMs, version: holds });
      const dup = this.moveLog.some((x) => x.topic === topic && keyOf(x) === key && x.atMs === atMs && x.from === previous && x.to === holds);
      if (!dup) this.moveLog.push({ topic, atMs, app: id.app, cluster: id.cluster, region: id.region, nodeId: id.nodeId, from: previous, to: holds, pinned, replica });
    }
  }

  /** A replica's sweep at `atMs`: nodes quiet for QUIET_MS are gone, then a summary per group of the rest. */
  sweep(replica: string, atMs: number): void {
    this.nowMs = Math.max(this.nowMs, atMs);
    for (const [k, rt] of this.replicaTopics) {
      if (!k.startsWith(`${replica}|`)) continue;
      const topic = k.slice(replica.length + 1);
      const groups = new Map<string, { nodeCount: number; folded: number }>();
      const group = (g: string) => {
        let x = groups.get(g);
        if (!x) {
          x = { nodeCount: 0, folded: 0 };
          groups.set(g, x);
        }
        return x;
      };
      for (const [key, m] of rt.tracked) {
        const id = this.identities.get(key) as ConsumerIdentity;
        if (atMs - m.lastPoll >= QUIET_MS) {
          rt.tracked.delete(key);
          this.trackedCount.set(replica, (this.trackedCount.get(replica) ?? 1) - 1);
          this.note(topic, key, { kind: 'gone', atMs, seenMs: m.lastPoll, replica, version: m.version, pinned: false });
        } else group(groupOf(id, m.version)).nodeCount++;
      }
      for (const [g, n] of rt.folded) group(g).folded += n;
      rt.folded = new Map();
      if (groups.size > 0) this.sweeps.push({ topic, replica, atMs, groups });
    }
  }

  /** What the consumers view must say now (a query's untilMs, if any, must not be before now). */
  view(topic: string, q: ConsumersQuery): TopicConsumers {
    if (q.untilMs !== undefined && q.untilMs <= this.nowMs) throw new Error('the model answers as of now: take a snapshot at the time instead');
    // The latest summary per replica and group in the window.
    const latest = new Map<string, { atMs: number; nodeCount: number; folded: number }>();
    for (const s of this.sweeps) {
      if (s.topic !== topic || s.atMs < q.sinceMs) continue;
      for (const [g, c] of s.groups) {
        const k = `${s.replica}|${g}`;
        const cur = latest.get(k);
        if (!cur || s.atMs > cur.atMs) latest.set(k, { atMs: s.atMs, ...c });
      }
    }
    const nodes: ConsumerNode[] = [];
    for (const [k, byReplica] of this.words) {
      if (!k.startsWith(`${topic}|`)) continue;
      const key = k.slice(topic.length + 1);
      const id = this.identities.get(key) as ConsumerIdentity;
      // Each replica's word says when it saw the node last: a gone at its last poll; a hold at its
      // time, or as late as the replica's latest summary that counted its group (still polling).
      const seen = (w: Word) => {
        const s = w.kind === 'hold' ? latest.get(`${w.replica}|${groupOf(id, w.version)}`) : undefined;
        return s && s.nodeCount > 0 && s.atMs > w.seenMs ? s.atMs : w.seenMs;
      };
      // The replica that saw it last has the word; a tie goes to a hold, the higher version, the first replica by name.
      const [e] = [...byReplica.values()].sort(
        (a, b) => seen(b) - seen(a) || (a.kind !== b.kind ? (a.kind === 'hold' ? -1 : 1) : 0) || numeric(b.version, a.version) || text(a.replica, b.replica),
      );
      if (!e) continue;
      const lastSeenMs = seen(e);
      if (lastSeenMs < q.sinceMs) continue;
      const move = this.lastMove.get(k);
      nodes.push({
        app: id.app,
        cluster: id.cluster,
        region: id.region,
        nodeId: id.nodeId,
        version: e.version,
        ...(move && move.version === e.version && { sinceMs: move.atMs }),
        lastSeenMs,
        live: e.kind === 'hold',
        pinned: e.kind === 'hold' && e.pinned,
        replica: e.replica,
      });
    }
    const versionsOf = (ns: readonly ConsumerNode[]): VersionHeld[] => {
      const m = new Map<string, { nodeCount: number; lastSeenMs: number }>();
      for (const n of ns) {
        const v = m.get(n.version) ?? { nodeCount: 0, lastSeenMs: 0 };
        m.set(n.version, { nodeCount: v.nodeCount + 1, lastSeenMs: Math.max(v.lastSeenMs, n.lastSeenMs) });
      }
      return [...m].map(([version, v]) => ({ version, ...v })).sort((a, b) => numeric(b.version, a.version));
    };
    const byGroup = new Map<string, ConsumerNode[]>();
    for (const n of nodes) {
      const g = `${n.app}|${n.cluster}|${n.region}`;
      byGroup.set(g, [...(byGroup.get(g) ?? []), n]);
    }
    const groups = [...byGroup.values()]
      .map((ns) => ({ app: ns[0]?.app ?? '', cluster: ns[0]?.cluster ?? '', region: ns[0]?.region ?? '', nodeCount: ns.length, versions: versionsOf(ns), lastSeenMs: Math.max(...ns.map((n) => n.lastSeenMs)) }))
      .sort((a, b) => text(a.app, b.app) || text(a.cluster, b.cluster) || text(a.region, b.region));
    const limit = q.nodeLimit ?? 0;
    const listed = nodes
      .filter((n) => q.version === undefined || n.version === q.version)
      .sort((a, b) => numeric(a.version, b.version) || text(a.app, b.app) || text(a.cluster, b.cluster) || text(a.region, b.region) || text(a.nodeId, b.nodeId))
      .slice(0, limit);
    let foldedPolls = 0;
    for (const s of latest.values()) foldedPolls += s.folded;
    return {
      topic,
      sinceMs: q.sinceMs,
      ...(q.untilMs !== undefined && { untilMs: q.untilMs }),
      nodeCount: nodes.length,
      liveCount: nodes.filter((n) => n.live).length,
      versions: versionsOf(nodes),
      groups,
      ...(nodes.length > 0 && { lastSeenMs: Math.max(...nodes.map((n) => n.lastSeenMs)) }),
      ...(limit > 0 && { nodes: listed }),
      foldedPolls,
    };
  }

  /** What the moves must say now. */
  moves(topic: string, q: MovesQuery): MovesPage {
    const limit = q.limit ?? 100;
    const all = this.moveLog
      .filter((m) => m.topic === topic && m.atMs >= q.sinceMs && (q.untilMs === undefined || m.atMs < q.untilMs) && (q.nodeId === undefined || m.nodeId === q.nodeId))
      .sort((a, b) => b.atMs - a.atMs || text(a.app, b.app) || text(a.cluster, b.cluster) || text(a.region, b.region) || text(a.nodeId, b.nodeId))
      .map(({ topic: _topic, ...m }) => m);
    return { topic, moves: all.slice(0, limit), truncated: all.length > limit };
  }
}

// ---------------------------------------------------------------------------------------
// The simulated fleet

const BASE = Date.UTC(2026, 0, 12, 9, 0, 0);
/** Every node polls every third tick: once per 30 s. */
const TICK = 10_000;
const APPS = ['mailer', 'ranker', 'scorer'] as const;
const CLUSTERS = ['c0', 'c1', 'c2', 'c3'] as const;
const REGIONS = ['eu-west-1', 'us-east-1'] as const;
const PER_GROUP = 100;

interface SimNode {
  readonly index: number;
  readonly id: ConsumerIdentity;
  /** Which replica it polls (0 or 1). */
  replica: number;
  readonly topics: Set<string>;
}

interface SimTopic {
  latest: string;
  pin?: { readonly cluster: string; readonly version: string };
}

class Fleet {
  now = BASE;
  readonly model = new FleetModel();
  readonly replicas: Holdings[];
  readonly nodes: SimNode[] = [];
  readonly topics = new Map<string, SimTopic>();
  /** What each node's copy of each topic is (topic|key). */
  private readonly held = new Map<string, string>();

  constructor(sink: AuditSink, names: readonly string[], maxHoldings?: number) {
    this.replicas = names.map((replica) => new Holdings({ sink, replica, quietMs: QUIET_MS, summaryMs: 30_000, clock: () => this.now, ...(maxHoldings !== undefined && { maxHoldings }) }));
    for (const r of names) this.model.addReplica(r, maxHoldings);
  }

  addNodes(topics: (app: string) => readonly string[]): void {
    for (const app of APPS) {
      for (const cluster of CLUSTERS) {
        for (const region of REGIONS) {
          for (let i = 0; i < PER_GROUP; i++) {
            const index = this.nodes.length;
            const id = { app, cluster, region, nodeId: `n${String(index).padStart(4, '0')}`, labels: { rack: `r${index % 7}` } };
            this.nodes.push({ index, id, replica: index % 2, topics: new Set(topics(app)) });
          }
        }
      }
    }
  }

  replicaName(n: SimNode): string {
    return (this.replicas[n.replica] as Holdings).replica;
  }

  /**
   * One poll of `topic` by `n` through its replica (or the same question to several at once):
   * the answer is the pin's version when its cluster is pinned, else the latest.
   */
  poll(n: SimNode, topic: string, replicas: readonly number[] = [n.replica]): void {
    const t = this.topics.get(topic) as SimTopic;
    const pinned = t.pin !== undefined && t.pin.cluster === n.id.cluster;
    const holds = t.pin !== undefined && pinned ? t.pin.version : t.latest;
    const lastSeen = this.held.get(`${topic}|${keyOf(n.id)}`) ?? '0';
    for (const r of replicas) {
      const h = this.replicas[r] as Holdings;
      h.observe(topic, n.id, lastSeen, holds, pinned);
      this.model.poll(topic, h.replica, n.id, lastSeen, holds, pinned, this.now);
    }
    this.held.set(`${topic}|${keyOf(n.id)}`, holds);
  }

  /** Tick `k`: a third of the nodes poll their topics (each at its own millisecond); every third tick both replicas sweep. */
  async tick(k: number): Promise<void> {
    const start = BASE + k * TICK;
    for (const n of this.nodes) {
      if (n.index % 3 !== k % 3) continue;
      this.now = start + n.index;
      for (const topic of n.topics) this.poll(n, topic);
    }
    if (k % 3 === 2) {
      for (const [i, h] of this.replicas.entries()) {
        this.now = start + 5_000 + i * 1_000;
        await h.sweep();
        this.model.sweep(h.replica, this.now);
      }
    }
  }

  async ticks(from: number, to: number): Promise<void> {
    for (let k = from; k <= to; k++) await this.tick(k);
  }
}

const tickStart = (k: number) => BASE + k * TICK;

/** The sink's two reads (the suite needs both). */
function readsOf(sink: AuditSink): { consumers(topic: string, q: ConsumersQuery): Promise<TopicConsumers>; moves(topic: string, q: MovesQuery): Promise<MovesPage> } {
  const { consumers, moves } = sink;
  if (!consumers || !moves) throw new Error(`the ${sink.name} sink answers no consumers view or no moves`);
  return { consumers: (topic, q) => consumers.call(sink, topic, q), moves: (topic, q) => moves.call(sink, topic, q) };
}

// ---------------------------------------------------------------------------------------
// The suite

export function auditSinkConformance(name: string, make: () => Promise<AuditSinkHarness>): void {
  describe(`AuditSink conformance: ${name}`, () => {
    describe('a fleet of 2400 nodes on two replicas: first polls, publish, pin, unpin, hand-over, nodes that stop', () => {
      let h: AuditSinkHarness;
      let fleet: Fleet;
      const A = 'replica-a';
      const B = 'replica-b';
      /** The view of the fleet right before the publish, to ask for later with untilMs. */
      let beforePublish: TopicConsumers;

      beforeAll(async () => {
        h = await make();
        fleet = new Fleet(h.sink, [A, B]);
        fleet.addNodes((app) => (app === 'ranker' ? ['scores', 'rules'] : ['scores']));
        fleet.topics.set('scores', { latest: '1' });
        fleet.topics.set('rules', { latest: '5' });
      });
      afterAll(async () => {
        await h?.cleanup();
      });

      async function settle(): Promise<void> {
        await h.sink.flush();
        await h.visible();
      }

      const consumers = (topic: string, q: ConsumersQuery) => readsOf(h.sink).consumers(topic, q);
      const moves = (topic: string, q: MovesQuery) => readsOf(h.sink).moves(topic, q);

      /** The view the sink gives equals the model's, for each query. */
      async function expectViews(topic: string, queries: readonly ConsumersQuery[]): Promise<TopicConsumers[]> {
        const got: TopicConsumers[] = [];
        for (const q of queries) {
          const r = await consumers(topic, q);
          expect(r, `${topic} ${JSON.stringify(q)}`).toEqual(fleet.model.view(topic, q));
          got.push(r);
        }
        return got;
      }

      async function expectMoves(topic: string, queries: readonly MovesQuery[]): Promise<MovesPage[]> {
        const got: MovesPage[] = [];
        for (const q of queries) {
          const r = await moves(topic, q);
          expect(r, `${topic} moves ${JSON.stringify(q)}`).toEqual(fleet.model.moves(topic, q));
          got.push(r);
        }
        return got;
      }

      /** The usual questions: the whole history, every node listed, the nodes of one version, the last 45 s. */
      const questions = (version: string): ConsumersQuery[] => [{ sinceMs: BASE }, { sinceMs: BASE, nodeLimit: 10_000 }, { sinceMs: BASE, nodeLimit: 25, version }, { sinceMs: fleet.now - 45_000 }];

      it('sees every node once after the first polls, each a move from 0, with since and last seen', async () => {
        readsOf(h.sink); // both reads are there
        await fleet.ticks(0, 2);
        await settle();
        const [all, listed] = await expectViews('scores', questions('1'));
        // The model's own numbers, stated: 2400 nodes in 24 groups of 100, all on version 1.
        expect(all).toMatchObject({ nodeCount: 2400, liveCount: 2400, foldedPolls: 0, versions: [{ version: '1', nodeCount: 2400 }] });
        expect(all?.groups).toHaveLength(24);
        const first = listed?.nodes?.[0];
        expect(first).toEqual({ app: 'mailer', cluster: 'c0', region: 'eu-west-1', nodeId: 'n0000', version: '1', sinceMs: BASE, lastSeenMs: tickStart(2) + 5_000, live: true, pinned: false, replica: A });
        const [rules] = await expectViews('rules', questions('5'));
        expect(rules).toMatchObject({ nodeCount: 800, versions: [{ version: '5', nodeCount: 800 }] });
        const [page] = await expectMoves('scores', [{ sinceMs: BASE, limit: 1000 }, { sinceMs: BASE, untilMs: tickStart(1), limit: 1000 }]);
        expect(page).toMatchObject({ truncated: true });
        expect(page?.moves).toHaveLength(1000);
        expect(page?.moves[0]).toMatchObject({ from: '0', to: '1', atMs: tickStart(2) + 2399 });
        beforePublish = fleet.model.view('scores', { sinceMs: BASE, untilMs: tickStart(3), nodeLimit: 10_000 });
      });

      it('a publish: the nodes that polled since show the new version at once, before any summary; all of them after a round', async () => {
        fleet.topics.set('scores', { latest: '2' });
        await fleet.tick(3);
        await settle();
        const [all] = await expectViews('scores', questions('2'));
        expect(all?.versions.map((v) => [v.version, v.nodeCount])).toEqual([
          ['2', 800],
          ['1', 1600],
        ]);
        await fleet.ticks(4, 5);
        await settle();
        const [after] = await expectViews('scores', questions('1'));
        expect(after?.versions.map((v) => [v.version, v.nodeCount])).toEqual([['2', 2400]]);
        await expectMoves('scores', [{ sinceMs: tickStart(3), limit: 1000 }, { sinceMs: tickStart(3), untilMs: tickStart(4), limit: 1000 }]);
        // What was live where before the publish is still the answer for that time.
        expect(await consumers('scores', { sinceMs: BASE, untilMs: tickStart(3), nodeLimit: 10_000 })).toEqual(beforePublish);
        expect(beforePublish.versions.map((v) => [v.version, v.nodeCount])).toEqual([['1', 2400]]);
      });

      it('a pin of one cluster back to version 1: its nodes move back, pinned; a publish on another topic meanwhile', async () => {
        fleet.topics.set('scores', { latest: '2', pin: { cluster: 'c1', version: '1' } });
        fleet.topics.set('rules', { latest: '6' });
        await fleet.ticks(6, 8);
        await settle();
        const [all, listed] = await expectViews('scores', questions('1'));
        expect(all?.versions.map((v) => [v.version, v.nodeCount])).toEqual([
          ['2', 1800],
          ['1', 600],
        ]);
        expect(listed?.nodes?.filter((n) => n.pinned).map((n) => n.cluster)).toEqual(Array<string>(600).fill('c1'));
        const [rules] = await expectViews('rules', questions('6'));
        expect(rules?.versions.map((v) => [v.version, v.nodeCount])).toEqual([['6', 800]]);
        const [pinMoves] = await expectMoves('scores', [{ sinceMs: tickStart(6), limit: 1000 }]);
        expect(pinMoves?.moves.every((m) => m.from === '2' && m.to === '1' && m.pinned && m.cluster === 'c1')).toBe(true);
        expect(pinMoves?.moves).toHaveLength(600);
        await expectMoves('rules', [{ sinceMs: BASE, limit: 1000 }]);
      });

      it('the unpin: the cluster returns to version 2; one node has its whole history of moves', async () => {
        fleet.topics.set('scores', { latest: '2' });
        await fleet.ticks(9, 11);
        await settle();
        const [all] = await expectViews('scores', questions('2'));
        expect(all?.versions.map((v) => [v.version, v.nodeCount])).toEqual([['2', 2400]]);
        const c1 = fleet.nodes.find((n) => n.id.cluster === 'c1') as SimNode;
        const [history] = await expectMoves('scores', [{ sinceMs: BASE, nodeId: c1.id.nodeId }, { sinceMs: tickStart(9), limit: 1000 }, { sinceMs: BASE, limit: 7 }]);
        expect(history?.moves.map((m) => `${m.from}->${m.to}${m.pinned ? ' pinned' : ''}`)).toEqual(['1->2', '2->1 pinned', '1->2', '0->1']);
        expect(history?.truncated).toBe(false);
      });

      it('nodes handed over to the other replica are counted once, by the new replica, also after the old one reports them gone', async () => {
        const moved = fleet.nodes.filter((n) => n.id.app === 'mailer' && n.id.region === 'us-east-1');
        expect(moved).toHaveLength(400);
        for (const n of moved) n.replica = 1 - n.replica;
        await fleet.ticks(12, 14);
        await settle();
        // Both replicas count them now (the old one has not seen them quiet for long enough);
        // whichever summarised last has the word.
        expect(fleet.replicas.reduce((s, r) => s + r.stats().events.gone, 0)).toBe(0);
        const [all] = await expectViews('scores', questions('2'));
        expect(all).toMatchObject({ nodeCount: 2400, liveCount: 2400 });
        await fleet.ticks(15, 17);
        await settle();
        expect(fleet.replicas.reduce((s, r) => s + r.stats().events.gone, 0)).toBe(400);
        const [after, listedAfter] = await expectViews('scores', questions('2'));
        expect(after).toMatchObject({ nodeCount: 2400, liveCount: 2400 });
        const byIdAfter = new Map((listedAfter?.nodes ?? []).map((n) => [n.nodeId, n]));
        for (const n of moved) expect(byIdAfter.get(n.id.nodeId)).toMatchObject({ live: true, replica: fleet.replicaName(n) });
        // A hand-over is not a move.
        await expectMoves('scores', [{ sinceMs: tickStart(12), limit: 1000 }]);
        expect((await moves('scores', { sinceMs: tickStart(12) })).moves).toEqual([]);
      });

      it('nodes that stop polling stay counted until reported gone, then are not live, then age out of a later window', async () => {
        const stopped = fleet.nodes.filter((n) => n.id.app === 'scorer' && n.id.cluster === 'c3');
        expect(stopped).toHaveLength(200);
        for (const n of stopped) n.topics.clear();
        await fleet.ticks(18, 20);
        await settle();
        const [still] = await expectViews('scores', questions('2'));
        expect(still).toMatchObject({ nodeCount: 2400, liveCount: 2400 });
        await fleet.ticks(21, 23);
        await settle();
        const [all, listed] = await expectViews('scores', [...questions('2'), { sinceMs: tickStart(18) }, { sinceMs: tickStart(18), nodeLimit: 10_000 }]);
        expect(all).toMatchObject({ nodeCount: 2400, liveCount: 2200 });
        const gone = listed?.nodes?.filter((n) => !n.live) ?? [];
        expect(gone.map((n) => n.nodeId).sort()).toEqual(stopped.map((n) => n.id.nodeId).sort());
        // Each gone node's last sighting is its last poll (ticks 15 to 17), not the report.
        for (const n of gone) expect(n.lastSeenMs).toBeLessThan(tickStart(18));
        const recent = await consumers('scores', { sinceMs: tickStart(18) });
        expect(recent).toMatchObject({ nodeCount: 2200, liveCount: 2200 });
        expect(recent.groups.find((g) => g.app === 'scorer' && g.cluster === 'c3')).toBeUndefined();
      });
    });

    describe('two replicas answering the same nodes at the same moment', () => {
      let h: AuditSinkHarness;
      beforeAll(async () => {
        h = await make();
      });
      afterAll(async () => {
        await h?.cleanup();
      });

      it('count each node once and list each move once', async () => {
        const fleet = new Fleet(h.sink, ['replica-a', 'replica-b']);
        fleet.addNodes((app) => (app === 'scorer' ? ['twice'] : []));
        fleet.topics.set('twice', { latest: '3' });
        const nodes = fleet.nodes.filter((n) => n.topics.size > 0);
        // Clients that asked both (a retry on another replica): the same answer, the same
        // millisecond. Half of them had asked replica-b already, so replica-a's word is a first
        // sight of a node that holds its version (no move).
        fleet.now = BASE + 500;
        for (const n of nodes) if (n.index % 2 === 1) fleet.poll(n, 'twice', [1]);
        fleet.now = BASE + 1_000;
        for (const n of nodes) fleet.poll(n, 'twice', [0, 1]);
        fleet.now = BASE + 2_000;
        for (const r of fleet.replicas) {
          await r.sweep();
          fleet.model.sweep(r.replica, fleet.now);
        }
        await h.sink.flush();
        await h.visible();
        expect(h.sink.stats().recorded).toBe(2 * 800 + 2 * 8); // a hold per node from each replica, and their summaries
        expect(fleet.model.moves('twice', { sinceMs: BASE, limit: 1000 }).moves).toHaveLength(800);
        const view = await readsOf(h.sink).consumers('twice', { sinceMs: BASE });
        const want = fleet.model.view('twice', { sinceMs: BASE });
        expect(view).toEqual(want);
        expect(view).toMatchObject({ nodeCount: 800, liveCount: 800, versions: [{ version: '3', nodeCount: 800, lastSeenMs: BASE + 2_000 }] });
        expect(await readsOf(h.sink).moves('twice', { sinceMs: BASE, limit: 1000 })).toEqual(fleet.model.moves('twice', { sinceMs: BASE, limit: 1000 }));
        const page = await readsOf(h.sink).moves('twice', { sinceMs: BASE, limit: 1000 });
        expect(page.moves).toHaveLength(800);
        expect(new Set(page.moves.map((m) => m.nodeId)).size).toBe(800);
        expect(page.truncated).toBe(false);

        // From now on they ask replica-b only; replica-a reports them gone (last seen at the
        // millisecond replica-b also answered them), replica-b saw them since: they stay live.
        for (const n of nodes) n.replica = 1;
        await fleet.ticks(1, 8);
        expect((fleet.replicas[0] as Holdings).stats().events.gone).toBe(800);
        await h.sink.flush();
        await h.visible();
        const later = await readsOf(h.sink).consumers('twice', { sinceMs: BASE, nodeLimit: 1000 });
        expect(later).toEqual(fleet.model.view('twice', { sinceMs: BASE, nodeLimit: 1000 }));
        expect(later).toMatchObject({ nodeCount: 800, liveCount: 800 });
      });
    });

    describe('memory within budget', () => {
      let h: AuditSinkHarness;
      beforeAll(async () => {
        h = await make();
      });
      afterAll(async () => {
        await h?.cleanup();
      });

      it('a replica tracking at most 150 of 400 nodes counts the rest as folded polls, and the view reports them', async () => {
        const fleet = new Fleet(h.sink, ['replica-small'], 150);
        fleet.addNodes((app) => (app === 'ranker' ? ['crowded'] : []));
        fleet.topics.set('crowded', { latest: '4' });
        for (const n of fleet.nodes) n.replica = 0;
        const polling = fleet.nodes.filter((n) => n.topics.size > 0).slice(0, 400);
        for (const n of fleet.nodes) if (!polling.includes(n)) n.topics.clear();
        await fleet.ticks(0, 5);
        const r = fleet.replicas[0] as Holdings;
        expect(r.stats()).toMatchObject({ holdings: 150, folded: 250 * 2 });
        await h.sink.flush();
        await h.visible();
        const q = { sinceMs: BASE, nodeLimit: 1000 };
        const view = await readsOf(h.sink).consumers('crowded', q);
        expect(view).toEqual(fleet.model.view('crowded', q));
        // Every node polled once per summary period; the latest summaries fold the 250 untracked ones' polls.
        expect(view).toMatchObject({ nodeCount: 150, foldedPolls: 250 });
        expect(view.nodes).toHaveLength(150);
      });
    });

    describe('denied events: the calls access control refused, per topic', () => {
      let h: AuditSinkHarness;
      beforeAll(async () => {
        h = await make();
      });
      afterAll(async () => {
        await h?.cleanup();
      });

      const denied = (atMs: number, topic: string, principal: string, action: DeniedEvent['action'], method: string, count: number, replica = 'r1', app?: string): DeniedEvent => ({
        kind: 'denied',
        atMs,
        topic,
        replica,
        principal,
        action,
        method,
        ...(app !== undefined && { app }),
        count,
      });
      // Two topics, two replicas, one millisecond twice (the order then: principal, action, method, replica).
      const events: DeniedEvent[] = [
        denied(BASE + 1_000, 'guarded', 'eve', 'consume', 'Poll', 1, 'r1', 'scorer'),
        denied(BASE + 2_000, 'guarded', 'eve', 'publish', 'Publish', 1),
        denied(BASE + 2_000, 'guarded', 'bob', 'operate', 'Pin', 3, 'r2'),
        denied(BASE + 2_000, 'guarded', 'eve', 'consume', 'BatchPoll', 1, 'r2', 'scorer'),
        denied(BASE + 61_000, 'guarded', 'eve', 'consume', 'Poll', 250, 'r1', 'scorer'),
        denied(BASE + 1_500, 'other', 'eve', 'own', 'UpdateTopic', 1),
      ];
      const line = (d: DeniedEvent) => `${d.atMs - BASE} ${d.principal} ${d.action} ${d.method} ${d.app ?? '-'} x${d.count} ${d.replica}`;

      it('are written and read back per topic, newest first, each with principal, action, method, app when claimed, count and replica', async () => {
        for (const e of events) expect(h.sink.record(e)).toBe(true);
        // A hold among them (by an authenticated principal): the consumers view keeps seeing only nodes.
        h.sink.record({ kind: 'hold', atMs: BASE + 3_000, topic: 'guarded', identity: { app: 'scorer', cluster: 'c', region: 'r', nodeId: 'n1', labels: {} }, replica: 'r1', version: '4', previous: '0', moved: true, pinned: false, principal: 'svc-scorer' });
        await h.sink.flush();
        await h.visible();
        const { denials } = h.sink;
        if (!denials) throw new Error(`the ${h.sink.name} sink lists no denials`);
        const page = await denials.call(h.sink, 'guarded', { sinceMs: BASE });
        expect(page.truncated).toBe(false);
        expect(page.denials.map(line)).toEqual([
          '61000 eve consume Poll scorer x250 r1',
          '2000 bob operate Pin - x3 r2',
          '2000 eve consume BatchPoll scorer x1 r2',
          '2000 eve publish Publish - x1 r1',
          '1000 eve consume Poll scorer x1 r1',
        ]);
        expect(page.denials[0]).toEqual({ kind: 'denied', atMs: BASE + 61_000, topic: 'guarded', replica: 'r1', principal: 'eve', action: 'consume', method: 'Poll', app: 'scorer', count: 250 });
        expect(page.denials[1]).not.toHaveProperty('app');
        expect((await denials.call(h.sink, 'other', { sinceMs: BASE })).denials.map(line)).toEqual(['1500 eve own UpdateTopic - x1 r1']);
        const view = await readsOf(h.sink).consumers('guarded', { sinceMs: BASE, nodeLimit: 10 });
        expect([view.nodeCount, view.nodes?.map((n) => n.nodeId)]).toEqual([1, ['n1']]);
        // The hold's principal comes back with its move.
        expect((await readsOf(h.sink).moves('guarded', { sinceMs: BASE })).moves.map((m) => [m.nodeId, m.principal])).toEqual([['n1', 'svc-scorer']]);
      });

      it('a window and a limit: [sinceMs, untilMs), at most limit, truncated when more matched', async () => {
        const denials = h.sink.denials?.bind(h.sink);
        if (!denials) throw new Error(`the ${h.sink.name} sink lists no denials`);
        expect((await denials('guarded', { sinceMs: BASE + 2_000, untilMs: BASE + 61_000 })).denials.map(line)).toEqual([
          '2000 bob operate Pin - x3 r2',
          '2000 eve consume BatchPoll scorer x1 r2',
          '2000 eve publish Publish - x1 r1',
        ]);
        const two = await denials('guarded', { sinceMs: BASE, limit: 2 });
        expect([two.denials.map(line), two.truncated]).toEqual([['61000 eve consume Poll scorer x250 r1', '2000 bob operate Pin - x3 r2'], true]);
        expect(await denials('guarded', { sinceMs: BASE + 62_000 })).toEqual({ denials: [], truncated: false });
        expect(await denials('nobody-was-refused', { sinceMs: BASE })).toEqual({ denials: [], truncated: false });
        await expect(denials('guarded', { sinceMs: BASE, limit: 0 })).rejects.toMatchObject({ field: 'limit' });
      });
    });

    describe('record, stats, flush, close', () => {
      let h: AuditSinkHarness;
      beforeAll(async () => {
        h = await make();
      });
      afterAll(async () => {
        await h?.cleanup();
      });

      const identity = { app: 'a', cluster: 'c', region: 'r', nodeId: 'n1', labels: { k: 'v' } };
      const events: AuditEvent[] = [
        { kind: 'hold', atMs: BASE, topic: 'life', identity, replica: 'r1', version: '1', previous: '0', moved: true, pinned: false },
        { kind: 'hold', atMs: BASE + 10, topic: 'life', identity: { ...identity, nodeId: 'n2' }, replica: 'r1', version: '2', previous: '1', moved: true, pinned: true },
        { kind: 'summary', atMs: BASE + 20, topic: 'life', replica: 'r1', app: 'a', cluster: 'c', region: 'r', version: '1', nodeCount: 1, pinnedCount: 0, errorCount: 3, foldedPolls: 5, periodMs: 1000 },
        { kind: 'gone', atMs: BASE + 30, topic: 'life', identity: { ...identity, nodeId: 'n2' }, replica: 'r1', version: '2', seenMs: BASE + 15 },
      ];

      it('record() never throws, stats() counts, and after flush() the view sees everything recorded', async () => {
        for (const e of events) expect(() => h.sink.record(e)).not.toThrow();
        expect(h.sink.stats()).toMatchObject({ recorded: 4, dropped: 0 });
        await h.sink.flush();
        await h.visible();
        const view = await readsOf(h.sink).consumers('life', { sinceMs: BASE, nodeLimit: 10 });
        expect(view).toEqual({
          topic: 'life',
          sinceMs: BASE,
          nodeCount: 2,
          liveCount: 1,
          versions: [
            { version: '2', nodeCount: 1, lastSeenMs: BASE + 15 },
            { version: '1', nodeCount: 1, lastSeenMs: BASE + 20 },
          ],
          groups: [
            {
              app: 'a',
              cluster: 'c',
              region: 'r',
              nodeCount: 2,
              versions: [
                { version: '2', nodeCount: 1, lastSeenMs: BASE + 15 },
                { version: '1', nodeCount: 1, lastSeenMs: BASE + 20 },
              ],
              lastSeenMs: BASE + 20,
            },
          ],
          lastSeenMs: BASE + 20,
          nodes: [
            { app: 'a', cluster: 'c', region: 'r', nodeId: 'n1', version: '1', sinceMs: BASE, lastSeenMs: BASE + 20, live: true, pinned: false, replica: 'r1' },
            { app: 'a', cluster: 'c', region: 'r', nodeId: 'n2', version: '2', sinceMs: BASE + 10, lastSeenMs: BASE + 15, live: false, pinned: false, replica: 'r1' },
          ],
          foldedPolls: 5,
        });
        const page = await readsOf(h.sink).moves('life', { sinceMs: BASE });
        expect(page.moves.map((m) => `${m.nodeId} ${m.from}->${m.to}`)).toEqual(['n2 1->2', 'n1 0->1']);
      });

      it('an event with no valid time: record() does not throw, and the event is accounted for', async () => {
        const before = h.sink.stats();
        expect(() => h.sink.record({ ...(events[0] as AuditEvent), atMs: Number.NaN })).not.toThrow();
        await h.sink.flush();
        const after = h.sink.stats();
        // Offered = accepted (recorded) + refused (dropped, less the accepted ones lost later: failed).
        const offered = (x: AuditStats) => x.recorded + x.dropped - (x.failed ?? 0);
        expect(offered(after)).toBe(offered(before) + 1);
      });

      it('after close(), record() drops and counts', async () => {
        await h.sink.close();
        const before = h.sink.stats();
        expect(() => h.sink.record(events[0] as AuditEvent)).not.toThrow();
        await h.sink.flush();
        const after = h.sink.stats();
        expect(after.dropped).toBe(before.dropped + 1);
        expect(after.recorded).toBe(before.recorded);
      });
    });
  });
}
