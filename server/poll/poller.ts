/**
 * The one audited Poller every role and every transport answers polls with: it validates the
 * question, asks core's poll decision (core/poll.ts) over its PollSource (the store for roles
 * all and publish, the PollTable for the consume role), counts and logs the records that
 * failed their consistency check, and tells its observer (the audit's holdings) what the node
 * holds after the answer.
 */
import {
  PermissionDeniedError,
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
import { silentLogger, type Logger } from '../../log/index.js';
import type { AccessControl, DeniedCall } from '../auth/access-control.js';
import type { Principal } from '../auth/principal.js';

/**
 * Hears every answered poll (the audit's Holdings, server/audit/holdings.ts): the node said it
 * held `lastSeen` and holds `holds` after the answer (the version served, or the one it kept);
 * `error`: the poll failed. Called synchronously; must not throw or wait.
 */
export interface PollObserver {
  /** `principal`: the name of the poll's authenticated principal, when it had one. */
  observe(topic: string, identity: ConsumerIdentity, lastSeen: string, holds: string, pinned: boolean, error?: boolean, principal?: string): void;
}

export interface PollerDeps<S extends PollView> {
  readonly source: PollSource<S>;
  readonly observer: PollObserver;
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Decides whether a poll's principal may consume the topic (from the view's grants). @default everything allowed */
  readonly access?: AccessControl;
}

/**
 * Whether `text` has the shape of a version's decimal text (what Version.toString() gives): 1 to
 * 20 digits, no leading zero but "0" itself. A caller's text of another shape is not used.
 */
function isDecimalText(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > 20 || (n > 1 && text.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Records whose failure was logged are remembered up to this many, then forgotten all at once. */
const LOGGED_FAILURES_MAX = 10_000;

export class Poller<S extends PollView = PollView> {
  readonly source: PollSource<S>;
  private readonly observer: PollObserver;
  private readonly log: Logger;
  private readonly access: AccessControl | undefined;
  /** (topic, version) whose failure was logged, so a broken head is logged once, not per poll. */
  private readonly loggedFailures = new Set<string>();
  /** Records that failed their consistency check when a poll needed them (metrics, tests). */
  integrityFailures = 0;

  constructor(deps: PollerDeps<S>) {
    this.source = deps.source;
    this.observer = deps.observer;
    this.log = deps.log ?? silentLogger;
    this.access = deps.access;
  }

  /**
   * What a consumer holding `lastSeen` (0n: nothing) should do (core/poll.ts). At once, with
   * no promise, when the source has what the decision needs in memory; a promise otherwise.
   * Bad input throws before anything is observed; every other outcome, error included, is
   * told to the observer, but a denial (PERMISSION_DENIED: `principal` may not consume the
   * topic; decided from the source's view, no store read when the source has it in memory):
   * who may not consume a topic is not one of its consumers.
   *
   * `lastSeenText`: lastSeen in decimal as the caller already has it (the wire's uint64 text,
   * once checked), so the observer is told it without a BigInt-to-text conversion per
   * topic-check; it must be `lastSeen.toString()` (no sign, no leading zero). Text that cannot
   * be (empty, over 20 characters, a leading zero) is ignored. @default lastSeen.toString()
   */
  poll(topic: string, identity: ConsumerIdentity, lastSeen: Version, principal?: Principal, method = 'Poll', lastSeenText?: string): Awaitable<PollAnswer> {
    // 1. The question.
    validateTopicName(topic);
    // Checked once per identity object (a BatchPoll's topics share one): validatePollIdentity remembers the last.
    validatePollIdentity(identity);
    // 2. The decision, from the source.
    let decided: Awaitable<PollDecision>;
    try {
      const { access } = this;
      decided = decidePoll(this.source, topic, identity, lastSeen, principal && access && ((view: S) => access.check(principal, 'consume', topic, view.grants ?? [], { method, app: identity.app })));
    } catch (err) {
      throw this.failed(topic, identity, lastSeen, err);
    }
    // 3. Its failures counted, what the node holds now observed, its answer.
    const said = lastSeenText !== undefined && isDecimalText(lastSeenText) ? lastSeenText : lastSeen.toString();
    if (!(decided instanceof Promise)) return this.answered(topic, identity, said, decided, principal);
    return decided.then(
      (d) => this.answered(topic, identity, said, d, principal),
      (err: unknown) => {
        throw this.failed(topic, identity, lastSeen, err);
      },
    );
  }

  /**
   * Whether `principal` (undefined: an anonymous caller, always) may consume `topic` and the
   * topic exists, decided as a poll's access is (from the source's view; a denial is recorded
   * by the access control as a poll's is). For what a consumer reports (Report).
   */
  async mayConsume(topic: string, principal: Principal | undefined, call: DeniedCall = { method: 'Report' }): Promise<boolean> {
    validateTopicName(topic);
    const got = this.source.state(topic);
    const view = got instanceof Promise ? await got : got;
    if (!view) return false;
    if (!principal || !this.access) return true;
    try {
      this.access.check(principal, 'consume', topic, view.grants ?? [], call);
      return true;
    } catch (err) {
      if (err instanceof PermissionDeniedError) return false;
      throw err;
    }
  }

  /** `said`: lastSeen in decimal. */
  private answered(topic: string, identity: ConsumerIdentity, said: string, d: PollDecision, principal: Principal | undefined): PollAnswer {
    let answer: PollAnswer = d;
    if (d.failures) {
      this.integrityFailures += d.failures.length;
      for (const f of d.failures) this.logFailure(f.topic, f.version, f.problem);
      answer = { ...(d.record && { record: d.record }), pinned: d.pinned, ...(d.rolledBack && { rolledBack: d.rolledBack }), ...(d.maxStalenessMs !== undefined && { maxStalenessMs: d.maxStalenessMs }) };
    }
    this.observer.observe(topic, identity, said, answer.record ? answer.record.version.toString() : said, answer.pinned, false, principal?.name);
    return answer;
  }

  private failed(topic: string, identity: ConsumerIdentity, lastSeen: Version, err: unknown): unknown {
    if (err instanceof PermissionDeniedError) return err;
    const said = lastSeen.toString();
    this.observer.observe(topic, identity, said, said, false, true);
    return err;
  }

  private logFailure(topic: string, version: Version, problem: string): void {
    const key = `${topic}\u0000${version}`;
    if (this.loggedFailures.has(key)) return;
    if (this.loggedFailures.size >= LOGGED_FAILURES_MAX) this.loggedFailures.clear();
    this.loggedFailures.add(key);
    this.log.warn('record failed its consistency check; not served', { topic, version, problem });
  }
}
