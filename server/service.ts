/**
 * The service's operations over plain domain types, independent of any transport: publish,
 * operate (pins, history, describe) and the reads that are not polls, validated with core,
 * through the MetadataStore (each change with its history entry). Polls are the Poller's
 * (server/poll). A transport (server/grpc) only translates its messages to these calls and
 * errors to its statuses.
 */
import {
  AlreadyExistsError,
  MAX_MOVES,
  MAX_DENIALS,
  type DenialsPage,
  MAX_NODE_LIST,
  MAX_TIME_MS,
  MAX_VERSION,
  PAGE_SIZE_MAX,
  checkRange,
  MAX_PAYLOAD_SIZE,
  validateSha256,
  DataIntegrityError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  TopicDeletedError,
  applicablePin,
  decidePoll,
  identityAttributes,
  pinsAt,
  verdictOf,
  latestFor,
  newestGood,
  recordProblem,
  scopeKey,
  sha256Hex,
  signatureProblem,
  SignatureRejectedError,
  validateTrustedKeys,
  validateIdentity,
  validateNewVersion,
  validateRetention,
  validateContract,
  contractOf,
  publishStatusOf,
  validateScope,
  validateScopes,
  validateText,
  validateTopicName,
  validateGrant,
  MAX_GRANTS,
  type AccessAction,
  type Grant,
  type Actor,
  type Change,
  type ConsumerIdentity,
  type ConsumersQuery,
  type NewVersion,
  type Pin,
  type PublishStatus,
  type RecordFailure,
  type Scope,
  type ScopeHead,
  type Topic,
  type Version,
  type VersionRecord,
  UnavailableError,
  advanceMove,
  cancelMove,
  completeMove,
  isActive,
  pauseMove,
  resumeMove,
  rolloutProgress,
  validateRolloutPolicy,
  type Rollout,
  type RolloutMove,
  type RolloutProgress,
} from '../core/index.js';
import type { BlobStore } from '../client/blob-store/blob-store.js';
import type { AuditSink, MovesPage, TopicConsumers } from './audit/audit-sink.js';
import { DEFAULT_BLOB_CHECK_TIMEOUT_MS, checkBlobPointer } from './blob-check.js';
import { MAX_PART_SIZE, MIN_PART_SIZE, type CompletedRegion, type Lender, type LentDownload, type LentUpload } from './lend.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { MetadataStore, NewTopic, Published, TopicPatch } from './store/metadata-store.js';
import type { PollChangeHub } from './poll/changes.js';
import { StorePublishStatus, type PublishStatusSource } from './publish-status.js';
import type { Principal } from './auth/principal.js';
import { AccessControl } from './auth/access-control.js';

export interface TopicDescription {
  readonly topic: Topic;
  readonly heads: readonly ScopeHead[];
  readonly pins: readonly Pin[];
  readonly versionCount: number;
  /** Who polled it in the window, from the audit sink; or why the sink cannot say. */
  readonly consumers: TopicConsumers | { readonly error: string };
  /** The newest RECENT_CHANGES entries of its history, newest first. */
  readonly recentChanges: readonly Change[];
  /** Its latest publish and whether it is overdue (core/staleness.ts). */
  readonly publishStatus: PublishStatus;
  /** Its newest rollout, if it has had any. */
  readonly rollout?: Rollout;
}

/** What a publish asks: the version, and whether it bypasses the topic's rollout policy. */
export interface PublishInput extends Omit<NewVersion, 'rollout'> {
  /** Reach consumers at once even on a topic with a rollout policy (an owner's choice). @default false */
  readonly noRollout?: boolean;
}

/** An operator's verb on a topic's running or paused rollout (core/rollout.ts has the moves). */
export type RolloutVerb = 'pause' | 'resume' | 'cancel' | 'promote' | 'promote-full';

/**
 * How many times a verb re-reads the rollout and decides again when its compare-and-set finds
 * that the rollout moved meanwhile (the driver stepped it), before answering UNAVAILABLE.
 */
export const ROLLOUT_VERB_ATTEMPTS = 5;

/** The most history entries GetLatestAt with apply_pins reads to replay the pins of a moment. */
export const MAX_REPLAY_ENTRIES = 100_000;

/** How many history entries DescribeTopic carries. */
export const RECENT_CHANGES = 10;

/** Who calls, as the transport knows it. */
export interface Caller {
  /** The caller's address (grpc-js `getPeer()`); "" when unknown. */
  readonly peer: string;
  /** The principal the transport authenticated (mTLS, JWT: server/auth). @default none: an anonymous caller (a server without authentication) */
  readonly principal?: Principal;
  /** The request's log (its lines carry method, topic, app and request id). @default the service's log */
  readonly log?: Logger;
  /** The RPC called (e.g. "Publish"), for a denial's audit event. @default "" */
  readonly method?: string;
  /** The application the call claimed (x-imprint-app), for a denial's audit event. @default none */
  readonly app?: string;
}

const UNKNOWN_CALLER: Caller = { peer: '' };

/** Who made a change: the authenticated principal when there is one, else what the request claimed (`claimed`). */
function actorOf(caller: Caller, claimed: string): Actor {
  return caller.principal !== undefined
    ? { principal: caller.principal.name, authenticated: true, peer: caller.peer }
    : { principal: claimed, authenticated: false, peer: caller.peer };
}

