/**
 * What one serving instance knows of the fleet: per (topic, node) the version held, its pin
 * flag, its last poll and its failed polls since the last summary. Every poll the Poller
 * answers is `observe`d here; the audit sink hears only what changed (core/holdings.ts
 * decides): a hold event on first sight, a move or a flipped pin flag; a gone event when a
 * node stops polling for `quietMs`; and every `summaryMs` one summary per (topic, app,
 * cluster, region, version). A node polling the same version every 30 s costs a map lookup
 * (its topic), a look through its block and a write, no event.
 *
 * The table is cells in typed arrays, not objects: per (topic, node) holding one 16-byte cell
 * (last poll, topic, version and pin flag), a node's cells in a block of its own (see BLOCK),
 * the version strings each once, per node its key string. A fleet of 100k nodes x 7 topics is
 * then flat arrays the garbage collector does not trace, rather than a million small objects
 * each full collection marks (which made its pauses twice as long), or V8 Maps of numbers it
 * traces entry by entry (700k entries).
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

/** A free cell's topic; a free block's owner; the end of a node's chain of blocks. */
const FREE = -1;

/**
 * The holdings are cells of 16 bytes, in blocks of BLOCK cells (128 bytes, two cache lines),
 * one block per node: a cell is one (topic, node) holding, its last poll (an f64 at
 * f64[cell * 2]), its topic's table id (i32[cell * 4 + 2], FREE when the cell is free) and what
 * it holds (i32[cell * 4 + 3]: the version's number * 2 + the pin flag). A node's number is its
 * block's. A BatchPoll observes one node's topics one after the other: its block is read from
 * memory once and every topic's cell is then in cache, where a table per topic made each
 * topic's row a miss of its own (measured in the server: a steady-state observe cost 3.2 µs,
 * about ten times its cost alone in a loop, bench/audit-tables.ts; under a fleet the tables are
 * out of cache between a node's polls, 30 s apart).
 *
 * A node holding more than BLOCK topics has more blocks, chained from its own (`blockNext`);
 * its cells there are found through their topic's IntMap (`TopicTable.beyond`, node number ->
 * cell), so a node of many topics costs one lookup per topic, not a walk of its chain.
 */
const BLOCK_SHIFT = 3;
const BLOCK = 1 << BLOCK_SHIFT;

/** One topic: its table id (what cells name it by), how many cells name it, and its folded polls. */
class TopicTable {
  /** Cells that name this table. */
  size = 0;
  /** Node number -> cell, for the nodes whose cell of this topic is beyond their own block. */
  readonly beyond = new IntMap();
  /** Polls of untracked nodes since the last summary, per summary key. */
  folded = new Map<string, number>();
  /** `id`: the table's number in the cells (reused once the table is dropped). */
  constructor(
    readonly name: string,
    readonly id: number,
  ) {}
}

