/**
 * Poll for the consume role: the same validation, answers and audit events as
 * ImprintService.poll, decided from the PollTable instead of one store read per poll.
 * ImprintService delegates its `poll` here when the role is "consume".
 */
import { validatePollIdentity, validateTopicName, type ConsumerIdentity, type Version } from '../../core/index.js';
import type { AuditSink, PollEvent } from '../audit/audit-sink.js';
import type { PollAnswer } from '../service.js';
import { answerPoll, answerPollNow, type PollTable } from './poll-table.js';

/** What the gRPC Poll and BatchPoll handlers need: ImprintService and ConsumeService both have it. */
export interface Poller {
  poll(topic: string, identity: ConsumerIdentity, lastSeen: Version): Promise<PollAnswer>;
  /**
   * The same answer, with its audit event, when it can be given at once from memory; undefined
   * (nothing recorded) when `poll` must decide. Bad input throws, as `poll` rejects.
   */
  pollNow?(topic: string, identity: ConsumerIdentity, lastSeen: Version): PollAnswer | undefined;
}

export interface ConsumeServiceDeps {
  readonly table: PollTable;
  readonly audit: AuditSink;
  /** @default Date.now */
  readonly clock?: () => number;
}

export class ConsumeService implements Poller {
  readonly table: PollTable;
  private readonly audit: AuditSink;
  private readonly now: () => number;
  /**
   * Identities already validated: a BatchPoll asks for every topic with one identity object,
   * checked once rather than once per topic. Identities are treated as immutable.
   */
  private readonly validIdentities = new WeakSet<ConsumerIdentity>();

  constructor(deps: ConsumeServiceDeps) {
    this.table = deps.table;
    this.audit = deps.audit;
    this.now = deps.clock ?? Date.now;
  }

  /** Records whose consistency check failed when a poll needed them (as ImprintService.integrityFailures). */
  get integrityFailures(): number {
    return this.table.stats().integrityFailures;
  }

  /**
   * What a consumer holding `lastSeen` (0n: nothing) should do. It is never handed a record
   * that fails its consistency check: a consumer with data gets no update, one with none gets
   * the newest matching version that passes. Bad input throws before anything is audited.
   */
  async poll(topic: string, identity: ConsumerIdentity, lastSeen: Version): Promise<PollAnswer> {
    this.validate(topic, identity);
    let answer: PollAnswer;
    try {
      answer = await answerPoll(this.table, topic, identity, lastSeen);
    } catch (err) {
      this.record(topic, identity, lastSeen, 'error', lastSeen, false, err instanceof Error ? err.message : String(err));
      throw err;
    }
    this.record(topic, identity, lastSeen, answer.record ? 'update' : 'no-update', answer.record?.version ?? lastSeen, answer.pinned);
    return answer;
  }

  /** `poll`'s answer when the table alone gives it (the common case), else undefined and nothing recorded. */
  pollNow(topic: string, identity: ConsumerIdentity, lastSeen: Version): PollAnswer | undefined {
    this.validate(topic, identity);
    const answer = answerPollNow(this.table, topic, identity, lastSeen);
    if (answer) this.record(topic, identity, lastSeen, answer.record ? 'update' : 'no-update', answer.record?.version ?? lastSeen, answer.pinned);
    return answer;
  }

  private validate(topic: string, identity: ConsumerIdentity): void {
    validateTopicName(topic);
    if (!this.validIdentities.has(identity)) {
      validatePollIdentity(identity);
      this.validIdentities.add(identity);
    }
  }

  /** The audit event of one poll: the same fields, in the same order, as ImprintService.poll's. */
  private record(topic: string, identity: ConsumerIdentity, lastSeen: Version, outcome: PollEvent['outcome'], holds: Version, pinned: boolean, error?: string): void {
    this.audit.record({ kind: 'poll', atMs: this.now(), topic, identity, lastSeen: lastSeen.toString(), holds: holds.toString(), outcome, pinned, ...(error && { error }) });
  }
}
