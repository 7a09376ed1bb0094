/**
 * THE poll decision: what a consumer holding `lastSeen` (0n: nothing) is given. Written once,
 * here; every role and every transport asks it (server/poll's Poller), and so does the
 * fallback snapshot (snapshot.ts).
 *
 *   1. The topic's heads and pins (NOT_FOUND when there is no such topic), and whether the
 *      caller may consume it (`admit`, given by the server when the call has a principal:
 *      it throws PERMISSION_DENIED, core/access.ts decides from the view's grants).
 *   2. The target: the most specific matching pin, else the latest for the consumer's scopes
 *      or a running rollout's version that has reached it (resolve.ts). No update when the
 *      consumer holds it, or holds a newer one and no pin applies: never older unless pinned
 *      or rolled back (the newer one's rollout was cancelled).
 *   3. The target's record, served only when it passes its consistency check.
 *   4. When it fails: a consumer with data gets "no update"; one with none gets the newest
 *      matching version below the target that passes (not pinned), or nothing.
 *
 * The decision reads a PollSource, whose answers are either at hand (an in-memory table) or
 * promised (a store read). Nothing here waits unless the source makes it: when every answer
 * the decision needs is at hand, so is the decision, with no promise made. A consume
 * instance relies on that to answer the polls memory can answer (most of them) at the cost
 * of a function call.
 */
import { NotFoundError } from './errors.js';
import { recordProblem } from './digest.js';
import { isUpdate, resolveTarget, type RolloutView, type Target } from './resolve.js';
import { identityAttributes, scopeMatches } from './scope.js';
import type { ConsumerIdentity, Pin, ScopeHead, Topic, Version, VersionRecord } from './types.js';
import type { Grant } from './access.js';

/** A value at hand, or one to wait for. */
export type Awaitable<T> = T | Promise<T>;

/**
 * What a poll needs of a topic: its heads and its pins (and the topic, whose maxStalenessMs the
 * answer carries), and its running rollout and withdrawn versions (rollout.ts; absent: none).
 */
export interface PollView extends RolloutView {
  readonly heads: readonly ScopeHead[];
  readonly pins: readonly Pin[];
  readonly topic?: Pick<Topic, 'maxStalenessMs'>;
  /** Who may do what to the topic (access.ts); absent: none kept. */
  readonly grants?: readonly Grant[];
}

/** A record with its consistency verdict: `problem` is set when it must not be served. */
export type RecordVerdict = { readonly record: VersionRecord; readonly problem?: undefined } | { readonly record?: VersionRecord; readonly problem: string };

/** The verdict on what a read of `version` found (undefined: nothing). */
export function verdictOf(topic: string, version: Version, record: VersionRecord | undefined): RecordVerdict {
  if (!record) return { problem: `version ${version} of topic "${topic}" is missing` };
  const problem = recordProblem(record);
  return problem ? { record, problem } : { record };
}

/**
 * Where the decision reads poll state. `S` is the source's own view of a topic, handed back
 * to it when the decision asks for a record of that topic (a table keys its record cache by it).
 */
export interface PollSource<S extends PollView = PollView> {
  /** The topic's heads and pins; undefined when there is no such topic. */
  state(topic: string): Awaitable<S | undefined>;
  /** The record of `version` of the topic (whose view is `view`) with its verdict (see verdictOf). */
  record(topic: string, view: S, version: Version): Awaitable<RecordVerdict>;
  /** Up to `limit` records of the topic below `below`, newest first, unchecked. */
  versionsBelow(topic: string, below: Version, limit: number): Awaitable<readonly VersionRecord[]>;
}

/** What a poll answers: a record to move to (pinned when a pin forces it), or no update. */
export interface PollAnswer {
  readonly record?: VersionRecord;
  readonly pinned: boolean;
  /** The record is older than the one held, whose rollout was cancelled: move to it (rollout.ts). */
  readonly rolledBack?: true;
  /** The topic's maxStalenessMs (staleness.ts), so a subscriber learns its contract with no other call; absent: none. */
  readonly maxStalenessMs?: number;
}

/** A record the decision passed over because it failed its consistency check. */
export interface RecordFailure {
  readonly topic: string;
  readonly version: Version;
  readonly problem: string;
}

/** The answer, with the records that failed their check on the way (set only when some did). */
export interface PollDecision extends PollAnswer {
  readonly failures?: readonly RecordFailure[];
}

/** How many older records step 4 asks the source for at a time. */
export const OLDER_PAGE = 100;

const NO_UPDATE: PollDecision = Object.freeze({ pinned: false });
const NO_UPDATE_PINNED: PollDecision = Object.freeze({ pinned: true });

