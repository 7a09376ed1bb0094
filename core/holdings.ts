/**
 * Who holds what, as pure rules: what a serving instance remembers of each consumer node per
 * topic (the version held, since when, last seen), when that memory becomes an audit event,
 * and how the events of several instances merge into one view of the fleet.
 *
 * A consumer polls a topic every few seconds, but what owners ask changes rarely: which nodes
 * hold which version, since when, and when one moved. So an instance records an event only
 * when a node's state changes (`holdingChange`): first sight, a move to another version, a
 * pin flag that flips, and a node gone quiet past a window (`isQuiet`); plus, every summary
 * period, one summary per (topic, app, cluster, region, version) with node counts
 * (`summarize`). The view (`consumersView` in consumers-fold.ts, `movesOf` here) merges by node
 * and takes the latest evidence, so several instances reporting the same node never count it
 * twice.
 */
import { InvalidArgumentError } from './errors.js';
import type { ConsumerIdentity } from './types.js';

// ---------------------------------------------------------------------------------------
// Events

interface NodeEventBase {
  /** Milliseconds since the epoch. */
  readonly atMs: number;
  readonly topic: string;
  readonly identity: ConsumerIdentity;
  /** The serving instance that saw it (several consume replicas each report what they see). */
  readonly replica: string;
}

/**
 * A node's holding changed: first sight by this replica, a move to another version, or its
 * pin flag flipped. `version` is what it holds after the answer (the one served, or the one
 * it kept; "0": nothing); `previous` what it held before (this replica's memory, or on first
 * sight what the node said it held). `moved` is `previous !== version`: the node's copy
 * changed at `atMs`.
 */
export interface HoldEvent extends NodeEventBase {
  readonly kind: 'hold';
  readonly version: string;
  readonly previous: string;
  readonly moved: boolean;
  readonly pinned: boolean;
  /**
   * The authenticated principal of the poll that made the event, when the call had one (a
   * server with authentication): who asked, where `identity.app` is only what it claimed
   * (checked against the principal's apps).
   */
  readonly principal?: string;
}

/** A node this replica tracked stopped polling the topic: not seen for the quiet window. */
export interface GoneEvent extends NodeEventBase {
  readonly kind: 'gone';
  /** The version it held. */
  readonly version: string;
  /** Its last poll. */
  readonly seenMs: number;
}

/**
 * Every summary period, per (topic, app, cluster, region, version), what this replica saw:
 * the nodes live (polled within the quiet window), how many of them pinned, the polls that
 * failed in the period, and the polls of nodes it could not track individually (its memory
 * was full: `folded`).
 */
export interface SummaryEvent {
  readonly kind: 'summary';
  readonly atMs: number;
  readonly topic: string;
  readonly replica: string;
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  readonly version: string;
  readonly nodeCount: number;
  readonly pinnedCount: number;
  readonly errorCount: number;
  readonly foldedPolls: number;
  /** The period this summary closes, ms. */
  readonly periodMs: number;
}

export type HoldingEvent = HoldEvent | GoneEvent | SummaryEvent;

/** When a hold or gone event says its replica last saw the node: a hold at its time, a gone at the node's last poll. */
export function evidenceMs(e: HoldEvent | GoneEvent): number {
  return e.kind === 'hold' ? e.atMs : e.seenMs;
}

// ---------------------------------------------------------------------------------------
// What an instance remembers, and when it speaks

/** One node's holding of one topic, as a serving instance remembers it. */
export interface Holding {
  version: string;
  pinned: boolean;
  /** Its last poll, ms since the epoch. */
  seenMs: number;
  /** Its polls answered with an error since the last summary. */
  errors: number;
}

/** One poll, as the holdings need it. */
export interface Sighting {
  /** What the node said it held ("0": nothing). */
  readonly lastSeen: string;
  /** What it holds after the answer: the version served, or the one it kept. */
  readonly holds: string;
  readonly pinned: boolean;
  readonly atMs: number;
}

export type HoldingChange = 'first' | 'moved' | 'pinned' | 'none';

/** What one poll changes in a node's holding; anything but 'none' is a hold event. */
export function holdingChange(prev: Holding | undefined, s: Sighting): HoldingChange {
  if (!prev) return 'first';
  if (prev.version !== s.holds) return 'moved';
  if (prev.pinned !== s.pinned) return 'pinned';
  return 'none';
}

/** The version a hold event says the node held before: the replica's memory, or on first sight the node's word. */
export function previousVersion(prev: Holding | undefined, s: Sighting): string {
  return prev ? prev.version : s.lastSeen;
}

