/**
 * What one serving instance knows of the fleet: per (topic, node) the version held, its pin
 * flag, its last poll and its failed polls since the last summary. Every poll the Poller
 * answers is `observe`d here; the audit sink hears only what changed (core/holdings.ts
 * decides): a hold event on first sight, a move or a flipped pin flag; a gone event when a
 * node stops polling for `quietMs`; and every `summaryMs` one summary per (topic, app,
 * cluster, region, version). A node polling the same version every 30 s costs two map lookups
 * and a write, no event.
 *
 * The table is columns, not objects: per topic an IntMap (core/int-map.ts: a hash table in one
 * Int32Array) from node number to slot and typed arrays for the version (a number into the
 * topic's few version strings), pin flag, last poll and errors; per node its key string. A
 * fleet of 100k nodes x 7 topics is then flat arrays the garbage collector does not trace,
 * rather than a million small objects each full collection marks (which made its pauses twice
 * as long), or V8 Maps of numbers it traces entry by entry (700k entries).
 *
 * Memory is bounded: at most `maxHoldings` (topic, node) pairs are tracked one by one. A node
 * seen when the table is full is not remembered: its polls are counted per summary group
 * (`foldedPolls` in the summary, `imprint_audit_holdings_folded_total`) until quiet nodes make
 * room again.
 */
import os from 'node:os';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  IntMap,
  checkSetting,
  holdingChange,
  isQuiet,
  previousVersion,
  summarize,
  summaryKey,
  type ConsumerIdentity,
  type Holding,
  type HoldingEvent,
  type SummaryCounts,
} from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';

/** Where events go (an AuditSink): true when it took the event, false when it dropped it. */
export interface HoldingEventSink {
  record(event: HoldingEvent): boolean;
}

/** The holdings' timings and bound (the server's `--audit-*` flags). */
export interface HoldingsSettings {
  /** A node not seen for this long is gone, ms (10000 to 86400000). @default 600000 (10 min) */
  readonly quietMs?: number;
  /** Summaries (and the quiet check) this often, ms (1000 to 86400000). @default 300000 (5 min) */
  readonly summaryMs?: number;
  /** (topic, node) pairs tracked one by one at most (1 to 50000000). @default 2000000 */
  readonly maxHoldings?: number;
}

export const HOLDINGS_DEFAULTS = { quietMs: 600_000, summaryMs: 300_000, maxHoldings: 2_000_000 } as const;

/** Checks the settings (naming the flag and variable of each) and fills in the defaults above. */
export function holdingsWithDefaults(o: HoldingsSettings = {}): Required<HoldingsSettings> {
  const whole = (field: keyof HoldingsSettings, flag: string, min: number, max: number): number => checkSetting(o[field] ?? HOLDINGS_DEFAULTS[field], `holdings.${field}`, flag, min, max);
  return {
    quietMs: whole('quietMs', 'audit-quiet-ms', 10_000, 86_400_000),
    summaryMs: whole('summaryMs', 'audit-summary-ms', 1_000, 86_400_000),
    maxHoldings: whole('maxHoldings', 'audit-max-holdings', 1, 50_000_000),
  };
}

export interface HoldingsOptions extends HoldingsSettings {
  readonly sink: HoldingEventSink;
  /** This instance's name in the events. @default host:pid/start time (unique per process life) */
  readonly replica?: string;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
  readonly registry?: Registry;
}

export interface HoldingsStats {
  /** (topic, node) pairs tracked. */
  readonly holdings: number;
  readonly nodes: number;
  /** Distinct (app, cluster, region) names kept for them. */
  readonly groups: number;
  readonly topics: number;
  /** Polls observed. */
  readonly observed: number;
  /** Events the sink took, by kind. */
  readonly events: { readonly hold: number; readonly gone: number; readonly summary: number };
  /** Polls of nodes not tracked because the table was full. */
  readonly folded: number;
  /** Events the sink dropped: a hold or gone is said again at the node's next poll or sweep; a summary is lost. */
  readonly refused: number;
  /** Sweeps (quiet check and summaries) completed. */
  readonly sweeps: number;
}

