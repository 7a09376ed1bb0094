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
 * One topic's holdings: node number -> slot, and the slot's columns. The slots are walked by
 * number, 0 to `top` (a free one's node is FREE), never through `slots`: a sweep removes
 * entries as it goes and polls add some while it yields, and a slot stays where it is while its
 * node is held, where an IntMap's delete moves other entries between buckets.
 */
class TopicTable {
  readonly slots = new IntMap();
  /** The versions held, each once; a slot holds an index into it. Rebuilt at each sweep. */
  versions: string[] = [];
  versionIds = new Map<string, number>();
  node = new Int32Array(64);
  version = new Int32Array(64);
  pinned = new Uint8Array(64);
  seenMs = new Float64Array(64);
  errors = new Int32Array(64);
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

  add(node: number, version: string, pinned: boolean, seenMs: number): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.top++;
      if (slot === this.node.length) this.grow();
    }
    this.slots.set(node, slot);
    this.node[slot] = node;
    this.version[slot] = this.versionId(version);
    this.pinned[slot] = pinned ? 1 : 0;
    this.seenMs[slot] = seenMs;
    this.errors[slot] = 0;
  }

  remove(node: number, slot: number): void {
    this.slots.delete(node);
    this.node[slot] = FREE;
    this.free.push(slot);
  }

  private grow(): void {
    const n = this.node.length * 2;
    const bigger = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.node = bigger(this.node, (k) => new Int32Array(k));
    this.version = bigger(this.version, (k) => new Int32Array(k));
    this.pinned = bigger(this.pinned, (k) => new Uint8Array(k));
    this.seenMs = bigger(this.seenMs, (k) => new Float64Array(k));
    this.errors = bigger(this.errors, (k) => new Int32Array(k));
  }

  /** Keeps only the versions some slot holds (a topic published every few minutes would pile them up). */
  compactVersions(): void {
    const used = new Map<number, number>();
    const versions: string[] = [];
    for (let slot = 0; slot < this.top; slot++) {
      if (this.node[slot] === FREE) continue;
      const old = this.version[slot] as number;
      let id = used.get(old);
      if (id === undefined) {
        id = versions.length;
        versions.push(this.versions[old] as string);
        used.set(old, id);
      }
      this.version[slot] = id;
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
  private readonly nodeLabels = new Map<number, Readonly<Record<string, string>>>();
  private readonly freeNodes: number[] = [];
  private readonly groups = new Map<string, string>();
  private readonly topics = new Map<string, TopicTable>();
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
      t = new TopicTable();
      this.topics.set(topic, t);
    }
    const node = identity === this.lastIdentity ? this.lastNode : this.findNode(identity);
    const slot = node < 0 ? -1 : t.slots.get(node);
    let prev: Holding | undefined;
    if (slot >= 0) {
      t.seenMs[slot] = atMs;
      if (error) {
        (t.errors[slot] as number)++;
        return;
      }
      const held = t.versions[t.version[slot] as number] as string;
      const wasPinned = t.pinned[slot] === 1;
      if (held === holds && wasPinned === pinned) return;
      prev = { version: held, pinned: wasPinned, seenMs: atMs, errors: t.errors[slot] as number };
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
      t.version[slot] = t.versionId(holds);
      t.pinned[slot] = pinned ? 1 : 0;
    } else {
      const n = node < 0 ? this.addNode(identity) : node;
      t.add(n, holds, pinned, atMs);
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
      }
    }
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
        const version = t.versions[t.version[slot] as number] as string;
        if (isQuiet(t.seenMs[slot] as number, atMs, this.quietMs)) {
          const seenMs = t.seenMs[slot] as number;
          // Forgotten only when the sink took its gone event; else said again at the next sweep.
          if (this.sink.record({ kind: 'gone', atMs, topic, identity: this.identityOf(node), replica: this.replica, version, seenMs })) {
            t.remove(node, slot);
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
        if (t.pinned[slot] === 1) c.pinnedCount++;
        c.errorCount += t.errors[slot] as number;
        t.errors[slot] = 0;
      }
      // A summary the sink drops is lost (the next period's says the same of the nodes).
      for (const s of summarize(topic, this.replica, atMs, periodMs, counts)) {
        if (this.sink.record(s)) this.events.summary++;
        else this.refused++;
      }
      if (t.slots.size === 0 && t.folded.size === 0) this.topics.delete(topic);
      else t.compactVersions();
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
    return { version: t.versions[t.version[slot] as number] as string, pinned: t.pinned[slot] === 1, seenMs: t.seenMs[slot] as number, errors: t.errors[slot] as number };
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
