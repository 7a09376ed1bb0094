/**
 * Who consumes a topic, from the audit data: per app and cluster, how many nodes polled it in
 * a time window and which version each node holds by its latest poll.
 *
 * One pure function (`groupConsumers`) does the grouping; the file sink feeds it every poll
 * event of the JSON-lines file (`consumersFromFile`), the Elasticsearch sink feeds it the
 * latest poll per node found by an aggregation (elasticsearch.ts). Both therefore answer
 * identically for the same events.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { InvalidArgumentError, UnavailableError } from '../../core/index.js';
import type { AuditEvent, ConsumerGroup, PollEvent, TopicConsumers, VersionHeld } from './audit-sink.js';

// The answer's types are the port's (audit-sink.ts); they were first written here.
export type { ConsumerGroup, TopicConsumers, VersionHeld };

/** One poll as the consumers view needs it: who, what it holds, when. */
export interface ConsumerObservation {
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  readonly nodeId: string;
  /** The version the node holds after the poll ("0": nothing yet). */
  readonly holds: string;
  readonly atMs: number;
}

export interface ConsumersWindow {
  /** Only polls at or after this time (ms since the epoch). */
  readonly sinceMs: number;
  /** Only polls before this time; default: no upper bound. */
  readonly untilMs?: number;
}

/** The identity of a node in the consumers view (NUL cannot occur in identity values). */
export function nodeKey(o: Pick<ConsumerObservation, 'app' | 'cluster' | 'region' | 'nodeId'>): string {
  return `${o.app}\u0000${o.cluster}\u0000${o.region}\u0000${o.nodeId}`;
}

/** Numeric order of decimal version strings ("10" after "9"); non-numbers sort first, by text. */
export function compareVersions(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (na !== nb) return na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `o` replaces `current` as a node's latest poll: later time; same time: higher version. */
function isLater(o: ConsumerObservation, current: ConsumerObservation): boolean {
  return o.atMs > current.atMs || (o.atMs === current.atMs && compareVersions(o.holds, current.holds) > 0);
}

export function validateWindow(w: ConsumersWindow): void {
  if (!Number.isFinite(w.sinceMs)) throw new InvalidArgumentError('sinceMs', 'must be a finite number of ms since the epoch', w.sinceMs);
  if (w.untilMs !== undefined && !(Number.isFinite(w.untilMs) && w.untilMs >= w.sinceMs)) {
    throw new InvalidArgumentError('untilMs', 'must be a finite number of ms, not before sinceMs', w.untilMs);
  }
}

/**
 * The pure grouping: keeps the polls inside the window, takes each node's latest one (ties:
 * the higher version), and counts nodes per app and cluster and per version held. The order
 * of `observations` does not matter.
 */
export function groupConsumers(topic: string, window: ConsumersWindow, observations: Iterable<ConsumerObservation>): TopicConsumers {
  validateWindow(window);
  const latest = new Map<string, ConsumerObservation>();
  for (const o of observations) {
    if (o.atMs < window.sinceMs || (window.untilMs !== undefined && o.atMs >= window.untilMs)) continue;
    const k = nodeKey(o);
    const cur = latest.get(k);
    if (!cur || isLater(o, cur)) latest.set(k, o);
  }

  interface Acc {
    app: string;
    cluster: string;
    nodes: number;
    lastSeenMs: number;
    versions: Map<string, { nodeCount: number; lastSeenMs: number }>;
  }
  const countVersion = (m: Map<string, { nodeCount: number; lastSeenMs: number }>, o: ConsumerObservation) => {
    const v = m.get(o.holds);
    if (v) {
      v.nodeCount++;
      v.lastSeenMs = Math.max(v.lastSeenMs, o.atMs);
    } else m.set(o.holds, { nodeCount: 1, lastSeenMs: o.atMs });
  };
  const groups = new Map<string, Acc>();
  const all = new Map<string, { nodeCount: number; lastSeenMs: number }>();
  let lastSeenMs: number | undefined;
  for (const o of latest.values()) {
    const gk = `${o.app}\u0000${o.cluster}`;
    let g = groups.get(gk);
    if (!g) {
      g = { app: o.app, cluster: o.cluster, nodes: 0, lastSeenMs: o.atMs, versions: new Map() };
      groups.set(gk, g);
    }
    g.nodes++;
    g.lastSeenMs = Math.max(g.lastSeenMs, o.atMs);
    countVersion(g.versions, o);
    countVersion(all, o);
    lastSeenMs = lastSeenMs === undefined ? o.atMs : Math.max(lastSeenMs, o.atMs);
  }
  const versionList = (m: Map<string, { nodeCount: number; lastSeenMs: number }>): VersionHeld[] =>
    [...m.entries()].map(([version, v]) => ({ version, ...v })).sort((a, b) => compareVersions(b.version, a.version));
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    topic,
    sinceMs: window.sinceMs,
    ...(window.untilMs !== undefined && { untilMs: window.untilMs }),
    nodeCount: latest.size,
    versions: versionList(all),
    groups: [...groups.values()]
      .sort((a, b) => byText(a.app, b.app) || byText(a.cluster, b.cluster))
      .map((g) => ({ app: g.app, cluster: g.cluster, nodeCount: g.nodes, versions: versionList(g.versions), lastSeenMs: g.lastSeenMs })),
    ...(lastSeenMs !== undefined && { lastSeenMs }),
  };
}