export function defaultReplicaName(): string {
  return `${os.hostname()}:${process.pid}/${Date.now().toString(36)}`;
}

/** A free slot's node. */
const FREE = -1;

/**
 * The node index: per node, one 64-byte line of 16 Int32s, the first PAIRS topics it holds as
 * (topic id, slot) pairs (a free pair's topic id -1), then at OVERFLOW how many more it holds
 * (found through their topics' IntMaps). A BatchPoll observes a node's topics one after the
 * other, so its line is read from memory once and then from cache, where each topic's IntMap
 * lookup was a miss of its own (measured in the server: the IntMap's bucket was the costliest
 * line of a steady-state observe).
 */
const LINE = 16;
const PAIRS = 7;
const OVERFLOW = 14;

/**
 * One topic's holdings: node number -> slot, and the slot's row. The slots are walked by
 * number, 0 to `top` (a free one's node is FREE), never through `slots`: a sweep removes
 * entries as it goes and polls add some while it yields, and a slot stays where it is while its
 * node is held, where an IntMap's delete moves other entries between buckets.
 *
 * What a poll reads and writes of a slot (when it was seen, the version held and whether
 * pinned, errors) is one 16-byte row of one buffer, seen through two views: a poll touches one
 * cache line for them, not one in each of four arrays. Under a fleet the tables are out of
 * cache between polls (1000 topics, nodes in any order), and each line is a miss: measured in
 * the server, a steady-state observe cost 3.7 µs with four columns, about ten times its cost
 * alone in a loop (bench/audit-tables.ts).
 */
class TopicTable {
  readonly slots = new IntMap();
  /** The table's number in the node index (reused once the table is dropped). */
  constructor(readonly id: number) {}
  /** The versions held, each once; a slot holds an index into it. Rebuilt at each sweep. */
  versions: string[] = [];
  versionIds = new Map<string, number>();
  node = new Int32Array(64);
  /** Row `slot`: seenMs at f64[slot * 2]; held = version index * 2 + pinned at i32[slot * 4 + 2]; errors at i32[slot * 4 + 3]. */
  private f64 = new Float64Array(64 * 2);
  private i32 = new Int32Array(this.f64.buffer);
  /** Slots in use or freed: the next new slot when `free` is empty. */
  top = 0;
  readonly free: number[] = [];
  /** Polls of untracked nodes since the last summary, per summary key. */
  folded = new Map<string, number>();

  versionId(v: string): number {
    let id = this.versionIds.get(v);
    if (id === undefined) {
      id = this.versions.length;
      this.versions.push(v);
      this.versionIds.set(v, id);
    }
    return id;
  }

  seenMs(slot: number): number {
    return this.f64[slot * 2] as number;
  }

  seen(slot: number, atMs: number): void {
    this.f64[slot * 2] = atMs;
  }

  version(slot: number): string {
    return this.versions[(this.i32[slot * 4 + 2] as number) >>> 1] as string;
  }

  pinned(slot: number): boolean {
    return ((this.i32[slot * 4 + 2] as number) & 1) === 1;
  }

  errors(slot: number): number {
    return this.i32[slot * 4 + 3] as number;
  }

  /** One more failed poll (saturating: a count, not an id). */
  failed(slot: number): void {
    const i = slot * 4 + 3;
    if ((this.i32[i] as number) < 0x7fffffff) (this.i32[i] as number)++;
  }

  clearErrors(slot: number): void {
    this.i32[slot * 4 + 3] = 0;
  }

  hold(slot: number, version: string, pinned: boolean): void {
    this.i32[slot * 4 + 2] = this.versionId(version) * 2 + (pinned ? 1 : 0);
  }