/** Whether a node last seen at `seenMs` has gone quiet by `nowMs`. */
export function isQuiet(seenMs: number, nowMs: number, quietMs: number): boolean {
  return nowMs - seenMs >= quietMs;
}

/** The summary group of a node holding a version (NUL cannot occur in identity values). */
export function summaryKey(identity: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region'>, version: string): string {
  return `${identity.app}\u0000${identity.cluster}\u0000${identity.region}\u0000${version}`;
}

/** Counts of one summary group being built. */
export interface SummaryCounts {
  nodeCount: number;
  pinnedCount: number;
  errorCount: number;
  foldedPolls: number;
}

/**
 * The summary events of one topic: one per group (`summaryKey`: app, cluster, region and
 * version) with anything to say, sorted by app, cluster, region, version.
 */
export function summarize(topic: string, replica: string, atMs: number, periodMs: number, counts: ReadonlyMap<string, SummaryCounts>): SummaryEvent[] {
  const out: SummaryEvent[] = [];
  for (const [k, c] of counts) {
    if (c.nodeCount === 0 && c.foldedPolls === 0 && c.errorCount === 0) continue;
    const [app = '', cluster = '', region = '', version = ''] = k.split('\u0000');
    out.push({ kind: 'summary', atMs, topic, replica, app, cluster, region, version, nodeCount: c.nodeCount, pinnedCount: c.pinnedCount, errorCount: c.errorCount, foldedPolls: c.foldedPolls, periodMs });
  }
  return out.sort((a, b) => byText(a.app, b.app) || byText(a.cluster, b.cluster) || byText(a.region, b.region) || compareVersions(a.version, b.version));
}

// ---------------------------------------------------------------------------------------
// The view: events of every replica merged by node