/** A poll event as a consumer observation. */
export function observationOf(e: PollEvent): ConsumerObservation {
  return { app: e.identity.app, cluster: e.identity.cluster, region: e.identity.region, nodeId: e.identity.nodeId, holds: e.holds, atMs: e.atMs };
}

function isPollLine(x: unknown): x is PollEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Partial<Record<keyof PollEvent, unknown>>;
  const id = e.identity as Partial<Record<string, unknown>> | undefined;
  return (
    e.kind === 'poll' &&
    typeof e.topic === 'string' &&
    typeof e.atMs === 'number' &&
    typeof e.holds === 'string' &&
    typeof id === 'object' &&
    id !== null &&
    typeof id['app'] === 'string' &&
    typeof id['cluster'] === 'string' &&
    typeof id['region'] === 'string' &&
    typeof id['nodeId'] === 'string'
  );
}

/** The audit file could not be read. */
export class AuditFileReadError extends UnavailableError {
  constructor(file: string, cause: unknown) {
    super(`cannot read the audit file ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The consumers of `topic` from a JSON-lines audit file (the file sink's), read as a stream
 * (the file may be large). A missing file means no consumers; lines that are not poll events
 * (or are cut short, e.g. the line being written) are skipped.
 */
export async function consumersFromFile(file: string, topic: string, window: ConsumersWindow): Promise<TopicConsumers> {
  validateWindow(window);
  const observations: ConsumerObservation[] = [];
  // Cheap pre-filter before JSON.parse: the topic appears verbatim in its events' lines.
  const needle = JSON.stringify(topic);
  let stream: fs.ReadStream;
  try {
    stream = fs.createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return groupConsumers(topic, window, []);
    throw new AuditFileReadError(file, err);
  }
  try {
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.includes(needle)) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (isPollLine(parsed) && parsed.topic === topic) observations.push(observationOf(parsed));
    }
  } catch (err) {
    throw new AuditFileReadError(file, err);
  } finally {
    stream.destroy();
  }
  return groupConsumers(topic, window, observations);
}

/** The poll observations of `topic` among events (tests; any in-memory source). */
export function observationsOf(events: Iterable<AuditEvent>, topic: string): ConsumerObservation[] {
  const out: ConsumerObservation[] = [];
  for (const e of events) if (e.kind === 'poll' && e.topic === topic) out.push(observationOf(e));
  return out;
}