/** The decision (steps above) for one topic. A promise only when the source gave one. */
export function decidePoll<S extends PollView>(source: PollSource<S>, topic: string, identity: ConsumerIdentity, lastSeen: Version, admit?: (view: S) => void): Awaitable<PollDecision> {
  // 1. The topic's heads and pins, and whether the caller may have them.
  const view = source.state(topic);
  return view instanceof Promise ? view.then((v) => fromView(source, topic, identity, lastSeen, v, admit)) : fromView(source, topic, identity, lastSeen, view, admit);
}

function fromView<S extends PollView>(source: PollSource<S>, topic: string, identity: ConsumerIdentity, lastSeen: Version, view: S | undefined, admit: ((view: S) => void) | undefined): Awaitable<PollDecision> {
  if (!view) throw new NotFoundError(`topic "${topic}"`);
  admit?.(view);
  const maxStalenessMs = view.topic?.maxStalenessMs;
  if (maxStalenessMs === undefined) return decideView(source, topic, identity, lastSeen, view);
  // The topic's contract goes with the answer (a copy: only for topics that have one).
  const d = decideView(source, topic, identity, lastSeen, view);
  return d instanceof Promise ? d.then((x) => ({ ...x, maxStalenessMs })) : { ...d, maxStalenessMs };
}

function decideView<S extends PollView>(source: PollSource<S>, topic: string, identity: ConsumerIdentity, lastSeen: Version, view: S): Awaitable<PollDecision> {
  // 2. The target: the best pin, else the latest for the consumer's scopes.
  const target = resolveTarget(view.heads, view.pins, identity, view, lastSeen);
  if (!target || !isUpdate(target, lastSeen)) return target?.pinned ? NO_UPDATE_PINNED : NO_UPDATE;
  // 3. Its record, served when it passes its check.
  const verdict = source.record(topic, view, target.version);
  return verdict instanceof Promise ? verdict.then((v) => fromVerdict(source, topic, identity, lastSeen, target, v)) : fromVerdict(source, topic, identity, lastSeen, target, verdict);
}

function fromVerdict<S extends PollView>(source: PollSource<S>, topic: string, identity: ConsumerIdentity, lastSeen: Version, target: Target, verdict: RecordVerdict): Awaitable<PollDecision> {
  if (!verdict.problem) return target.rolledBack ? { record: verdict.record, pinned: false, rolledBack: true } : { record: verdict.record, pinned: target.pinned };
  // 4. It fails: a consumer with data stays where it is; one with none gets the newest good version below it.
  const failures: RecordFailure[] = [{ topic, version: target.version, problem: verdict.problem }];
  if (lastSeen > 0n) return { pinned: false, failures };
  const good = newestGood((below, limit) => source.versionsBelow(topic, below, limit), identityAttributes(identity), target.version, failures);
  return good instanceof Promise ? good.then((record) => olderAnswer(record, failures)) : olderAnswer(good, failures);
}

function olderAnswer(record: VersionRecord | undefined, failures: readonly RecordFailure[]): PollDecision {
  return record ? { record, pinned: false, failures } : { pinned: false, failures };
}

/**
 * Whether an older record may stand in for a target a consumer with `attrs` cannot use: one of
 * its scopes matches them (and it was published by `atMs`, when given). Step 4 above and the
 * Subscriber's start-up (a latest whose payload cannot be loaded) both choose with it.
 */
export function olderMatches(r: VersionRecord, attrs: Readonly<Record<string, string>>, atMs?: number): boolean {
  return (atMs === undefined || r.publishedAtMs <= atMs) && r.scopes.some((s) => scopeMatches(s, attrs));
}

/**
 * The newest record below `below` whose scopes match `attrs` and that passes its check
 * (published by `atMs`, when given), read `OLDER_PAGE` at a time through `page`. Each record
 * that matches but fails its check is added to `failures`.
 */
export function newestGood(
  page: (below: Version, limit: number) => Awaitable<readonly VersionRecord[]>,
  attrs: Readonly<Record<string, string>>,
  below: Version,
  failures: RecordFailure[],
  atMs?: number,
): Awaitable<VersionRecord | undefined> {
  const records = page(below, OLDER_PAGE);
  const next = (rs: readonly VersionRecord[]): Awaitable<VersionRecord | undefined> => {
    for (const r of rs) {
      if (!olderMatches(r, attrs, atMs)) continue;
      const problem = recordProblem(r);
      if (!problem) return r;
      failures.push({ topic: r.topic, version: r.version, problem });
    }
    const last = rs[rs.length - 1];
    return rs.length < OLDER_PAGE || !last ? undefined : newestGood(page, attrs, last.version, failures, atMs);
  };
  return records instanceof Promise ? records.then(next) : next(records);
}