  /** Holds `node` in a slot of its own, returned. */
  add(node: number, version: string, pinned: boolean, seenMs: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.top++;
      if (slot === this.node.length) this.grow();
    }
    this.slots.set(node, slot);
    this.node[slot] = node;
    this.hold(slot, version, pinned);
    this.seen(slot, seenMs);
    this.clearErrors(slot);
    return slot;
  }

  remove(node: number, slot: number): void {
    this.slots.delete(node);
    this.node[slot] = FREE;
    this.free.push(slot);
  }

  private grow(): void {
    const n = this.node.length * 2;
    const node = new Int32Array(n);
    node.set(this.node);
    this.node = node;
    const f64 = new Float64Array(n * 2);
    f64.set(this.f64);
    this.f64 = f64;
    this.i32 = new Int32Array(f64.buffer);
  }

  /** Keeps only the versions some slot holds (a topic published every few minutes would pile them up). */
  compactVersions(): void {
    const used = new Map<number, number>();
    const versions: string[] = [];
    for (let slot = 0; slot < this.top; slot++) {
      if (this.node[slot] === FREE) continue;
      const held = this.i32[slot * 4 + 2] as number;
      const old = held >>> 1;
      let id = used.get(old);
      if (id === undefined) {
        id = versions.length;
        versions.push(this.versions[old] as string);
        used.set(old, id);
      }
      this.i32[slot * 4 + 2] = id * 2 + (held & 1);
    }
    this.versions = versions;
    this.versionIds = new Map(versions.map((v, i) => [v, i]));
  }
}

export class Holdings {
  readonly replica: string;
  readonly quietMs: number;
  readonly summaryMs: number;
  readonly maxHoldings: number;
  private readonly sink: HoldingEventSink;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Node key (app, cluster, region, node id) -> node number. */
  private readonly nodeIds = new Map<string, number>();
  /** By node number: its key, "app\0cluster\0region" (shared per group), topics held, labels (when any). */
  private nodeKeys: (string | undefined)[] = [];
  private nodeGroups: (string | undefined)[] = [];
  private nodeTopics = new Int32Array(64);
  /** By node number, its line of (topic id, slot) pairs (see LINE). */
  private nodeIndex = new Int32Array(64 * LINE);
  private readonly nodeLabels = new Map<number, Readonly<Record<string, string>>>();
  private readonly freeNodes: number[] = [];
  private readonly groups = new Map<string, string>();
  private readonly topics = new Map<string, TopicTable>();
  /** Topic table ids given back by dropped tables, and the next never used. */
  private readonly freeTopicIds: number[] = [];
  private nextTopicId = 0;
  private count = 0;
  private observed = 0;
  private folded = 0;
  /** Events the sink dropped (a hold or gone is said again; a summary is lost). */
  private refused = 0;
  private sweeps = 0;
  private readonly events = { hold: 0, gone: 0, summary: 0 };
  /** The identity object seen last and its node: a BatchPoll observes all its topics with one. */
  private lastIdentity: ConsumerIdentity | undefined;
  private lastNode = -1;
  private lastSweepMs: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(o: HoldingsOptions) {
    this.sink = o.sink;
    this.replica = o.replica ?? defaultReplicaName();
    ({ quietMs: this.quietMs, summaryMs: this.summaryMs, maxHoldings: this.maxHoldings } = holdingsWithDefaults(o));
    this.now = o.clock ?? Date.now;
    this.log = o.log ?? silentLogger;
    this.lastSweepMs = this.now();
    if (o.registry) this.registerMetrics(o.registry);
  }

