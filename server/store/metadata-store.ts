/**
 * Where topics, versions, scopes and pins live. One interface, two implementations: SQLite
 * (embedded default, one machine) and Cassandra (production, many regions). Both run the
 * conformance suite in test/conformance/metadata-store.ts.
 *
 * Stores keep rules out: validation, pin and latest resolution live in core/. A store
 * assigns versions (strictly increasing per topic, also with concurrent publishers) and
 * writes each version with its digest in one atomic step, and returns what it read, whole
 * and unverified: the caller checks digests.
 *
 * Publish ids: a store keeps a publish's id with its version, written in the same atomic step,
 * so that a publish whose id the topic has already recorded writes nothing and returns that
 * version, also when several retries of one publish arrive at once. The id goes when
 * retention purges its version (deleteVersion); a publish with it then makes a new version.
 *
 * Deletion: deleteTopic is a soft delete (the topic gets `deletedAtMs`, with its history entry
 * and change-feed entry, in one atomic step). A deleted topic is still read by getTopic and
 * listTopics (an operator sees what happened), but pollState answers it as absent and publish
 * refuses it; the janitor's purgeTopic removes it for good (JanitorStore).
 *
 * Grants (access control, core/access.ts): a topic's grants are changed by grant and revoke,
 * each with its 'grant' or 'revoke' history entry and change-feed entry in the same atomic
 * step, and read with the topic's poll state; purgeTopic removes them; restoreTopic writes
 * none (a fallback snapshot does not carry them).
 *
 * History: each change (createTopic, updateTopic, publish, addScopes, pin, unpin, deleteTopic, restoreTopic, grant, revoke) writes its
 * entry in the topic's history in the same atomic step as the change, with the actor the
 * caller names; a call that changes nothing (it throws, replays a publish id, attaches only
 * scopes already there, or unpins where there is no pin) writes no entry. History is kept
 * for as long as the topic.
 *
 * Change feed: every change also reaches the store's change feed (change-feed.ts), across all
 * topics, so that consume instances re-read only the topics that changed.
 *
 * Rollouts (core/rollout.ts): a publish given `rollout` writes its record with NO scopes (no
 * scope head moves), its rollout (state running, step 0, stepStartedAtMs = the publish time,
 * revision 1) with a 'rollout' history entry (details action=start) and feed entry, and marks
 * a running or paused rollout of the topic superseded (entry action=supersede, reason "version
 * N was published"), all in the publish's atomic step; a publish without `rollout` supersedes
 * one the same way. changeRollout is the only other writer: a compare-and-set on the revision,
 * so that of two drivers (or a driver and an operator) computing a change from the same
 * revision exactly one applies it. Completing a rollout attaches the empty scope to its version
 * in the same atomic step (the version becomes the latest for everyone, as addScopes would make
 * it). pollState carries the running or paused rollout and the versions of cancelled ones
 * (withdrawn). Consumer outcomes are kept per (topic, rollout version, node): the latest
 * recordOutcomes call for a node replaces what it said before (by atMs; an older one is
 * ignored). deleteVersion removes a version's rollout and outcomes, purgeTopic every rollout
 * and outcome of the topic.
 */
import type { ChangeFeed } from './change-feed.js';
import type { Actor, Change, ConsumerOutcome, Grant, NewVersion, Pin, RestorePlan, Retention, Rollout, RolloutAction, RolloutPolicy, Scope, ScopeHead, SnapshotOrigin, StalenessContract, Topic, Version, VersionRecord } from '../../core/index.js';

/** A new topic; its staleness contract's fields are absent for none. */
export interface NewTopic extends StalenessContract {
  readonly name: string;
  readonly owner: string;
  readonly description: string;
  readonly retention: Retention;
  /** Raw Ed25519 public keys (base64) a publish must be signed by; absent or empty: none required. */
  readonly trustedKeys?: readonly string[];
  /** Validated (core's validateRolloutPolicy); absent: none. */
  readonly rolloutPolicy?: RolloutPolicy;
  /** The grants it starts with (access control, core/access.ts), each with its 'grant' history entry. @default none */
  readonly grants?: readonly Grant[];
}

/** The fields to change; an expectEveryMs or maxStalenessMs of 0 removes that limit; trustedKeys replaces them ([]: none required). */
export interface TopicPatch {
  readonly owner?: string;
  readonly description?: string;
  readonly retention?: Retention;
  readonly expectEveryMs?: number;
  readonly maxStalenessMs?: number;
  readonly trustedKeys?: readonly string[];
  /** Replaces the policy (validated); null removes it. A running rollout keeps the policy it began with. */
  readonly rolloutPolicy?: RolloutPolicy | null;
}

