/**
 * Who consumes a topic, and how its nodes moved, from a JSON-lines audit file (the file
 * sink's): every hold, gone and summary event of the topic, read as a stream (the file may be
 * large), handed to core's consumersView and movesOf, the same functions the Elasticsearch
 * sink feeds from its queries. Both therefore answer identically for the same events.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import {
  UnavailableError,
  consumersView,
  movesOf,
  validateConsumersQuery,
  validateMovesQuery,
  type ConsumersQuery,
  type HoldingEvent,
  type MovesPage,
  type MovesQuery,
  type TopicConsumers,
} from '../../core/index.js';

/** The audit file could not be read. */
export class AuditFileReadError extends UnavailableError {
  constructor(file: string, cause: unknown) {
    super(`cannot read the audit file ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function isIdentity(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const id = x as Partial<Record<string, unknown>>;
  return typeof id['app'] === 'string' && typeof id['cluster'] === 'string' && typeof id['region'] === 'string' && typeof id['nodeId'] === 'string';
}

/** Whether a parsed line is a holding event this reader understands (older or foreign lines are skipped). */
export function isHoldingEvent(x: unknown): x is HoldingEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Partial<Record<string, unknown>>;
  if (typeof e['topic'] !== 'string' || typeof e['atMs'] !== 'number' || typeof e['replica'] !== 'string' || typeof e['version'] !== 'string') return false;
  switch (e['kind']) {
    case 'hold':
      return isIdentity(e['identity']) && typeof e['previous'] === 'string' && typeof e['moved'] === 'boolean' && typeof e['pinned'] === 'boolean' && (e['principal'] === undefined || typeof e['principal'] === 'string');
    case 'gone':
      return isIdentity(e['identity']) && typeof e['seenMs'] === 'number';
    case 'summary':
      return ['app', 'cluster', 'region'].every((f) => typeof e[f] === 'string') && ['nodeCount', 'pinnedCount', 'errorCount', 'foldedPolls', 'periodMs'].every((f) => typeof e[f] === 'number');
    default:
      return false;
  }
}

/**
 * The holding events of `topic` in a JSON-lines audit file, streamed. A missing file has
 * none; lines that are not holding events (or are cut short, e.g. the line being written)
 * are skipped.
 */
export function fileEventsOf(file: string, topic: string): AsyncGenerator<HoldingEvent> {
  return fileLinesOf(file, topic, isHoldingEvent);
}

/** The events of `topic` in a JSON-lines audit file that `is` accepts, streamed (as fileEventsOf). */
export async function* fileLinesOf<E extends { readonly topic: string }>(file: string, topic: string, is: (x: unknown) => x is E): AsyncGenerator<E> {
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
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
      if (is(parsed) && parsed.topic === topic) yield parsed;
    }
  } catch (err) {
    throw new AuditFileReadError(file, err);
  } finally {
    stream.destroy();
  }
}

async function collect(file: string, topic: string): Promise<HoldingEvent[]> {
  const events: HoldingEvent[] = [];
  for await (const e of fileEventsOf(file, topic)) events.push(e);
  return events;
}

/** The consumers of `topic` from a JSON-lines audit file. */
export async function consumersFromFile(file: string, topic: string, query: ConsumersQuery): Promise<TopicConsumers> {
  validateConsumersQuery(query);
  return consumersView(topic, query, await collect(file, topic));
}

/** The moves of `topic`'s nodes from a JSON-lines audit file, newest first. */
export async function movesFromFile(file: string, topic: string, query: MovesQuery): Promise<MovesPage> {
  validateMovesQuery(query);
  return movesOf(topic, query, await collect(file, topic));
}
