/**
 * What one serving instance knows of the fleet: per (topic, node) the version held, its pin
 * flag, its last poll and its failed polls since the last summary. Every poll the Poller
 * answers is `observe`d here; the audit sink hears only what changed (core/holdings.ts
 * decides): a hold event on first sight, a move or a flipped pin flag; a gone event when a
 * node stops polling for `quietMs`; and every `summaryMs` one summary per (topic, app,
 * cluster, region, version). A node polling the same version every 30 s costs a map lookup
 * and two field writes, no event.
 *
 * Memory is bounded: at most `maxHoldings` (topic, node) pairs are tracked one by one. A node
 * seen when the table is full is not remembered: its polls are counted per summary group
 * (`foldedPolls` in the summary, `imprint_audit_holdings_folded_total`) until quiet nodes make
 * room again.
 */
import os from 'node:os';
import { Counter, Gauge, type Registry } from 'prom-client';
import { InvalidArgumentError, holdingChange, isQuiet, previousVersion, summarize, summaryKey, type ConsumerIdentity, type Holding, type HoldingEvent } from '../../core/index.js';
import { silentLogger, type Logger } from '../log.js';

/** Where events go (an AuditSink). */
export interface HoldingEventSink {
  record(event: HoldingEvent): void;
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
  const whole = (field: keyof HoldingsSettings, flag: string, min: number, max: number): number => {
    const v = o[field] ?? HOLDINGS_DEFAULTS[field];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`holdings.${field}`, `must be a whole number from ${min} to ${max} (--${flag}, IMPRINT_${flag.toUpperCase().replaceAll('-', '_')})`, v);
    }
    return v;
  };
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

/** A node, as the table shares it across its topics. */
interface NodeRef {
  readonly key: string;
  /** The identity first seen (labels included), for the events. */
  readonly identity: ConsumerIdentity;
  /** Topics it holds a slot in; at 0 it is forgotten. */
  topics: number;
}

interface TopicHoldings {
  readonly byNode: Map<NodeRef, Holding>;
  /** Polls of untracked nodes since the last summary, per summary group. */
  folded: Map<string, number>;
}

export interface HoldingsStats {
  /** (topic, node) pairs tracked. */
  readonly holdings: number;
  readonly nodes: number;
  readonly topics: number;
  /** Polls observed. */
  readonly observed: number;
  /** Events sent to the sink, by kind. */
  readonly events: { readonly hold: number; readonly gone: number; readonly summary: number };
  /** Polls of nodes not tracked because the table was full. */
  readonly folded: number;
  /** Sweeps (quiet check and summaries) completed. */
  readonly sweeps: number;
}

export function defaultReplicaName(): string {
  return `${os.hostname()}:${process.pid}/${Date.now().toString(36)}`;
}