/** What a poll needs to decide, read in one go. */
export interface PollState {
  readonly topic: Topic;
  readonly heads: readonly ScopeHead[];
  readonly pins: readonly Pin[];
  /** Who may do what to it (core/access.ts), so a consume instance decides access from its table. */
  readonly grants: readonly Grant[];
  /** The topic's running or paused rollout, if any. */
  readonly rollout?: Rollout;
  /** The versions whose rollout was cancelled, newest first. */
  readonly withdrawn: readonly Version[];
}

/** What a publish did: the version, and whether its publish id had made it before (then nothing was written). */
export interface Published {
  readonly record: VersionRecord;
  readonly replayed: boolean;
  /** The rollout it started (a replay: the one the first publish started, as it is now). */
  readonly rollout?: Rollout;
}

/** A rollout change for changeRollout: the rollout as it is to be, and how it got there. */
export interface RolloutChange {
  /** The rollout as it is to be; its revision is ignored (the store writes `expectedRevision + 1`). */
  readonly next: Rollout;
  /** The revision `next` was computed from: the change applies only when the stored rollout still has it. */
  readonly expectedRevision: number;
  readonly action: RolloutAction;
  /** Why, for the history entry (an operator's reason, a gate's verdict); "" for none. */
  readonly reason: string;
}

