/**
 * Who holds what: the audit sinks hear what changed in the fleet, not every poll. A serving
 * instance remembers each node's holding per topic (holdings.ts) and sends a hold event when
 * one changes (first sight, a move, a pin flag), a gone event when a node stops polling, and
 * per summary period one summary per (topic, app, cluster, region, version); the rules and
 * the event types are core's (core/holdings.ts). Audit is best-effort: it never blocks or
 * fails a request (`record` is synchronous and cheap; a sink buffers, ships in the background,
 * and counts what it had to drop). Changes (publish, add scopes, pin, unpin, topic changes)
 * are not audit events: they are the topic's durable history, written by the store with the
 * change itself (MetadataStore.listHistory). Calls refused by access control are (denied
 * events, at most one per principal, action and topic a minute: server/auth/access-control.ts).
 */
import { Counter, type Registry } from 'prom-client';
import type { ConsumersQuery, DeniedEvent, DenialsPage, DenialsQuery, HoldingEvent, MovesPage, MovesQuery, TopicConsumers } from '../../core/index.js';

export type { ConsumerGroup, ConsumerNode, ConsumersQuery, DeniedEvent, DenialsPage, DenialsQuery, GoneEvent, HoldEvent, HoldingEvent, Move, MovesPage, MovesQuery, SummaryEvent, TopicConsumers, VersionHeld } from '../../core/index.js';

/** Who holds what (hold, gone, summary: core/holdings.ts), and calls refused by access control (denied: core/denials.ts). */
export type AuditEvent = HoldingEvent | DeniedEvent;

export interface AuditStats {
  /** Events accepted by `record` (written, or waiting in the sink's buffer). */
  readonly recorded: number;
  /**
   * Events lost: refused by `record` because the buffer was full (or the sink closed), plus
   * accepted events lost later (`failed`). Never silent: also a metric and a log line.
   */
  readonly dropped: number;
  /** Accepted events waiting in memory (including a batch being sent). Sinks that buffer. */
  readonly buffered?: number;
  /** Accepted events the backend stored (e.g. Elasticsearch acknowledged them). */
  readonly written?: number;
  /** Accepted events lost after all (rejected by the backend, or still buffered at close); part of `dropped`. */
  readonly failed?: number;
}

export interface AuditSink {
  /** "file", "elasticsearch". */
  readonly name: string;
  /**
   * Never throws, never waits. True when the sink took the event (written, or waiting in its
   * buffer); false when it dropped it (buffer full, closed, the backend failed for good), which
   * it also counts. Holdings say a refused event again at the node's next poll or sweep.
   */
  record(event: AuditEvent): boolean;
  stats(): AuditStats;
  /** Waits until what was recorded so far is written (or dropped). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /**
   * Who consumes `topic`, from this sink's own data, merged over every replica that wrote to
   * it (core's consumersView). Optional: a sink that cannot answer leaves it out. Rejects with
   * an ImprintError (UNAVAILABLE when the backend cannot be read).
   */
  consumers?(topic: string, query: ConsumersQuery): Promise<TopicConsumers>;
  /** The moves of `topic`'s nodes from one version to another, newest first (core's movesOf). */
  moves?(topic: string, query: MovesQuery): Promise<MovesPage>;
  /** The calls refused on `topic` by access control, newest first (core's denialsOf). */
  denials?(topic: string, query: DenialsQuery): Promise<DenialsPage>;
}

/** A sink's event counts, one series per reason an event is lost. */
export interface AuditEventCounters<R extends string> {
  readonly recorded: Counter.Internal;
  readonly written: Counter.Internal;
  readonly dropped: Record<R, Counter.Internal>;
}

/**
 * imprint_audit_events_{recorded,written,dropped}_total for the sink named `sink` (the same names
 * for every sink), each series at 0 from the start so a rate or an alert has something to read.
 */
export function auditEventCounters<R extends string>(registry: Registry, sink: string, dropReasons: readonly R[]): AuditEventCounters<R> {
  const labels = { sink };
  const recorded = new Counter({ name: 'imprint_audit_events_recorded_total', help: 'Audit events accepted into the buffer', labelNames: ['sink'], registers: [registry] });
  const written = new Counter({ name: 'imprint_audit_events_written_total', help: 'Audit events acknowledged by the backend', labelNames: ['sink'], registers: [registry] });
  const dropped = new Counter({
    name: 'imprint_audit_events_dropped_total',
    help: 'Audit events lost: buffer_full and after_close (refused by record), rejected (by the backend), closed (still buffered at close), write_failed (the audit file could not be written)',
    labelNames: ['sink', 'reason'],
    registers: [registry],
  });
  return {
    recorded: zeroed(recorded.labels(labels)),
    written: zeroed(written.labels(labels)),
    dropped: Object.fromEntries(dropReasons.map((reason) => [reason, zeroed(dropped.labels({ ...labels, reason }))])) as Record<R, Counter.Internal>,
  };
}

/** A counter series at 0, so it is exported before its first event. */
export function zeroed<C extends Counter.Internal>(c: C): C {
  c.inc(0);
  return c;
}
