/**
 * Who consumed what: every poll becomes an event. Audit is best-effort: it never blocks or
 * fails a request (`record` is synchronous and cheap; a sink buffers, ships in the background,
 * and counts what it had to drop). Changes (publish, add scopes, pin, unpin, topic changes)
 * are not audit events: they are the topic's durable history, written by the store with the
 * change itself (MetadataStore.listHistory).
 */
import type { ConsumerIdentity } from '../../core/index.js';

interface EventBase {
  /** Milliseconds since the epoch. */
  readonly atMs: number;
  readonly topic: string;
}

export interface PollEvent extends EventBase {
  readonly kind: 'poll';
  readonly identity: ConsumerIdentity;
  /** What the consumer said it held ("0": nothing). */
  readonly lastSeen: string;
  /** The version the consumer holds after this answer: the one served, or the one it kept. */
  readonly holds: string;
  readonly outcome: 'update' | 'no-update' | 'error';
  readonly pinned: boolean;
  readonly error?: string;
}

export type AuditEvent = PollEvent;

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
  /** Never throws, never waits. */
  record(event: AuditEvent): void;
  stats(): AuditStats;
  /** Waits until what was recorded so far is written (or dropped). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /**
   * Who consumes `topic`, from this sink's own data: per app and cluster, the nodes seen
   * polling since `sinceMs` and the version each one holds by its latest poll. Optional: a
   * sink that cannot answer leaves it out. Rejects with an ImprintError (UNAVAILABLE when the
   * backend cannot be read).
   */
  consumers?(topic: string, sinceMs: number): Promise<TopicConsumers>;
}

/** Who consumes a topic (AuditSink.consumers): per app and cluster, the nodes seen and the version each holds by its latest poll. */
export interface VersionHeld {
  readonly version: string;
  /** Nodes whose latest poll in the window says they hold this version. */
  readonly nodeCount: number;
  /** The latest of those polls. */
  readonly lastSeenMs: number;
}

/** The consumers of one app in one cluster. */
export interface ConsumerGroup {
  readonly app: string;
  readonly cluster: string;
  readonly nodeCount: number;
  /** Highest version first. */
  readonly versions: readonly VersionHeld[];
  readonly lastSeenMs: number;
}

export interface TopicConsumers {
  readonly topic: string;
  readonly sinceMs: number;
  /** Exclusive upper bound of the window, when one was given. */
  readonly untilMs?: number;
  /** Distinct nodes seen (a node: app, cluster, region and node id). 0: nobody polled it in the window. */
  readonly nodeCount: number;
  /** Over all groups, highest version first. */
  readonly versions: readonly VersionHeld[];
  /** Sorted by app, then cluster. */
  readonly groups: readonly ConsumerGroup[];
  /** The latest poll of any node; absent when nobody polled the topic in the window. */
  readonly lastSeenMs?: number;
}