export interface MetadataStore extends ChangeFeed {
  /** "sqlite", "cassandra". */
  readonly name: string;
  /** `by`: who made the change, for its history entry. @default nobody named. @throws AlreadyExistsError */
  createTopic(topic: NewTopic, nowMs: number, by?: Actor): Promise<Topic>;
  /** @throws NotFoundError */
  updateTopic(name: string, patch: TopicPatch, nowMs: number, by?: Actor): Promise<Topic>;
  /**
   * Marks the topic deleted at `nowMs` (soft: nothing else is removed), with a 'delete-topic'
   * history entry carrying `reason`. A topic already deleted is returned as it is (no entry).
   * @throws NotFoundError for an unknown topic.
   */
  deleteTopic(name: string, reason: string, nowMs: number, by?: Actor): Promise<Topic>;
  /** The topic, deleted or not (see `deletedAtMs`). */
  getTopic(name: string): Promise<Topic | undefined>;
  /** Every topic, deleted ones included, by name. */
  listTopics(): Promise<Topic[]>;
  /**
   * Assigns the next version and writes the record, its digest, its scopes, its publish id
   * and its history entry atomically; or, when the topic has already recorded the publish id,
   * writes nothing and returns that version (`replayed`).
   * The input is already validated; no scopes is not allowed here (core gives the empty scope).
   * @throws FailedPreconditionError when the topic does not exist or is deleted (nothing is written).
   * @throws PublishIdConflictError when the publish id made a version with other content (nothing is written).
   */
  publish(version: NewVersion, nowMs: number, by?: Actor): Promise<Published>;
  /** @throws NotFoundError for an unknown topic or version. */
  addScopes(topic: string, version: Version, scopes: readonly Scope[], nowMs: number, by?: Actor): Promise<VersionRecord>;
  getVersion(topic: string, version: Version): Promise<VersionRecord | undefined>;
  /** Newest first, versions strictly below `below` when given. */
  listVersions(topic: string, opts: { below?: Version; limit: number }): Promise<VersionRecord[]>;
  countVersions(topic: string): Promise<number>;
  /** The latest version of each scope; with `atMs`, as it stood then (scopes attached by that time). */
  scopeHeads(topic: string, atMs?: number): Promise<ScopeHead[]>;
  /** Topic, heads and pins; undefined when the topic does not exist or is deleted (a poll finds no such topic). */
  pollState(topic: string): Promise<PollState | undefined>;
  /** Replaces any pin on the same topic and scope. @throws NotFoundError when the version does not exist. */
  pin(pin: Pin, by?: Actor): Promise<Pin>;
  /** The pin removed, or undefined when there was none. */
  unpin(topic: string, scope: Scope, nowMs: number, by?: Actor): Promise<Pin | undefined>;
  listPins(topic: string): Promise<Pin[]>;
  /** The topic's grants, by role then grantee (none for an unknown topic). */
  listGrants(topic: string): Promise<Grant[]>;
  /**
   * Adds the grant with its 'grant' history entry (details role, grantee). False when the
   * topic has it already (nothing written).
   * @throws NotFoundError for an unknown topic; TopicDeletedError for a deleted one (nothing is written).
   */
  grant(topic: string, grant: Grant, nowMs: number, by?: Actor): Promise<boolean>;
  /** Removes the grant with its 'revoke' history entry. False when the topic does not have it (nothing written). */
  revoke(topic: string, grant: Grant, nowMs: number, by?: Actor): Promise<boolean>;
  /**
   * Writes a topic back as a fallback snapshot had it (core's planRestore decides what): the
   * topic, its records with their own version numbers, publish times, metadata, pointers,
   * digests and scopes, its heads and its pins, with no publish ids; the version counter at
   * the plan's latestVersion, so the next publish gets a number above every restored one.
   * History: a create-topic entry, a publish entry per record and a pin entry per pin, at
   * `nowMs` by `by`, each with details.restored = restoredFrom(origin).
   * SQLite: one transaction. Cassandra: the topic's partition in one conditional batch, then
   * its pins (a table of their own) in one logged batch.
   * The restored topic is live (no deletedAtMs, whatever the plan's topic says).
   * @throws AlreadyExistsError when the topic exists, deleted and not purged yet included (nothing is written).
   */
  restoreTopic(plan: RestorePlan, origin: SnapshotOrigin, nowMs: number, by?: Actor): Promise<Topic>;
  /** The rollout of `version`, or undefined. */
  getRollout(topic: string, version: Version): Promise<Rollout | undefined>;
  /** The topic's rollouts, newest version first, versions strictly below `below` when given. */
  listRollouts(topic: string, opts: { below?: Version; limit: number }): Promise<Rollout[]>;
  /** Every running or paused rollout of every live topic (what a driver advances). */
  activeRollouts(): Promise<Rollout[]>;
  /**
   * Writes `change.next` with revision expectedRevision + 1, its 'rollout' history entry
   * (details action, step, state; reason) and its feed entry, when the stored rollout still has
   * `expectedRevision`; when next.state is 'completed', also attaches the empty scope to the
   * version, all in one atomic step. The rollout as written, or undefined when the revision had
   * moved on (nothing written: re-read and decide again).
   * @throws NotFoundError when there is no such rollout; TopicDeletedError for a deleted topic (nothing is written).
   */
  changeRollout(change: RolloutChange, nowMs: number, by?: Actor): Promise<Rollout | undefined>;
  /** Keeps each outcome as its node's latest word on that rollout (an older atMs than the one kept is ignored). No history, no feed entry. */
  recordOutcomes(outcomes: readonly ConsumerOutcome[]): Promise<void>;
  /** Every node's latest outcome for the rollout of `version`. */
  listOutcomes(topic: string, version: Version): Promise<ConsumerOutcome[]>;
  /** The topic's history, newest first, changes strictly before `below` (a Change's seq) when given. */
  listHistory(topic: string, opts: { below?: bigint; limit: number }): Promise<Change[]>;
  close(): Promise<void>;
}

/**
 * What the janitor needs beyond serving: deleting purged versions, a lease so that only
 * one of several janitors does each job at a time, and each job's last success. Both stores implement it and run
 * test/conformance/janitor-store.ts.
 */
export interface JanitorStore extends MetadataStore {
  /** Removes a version's record, scopes and publish id. Deleting what is not there is not an error. */
  deleteVersion(topic: string, version: Version): Promise<void>;
  /**
   * Removes a deleted topic for good: every version record, scope, publish id, pin and grant, then
   * the topic itself, so that its name can be created again. The history stays (who made,
   * changed and deleted the topic); a topic created again under the name continues it.
   * Removing what is not there is not an error; a topic that is not deleted is left alone
   * (false). True when the topic is gone.
   */
  purgeTopic(name: string): Promise<boolean>;
  /**
   * Takes the named lease for `holder` until `nowMs + ttlMs`, or renews it when `holder`
   * already has it. False when another holder has an unexpired lease.
   */
  acquireLease(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Records that janitor job `job` succeeded at `atMs` (whichever janitor ran it), so that
   * every janitor judges the job overdue or not from the same facts. An older time than the
   * one recorded leaves it as it is.
   */
  recordJobSuccess(job: string, atMs: number): Promise<void>;
  /** The last success of each job ever recorded: job name -> milliseconds. */
  jobSuccesses(): Promise<Map<string, number>>;
}