  /**
   * One answered poll: the node said it held `lastSeen`, holds `holds` after the answer (with
   * `error`: the poll failed and it kept `lastSeen`); `principal`: the poll's authenticated
   * principal, named in the hold event it makes. Never throws, never waits.
   */
  observe(topic: string, identity: ConsumerIdentity, lastSeen: string, holds: string, pinned: boolean, error = false, principal?: string): void {
    this.observed++;
    const atMs = this.now();
    let t = this.topics.get(topic);
    // A failed poll of a node this instance does not hold for the topic (an unknown topic, a store
    // outage at its first poll) says nothing of what it holds: not remembered, so a caller asking
    // for made-up topics costs nothing here (the request metrics count the errors).
    if (!t && error) return;
    if (!t) {
      t = new TopicTable(this.freeTopicIds.pop() ?? this.nextTopicId++);
      this.topics.set(topic, t);
    }
    const node = identity === this.lastIdentity ? this.lastNode : this.findNode(identity);
    const slot = node < 0 ? -1 : this.slotOf(t, node);
    let prev: Holding | undefined;
    if (slot >= 0) {
      t.seen(slot, atMs);
      if (error) {
        t.failed(slot);
        return;
      }
      const held = t.version(slot);
      const wasPinned = t.pinned(slot);
      if (held === holds && wasPinned === pinned) return;
      prev = { version: held, pinned: wasPinned, seenMs: atMs, errors: t.errors(slot) };
    } else if (error) return;
    const sighting = { lastSeen, holds, pinned, atMs };
    if (holdingChange(prev, sighting) === 'none') return;
    if (slot < 0 && this.count >= this.maxHoldings) {
      // Full: counted in its summary group, not remembered (no event: it would repeat every poll).
      this.folded++;
      const k = summaryKey(identity, holds);
      t.folded.set(k, (t.folded.get(k) ?? 0) + 1);
      return;
    }
    // Said first, remembered only when the sink took it: a dropped event (a full buffer at a
    // cold start before a whole fleet, Elasticsearch down) is said again at the node's next poll.
    const previous = previousVersion(prev, sighting);
    if (!this.sink.record({ kind: 'hold', atMs, topic, identity, replica: this.replica, version: holds, previous, moved: previous !== holds, pinned, ...(principal !== undefined && { principal }) })) {
      this.refused++;
      return;
    }
    this.events.hold++;
    if (slot >= 0) {
      t.hold(slot, holds, pinned);
    } else {
      const n = node < 0 ? this.addNode(identity) : node;
      this.indexAdd(n, t.id, t.add(n, holds, pinned, atMs));
      (this.nodeTopics[n] as number)++;
      this.count++;
    }
  }

  /**
   * A node's key. Joined, not a template: a template's result is a tree of concatenations (V8
   * cons strings, 32 B each) that a key kept for every node of the fleet would hold on to; a
   * join is one flat string.
   */
  private static keyOf(identity: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region' | 'nodeId'>): string {
    return [identity.app, identity.cluster, identity.region, identity.nodeId].join('\u0000');
  }

  /** The number of a node that holds a topic here, or -1 (remembered as the last one looked up when found). */
  private findNode(identity: ConsumerIdentity): number {
    const node = this.nodeIds.get(Holdings.keyOf(identity));
    if (node === undefined) return -1;
    this.lastIdentity = identity;
    this.lastNode = node;
    return node;
  }

  private addNode(identity: ConsumerIdentity): number {
    const key = Holdings.keyOf(identity);
    let node = this.freeNodes.pop();
    if (node === undefined) {
      node = this.nodeKeys.length;
      this.nodeKeys.push(undefined);
      this.nodeGroups.push(undefined);
      if (node === this.nodeTopics.length) {
        const bigger = new Int32Array(node * 2);
        bigger.set(this.nodeTopics);
        this.nodeTopics = bigger;
        const index = new Int32Array(node * 2 * LINE);
        index.set(this.nodeIndex);
        this.nodeIndex = index;
      }
    }
    const line = node * LINE;
    this.nodeIndex.fill(-1, line, line + 2 * PAIRS);
    this.nodeIndex[line + OVERFLOW] = 0;
    const group = `${identity.app}\u0000${identity.cluster}\u0000${identity.region}`;
    let shared = this.groups.get(group);
    if (shared === undefined) {
      shared = group;
      this.groups.set(group, group);
    }
    this.nodeIds.set(key, node);
    this.nodeKeys[node] = key;
    this.nodeGroups[node] = shared;
    this.nodeTopics[node] = 0;
    if (Object.keys(identity.labels).length > 0) this.nodeLabels.set(node, identity.labels);
    this.lastIdentity = identity;
    this.lastNode = node;
    return node;
  }