/** Who made a change, for its log line: the caller's address, and its principal when one was authenticated. */
function whoFields(caller: Caller): { peer: string; principal?: string } {
  return { peer: caller.peer, ...(caller.principal !== undefined && { principal: caller.principal.name }) };
}

/** What DescribeTopic asks of the consumers view (wire fields consumers_since_ms, consumers_node_limit, consumers_version). */
export interface DescribeConsumers {
  /** 0 or absent: the last 24 hours. */
  readonly sinceMs?: number;
  /** Nodes to list, 0 to MAX_NODE_LIST; 0 or absent: none. */
  readonly nodeLimit?: number;
  /** List only nodes holding this version; 0n or absent: any. */
  readonly version?: bigint;
}

/** DescribeTopic's default consumers window. */
export const CONSUMERS_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ServiceDeps {
  readonly store: MetadataStore;
  readonly audit: AuditSink;
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
  /**
   * The blob stores a publish's blob pointer is checked against (one per region): each
   * location must be in one of them, and its object there with the pointer's size.
   * @default [] (blob pointers are refused; direct payloads only)
   */
  readonly blobStores?: readonly BlobStore[];
  /** How long one region may take to answer that check. @default 2000 */
  readonly blobCheckTimeoutMs?: number;
  /**
   * Told of each change this instance commits (publish, add scopes, pin, unpin), once the
   * store has it: the all role, whose polls read the store, gives its Watch streams the word
   * at once. @default none
   */
  readonly changes?: PollChangeHub;
  /**
   * Every topic's publish status, for ListTopics (the consume role's from its table).
   * @default read from the store at most every 30 s (StorePublishStatus)
   */
  readonly publishStatus?: PublishStatusSource;
  /**
   * Who may do what (server/auth/access-control.ts): every call with a principal is checked
   * against the topic's grants. @default the default policy (no admins)
   */
  readonly access?: AccessControl;
  /** The most history entries GetLatestAt with apply_pins reads to replay a moment's pins (1 to MAX_REPLAY_ENTRIES). @default MAX_REPLAY_ENTRIES */
  readonly maxReplayEntries?: number;
  /** Lends payload URLs (BeginUpload, CompleteUpload, GetDownload; lend.ts). @default none (those calls answer FAILED_PRECONDITION) */
  readonly lender?: Lender;
}

const MAX_TEXT = 1024;

export class ImprintService {
  private readonly store: MetadataStore;
  private readonly audit: AuditSink;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly blobStores: readonly BlobStore[];
  private readonly blobCheckTimeoutMs: number;
  private readonly changes: PollChangeHub | undefined;
  private readonly lender: Lender | undefined;
  readonly publishStatus: PublishStatusSource;
  /** Publishes refused for their signature, by reason (imprint_publish_signature_rejected_total). */
  readonly signatureRejections: Record<SignatureRejectedError['reason'], number> = { missing: 0, 'untrusted-key': 0, 'bad-signature': 0 };
  readonly access: AccessControl;
  private readonly maxReplayEntries: number;
  /** Records that failed their consistency check when GetVersion or GetLatestAt read them (tests); polls count theirs in the Poller. */
  integrityFailures = 0;

  constructor(deps: ServiceDeps) {
    this.store = deps.store;
    this.audit = deps.audit;
    this.log = deps.log ?? silentLogger;
    this.now = deps.clock ?? Date.now;
    this.blobStores = deps.blobStores ?? [];
    this.blobCheckTimeoutMs = deps.blobCheckTimeoutMs ?? DEFAULT_BLOB_CHECK_TIMEOUT_MS;
    this.changes = deps.changes;
    this.lender = deps.lender;
    this.publishStatus = deps.publishStatus ?? new StorePublishStatus({ store: deps.store, clock: this.now });
    this.access = deps.access ?? new AccessControl({ log: this.log, clock: this.now });
    this.maxReplayEntries = deps.maxReplayEntries ?? MAX_REPLAY_ENTRIES;
    checkRange(this.maxReplayEntries, 'maxReplayEntries', 1, MAX_REPLAY_ENTRIES);
  }

  /**
   * Refuses (PERMISSION_DENIED, recorded) a call whose principal may not do `action` on
   * `topic`, from the topic's grants as the store has them; a call without a principal (a
   * server without authentication) is never refused. Called after the input is checked and
   * before anything is read or written for the call.
   */
  private async authorize(caller: Caller, action: AccessAction, topic: string): Promise<void> {
    if (caller.principal === undefined) return;
    const call = { method: caller.method ?? '', ...(caller.app !== undefined && { app: caller.app }) };
    this.access.check(caller.principal, action, topic, action === 'create' ? [] : await this.store.listGrants(topic), call);
  }

  /** The log a call's lines go to: its request's, else the service's. */
  private logOf(caller: Caller): Logger {
    return caller.log ?? this.log;
  }

  // ---- publisher ----