export class Holdings {
  readonly replica: string;
  readonly quietMs: number;
  readonly summaryMs: number;
  readonly maxHoldings: number;
  private readonly sink: HoldingEventSink;
  private readonly now: () => number;
  private readonly log: Logger;
  /** The cells (see BLOCK): one buffer, seen as f64 (last poll) and i32 (topic, held). */
  private f64 = new Float64Array(64 * BLOCK * 2);
  private i32 = new Int32Array(this.f64.buffer);
  /** By cell: failed polls since the last summary (read and written only then: kept apart). */
  private errors = new Int32Array(64 * BLOCK);
  /** By block: the node it belongs to (FREE: a free block), and the node's next block (FREE: none). */
  private blockOwner = new Int32Array(64).fill(FREE);
  private blockNext = new Int32Array(64).fill(FREE);
  /** Blocks in use or freed: the next new block when `freeBlocks` is empty. */
  private topBlock = 0;
  private readonly freeBlocks: number[] = [];
  /** The versions held, each once, by number (what a cell holds), with how many cells hold each. */
  private versions: (string | undefined)[] = [];
  private readonly versionIds = new Map<string, number>();
  private versionRefs: number[] = [];
  private readonly freeVersions: number[] = [];
  /** Node key (app, cluster, region, node id) -> node number. */
  private readonly nodeIds = new Map<string, number>();
  /** By node number: its key, "app\0cluster\0region" (shared per group), topics held, labels (when any). */
  private nodeKeys: (string | undefined)[] = [];
  private nodeGroups: (string | undefined)[] = [];
  private nodeTopics = new Int32Array(64);
  private readonly nodeLabels = new Map<number, Readonly<Record<string, string>>>();
  private readonly groups = new Map<string, string>();
  private readonly topics = new Map<string, TopicTable>();
  /** Tables by id; ids given back by dropped tables, and the next never used. */
  private readonly tablesById: (TopicTable | undefined)[] = [];
  private readonly freeTopicIds: number[] = [];
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
      const id = this.freeTopicIds.pop() ?? this.tablesById.length;
      t = new TopicTable(topic, id);
      this.tablesById[id] = t;
      this.topics.set(topic, t);
    }
    const node = identity === this.lastIdentity ? this.lastNode : this.findNode(identity);
    const cell = node < 0 ? -1 : this.cellOf(t, node);
    let prev: Holding | undefined;
    if (cell >= 0) {
      this.f64[cell * 2] = atMs;
      if (error) {
        // A count, not an id: it saturates.
        if ((this.errors[cell] as number) < 0x7fffffff) (this.errors[cell] as number)++;
        return;
      }
      const code = this.i32[cell * 4 + 3] as number;
      const held = this.versions[code >>> 1] as string;
      const wasPinned = (code & 1) === 1;
      if (held === holds && wasPinned === pinned) return;
      prev = { version: held, pinned: wasPinned, seenMs: atMs, errors: this.errors[cell] as number };
    } else if (error) return;
    const sighting = { lastSeen, holds, pinned, atMs };
    if (holdingChange(prev, sighting) === 'none') return;
    if (cell < 0 && this.count >= this.maxHoldings) {
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
    if (cell >= 0) {
      this.hold(cell, holds, pinned);
    } else {
      const n = node < 0 ? this.addNode(identity) : node;
      this.addCell(t, n, holds, pinned, atMs);
      (this.nodeTopics[n] as number)++;
      this.count++;
    }
  }

  /** The cell of `node`'s holding of `t`, or -1: in the node's own block, else (a node of more than BLOCK topics) through the topic's IntMap. */
  private cellOf(t: TopicTable, node: number): number {
    const i32 = this.i32;
    const id = t.id;
    const first = (node << BLOCK_SHIFT) * 4 + 2;
    for (let i = first; i < first + BLOCK * 4; i += 4) if (i32[i] === id) return (i - 2) >> 2;
    return this.blockNext[node] === FREE ? -1 : t.beyond.get(node);
  }

  /** A free cell of block `b`, or -1. */
  private freeCellIn(b: number): number {
    const first = b << BLOCK_SHIFT;
    for (let cell = first; cell < first + BLOCK; cell++) if (this.i32[cell * 4 + 2] === FREE) return cell;
    return -1;
  }

  /** `node` holds `t` in a cell of its own: in its block, else in one chained from it. */
  private addCell(t: TopicTable, node: number, version: string, pinned: boolean, seenMs: number): void {
    let cell = this.freeCellIn(node);
    if (cell < 0) {
      let last = node;
      for (let b = this.blockNext[node] as number; b !== FREE && cell < 0; b = this.blockNext[b] as number) {
        cell = this.freeCellIn(b);
        last = b;
      }
      if (cell < 0) {
        const b = this.allocBlock(node);
        this.blockNext[last] = b;
        cell = b << BLOCK_SHIFT;
      }
      t.beyond.set(node, cell);
    }
    this.i32[cell * 4 + 2] = t.id;
    this.i32[cell * 4 + 3] = this.refVersion(version) * 2 + (pinned ? 1 : 0);
    this.f64[cell * 2] = seenMs;
    this.errors[cell] = 0;
    t.size++;
  }

  private removeCell(t: TopicTable, node: number, cell: number): void {
    if (cell >> BLOCK_SHIFT !== node) t.beyond.delete(node);
    this.unrefVersion((this.i32[cell * 4 + 3] as number) >>> 1);
    this.i32[cell * 4 + 2] = FREE;
    t.size--;
  }

  private hold(cell: number, version: string, pinned: boolean): void {
    const old = (this.i32[cell * 4 + 3] as number) >>> 1;
    this.i32[cell * 4 + 3] = this.refVersion(version) * 2 + (pinned ? 1 : 0);
    this.unrefVersion(old);
  }

  /** The number of `version`, counted once more as held. */
  private refVersion(version: string): number {
    let id = this.versionIds.get(version);
    if (id === undefined) {
      id = this.freeVersions.pop() ?? this.versions.length;
      this.versions[id] = version;
      this.versionRefs[id] = 0;
      this.versionIds.set(version, id);
    }
    (this.versionRefs[id] as number)++;
    return id;
  }

  /** One cell fewer holds version `id`: the last one gives its number back (a topic published every few minutes would pile versions up). */
  private unrefVersion(id: number): void {
    const refs = (this.versionRefs[id] as number) - 1;
    this.versionRefs[id] = refs;
    if (refs > 0) return;
    this.versionIds.delete(this.versions[id] as string);
    this.versions[id] = undefined;
    this.freeVersions.push(id);
  }

  /** A block of free cells for `owner` (FREE: for a new node, which takes the block's number). */
  private allocBlock(owner: number): number {
    let b = this.freeBlocks.pop();
    if (b === undefined) {
      b = this.topBlock++;
      if (b === this.blockOwner.length) this.grow();
      this.nodeKeys.push(undefined);
      this.nodeGroups.push(undefined);
    }
    this.blockOwner[b] = owner === FREE ? b : owner;
    this.blockNext[b] = FREE;
    const first = b << BLOCK_SHIFT;
    for (let cell = first; cell < first + BLOCK; cell++) this.i32[cell * 4 + 2] = FREE;
    return b;
  }

  /** Twice the blocks. */
  private grow(): void {
    const blocks = this.blockOwner.length * 2;
    const f64 = new Float64Array(blocks * BLOCK * 2);
    f64.set(this.f64);
    this.f64 = f64;
    this.i32 = new Int32Array(f64.buffer);
    const errors = new Int32Array(blocks * BLOCK);
    errors.set(this.errors);
    this.errors = errors;
    const owner = new Int32Array(blocks).fill(FREE);
    owner.set(this.blockOwner);
    this.blockOwner = owner;
    const next = new Int32Array(blocks).fill(FREE);
    next.set(this.blockNext);
    this.blockNext = next;
    const topics = new Int32Array(blocks);
    topics.set(this.nodeTopics);
    this.nodeTopics = topics;
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
    const node = this.allocBlock(FREE);
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

  /** A node that holds nothing any more: its number and blocks are free. */
  private forget(node: number): void {
    this.nodeIds.delete(this.nodeKeys[node] as string);
    this.nodeKeys[node] = undefined;
    this.nodeGroups[node] = undefined;
    this.nodeLabels.delete(node);
    for (let b = node; b !== FREE; ) {
      const next = this.blockNext[b] as number;
      this.blockOwner[b] = FREE;
      this.blockNext[b] = FREE;
      this.freeBlocks.push(b);
      b = next;
    }
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
    // Per table, taken at the start: what polls fold while this sweep yields counts in the next
    // one, and a table made meanwhile is summarized by the next sweep.
    const counts = new Map<TopicTable, Map<string, SummaryCounts>>();
    for (const t of this.topics.values()) {
      const c = new Map<string, SummaryCounts>();
      for (const [k, polls] of t.folded) c.set(k, { nodeCount: 0, pinnedCount: 0, errorCount: 0, foldedPolls: polls });
      t.folded = new Map();
      counts.set(t, c);
    }
    let sliceStart = performance.now();
    // By block (`topBlock` read again after each yield): a node held at the start and still
    // held is seen once; one added meanwhile may be seen or not.
    for (let b = 0; b < this.topBlock; b++) {
      // 100k nodes take tens of ms: polls are answered between slices.
      if ((b & 127) === 0 && performance.now() - sliceStart > 5) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
      const node = this.blockOwner[b] as number;
      if (node === FREE) continue;
      for (let cell = b << BLOCK_SHIFT; cell < (b + 1) << BLOCK_SHIFT; cell++) {
        const id = this.i32[cell * 4 + 2] as number;
        if (id === FREE) continue;
        const t = this.tablesById[id] as TopicTable;
        const c = counts.get(t);
        if (!c) continue;
        const code = this.i32[cell * 4 + 3] as number;
        const version = this.versions[code >>> 1] as string;
        const seenMs = this.f64[cell * 2] as number;
        if (isQuiet(seenMs, atMs, this.quietMs)) {
          // Forgotten only when the sink took its gone event; else said again at the next sweep.
          if (this.sink.record({ kind: 'gone', atMs, topic: t.name, identity: this.identityOf(node), replica: this.replica, version, seenMs })) {
            this.removeCell(t, node, cell);
            this.count--;
            this.events.gone++;
            // Its last topic: the node's blocks are free (this one's cells all are now).
            if (--(this.nodeTopics[node] as number) === 0) this.forget(node);
            continue;
          }
          this.refused++;
        }
        const k = `${this.nodeGroups[node] as string}\u0000${version}`;
        let s = c.get(k);
        if (!s) {
          s = { nodeCount: 0, pinnedCount: 0, errorCount: 0, foldedPolls: 0 };
          c.set(k, s);
        }
        s.nodeCount++;
        if ((code & 1) === 1) s.pinnedCount++;
        s.errorCount += this.errors[cell] as number;
        this.errors[cell] = 0;
      }
    }
    for (const [t, c] of counts) {
      // A summary the sink drops is lost (the next period's says the same of the nodes).
      for (const s of summarize(t.name, this.replica, atMs, periodMs, c)) {
        if (this.sink.record(s)) this.events.summary++;
        else this.refused++;
      }
      if (t.size === 0 && t.folded.size === 0) {
        // No cell names it any more: its id is free.
        this.topics.delete(t.name);
        this.tablesById[t.id] = undefined;
        this.freeTopicIds.push(t.id);
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
    const cell = node === undefined || !t ? -1 : this.cellOf(t, node);
    if (cell < 0) return undefined;
    const code = this.i32[cell * 4 + 3] as number;
    return { version: this.versions[code >>> 1] as string, pinned: (code & 1) === 1, seenMs: this.f64[cell * 2] as number, errors: this.errors[cell] as number };
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