  /** The slot of `node` in `t`, or -1: from the node's line, else (when it holds more topics than the line has room for) from the topic's IntMap. */
  private slotOf(t: TopicTable, node: number): number {
    const index = this.nodeIndex;
    const line = node * LINE;
    const id = t.id;
    for (let i = line; i < line + 2 * PAIRS; i += 2) if (index[i] === id) return index[i + 1] as number;
    return (index[line + OVERFLOW] as number) > 0 ? t.slots.get(node) : -1;
  }

  private indexAdd(node: number, id: number, slot: number): void {
    const index = this.nodeIndex;
    const line = node * LINE;
    for (let i = line; i < line + 2 * PAIRS; i += 2) {
      if (index[i] === -1) {
        index[i] = id;
        index[i + 1] = slot;
        return;
      }
    }
    (index[line + OVERFLOW] as number)++;
  }

  private indexRemove(node: number, id: number): void {
    const index = this.nodeIndex;
    const line = node * LINE;
    for (let i = line; i < line + 2 * PAIRS; i += 2) {
      if (index[i] === id) {
        index[i] = -1;
        return;
      }
    }
    (index[line + OVERFLOW] as number)--;
  }

  private forget(node: number): void {
    this.nodeIds.delete(this.nodeKeys[node] as string);
    this.nodeKeys[node] = undefined;
    this.nodeGroups[node] = undefined;
    this.nodeLabels.delete(node);
    this.freeNodes.push(node);
    if (this.lastNode === node) {
      this.lastNode = -1;
      this.lastIdentity = undefined;
    }
  }

  /** A node's identity, rebuilt from its key (and its labels, when it had any). */
  private identityOf(node: number): ConsumerIdentity {
    const [app = '', cluster = '', region = '', nodeId = ''] = (this.nodeKeys[node] as string).split('\u0000');
    return { app, cluster, region, nodeId, labels: this.nodeLabels.get(node) ?? {} };
  }

