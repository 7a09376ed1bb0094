/**
 * Staleness contracts: a topic may say how often it is published (expectEveryMs) and how stale
 * a consumer may be (maxStalenessMs). Two rules, each decided here once:
 *
 * - overdue (the publisher's side): a topic with an expectEveryMs whose latest publish (its
 *   creation when it has none) is older than expectEveryMs. Served by DescribeTopic and
 *   ListTopics, exported as imprint_topic_publish_overdue.
 * - violated (the consumer's side): a subscriber that has not, within maxStalenessMs, confirmed
 *   that it holds its topic's latest version for it (a successful answer from the service or
 *   the fallback snapshot that it holds, or a version it then loaded). Exported by clients as
 *   imprint_client_contract_violated. A late publisher does not make its consumers violate.
 */
import { InvalidArgumentError } from './errors.js';
import type { ScopeHead, Topic } from './types.js';

/** Each limit of a contract: 1 minute to 365 days (0 on the wire and in a patch: none). */
export const MIN_CONTRACT_MS = 60_000;
export const MAX_CONTRACT_MS = 365 * 86_400_000;

export interface StalenessContract {
  readonly expectEveryMs?: number;
  readonly maxStalenessMs?: number;
}

/**
 * A contract's limits each MIN_CONTRACT_MS to MAX_CONTRACT_MS (absent: none), and
 * maxStalenessMs not below expectEveryMs when both are set (a consumer is not asked to be
 * fresher than its publisher promises to publish). `names` are the caller's names for the two
 * fields (the wire's, or the CLI's flags).
 */
export function validateContract(c: StalenessContract, names = { expectEveryMs: 'expect_every_ms', maxStalenessMs: 'max_staleness_ms' }): StalenessContract {
  for (const k of ['expectEveryMs', 'maxStalenessMs'] as const) {
    const v = c[k];
    if (v !== undefined) checkContractLimit(v, names[k]);
  }
  if (c.expectEveryMs !== undefined && c.maxStalenessMs !== undefined && c.maxStalenessMs < c.expectEveryMs) {
    throw new InvalidArgumentError(names.maxStalenessMs, `must not be below ${names.expectEveryMs} (${c.expectEveryMs})`, c.maxStalenessMs);
  }
  return c;
}

/** One limit of a contract as the wire or a patch gives it: 0 (none) or MIN_CONTRACT_MS to MAX_CONTRACT_MS. */
export function checkContractLimit(ms: number, field: string): number {
  if (ms !== 0 && !(Number.isInteger(ms) && ms >= MIN_CONTRACT_MS && ms <= MAX_CONTRACT_MS)) {
    throw new InvalidArgumentError(field, `must be 0 (none) or a whole number of milliseconds from ${MIN_CONTRACT_MS} (1 minute) to ${MAX_CONTRACT_MS} (365 days)`, ms);
  }
  return ms;
}

/** A contract as the wire and patches carry it (0: none) made domain (absent: none). */
export function contractOf(expectEveryMs: number, maxStalenessMs: number): StalenessContract {
  return { ...(expectEveryMs !== 0 && { expectEveryMs }), ...(maxStalenessMs !== 0 && { maxStalenessMs }) };
}

/**
 * When the topic's latest version was published: the earliest time a head of that version
 * has (a publish attaches its scopes at its publish time; scopes added later come later).
 * undefined when nothing was published (or the heads do not hold the latest version).
 */
export function lastPublishMs(topic: Pick<Topic, 'latestVersion'>, heads: readonly ScopeHead[]): number | undefined {
  let at: number | undefined;
  for (const h of heads) if (h.version === topic.latestVersion && (at === undefined || h.sinceMs < at)) at = h.sinceMs;
  return at;
}

/**
 * THE overdue rule: when a topic with an expectEveryMs became overdue (its latest publish, or
 * its creation when it has none, plus expectEveryMs) if that is before `nowMs`; 0 while it is
 * on time, has no expectEveryMs, or is deleted (nobody publishes to a deleted topic).
 */
export function publishOverdue(topic: Pick<Topic, 'expectEveryMs' | 'createdAtMs' | 'deletedAtMs'>, lastPublish: number | undefined, nowMs: number): number {
  if (topic.expectEveryMs === undefined || topic.deletedAtMs !== undefined) return 0;
  const dueAt = (lastPublish ?? topic.createdAtMs) + topic.expectEveryMs;
  return nowMs > dueAt ? dueAt : 0;
}

/**
 * THE violated rule: a subscriber last confirmed at `confirmedAtMs` that it held its latest
 * version is outside a contract of `maxStalenessMs` when more than that has passed since.
 * Always false without a maxStalenessMs.
 */
export function contractViolated(maxStalenessMs: number | undefined, confirmedAtMs: number, nowMs: number): boolean {
  return maxStalenessMs !== undefined && maxStalenessMs > 0 && nowMs - confirmedAtMs > maxStalenessMs;
}

/** A topic's latest publish and since when it is overdue (0: on time, or no expectEveryMs). */
export interface PublishStatus {
  readonly topic: string;
  /** When its latest version was published; absent when none was. */
  readonly lastPublishMs?: number;
  readonly overdueSinceMs: number;
}

/** The status of a topic from its poll state (its heads give its latest publish). */
export function publishStatusOf(state: { readonly topic: Topic; readonly heads: readonly ScopeHead[] }, nowMs: number): PublishStatus {
  const last = lastPublishMs(state.topic, state.heads);
  return { topic: state.topic.name, ...(last !== undefined && { lastPublishMs: last }), overdueSinceMs: publishOverdue(state.topic, last, nowMs) };
}