  async createTopic(t: NewTopic, caller: Caller = UNKNOWN_CALLER): Promise<Topic> {
    validateTopicName(t.name, 'name');
    validateText(t.owner, 'owner', MAX_TEXT);
    validateText(t.description, 'description', MAX_TEXT);
    validateRetention(t.retention);
    validateContract(t);
    if (t.trustedKeys) validateTrustedKeys(t.trustedKeys);
    if (t.rolloutPolicy) validateRolloutPolicy(t.rolloutPolicy);
    await this.authorize(caller, 'create', t.name);
    // Its creator owns it, with the policy's defaults (none without a principal).
    const grants = this.access.grantsForNew(caller.principal);
    const topic = await this.store.createTopic({ ...t, ...(grants && { grants }) }, this.now(), actorOf(caller, t.owner)).catch(async (err: unknown) => {
      // A deleted topic holds its name until the janitor purges it: say when that is.
      const deletedAt = err instanceof AlreadyExistsError ? (await this.store.getTopic(t.name))?.deletedAtMs : undefined;
      if (deletedAt === undefined) throw err;
      throw new AlreadyExistsError(
        `topic "${t.name}"`,
        `topic "${t.name}" was deleted at ${new Date(deletedAt).toISOString()} and holds its name until the janitor purges it, its --delete-grace (7d by default) after the deletion; create it again after that`,
      );
    });
    this.logOf(caller).info('topic created', { topic: t.name, owner: t.owner, ...whoFields(caller) });
    return topic;
  }

  /**
   * Deletes the topic softly (see MetadataStore.deleteTopic): polls find no such topic from
   * now on, changes are refused, and the janitor purges it after its grace period.
   */
  async deleteTopic(name: string, reason: string, caller: Caller = UNKNOWN_CALLER): Promise<Topic> {
    validateTopicName(name, 'name');
    validateText(reason, 'reason', MAX_TEXT);
    await this.authorize(caller, 'own', name);
    const topic = await this.store.deleteTopic(name, reason, this.now(), actorOf(caller, ''));
    this.changes?.notify(name);
    this.logOf(caller).info('topic deleted', { topic: name, reason, deletedAt: topic.deletedAtMs, ...whoFields(caller) });
    return topic;
  }

  /** The topic, refused when it does not exist (NOT_FOUND) or is deleted (FAILED_PRECONDITION naming `action`). */
  private async liveTopic(name: string, action: string): Promise<Topic> {
    const t = await this.store.getTopic(name);
    if (!t) throw new NotFoundError(`topic "${name}"`);
    if (t.deletedAtMs !== undefined) throw new TopicDeletedError(name, t.deletedAtMs, action);
    return t;
  }

  async updateTopic(name: string, patch: TopicPatch, caller: Caller = UNKNOWN_CALLER): Promise<Topic> {
    validateTopicName(name, 'name');
    if (patch.owner !== undefined) validateText(patch.owner, 'owner', MAX_TEXT);
    if (patch.description !== undefined) validateText(patch.description, 'description', MAX_TEXT);
    if (patch.retention) validateRetention(patch.retention);
    if (patch.trustedKeys) validateTrustedKeys(patch.trustedKeys);
    if (patch.rolloutPolicy) validateRolloutPolicy(patch.rolloutPolicy);
    await this.authorize(caller, 'own', name);
    // A deleted topic takes no change (DeleteTopic), its description included.
    await this.liveTopic(name, `update topic "${name}"`);
    if (patch.expectEveryMs !== undefined || patch.maxStalenessMs !== undefined) {
      // Each limit given (0: removes it), then the contract it leaves with the current one.
      validateContract(contractOf(patch.expectEveryMs ?? 0, patch.maxStalenessMs ?? 0));
      const current = await this.store.getTopic(name);
      if (!current) throw new NotFoundError(`topic "${name}"`);
      // (Read before the write: two updates at the same moment may each pass against the
      // other's old limit; what they leave is still two limits that work on their own.)
      validateContract(contractOf(patch.expectEveryMs ?? current.expectEveryMs ?? 0, patch.maxStalenessMs ?? current.maxStalenessMs ?? 0));
    }
    const topic = await this.store.updateTopic(name, patch, this.now(), actorOf(caller, ''));
    this.logOf(caller).info('topic updated', { topic: name, changed: Object.keys(patch).join(','), ...whoFields(caller) });
    return topic;
  }

  /**
   * Validates everything, then writes the version in one step: bad input consumes no version
   * number. A publish id the topic has recorded returns its version, `replayed`.
   */
  async publish(input: PublishInput, caller: Caller = UNKNOWN_CALLER): Promise<Published> {
    // 1. The record's own rules (a blob's keys under the topic's prefix included).
    const { noRollout = false, ...asked } = input;
    const v = validateNewVersion(asked);
    const p = v.pointer;
    if (p.kind === 'direct' && sha256Hex(p.bytes) !== p.sha256) {
      throw new InvalidArgumentError('pointer.sha256', 'must be the sha256 of the direct bytes', p.sha256);
    }
    // 2. The caller may publish to the topic.
    await this.authorize(caller, 'publish', v.topic);
    // 3. A topic with trusted keys takes only publishes one of them signed (core/signing.ts).
    //    (Read before the write: a publish racing an update of the keys is checked against the
    //    keys as they were when it arrived.)
    const topic = await this.checkSignature(v, caller);
    // 4. A blob pointer names objects that exist, with its size (see blob-check.ts).
    if (p.kind === 'blob') await checkBlobPointer(v.topic, p, this.blobStores, this.blobCheckTimeoutMs, this.logOf(caller));
    // 5. Record it (a publish id the topic has recorded answers its version, replayed): on a
    //    topic with a rollout policy, a publish without explicit scopes or noRollout starts a
    //    rollout with the policy as it is now (core/rollout.ts). Either way the store supersedes
    //    a running one.
    const policy = asked.scopes.length === 0 && !noRollout ? topic?.rolloutPolicy : undefined;
    const published = await this.store.publish(policy ? { ...v, rollout: policy } : v, this.now(), actorOf(caller, ''));
    const { record, replayed } = published;
    if (!replayed) this.changes?.notify(record.topic);
    this.logOf(caller).info(replayed ? 'publish replayed: its publish id had made this version' : 'published', {
      topic: record.topic,
      version: record.version,
      size: p.size,
      kind: p.kind,
      scopes: v.scopes.map(scopeKey).join(';') || '*',
      ...(published.rollout && { rollout: published.rollout.state, step: published.rollout.step }),
      ...(v.publishId && { publishId: v.publishId }),
      ...whoFields(caller),
    });
    return published;
  }