  /**
   * The quiet check and the summaries: nodes not seen for `quietMs` are gone (one event each,
   * forgotten), then one summary per group of each topic's live nodes. Yields to the event loop
   * whenever it has run for 5 ms (a node that polls meanwhile counts as live, or as new). Concurrent
   * calls share one sweep.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.runSweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<void> {
    const atMs = this.now();
    const periodMs = Math.max(0, atMs - this.lastSweepMs);
    this.lastSweepMs = atMs;
    let sliceStart = performance.now();
    let n = 0;
    for (const [topic, t] of [...this.topics]) {
      // Taken at the start: what polls fold while this sweep yields counts in the next one.
      const counts = new Map<string, SummaryCounts>();
      for (const [k, polls] of t.folded) counts.set(k, { nodeCount: 0, pinnedCount: 0, errorCount: 0, foldedPolls: polls });
      t.folded = new Map();
      // By slot (`top` read again after each yield): a node held at the start and still held is
      // seen once, as in a walk of a Map; one added meanwhile may be seen or not.
      for (let slot = 0; slot < t.top; slot++) {
        // A topic of 100k nodes takes tens of ms: polls are answered between slices.
        if ((++n & 1023) === 0 && performance.now() - sliceStart > 5) {
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
        }
        const node = t.node[slot] as number;
        if (node === FREE) continue;
        const version = t.version(slot);
        const seenMs = t.seenMs(slot);
        if (isQuiet(seenMs, atMs, this.quietMs)) {
          // Forgotten only when the sink took its gone event; else said again at the next sweep.
          if (this.sink.record({ kind: 'gone', atMs, topic, identity: this.identityOf(node), replica: this.replica, version, seenMs })) {
            t.remove(node, slot);
            this.indexRemove(node, t.id);
            this.count--;
            if (--(this.nodeTopics[node] as number) === 0) this.forget(node);
            this.events.gone++;
            continue;
          }
          this.refused++;
        }
        const k = `${this.nodeGroups[node] as string}\u0000${version}`;
        let c = counts.get(k);
        if (!c) {
          c = { nodeCount: 0, pinnedCount: 0, errorCount: 0, foldedPolls: 0 };
          counts.set(k, c);
        }
        c.nodeCount++;
        if (t.pinned(slot)) c.pinnedCount++;
        c.errorCount += t.errors(slot);
        t.clearErrors(slot);
      }
      // A summary the sink drops is lost (the next period's says the same of the nodes).
      for (const s of summarize(topic, this.replica, atMs, periodMs, counts)) {
        if (this.sink.record(s)) this.events.summary++;
        else this.refused++;
      }
      if (t.slots.size === 0 && t.folded.size === 0) {
        // No node's line names it any more (each removal took its pair): its id is free.
        this.topics.delete(topic);
        this.freeTopicIds.push(t.id);
      } else {
        t.compactVersions();
      }
      if (performance.now() - sliceStart > 5) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
    // Group names are shared by the nodes of a group; forget those no node has any more.
    if (this.groups.size > this.nodeIds.size) {
      this.groups.clear();
      for (const g of this.nodeGroups) if (g !== undefined) this.groups.set(g, g);
    }
    this.sweeps++;
  }

  /** Sweeps every `summaryMs` until stop(). */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.sweep()
          .catch((err: unknown) => this.log.error('audit holdings sweep failed', { err }))
          .finally(() => {
            if (this.timer) tick();
          });
      }, this.summaryMs);
      this.timer.unref();
    };
    tick();
  }

  /** Stops the sweeps; with `summarize`, one last sweep first, so the sink hears the state at stop. */
  async stop(opts: { summarize?: boolean } = {}): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sweeping) await this.sweeping;
    if (opts.summarize) await this.sweep();
  }

  stats(): HoldingsStats {
    return { holdings: this.count, nodes: this.nodeIds.size, groups: this.groups.size, topics: this.topics.size, observed: this.observed, events: { ...this.events }, folded: this.folded, refused: this.refused, sweeps: this.sweeps };
  }

  /** The holding of one node of one topic (tests, tools). */
  holding(topic: string, identity: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region' | 'nodeId'>): Holding | undefined {
    const node = this.nodeIds.get(Holdings.keyOf(identity));
    const t = this.topics.get(topic);
    const slot = node === undefined || !t ? -1 : t.slots.get(node);
    if (!t || slot < 0) return undefined;
    return { version: t.version(slot), pinned: t.pinned(slot), seenMs: t.seenMs(slot), errors: t.errors(slot) };
  }

  private registerMetrics(registry: Registry): void {
    const self = this;
    new Gauge({
      name: 'imprint_audit_holdings',
      help: '(topic, node) pairs this instance tracks for audit',
      registers: [registry],
      collect() {
        this.set(self.count);
      },
    });
    new Counter({
      name: 'imprint_audit_holdings_folded_total',
      help: 'polls of nodes not tracked one by one because the holdings table was full (counted in summaries)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.folded);
      },
    });
    new Counter({
      name: 'imprint_audit_holding_events_refused_total',
      help: 'audit events the sink dropped: a hold or gone is said again at the next poll or sweep, a summary is lost',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.refused);
      },
    });
    new Counter({
      name: 'imprint_audit_holding_events_total',
      help: 'audit events the holdings sent to the sink, by kind: hold, gone, summary',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const k of ['hold', 'gone', 'summary'] as const) this.inc({ kind: k }, self.events[k]);
      },
    });
  }
}
