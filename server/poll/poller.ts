/**
 * The one audited Poller every role and every transport answers polls with: it validates the
 * question, asks core's poll decision (core/poll.ts) over its PollSource (the store for roles
 * all and publish, the PollTable for the consume role), counts and logs the records that
 * failed their consistency check, and records the poll's audit event.
 */
import {
  decidePoll,
  validatePollIdentity,
  validateTopicName,
  type Awaitable,
  type ConsumerIdentity,
  type PollAnswer,
  type PollDecision,
  type PollSource,
  type PollView,
  type Version,
} from '../../core/index.js';
import type { AuditSink, PollEvent } from '../audit/audit-sink.js';
import { silentLogger, type Logger } from '../log.js';

export interface PollerDeps<S extends PollView> {
  readonly source: PollSource<S>;
  readonly audit: AuditSink;
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Records whose failure was logged are remembered up to this many, then forgotten all at once. */
const LOGGED_FAILURES_MAX = 10_000;

export class Poller<S extends PollView = PollView> {
  readonly source: PollSource<S>;
  private readonly audit: AuditSink;
  private readonly log: Logger;
  private readonly now: () => number;
  /**
   * The identity object validated last: a BatchPoll asks for all its topics, one after
   * another, with one identity object, checked once rather than once per topic (no weak
   * collection for the garbage collector to trace). Identities are treated as immutable.
   */
  private validIdentity: ConsumerIdentity | undefined;
  /** (topic, version) whose failure was logged, so a broken head is logged once, not per poll. */
  private readonly loggedFailures = new Set<string>();
  /** Records that failed their consistency check when a poll needed them (metrics, tests). */
  integrityFailures = 0;

  constructor(deps: PollerDeps<S>) {
    this.source = deps.source;
    this.audit = deps.audit;
    this.log = deps.log ?? silentLogger;
    this.now = deps.clock ?? Date.now;
  }

  /**
   * What a consumer holding `lastSeen` (0n: nothing) should do (core/poll.ts). At once, with
   * no promise, when the source has what the decision needs in memory; a promise otherwise.
   * Bad input throws before anything is audited; every other outcome, error included, is one
   * audit event.
   */
  poll(topic: string, identity: ConsumerIdentity, lastSeen: Version): Awaitable<PollAnswer> {
    return this.ask(topic, identity, lastSeen, true);
  }

  /**
   * The same answer as poll(), not audited: a Watch stream asks again on every word that a
   * topic changed and records its watcher on connect and periodically instead (watch.ts).
   * Failed records are counted and logged as for poll().
   */
  decide(topic: string, identity: ConsumerIdentity, lastSeen: Version): Awaitable<PollAnswer> {
    return this.ask(topic, identity, lastSeen, false);
  }

  private ask(topic: string, identity: ConsumerIdentity, lastSeen: Version, audited: boolean): Awaitable<PollAnswer> {
    // 1. The question.
    validateTopicName(topic);
    if (identity !== this.validIdentity) {
      validatePollIdentity(identity);
      this.validIdentity = identity;
    }
    // 2. The decision, from the source.
    let decided: Awaitable<PollDecision>;
    try {
      decided = decidePoll(this.source, topic, identity, lastSeen);
    } catch (err) {
      throw this.failed(topic, identity, lastSeen, err, audited);
    }
    // 3. Its failures counted, its audit event, its answer.
    if (!(decided instanceof Promise)) return this.answered(topic, identity, lastSeen, decided, audited);
    return decided.then(
      (d) => this.answered(topic, identity, lastSeen, d, audited),
      (err: unknown) => {
        throw this.failed(topic, identity, lastSeen, err, audited);
      },
    );
  }

  private answered(topic: string, identity: ConsumerIdentity, lastSeen: Version, d: PollDecision, audited: boolean): PollAnswer {
    let answer: PollAnswer = d;
    if (d.failures) {
      this.integrityFailures += d.failures.length;
      for (const f of d.failures) this.logFailure(f.topic, f.version, f.problem);
      answer = d.record ? { record: d.record, pinned: d.pinned } : { pinned: d.pinned };
    }
    if (audited) this.record(topic, identity, lastSeen, answer.record ? 'update' : 'no-update', answer.record?.version ?? lastSeen, answer.pinned);
    return answer;
  }

  private failed(topic: string, identity: ConsumerIdentity, lastSeen: Version, err: unknown, audited: boolean): unknown {
    if (audited) this.record(topic, identity, lastSeen, 'error', lastSeen, false, err instanceof Error ? err.message : String(err));
    return err;
  }

  /** The audit event of one poll. */
  private record(topic: string, identity: ConsumerIdentity, lastSeen: Version, outcome: PollEvent['outcome'], holds: Version, pinned: boolean, error?: string): void {
    this.audit.record({ kind: 'poll', atMs: this.now(), topic, identity, lastSeen: lastSeen.toString(), holds: holds.toString(), outcome, pinned, ...(error && { error }) });
  }

  private logFailure(topic: string, version: Version, problem: string): void {
    const key = `${topic}\u0000${version}`;
    if (this.loggedFailures.has(key)) return;
    if (this.loggedFailures.size >= LOGGED_FAILURES_MAX) this.loggedFailures.clear();
    this.loggedFailures.add(key);
    this.log.warn('record failed its consistency check; not served', { topic, version, problem });
  }
}