  /**
   * The topic as it is (undefined when missing or deleted: the store refuses the publish, with
   * that reason).
   * @throws SignatureRejectedError (counted, logged) when the topic's trusted keys refuse the publish's signature.
   */
  private async checkSignature(v: NewVersion, caller: Caller): Promise<Topic | undefined> {
    const topic = await this.store.getTopic(v.topic);
    if (!topic || topic.deletedAtMs !== undefined) return undefined;
    const problem = signatureProblem(v, v.signature, topic.trustedKeys ?? []);
    if (!problem) return topic;
    this.signatureRejections[problem.reason] += 1;
    this.logOf(caller).warn('publish refused: signature', { topic: v.topic, reason: problem.reason, ...(v.signature && { keyId: v.signature.keyId }), ...whoFields(caller) });
    throw new SignatureRejectedError(problem);
  }

  async addScopes(topic: string, version: Version, scopes: readonly Scope[], caller: Caller = UNKNOWN_CALLER): Promise<VersionRecord> {
    validateTopicName(topic);
    const valid = validateScopes(scopes);
    if (valid.length === 0) throw new InvalidArgumentError('scopes', 'must name at least one scope');
    await this.authorize(caller, 'publish', topic);
    await this.liveTopic(topic, `add scopes to version ${version} of topic "${topic}"`);
    const record = await this.store.addScopes(topic, version, valid, this.now(), actorOf(caller, ''));
    this.changes?.notify(topic);
    this.logOf(caller).info('scopes added', { topic, version, scopes: valid.map(scopeKey).join(';'), ...whoFields(caller) });
    return record;
  }

  // ---- lent payload URLs (lend.ts) ----

  /** URLs to upload `size` bytes with `sha256` to every region, checked and authorized as a publish is. */
  async beginUpload(topic: string, size: number, sha256: string, partSize: number, caller: Caller = UNKNOWN_CALLER): Promise<LentUpload> {
    validateTopicName(topic);
    checkRange(size, 'size', 1, MAX_PAYLOAD_SIZE, ' (an empty payload is not a dataset)');
    validateSha256(sha256, 'sha256');
    if (partSize !== 0) checkRange(partSize, 'part_size', MIN_PART_SIZE, MAX_PART_SIZE, ' (0: the service\'s choice)');
    await this.authorize(caller, 'publish', topic);
    await this.publishableTopic(topic, 'begin an upload to');
    const lent = await this.lenderOf().beginUpload(topic, size, sha256, partSize);
    this.logOf(caller).info('upload URLs lent', { topic, size, regions: lent.targets.map((t) => `${t.region}${t.multipart ? `:${t.parts.length} parts` : ''}`).join(','), ...whoFields(caller) });
    return lent;
  }

  /** Finishes a BeginUpload's multipart uploads; the assembled objects are checked (lend.ts). */
  async completeUpload(topic: string, uploadId: string, regions: readonly CompletedRegion[], caller: Caller = UNKNOWN_CALLER): Promise<LentUpload['pointer']> {
    validateTopicName(topic);
    if (uploadId === '') throw new InvalidArgumentError('upload_id', "must be a BeginUpload answer's upload_id");
    await this.authorize(caller, 'publish', topic);
    await this.publishableTopic(topic, 'complete an upload to');
    return this.lenderOf().completeUpload(topic, uploadId, regions);
  }

  /** URLs to download a version's payload, `region`'s first, for a caller who may read the version. */
  async getDownload(topic: string, version: Version, region: string, caller: Caller = UNKNOWN_CALLER): Promise<{ record: VersionRecord } & LentDownload> {
    const record = await this.getVersion(topic, version, caller);
    if (record.pointer.kind === 'direct') return { record, urls: [], expiresAtMs: 0 };
    return { record, ...(await this.lenderOf().downloadUrls(record, region)) };
  }

  /** As Publish answers: FAILED_PRECONDITION for a topic that does not exist or is deleted. */
  private async publishableTopic(topic: string, verb: string): Promise<void> {
    const t = await this.store.getTopic(topic);
    if (!t) throw new FailedPreconditionError(`cannot ${verb} topic "${topic}": it does not exist (create it first)`);
    if (t.deletedAtMs !== undefined) throw new TopicDeletedError(topic, t.deletedAtMs, `${verb} topic "${topic}"`);
  }

  private lenderOf(): Lender {
    if (!this.lender) throw new FailedPreconditionError('this service lends no payload URLs (it has no blob store)');
    return this.lender;
  }

  // ---- consumer reads (polls are the Poller's) ----