/** Numeric order of decimal version strings ("10" after "9"); non-numbers sort first, by text. */
export function compareVersions(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    if (a.length !== b.length) return a.length - b.length > 0 ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (na !== nb) return na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The identity of a node in the view (NUL cannot occur in identity values). */
export function nodeKey(o: Pick<ConsumerIdentity, 'app' | 'cluster' | 'region' | 'nodeId'>): string {
  return `${o.app}\u0000${o.cluster}\u0000${o.region}\u0000${o.nodeId}`;
}

export interface ConsumersQuery {
  /** Nodes seen at or after this time (ms since the epoch). */
  readonly sinceMs: number;
  /** Only evidence before this time; default: no upper bound. */
  readonly untilMs?: number;
  /** List up to this many nodes (0: none, the default; at most MAX_NODE_LIST). */
  readonly nodeLimit?: number;
  /** List only nodes holding this version. */
  readonly version?: string;
}

export const MAX_NODE_LIST = 10_000;

export function validateConsumersQuery(q: ConsumersQuery): void {
  if (!Number.isFinite(q.sinceMs)) throw new InvalidArgumentError('sinceMs', 'must be a finite number of ms since the epoch', q.sinceMs);
  if (q.untilMs !== undefined && !(Number.isFinite(q.untilMs) && q.untilMs >= q.sinceMs)) {
    throw new InvalidArgumentError('untilMs', 'must be a finite number of ms, not before sinceMs', q.untilMs);
  }
  if (q.nodeLimit !== undefined && !(Number.isInteger(q.nodeLimit) && q.nodeLimit >= 0 && q.nodeLimit <= MAX_NODE_LIST)) {
    throw new InvalidArgumentError('nodeLimit', `must be a whole number from 0 to ${MAX_NODE_LIST}`, q.nodeLimit);
  }
  if (q.version !== undefined && !/^\d{1,20}$/.test(q.version)) throw new InvalidArgumentError('version', 'must be a version number', q.version);
}

/** How many nodes hold one version. */
export interface VersionHeld {
  readonly version: string;
  readonly nodeCount: number;
  /** The latest of those nodes' last sightings. */
  readonly lastSeenMs: number;
}

/** The consumers of one app in one cluster and region. */
export interface ConsumerGroup {
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  readonly nodeCount: number;
  /** Highest version first. */
  readonly versions: readonly VersionHeld[];
  readonly lastSeenMs: number;
}

/** One node of the view. */
export interface ConsumerNode {
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  readonly nodeId: string;
  readonly version: string;
  /** When it moved to `version`, when a move is on record; absent: before what the audit data holds. */
  readonly sinceMs?: number;
  /**
   * Its last sighting: for a node still polling, the latest summary of its replica that
   * counted its group (it polled within the quiet window before), or its hold event; for a
   * node gone quiet, its last poll.
   */
  readonly lastSeenMs: number;
  /** Still polling by the latest evidence (no gone event after its hold). */
  readonly live: boolean;
  readonly pinned: boolean;
  /** The replica whose evidence this is. */
  readonly replica: string;
}

export interface TopicConsumers {
  readonly topic: string;
  readonly sinceMs: number;
  /** Exclusive upper bound of the evidence, when one was given. */
  readonly untilMs?: number;
  /** Distinct nodes seen in the window (a node: app, cluster, region and node id). */
  readonly nodeCount: number;
  /** Of those, the ones still polling by the latest evidence. */
  readonly liveCount: number;
  /** Over all groups, highest version first. */
  readonly versions: readonly VersionHeld[];
  /** Sorted by app, cluster, region. */
  readonly groups: readonly ConsumerGroup[];
  /** The latest sighting of any node; absent when nobody was seen in the window. */
  readonly lastSeenMs?: number;
  /** Lowest version first, then app, cluster, region, node id; only when asked (nodeLimit), at most nodeLimit. */
  readonly nodes?: readonly ConsumerNode[];
  /** Polls of nodes a replica could not track one by one (its memory was full), in the latest summaries of the window. */
  readonly foldedPolls: number;
}

// ---------------------------------------------------------------------------------------
// The history of moves

export interface MovesQuery {
  readonly sinceMs: number;
  /** Exclusive; default: no upper bound. */
  readonly untilMs?: number;
  /** Only this node id (any app, cluster, region). */
  readonly nodeId?: string;
  /** At most this many, newest first (1 to MAX_MOVES). @default 100 */
  readonly limit?: number;
}

export const MAX_MOVES = 1000;

/** A node's copy changed: from one version to another (first sight of a new consumer: from "0"). */
export interface Move {
  readonly atMs: number;
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  readonly nodeId: string;
  readonly from: string;
  readonly to: string;
  readonly pinned: boolean;
  readonly replica: string;
  /** The authenticated principal of the poll that moved it, when it had one. */
  readonly principal?: string;
}

export interface MovesPage {
  readonly topic: string;
  /** Newest first. */
  readonly moves: readonly Move[];
  /** More moves matched than `limit`. */
  readonly truncated: boolean;
}

export function validateMovesQuery(q: MovesQuery): void {
  validateConsumersQuery({ sinceMs: q.sinceMs, ...(q.untilMs !== undefined && { untilMs: q.untilMs }) });
  if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= MAX_MOVES)) {
    throw new InvalidArgumentError('limit', `must be a whole number from 1 to ${MAX_MOVES}`, q.limit);
  }
  if (q.nodeId !== undefined && (q.nodeId === '' || q.nodeId.length > 256)) throw new InvalidArgumentError('nodeId', 'must be 1 to 256 characters', q.nodeId);
}

/**
 * The moves of `topic` in the window, newest first: every hold event whose `moved` is set.
 * The same move reported by two replicas (a node that was answered by both at the same
 * moment) is one move.
 */
export function movesOf(topic: string, q: MovesQuery, events: Iterable<HoldingEvent>): MovesPage {
  validateMovesQuery(q);
  const limit = q.limit ?? 100;
  const byKey = new Map<string, Move>();
  for (const e of events) {
    if (e.kind !== 'hold' || !e.moved || e.topic !== topic || e.atMs < q.sinceMs) continue;
    if (q.untilMs !== undefined && e.atMs >= q.untilMs) continue;
    if (q.nodeId !== undefined && e.identity.nodeId !== q.nodeId) continue;
    const k = `${nodeKey(e.identity)}\u0000${e.atMs}\u0000${e.previous}\u0000${e.version}`;
    const cur = byKey.get(k);
    // The same move from two replicas is one: the lower replica name's, so every sink picks the same.
    if (cur && cur.replica <= e.replica) continue;
    const { app, cluster, region, nodeId } = e.identity;
    byKey.set(k, { atMs: e.atMs, app, cluster, region, nodeId, from: e.previous, to: e.version, pinned: e.pinned, replica: e.replica, ...(e.principal !== undefined && { principal: e.principal }) });
  }
  const moves = [...byKey.values()];
  moves.sort((a, b) => b.atMs - a.atMs || byText(a.app, b.app) || byText(a.cluster, b.cluster) || byText(a.region, b.region) || byText(a.nodeId, b.nodeId));
  return { topic, moves: moves.slice(0, limit), truncated: moves.length > limit };
}
