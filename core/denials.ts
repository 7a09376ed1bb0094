/**
 * Denials in the audit: a call refused PERMISSION_DENIED by per-topic access control is an
 * audit event (`denied`), so an owner can see who was refused what on their topic. A serving
 * instance sends at most one per (principal, action, topic) per window and counts the rest
 * into the next one (server/auth/access-control.ts), so a client polling in a loop without a
 * grant costs one event a minute, not one per poll. `denialsOf` lists a topic's denials from
 * the events, as every audit sink answers.
 */
import type { AccessAction } from './access.js';
import { InvalidArgumentError } from './errors.js';
import { validateConsumersQuery } from './holdings.js';

/** One or more calls of `principal` refused `action` on `topic` (the window's first, and those counted since the previous event). */
export interface DeniedEvent {
  readonly kind: 'denied';
  /** Milliseconds since the epoch: the refusal that sent the event. */
  readonly atMs: number;
  readonly topic: string;
  /** The serving instance that refused it. */
  readonly replica: string;
  /** Who was refused (the authenticated principal). */
  readonly principal: string;
  readonly action: AccessAction;
  /** The RPC refused (e.g. "Publish", "Poll"; REST calls name the same methods). */
  readonly method: string;
  /** The application the call claimed (x-imprint-app, identity.app), when it claimed one. */
  readonly app?: string;
  /** Refusals this event stands for: this one and those of the same (principal, action, topic) not sent since the previous event (≥ 1). */
  readonly count: number;
}

/** A denial as a reader gets it (ListDenials): the event without its kind and topic. */
export type Denial = Omit<DeniedEvent, 'kind' | 'topic'>;

export interface DenialsQuery {
  /** From this time, ms since the epoch (inclusive). */
  readonly sinceMs: number;
  /** Until this time (exclusive). @default now */
  readonly untilMs?: number;
  /** At most this many, 1 to MAX_DENIALS. @default 100 */
  readonly limit?: number;
}

export interface DenialsPage {
  /** Newest first. */
  readonly denials: readonly DeniedEvent[];
  /** More denials matched than `limit`. */
  readonly truncated: boolean;
}

export const MAX_DENIALS = 1000;

export function validateDenialsQuery(q: DenialsQuery): void {
  validateConsumersQuery({ sinceMs: q.sinceMs, ...(q.untilMs !== undefined && { untilMs: q.untilMs }) });
  if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= MAX_DENIALS)) {
    throw new InvalidArgumentError('limit', `must be a whole number from 1 to ${MAX_DENIALS}`, q.limit);
  }
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The denial events of `topic` in the window, newest first (ties by principal, action, method, replica), at most `limit`. */
export function denialsOf(topic: string, q: DenialsQuery, events: Iterable<{ readonly kind: string }>): DenialsPage {
  validateDenialsQuery(q);
  const limit = q.limit ?? 100;
  const found: DeniedEvent[] = [];
  for (const e of events) {
    if (!isDeniedEvent(e) || e.topic !== topic || e.atMs < q.sinceMs || (q.untilMs !== undefined && e.atMs >= q.untilMs)) continue;
    found.push(e);
  }
  found.sort((a, b) => b.atMs - a.atMs || byText(a.principal, b.principal) || byText(a.action, b.action) || byText(a.method, b.method) || byText(a.replica, b.replica));
  return { denials: found.slice(0, limit), truncated: found.length > limit };
}

/** Whether a parsed value is a denied event (older or foreign lines and documents are not). */
export function isDeniedEvent(x: unknown): x is DeniedEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Partial<Record<string, unknown>>;
  return (
    e['kind'] === 'denied' &&
    typeof e['atMs'] === 'number' &&
    ['topic', 'replica', 'principal', 'action', 'method'].every((f) => typeof e[f] === 'string') &&
    (e['app'] === undefined || typeof e['app'] === 'string') &&
    typeof e['count'] === 'number' &&
    Number.isInteger(e['count']) &&
    (e['count'] as number) >= 1
  );
}