export class Holdings {
  readonly replica: string;
  readonly quietMs: number;
  readonly summaryMs: number;
  readonly maxHoldings: number;
  private readonly sink: HoldingEventSink;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly nodes = new Map<string, NodeRef>();
  private readonly topics = new Map<string, TopicHoldings>();
  private count = 0;
  private observed = 0;
  private folded = 0;
  private sweeps = 0;
  private readonly events = { hold: 0, gone: 0, summary: 0 };
  /** The identity object seen last and its node: a BatchPoll observes all its topics with one. */
  private lastIdentity: ConsumerIdentity | undefined;
  private lastNode: NodeRef | undefined;
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
   * `error`: the poll failed and it kept `lastSeen`). Never throws, never waits.
   */
  observe(topic: string, identity: ConsumerIdentity, lastSeen: string, holds: string, pinned: boolean, error = false): void {
    this.observed++;
    const atMs = this.now();
    let t = this.topics.get(topic);
    // A failed poll of a node this instance does not hold for the topic (an unknown topic, a store
    // outage at its first poll) says nothing of what it holds: not remembered, so a caller asking
    // for made-up topics costs nothing here (the request metrics count the errors).
    if (!t && error) return;
    if (!t) {
      t = { byNode: new Map(), folded: new Map() };
      this.topics.set(topic, t);
    }
    const node = identity === this.lastIdentity ? this.lastNode : this.findNode(identity);
    const h = node && t.byNode.get(node);
    if (h) {
      h.seenMs = atMs;
      if (error) {
        h.errors++;
        return;
      }
      if (h.version === holds && h.pinned === pinned) return;
    } else if (error) return;
    const sighting = { lastSeen, holds, pinned, atMs };
    const change = holdingChange(h, sighting);
    if (change === 'none') return;
    const previous = previousVersion(h, sighting);
    let holder: NodeRef;
    if (h && node) {
      h.version = sighting.holds;
      h.pinned = sighting.pinned;
      holder = node;
    } else {
      if (this.count >= this.maxHoldings) {
        // Full: counted in its summary group, not remembered (no event: it would repeat every poll).
        this.folded++;
        const k = summaryKey(identity, sighting.holds);
        t.folded.set(k, (t.folded.get(k) ?? 0) + 1);
        return;
      }
      holder = node ?? this.addNode(identity);
      t.byNode.set(holder, { version: sighting.holds, pinned: sighting.pinned, seenMs: atMs, errors: 0 });
      holder.topics++;
      this.count++;
    }
    this.events.hold++;
    this.sink.record({ kind: 'hold', atMs, topic, identity: holder.identity, replica: this.replica, version: sighting.holds, previous, moved: previous !== sighting.holds, pinned: sighting.pinned });
  }

  /** The node of an identity, when it holds a topic here (remembered as the last one looked up). */
  private findNode(identity: ConsumerIdentity): NodeRef | undefined {
    const node = this.nodes.get(`${identity.app}\u0000${identity.cluster}\u0000${identity.region}\u0000${identity.nodeId}`);
    if (node) {
      this.lastIdentity = identity;
      this.lastNode = node;
    }
    return node;
  }

  private addNode(identity: ConsumerIdentity): NodeRef {
    const key = `${identity.app}\u0000${identity.cluster}\u0000${identity.region}\u0000${identity.nodeId}`;
    const node: NodeRef = { key, identity, topics: 0 };
    this.nodes.set(key, node);
    this.lastIdentity = identity;
    this.lastNode = node;
    return node;
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
      // Taken at the start: what polls fold or fail while this sweep yields counts in the next one.
      const folded = t.folded;
      t.folded = new Map();
      const live: { identity: ConsumerIdentity; holding: Holding }[] = [];
      for (const [node, h] of t.byNode) {
        // A topic of 100k nodes takes tens of ms: polls are answered between slices.
        if ((++n & 1023) === 0 && performance.now() - sliceStart > 5) {
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
        }
        if (isQuiet(h.seenMs, atMs, this.quietMs)) {
          t.byNode.delete(node);
          this.count--;
          if (--node.topics === 0) this.forget(node);
          this.events.gone++;
          this.sink.record({ kind: 'gone', atMs, topic, identity: node.identity, replica: this.replica, version: h.version, seenMs: h.seenMs });
        } else {
          live.push({ identity: node.identity, holding: { ...h } });
          h.errors = 0;
        }
      }
      const summaries = summarize(topic, this.replica, atMs, periodMs, live, folded);
      for (const s of summaries) this.sink.record(s);
      this.events.summary += summaries.length;
      if (t.byNode.size === 0) this.topics.delete(topic);
      if (performance.now() - sliceStart > 5) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
    this.sweeps++;
  }

  private forget(node: NodeRef): void {
    this.nodes.delete(node.key);
    if (this.lastNode === node) {
      this.lastNode = undefined;
      this.lastIdentity = undefined;
    }
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
    return { holdings: this.count, nodes: this.nodes.size, topics: this.topics.size, observed: this.observed, events: { ...this.events }, folded: this.folded, sweeps: this.sweeps };
  }

  /** The holding of one node of one topic (tests, tools). */
  holding(topic: string, identity: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region' | 'nodeId'>): Readonly<Holding> | undefined {
    const node = this.nodes.get(`${identity.app}\u0000${identity.cluster}\u0000${identity.region}\u0000${identity.nodeId}`);
    return node && this.topics.get(topic)?.byNode.get(node);
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