  async getVersion(topic: string, version: Version, caller: Caller = UNKNOWN_CALLER): Promise<VersionRecord> {
    validateTopicName(topic);
    await this.authorize(caller, 'consume', topic);
    const record = await this.store.getVersion(topic, version);
    if (!record) {
      if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
      throw new NotFoundError(`version ${version} of topic "${topic}"`);
    }
    const problem = recordProblem(record);
    if (problem) {
      this.integrityFailures++;
      throw new DataIntegrityError(`${problem}; the record is not served`);
    }
    return record;
  }

  /** Newest first: `limit` versions below `below` (from the newest when undefined), and the token of the next page. */
  async listVersions(topic: string, limit: number, below: Version | undefined, caller: Caller = UNKNOWN_CALLER): Promise<{ versions: VersionRecord[]; nextPageToken: string }> {
    validateTopicName(topic);
    checkRange(limit, 'page_size', 1, PAGE_SIZE_MAX);
    if (below !== undefined) checkRange(below, 'page_token', 1n, MAX_VERSION);
    await this.authorize(caller, 'consume', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    const versions = await this.store.listVersions(topic, { ...(below !== undefined && { below }), limit });
    const last = versions[versions.length - 1];
    return { versions, nextPageToken: versions.length === limit && last && last.version > 1n ? last.version.toString() : '' };
  }

  /**
   * The version the consumer would have been given at `atMs`: without `applyPins` the latest
   * for its scopes then; with it, core's poll decision (for a consumer holding nothing) over
   * the scope heads of that moment and the pins in effect then (replayed from the history).
   */
  async latestAt(topic: string, identity: ConsumerIdentity, atMs: number, applyPins = false, caller: Caller = UNKNOWN_CALLER): Promise<{ record?: VersionRecord; pinned: boolean; pin?: Pin }> {
    validateTopicName(topic);
    validateIdentity(identity);
    checkRange(atMs, 'at_ms', 0, MAX_TIME_MS);
    await this.authorize(caller, 'consume', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    if (!applyPins) {
      const record = await this.latestUnpinnedAt(topic, identity, atMs);
      return { ...(record && { record }), pinned: false };
    }
    const view = { heads: await this.store.scopeHeads(topic, atMs), pins: pinsAt(await this.historyUpTo(topic, atMs), atMs) };
    const decision = await decidePoll(
      {
        state: () => view,
        record: async (t, _view, version) => verdictOf(t, version, await this.store.getVersion(t, version)),
        versionsBelow: (t, below, limit) => this.store.listVersions(t, { below, limit }),
      },
      topic,
      identity,
      0n,
    );
    this.integrityFailures += decision.failures?.length ?? 0;
    const pin = applicablePin(view.pins, identityAttributes(identity));
    return { ...(decision.record && { record: decision.record }), pinned: decision.pinned, ...(pin && { pin }) };
  }

  /**
   * The topic's history entries up to `atMs`, back to the newest create-topic at or before it
   * (what came before belongs to an earlier topic of the name), read a page at a time, at most
   * MAX_REPLAY_ENTRIES entries in all (a bounded cost per request).
   */
  private async historyUpTo(topic: string, atMs: number): Promise<Change[]> {
    const out: Change[] = [];
    let below: bigint | undefined;
    // Never more than one entry past the bound is read: enough to know it is passed.
    for (let read = 0; ; ) {
      const limit = Math.min(PAGE_SIZE_MAX, this.maxReplayEntries + 1 - read);
      const page = await this.store.listHistory(topic, { ...(below !== undefined && { below }), limit });
      for (const c of page) {
        if (++read > this.maxReplayEntries) {
          throw new ResourceExhaustedError(`topic "${topic}" has more than ${this.maxReplayEntries} history entries to replay for apply_pins; ask without apply_pins, or for a later at_ms`);
        }
        if (c.atMs > atMs) continue;
        out.push(c);
        if (c.kind === 'create-topic') return out;
      }
      const last = page[page.length - 1];
      if (page.length < limit || !last) return out;
      below = last.seq;
    }
  }

  private async latestUnpinnedAt(topic: string, identity: ConsumerIdentity, atMs: number): Promise<VersionRecord | undefined> {
    const attrs = identityAttributes(identity);
    const latest = latestFor(await this.store.scopeHeads(topic, atMs), attrs);
    if (latest === undefined) return undefined;
    const record = await this.store.getVersion(topic, latest);
    if (record && !recordProblem(record)) return record;
    // It fails: the newest matching version below it that passes, as a poll would give.
    const failures: RecordFailure[] = [];
    const good = await newestGood((below, limit) => this.store.listVersions(topic, { below, limit }), attrs, latest, failures, atMs);
    this.integrityFailures += 1 + failures.length;
    return good;
  }

  async getTopic(name: string, caller: Caller = UNKNOWN_CALLER): Promise<Topic> {
    validateTopicName(name, 'name');
    await this.authorize(caller, 'consume', name);
    const t = await this.store.getTopic(name);
    if (!t) throw new NotFoundError(`topic "${name}"`);
    return t;
  }

  /** Live topics; deleted ones too (not purged yet) with `includeDeleted`. */
  async listTopics(includeDeleted = false): Promise<Topic[]> {
    const topics = await this.store.listTopics();
    return includeDeleted ? topics : topics.filter((t) => t.deletedAtMs === undefined);
  }

  /**
   * The topics listTopics answers, and the publish status of each live one with an
   * expectEveryMs (as of at most 30 s ago, see PublishStatusSource).
   */
  async listTopicsWithStatus(includeDeleted = false): Promise<{ topics: Topic[]; publishStatus: readonly PublishStatus[] }> {
    const [topics, publishStatus] = await Promise.all([this.listTopics(includeDeleted), this.publishStatus.statuses()]);
    return { topics, publishStatus };
  }

  // ---- operator ----

  async pin(topic: string, scope: Scope, version: Version, reason: string, createdBy: string, caller: Caller = UNKNOWN_CALLER): Promise<Pin> {
    validateTopicName(topic);
    validateScope(scope);
    validateText(reason, 'reason', MAX_TEXT);
    validateText(createdBy, 'created_by', MAX_TEXT);
    await this.authorize(caller, 'operate', topic);
    await this.liveTopic(topic, `pin topic "${topic}"`);
    const pin = await this.store.pin({ topic, scope, version, createdAtMs: this.now(), reason, createdBy }, actorOf(caller, createdBy));
    this.changes?.notify(topic);
    this.logOf(caller).info('pinned', { topic, scope: scopeKey(scope) || '*', version, reason, by: createdBy, ...whoFields(caller) });
    return pin;
  }

  async unpin(topic: string, scope: Scope, caller: Caller = UNKNOWN_CALLER): Promise<Pin | undefined> {
    validateTopicName(topic);
    validateScope(scope);
    await this.authorize(caller, 'operate', topic);
    await this.liveTopic(topic, `unpin topic "${topic}"`);
    const removed = await this.store.unpin(topic, scope, this.now(), actorOf(caller, ''));
    if (!removed) throw new NotFoundError(`pin on topic "${topic}" for scope "${scopeKey(scope) || '*'}"`);
    this.changes?.notify(topic);
    this.logOf(caller).info('unpinned', { topic, scope: scopeKey(scope) || '*', version: removed.version, ...whoFields(caller) });
    return removed;
  }

  /** The topic's change history, newest first, `limit` at a time, changes below seq `below` when given (the previous page's last). */
  async listHistory(topic: string, limit: number, below: bigint | undefined, caller: Caller = UNKNOWN_CALLER): Promise<{ changes: Change[]; nextPageToken: string }> {
    validateTopicName(topic);
    checkRange(limit, 'page_size', 1, PAGE_SIZE_MAX);
    if (below !== undefined) checkRange(below, 'page_token', 1n, MAX_VERSION);
    await this.authorize(caller, 'inspect', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    const changes = await this.store.listHistory(topic, { ...(below !== undefined && { below }), limit });
    const last = changes[changes.length - 1];
    return { changes, nextPageToken: changes.length === limit && last ? last.seq.toString() : '' };
  }

  async listPins(topic: string, caller: Caller = UNKNOWN_CALLER): Promise<Pin[]> {
    validateTopicName(topic);
    await this.authorize(caller, 'consume', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    return this.store.listPins(topic);
  }

  /**
   * The topic, its heads and pins, and its consumers seen since `consumers.sinceMs` (default:
   * the last 24 hours), with up to `consumers.nodeLimit` nodes listed (only those holding
   * `consumers.version`, when given).
   */
  async describeTopic(name: string, consumers: DescribeConsumers = {}, caller: Caller = UNKNOWN_CALLER): Promise<TopicDescription> {
    validateTopicName(name, 'name');
    const q = consumers;
    if (q.sinceMs !== undefined) checkRange(q.sinceMs, 'consumers_since_ms', 0, MAX_TIME_MS);
    if (q.nodeLimit !== undefined) checkRange(q.nodeLimit, 'consumers_node_limit', 0, MAX_NODE_LIST);
    if (q.version !== undefined) checkRange(q.version, 'consumers_version', 0n, MAX_VERSION);
    await this.authorize(caller, 'inspect', name);
    // A deleted topic answers no poll (pollState), but an operator still sees it whole.
    let state = await this.store.pollState(name);
    if (!state) {
      const topic = await this.store.getTopic(name);
      if (!topic) throw new NotFoundError(`topic "${name}"`);
      const [heads, pins, grants] = await Promise.all([this.store.scopeHeads(name), this.store.listPins(name), this.store.listGrants(name)]);
      state = { topic, heads, pins, grants, withdrawn: [] };
    }
    const query: ConsumersQuery = {
      sinceMs: q.sinceMs || this.now() - CONSUMERS_WINDOW_MS,
      ...(q.nodeLimit && { nodeLimit: q.nodeLimit }),
      ...(q.version && { version: q.version.toString() }),
    };
    let answer: TopicDescription['consumers'];
    if (!this.audit.consumers) answer = { error: `the ${this.audit.name} audit sink cannot list consumers` };
    else {
      try {
        answer = await this.audit.consumers(name, query);
      } catch (err) {
        // The topic's description does not fail because audit is down.
        answer = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    const [versionCount, recentChanges, [rollout]] = await Promise.all([this.store.countVersions(name), this.store.listHistory(name, { limit: RECENT_CHANGES }), this.store.listRollouts(name, { limit: 1 })]);
    return { topic: state.topic, heads: state.heads, pins: state.pins, versionCount, consumers: answer, recentChanges, publishStatus: publishStatusOf(state, this.now()), ...(rollout && { rollout }) };
  }

  /**
   * The moves of a topic's nodes from one version to another in [sinceMs, untilMs), newest
   * first (from the audit data): what was live where, when. `sinceMs` 0: the last 24 hours;
   * `untilMs` 0: now; `nodeId` "": every node. UNAVAILABLE when the audit sink cannot be read;
   * FAILED_PRECONDITION when it cannot answer at all.
   */
  async listMoves(topic: string, q: { sinceMs: number; untilMs: number; nodeId: string; limit: number }, caller: Caller = UNKNOWN_CALLER): Promise<MovesPage> {
    validateTopicName(topic);
    checkRange(q.sinceMs, 'since_ms', 0, MAX_TIME_MS);
    checkRange(q.untilMs, 'until_ms', 0, MAX_TIME_MS);
    checkRange(q.limit, 'page_size', 1, MAX_MOVES);
    if (q.nodeId.length > 256) throw new InvalidArgumentError('node_id', 'must be at most 256 characters', q.nodeId);
    const sinceMs = q.sinceMs || this.now() - CONSUMERS_WINDOW_MS;
    if (q.untilMs !== 0 && q.untilMs < sinceMs) throw new InvalidArgumentError('until_ms', 'must be 0 or not before since_ms', q.untilMs);
    await this.authorize(caller, 'inspect', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    if (!this.audit.moves) throw new FailedPreconditionError(`the ${this.audit.name} audit sink cannot list moves`);
    return this.audit.moves(topic, { sinceMs, ...(q.untilMs !== 0 && { untilMs: q.untilMs }), ...(q.nodeId !== '' && { nodeId: q.nodeId }), limit: q.limit });
  }

  /**
   * The calls refused on a topic by access control in [sinceMs, untilMs), newest first (from
   * the audit data): who was refused what. `sinceMs` 0: the last 24 hours; `untilMs` 0: now.
   * UNAVAILABLE when the audit sink cannot be read; FAILED_PRECONDITION when it cannot answer.
   */
  async listDenials(topic: string, q: { sinceMs: number; untilMs: number; limit: number }, caller: Caller = UNKNOWN_CALLER): Promise<DenialsPage> {
    validateTopicName(topic);
    checkRange(q.sinceMs, 'since_ms', 0, MAX_TIME_MS);
    checkRange(q.untilMs, 'until_ms', 0, MAX_TIME_MS);
    checkRange(q.limit, 'page_size', 1, MAX_DENIALS);
    const sinceMs = q.sinceMs || this.now() - CONSUMERS_WINDOW_MS;
    if (q.untilMs !== 0 && q.untilMs < sinceMs) throw new InvalidArgumentError('until_ms', 'must be 0 or not before since_ms', q.untilMs);
    await this.authorize(caller, 'inspect', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    if (!this.audit.denials) throw new FailedPreconditionError(`the ${this.audit.name} audit sink cannot list denials`);
    return this.audit.denials(topic, { sinceMs, ...(q.untilMs !== 0 && { untilMs: q.untilMs }), limit: q.limit });
  }

  // ---- rollouts (core/rollout.ts) ----

  /** The rollout of `version` (0n: the topic's newest) and the consumers gate's count. NOT_FOUND for an unknown topic or a version without a rollout. */
  async getRollout(topic: string, version: Version, caller: Caller = UNKNOWN_CALLER): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    validateTopicName(topic);
    checkRange(version, 'version', 0n, MAX_VERSION);
    await this.authorize(caller, 'inspect', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    const rollout = version === 0n ? (await this.store.listRollouts(topic, { limit: 1 }))[0] : await this.store.getRollout(topic, version);
    if (!rollout) throw new NotFoundError(version === 0n ? `a rollout of topic "${topic}"` : `rollout of version ${version} of topic "${topic}"`);
    return { rollout, progress: rolloutProgress(rollout, await this.store.listOutcomes(topic, rollout.version)) };
  }

  /** The topic's rollouts, newest first, `limit` below version `below` when given, and the token of the next page. */
  async listRollouts(topic: string, limit: number, below: Version | undefined, caller: Caller = UNKNOWN_CALLER): Promise<{ rollouts: Rollout[]; nextPageToken: string }> {
    validateTopicName(topic);
    checkRange(limit, 'page_size', 1, PAGE_SIZE_MAX);
    if (below !== undefined) checkRange(below, 'page_token', 1n, MAX_VERSION);
    await this.authorize(caller, 'inspect', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    const rollouts = await this.store.listRollouts(topic, { ...(below !== undefined && { below }), limit });
    const last = rollouts[rollouts.length - 1];
    return { rollouts, nextPageToken: rollouts.length === limit && last && last.version > 1n ? last.version.toString() : '' };
  }

  /**
   * An operator's verb on the topic's running or paused rollout, with core's move for it
   * (pause, resume, cancel, promote: the next step now, promote-full: completed now), written
   * by the store's compare-and-set on the rollout's revision: when the driver moved the
   * rollout meanwhile, the rollout is read again and the verb decided again (at most
   * ROLLOUT_VERB_ATTEMPTS times, then UNAVAILABLE). FAILED_PRECONDITION when the topic has no
   * running or paused rollout, or the verb does not apply to its state.
   */
  async changeRollout(topic: string, verb: RolloutVerb, reason: string, caller: Caller = UNKNOWN_CALLER): Promise<Rollout> {
    validateTopicName(topic);
    validateText(reason, 'reason', MAX_TEXT);
    await this.authorize(caller, 'operate', topic);
    await this.liveTopic(topic, `${verb} the rollout of topic "${topic}"`);
    for (let attempt = 1; attempt <= ROLLOUT_VERB_ATTEMPTS; attempt++) {
      // 1. The running or paused rollout: the newest (a publish supersedes the one before it).
      const [current] = await this.store.listRollouts(topic, { limit: 1 });
      if (!current || !isActive(current.state)) {
        const newest = current ? `its newest rollout (version ${current.version}) is ${current.state}` : 'it has had none';
        throw new FailedPreconditionError(`cannot ${verb} a rollout of topic "${topic}": it has no running or paused rollout (${newest})`);
      }
      // 2. The move (core refuses one that does not apply), 3. written if the rollout is still as read.
      const now = this.now();
      const move = rolloutMoveOf(verb, current, now, reason);
      const written = await this.store.changeRollout({ next: move.next, expectedRevision: current.revision, action: move.action, reason: move.reason }, now, actorOf(caller, ''));
      if (!written) continue;
      this.changes?.notify(topic);
      this.logOf(caller).info(`rollout ${move.action}`, { topic, version: written.version, verb, step: written.step, state: written.state, ...(reason && { reason }), ...whoFields(caller) });
      return written;
    }
    throw new UnavailableError(`cannot ${verb} the rollout of topic "${topic}": it kept changing while this was decided (${ROLLOUT_VERB_ATTEMPTS} attempts; the rollout driver is moving it); try again`);
  }

  // ---- access control ----

  /** The topic's grants (an inspect action). NOT_FOUND for an unknown topic. */
  async getAccess(topic: string, caller: Caller = UNKNOWN_CALLER): Promise<Grant[]> {
    validateTopicName(topic);
    await this.authorize(caller, 'inspect', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    return this.store.listGrants(topic);
  }

  /**
   * What the caller itself may do on the topic (any caller may ask about itself), by the rule
   * every call is checked by. NOT_FOUND for an unknown topic.
   */
  async callerAccess(topic: string, caller: Caller = UNKNOWN_CALLER): Promise<{ principal: string; admin: boolean; actions: Exclude<AccessAction, 'create'>[] }> {
    validateTopicName(topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    const p = caller.principal;
    return { principal: p?.name ?? '', admin: p !== undefined && this.access.isAdmin(p), actions: this.access.actionsOf(p, p === undefined ? [] : await this.store.listGrants(topic)) };
  }

  /**
   * Gives `grant` on the topic (an owner action), with its history entry; granting what the
   * topic has changes nothing. At most MAX_GRANTS grants per topic (RESOURCE_EXHAUSTED beyond).
   */
  async grant(topic: string, grant: { role: string; grantee: string }, caller: Caller = UNKNOWN_CALLER): Promise<{ changed: boolean; grants: Grant[] }> {
    validateTopicName(topic);
    const g = validateGrant(grant);
    await this.authorize(caller, 'own', topic);
    const live = await this.liveTopic(topic, `grant on topic "${topic}"`);
    const before = await this.store.listGrants(live.name);
    // (Read before the write: grants made at the same moment may pass the bound together.)
    const has = before.some((x) => x.role === g.role && x.grantee === g.grantee);
    if (!has && before.length >= MAX_GRANTS) throw new ResourceExhaustedError(`topic "${topic}" has ${before.length} grants, the most a topic may have (${MAX_GRANTS}); revoke one first, or grant to a group`);
    const changed = !has && (await this.store.grant(topic, g, this.now(), actorOf(caller, '')));
    if (changed) this.changes?.notify(topic);
    this.logOf(caller).info(changed ? 'granted' : 'grant already there', { topic, role: g.role, grantee: g.grantee, ...whoFields(caller) });
    return { changed, grants: await this.store.listGrants(topic) };
  }

  /** Takes `grant` back (an owner action), with its history entry; revoking what the topic does not have changes nothing. */
  async revoke(topic: string, grant: { role: string; grantee: string }, caller: Caller = UNKNOWN_CALLER): Promise<{ changed: boolean; grants: Grant[] }> {
    validateTopicName(topic);
    const g = validateGrant(grant);
    await this.authorize(caller, 'own', topic);
    if (!(await this.store.getTopic(topic))) throw new NotFoundError(`topic "${topic}"`);
    const changed = await this.store.revoke(topic, g, this.now(), actorOf(caller, ''));
    if (changed) this.changes?.notify(topic);
    this.logOf(caller).info(changed ? 'revoked' : 'revoke: no such grant', { topic, role: g.role, grantee: g.grantee, ...whoFields(caller) });
    return { changed, grants: await this.store.listGrants(topic) };
  }
}

/** Core's move for an operator's verb (core/rollout.ts; it refuses a state the verb does not apply to). */
function rolloutMoveOf(verb: RolloutVerb, r: Rollout, nowMs: number, reason: string): RolloutMove {
  switch (verb) {
    case 'pause':
      return pauseMove(r, nowMs, reason);
    case 'resume':
      return resumeMove(r, nowMs);
    case 'cancel':
      return cancelMove(r, nowMs, reason);
    case 'promote':
      return advanceMove(r, nowMs, 'promote', reason);
    case 'promote-full':
      return completeMove(r, nowMs, 'promote', reason);
  }
}
