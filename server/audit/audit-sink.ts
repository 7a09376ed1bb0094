/**
 * Who consumed and changed what. Every poll (and every publish, pin and unpin) becomes an
 * event. Audit never blocks or fails a request: `record` is synchronous and cheap; a sink
 * buffers, ships in the background, and counts what it had to drop.
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

export interface ChangeEvent extends EventBase {
  readonly kind: 'publish' | 'pin' | 'unpin' | 'create-topic' | 'update-topic' | 'add-scopes';
  readonly version?: string;
  readonly scope?: string;
  readonly by?: string;
}

export type AuditEvent = PollEvent | ChangeEvent;

export interface AuditStats {
  readonly recorded: number;
  readonly dropped: number;
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
}
