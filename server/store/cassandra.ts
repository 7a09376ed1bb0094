/**
 * The Cassandra metadata store: the one that scales across regions. Mirrors the SQLite
 * store's behaviour (both pass test/conformance/metadata-store.ts and rollouts.ts).
 *
 * ## Tables
 *
 * One partition per topic holds everything that must change together, so that a publish is
 * ONE Paxos round on ONE partition (a conditional single-partition batch is atomic and
 * isolated): the version number, the record with its digest, and its scopes.
 *
 * `topics`, PRIMARY KEY ((topic), kind, scope_key, version), clustering (kind ASC, scope_key ASC, version DESC):
 *
 * | rows | what | serves |
 * | --- | --- | --- |
 * | static columns | the topic (owner, description, retention, created_at_ms, the staleness contract, its rollout policy) and `latest_version`, the per-topic counter; `rollout_active`, the version of its running or paused rollout, and `withdrawn`, the versions of its cancelled ones | getTopic, listTopics (`SELECT DISTINCT`), pollState, the CAS |
 * | kind 'r', scope_key '', version v | the record of version v: metadata, pointer, digest, the publish's claim id, its scopes (map key -> JSON) and when each was attached | getVersion, listVersions (newest first: `version < ? LIMIT n`), countVersions |
 * | kind 'h', scope_key k, version 0 | the head of scope k: `head_version`, the scope, since when | pollState and scopeHeads now: one slice, no scan |
 * | kind 's', scope_key k, version v | scope k attached to version v at `added_at_ms` | scopeHeads as of a time: `GROUP BY scope_key` over `added_at_ms <= t` (newest version first in each group) |
 * | kind 'i', scope_key id, version 0 | publish id `id` made version `id_version`: its claim id and the publish's `fingerprint` | a retry of a publish (replay), and its refusal when the content differs |
 * | kind 'g', scope_key 'ROLE GRANTEE', version 0 | a grant (access control; a grantee has no spaces), since `added_at_ms` | listGrants, pollState: one slice; written by conditional batches like every row here |
 * | kind 'o', scope_key '', version v | the rollout of version v: `rollout` (JSON, server/store/rollouts.ts) and `rollout_revision` | getRollout, listRollouts (newest first), changeRollout's CAS |
 * | kind 'c', scope_key '', version s | the change numbered s in the topic's history (`change`, JSON, server/store/history.ts); s = (time in ms << 21) + 21 random bits, so newest first | listHistory: `version < ? LIMIT n` |
 *
 * `pins`, PRIMARY KEY ((topic), scope_key): the pins of a topic (listPins, pollState).
 * `rollout_outcomes`, PRIMARY KEY ((topic, version), node_key): consumer outcomes (below).
 * `leases`, PRIMARY KEY (name): the janitor's leases (JanitorStore), taken and renewed by CAS.
 * `janitor_jobs`, PRIMARY KEY (job): each janitor job's last success, written with the success's
 * time as the write timestamp so that an older success never replaces a newer one.
 * `feed`, PRIMARY KEY ((bucket, shard), at, id): the change feed (below).
 *
 * ## Version numbers: a CAS on the per-topic counter, with the record in the same batch
 *
 * A publish sends one conditional batch on the topic's partition:
 *
 *     UPDATE topics SET latest_version = n+1 WHERE topic = ? IF latest_version = n
 *     INSERT the record row (n+1) with its digest and a claim id (a random UUID per publish call)
 *     INSERT the 's' and 'h' rows of its scopes
 *     INSERT the 'c' row of its history entry
 *     with a publish id: INSERT the 'i' row of the id (n+1, claim, fingerprint) IF NOT EXISTS
 *
 * Paxos decides it as a whole: either the counter moves to n+1 AND the complete record and
 * its scopes are there, or nothing is written. A counter value without its record cannot
 * exist, so there is nothing half-written for readers to see; a reader that meets a record
 * replicated only in part (or damaged) gets it as stored and the service's digest check
 * refuses it (DESIGN invariant 4). Nothing is ever read-then-written: n comes from a cache
 * or a read, but only the CAS decides.
 *
 * - Lost CAS (`[applied] = false`): Cassandra returns the current counter; retry with it
 *   (a little jitter), within `publishBudgetMs`.
 * - Outcome unknown (a timeout, a lost connection, an "unavailable" after the proposal; the
 *   proposal may or may not be committed later): never guess. Read the row n+1 at SERIAL
 *   consistency. A serial read completes any accepted-but-uncommitted proposal it finds, and
 *   its newer ballot makes an older proposal it did not find impossible to commit later. So
 *   the answer is final: our claim id in row n+1 means the publish is done (return it); another
 *   claim means n+1 is someone else's (go on from there); no row means nothing was written
 *   (retry). If even that read fails, the publish fails with UNAVAILABLE saying the outcome is
 *   unknown.
 * - A coordinator may still be working on our request after the driver gave up on it (client
 *   timeout). Each attempt is conditional on the counter value it saw, and the counter only
 *   grows, so at most one attempt of a publish can ever apply; the ids of undecided attempts
 *   are remembered and checked again whenever a later attempt loses, so a late success of an
 *   earlier attempt is recognised as ours instead of publishing the same thing twice.
 *
 * So two publishes never get the same number (one Paxos winner per counter value) and a
 * number is never skipped and then reused (the counter never goes back). Gaps do not arise
 * either, since the counter and the record are one write.
 *
 * ## Publish ids: the id row is a second condition of the same batch
 *
 * A batch whose id row already exists does not apply, and Cassandra answers with that row:
 * the id made version `id_version`. If the row carries our claim id, it is an earlier attempt
 * of this very call that landed late (ours, not a replay); otherwise the publish was made by an
 * earlier request: its record is read and returned as a replay when the fingerprint matches,
 * and refused (PublishIdConflictError) when not. Since Paxos orders every batch on the
 * partition, any number of concurrent retries of one publish make exactly one version: the
 * first batch to apply writes the id row, and every other one fails on it. An unknown outcome
 * is settled as above; the next attempt then meets the id row if the undecided one applied.
 * deleteVersion removes the id row with the record, so retention forgets the ids it purges.
 *
 * ## History
 *
 * Every change writes its 'c' row in the same write as the change: in the conditional batch of
 * createTopic, updateTopic, publish, addScopes and changeRollout (so it exists exactly when the
 * change does).
 * Pins live in their own table and are plain writes: pin and unpin write the pin row and the
 * 'c' row in one LOGGED batch (same partition key in both tables, so the same replicas), which
 * Cassandra applies whole or not at all, also when the coordinator dies half-way (its
 * batchlog replays it). Two unpins of one pin at the same moment may both write an entry.
 *
 * All writes to a topic's partition's rows and statics are conditional (createTopic IF NOT
 * EXISTS, updateTopic IF EXISTS, publish, addScopes, changeRollout, deleteVersion), so plain and Paxos writes
 * (whose timestamps come from different clocks) never race on the same cells. The one plain
 * write there is a pin's or unpin's 'c' row, a new row of its own (its seq is new) that nothing
 * else writes. Pins are plain writes in their own table.
 *
 * ## Rollouts
 *
 * A rollout's rows are in its topic's partition because every change of one must be atomic
 * with other rows there, and a conditional batch is atomic only within one partition:
 *
 * - A publish given a rollout writes its record with no scopes (no 's' or 'h' rows), its 'o'
 *   row at revision 1 with a 'rollout' history entry (action start), and sets `rollout_active`
 *   to its version, in the publish's batch. The batch's CAS also expects `rollout_active` as
 *   last seen (null when none: a cached counter expects none, and a lost CAS returns the
 *   current value), and a publish that finds one active supersedes it in the same batch: that
 *   'o' row IF its revision is the one read, with its entry (action supersede), and
 *   `rollout_active` moved to the new rollout or null. So two publishes, or a publish and a
 *   driver, never both win against one revision.
 * - changeRollout: one conditional batch: the 'o' row IF `rollout_revision` is the expected one
 *   AND the topic is not deleted (a static condition), its entry; an ending rollout clears
 *   `rollout_active` (IF it still names it), a cancelled one adds its version to `withdrawn`;
 *   a completed one attaches the empty scope to its record with its 's' row and moves the
 *   empty scope's 'h' row forward IF it is still where it was read (as addScopes). A stale
 *   revision is seen in a read first and sends nothing; one that moves between that read and
 *   the batch fails the CAS. An unknown outcome is settled by a SERIAL read of the batch's
 *   history row (its seq is drawn per attempt, so it exists exactly when that attempt
 *   applied); found missing, the attempt may still land later (its coordinator retries its
 *   Paxos round) but only while the revision is the expected one, so once a read shows the
 *   revision moved, the rows of such attempts are read again before answering "moved on".
 * - pollState reads the statics anyway: they name the active rollout and carry `withdrawn`, so
 *   a topic without a running rollout costs no extra read, and one with it one point read of
 *   its 'o' row (after the statics: not one snapshot, like the rest of pollState, and a
 *   rollout that ended in between is left out).
 * - activeRollouts scans the statics of every topic (`SELECT DISTINCT`, as listTopics) and reads
 *   the 'o' row of each that names one: what a driver does once per round, not per request.
 * - deleteVersion removes the 'o' row, its `withdrawn` element and `rollout_active` if it named
 *   it, in its batch, then the outcomes; purgeTopic removes every 'o' row and the statics with
 *   the rest, the outcomes of each rollout first.
 *
 * Consumer outcomes are many small upserts from every serving instance and belong to no
 * change: `rollout_outcomes` holds them, one partition per rollout (listOutcomes reads one),
 * one row per node. Each is written with its `at_ms` as the write timestamp, so a node's latest
 * word wins whatever order the writes arrive in, without a Paxos round (the same millisecond
 * twice: Cassandra keeps the greater text). A delete of a rollout's outcomes is a partition
 * tombstone at the deleting time: outcomes stamped later than it (a clock far ahead) survive it.
 *
 * Feed: a rollout change announces 'rollout' (hint, then a second row) like every conditional
 * write; a publish's rollout rows ride on its 'publish' hint, and get their 'rollout' rows after.
 *
 * ## Change feed
 *
 * Every change is announced in `feed`, across all topics, so that consume instances re-read
 * only the topics that changed (the port: change-feed.ts; the reads: cassandra-feed.ts).
 * Partition (bucket, shard): the entry's minute, and a hash of its topic mod 4, so a minute's
 * changes spread over four partitions (no one replica set takes every change of the cluster)
 * and a reader touches the partitions of the last minute or two, never a topic's. Clustering
 * (at, id): `at` is the writer's clock in ticks (ms x 1000 + a counter, so one writer's
 * entries strictly increase), `id` random. Rows expire (TTL `feed.retentionMs`, 6 hours;
 * compaction by time window).
 *
 * Writes. A feed row cannot join a publish's batch: a conditional batch must stay in one
 * partition. So every conditional write on a topic's partition (createTopic, updateTopic,
 * each attempt of publish and addScopes, deleteVersion) goes:
 *
 *     1. the hint: a feed row (hint = true), acknowledged before the conditional batch is
 *        sent; when it cannot be written the change is not tried (UNAVAILABLE, nothing written)
 *     2. the conditional batch (and the serial read that settles an unknown outcome)
 *     3. once the change is known to be applied: a second row (hint = false), which readers
 *        can act on at once; a failure here is logged and counted (stats.feedConfirmFailures),
 *        not thrown: the change is made, and its hint stands for it
 *
 * A hint of a change that did not happen (a lost CAS, a replayed publish id, a topic that
 * already exists) is harmless: a reader re-reads the topic and finds nothing new. A pin or
 * unpin is a logged batch already: its feed row joins it (hint = true: the batch may apply it
 * before the pin row), and a second row follows. A change that fails before any write (a
 * publish to a missing topic, a pin of a missing version) leaves nothing.
 *
 * Reads. A cursor holds two times and the entries given after the first:
 *
 *     - fresh scan: every entry after `fresh` not given yet; then `fresh` moves to
 *       now - lookbackMs (2 s). Each read looks back that far for entries that landed late (a
 *       writer's clock behind the reader's, a slow write) and gives none twice.
 *     - settle scan: every hint whose time passed now - settleMs (60 s) since the last read is
 *       given again, once.
 *
 * The settle scan is what makes the feed complete: a reader that got a hint before its change
 * committed, whose second row never came (the publisher died, or its write failed), gets the
 * hint again once settled, and so does a reader whose clock is ahead of the writer's by more
 * than the look back, a reader that got the row of a logged batch before its pin row applied,
 * and a reader in another data center whose replica got the feed row before the topic's. The
 * bound: a change that becomes readable within settleMs of its hint's time is given after it
 * became readable. An attempt is decided within lwtTimeoutMs and a few serial reads (Cassandra's
 * own CAS timeouts are shorter); a proposal left accepted but uncommitted (its coordinator
 * and publisher died) is completed by the next Paxos round on the partition, and every such
 * round writes its own hint first (which is why deleteVersion writes them too).
 *
 * An idle read is two queries (the settle slice, the look back; three while a minute turns),
 * each over the four shards of one minute. Order: by writer time, so one writer's entries in order and concurrent writers'
 * by their clocks, not by commit; entries repeat (a hint, its second row, the hint again
 * settled). A cursor older than retentionMs - settleMs is too old (entries after it may have
 * expired), and so is one of another keyspace: `feed_id` in imprint_meta is drawn when the
 * keyspace is created, so a keyspace created again (a wiped node) is another feed.
 *
 * Schema: the keyspace's tables are created when missing; columns added since (publish_id,
 * fingerprint, id_version, change, ..., the rollout columns) are added to an existing `topics`
 * table when missing (ADDED_COLUMNS).
 *
 * ## Faults
 *
 * Driver errors that mean "Cassandra cannot answer now" (no host, timeouts, unavailable,
 * overloaded) become UnavailableError, which the gRPC layer answers with UNAVAILABLE. The
 * store starts unconnected: `connectInBackground` retries with backoff until it connects,
 * and every call answers UNAVAILABLE until then. A keyspace or table that disappeared (a
 * wiped node came back) is re-created on the first request that notices. Availability (health)
 * follows the driver's view of the nodes, and also the requests: a node that hangs keeps its
 * connections open, so after `timeoutsBeforeUnavailable` requests in a row got no answer the
 * store counts as unavailable until one is answered (a probe checks meanwhile).
 */
import { randomInt } from 'node:crypto';
import cassandra from 'cassandra-driver';
import type { Client, types } from 'cassandra-driver';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  TopicDeletedError,
  ImprintError,
  NotFoundError,
  PublishIdConflictError,
  UnavailableError,
  publishDifference,
  publishFingerprint,
  recordDigest,
  restoredFrom,
  scopeKey,
  sortGrants,
  isRole,
  uniqueScopes,
  type Actor,
  type Grant,
  type BlobLocation,
  type Change,
  type DataPointer,
  type NewVersion,
  type Pin,
  type RestorePlan,
  type Scope,
  type ScopeHead,
  type SnapshotOrigin,
  type Topic,
  type Version,
  type VersionRecord,
  type ConsumerOutcome,
  type Rollout,
  isActive,
  nodeKey,
  startRollout,
  supersedeMove,
} from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import {
  FEED_SHARD_LIST,
  FeedClock,
  bucketOf,
  decodeCursor,
  encodeCursor,
  entryId,
  feedWithDefaults,
  headAt,
  isTooOld,
  readPage,
  shardOf,
  type BucketScan,
  type CassandraFeedOptions,
  type FeedRow,
  type ResolvedFeedOptions,
} from './cassandra-feed.js';
import { checkFeedLimit, type FeedCursor, type FeedKind, type FeedPage } from './change-feed.js';
import { NOBODY, changeDraft, decodeChange, encodeChange, grantDetails, isChangeKind, topicDetails, type ChangeDraft } from './history.js';
import type { JanitorStore, NewTopic, PollState, Published, RolloutChange, TopicPatch } from './metadata-store.js';
import { decodeOutcome, decodePolicy, decodeRollout, encodeOutcome, encodePolicy, encodeRollout, rolloutDetails } from './rollouts.js';
import type { CassandraAuth, ResolvedCassandraTls } from '../backend-credentials.js';

export type ConsistencyName = 'ONE' | 'LOCAL_ONE' | 'TWO' | 'THREE' | 'QUORUM' | 'LOCAL_QUORUM' | 'EACH_QUORUM' | 'ALL';
export type SerialConsistencyName = 'SERIAL' | 'LOCAL_SERIAL';

/** Resolved options: server/config.ts `cassandraWithDefaults` checks them and holds the defaults. */
export interface CassandraStoreOptions {
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  readonly keyspace: string;
  readonly replication: Readonly<Record<string, string>>;
  readonly consistency: ConsistencyName;
  readonly serialConsistency: SerialConsistencyName;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly lwtTimeoutMs: number;
  readonly publishBudgetMs: number;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly timeoutsBeforeUnavailable: number;
  /** PasswordAuthenticator credentials (PlainTextAuthProvider). @default none */
  readonly auth?: CassandraAuth;
  /** TLS to the native port. @default none: plaintext */
  readonly tls?: ResolvedCassandraTls;
  /** The change feed's windows and retention (cassandra-feed.ts holds their defaults). */
  readonly feed?: CassandraFeedOptions;
  /** The change feed's clock: when entries are written, and "now" for reads. @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

/** The keyspace holds a schema this build does not read. */
export class CassandraSchemaError extends ImprintError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}

export const SCHEMA_VERSION = '1';

const { consistencies } = cassandra.types;
const CONSISTENCY: Record<ConsistencyName | SerialConsistencyName, types.consistencies> = {
  ONE: consistencies.one,
  LOCAL_ONE: consistencies.localOne,
  TWO: consistencies.two,
  THREE: consistencies.three,
  QUORUM: consistencies.quorum,
  LOCAL_QUORUM: consistencies.localQuorum,
  EACH_QUORUM: consistencies.eachQuorum,
  ALL: consistencies.all,
  SERIAL: consistencies.serial,
  LOCAL_SERIAL: consistencies.localSerial,
};

const NO_RETRY = new cassandra.policies.retry.FallthroughRetryPolicy();
const MAX_VERSION = 0x7fff_ffff_ffff_ffffn; // Cassandra bigint is signed 64-bit
const PAGE = 100;

type Row = types.Row;
type Uuid = types.Uuid;
type Params = unknown[];
interface Statement {
  readonly query: string;
  readonly params: Params;
}

/** Columns of `topics` added after its first release: created with the table, added to an older one. */
const ADDED_COLUMNS: readonly (readonly [string, string])[] = [
  ['publish_id', 'text'],
  ['fingerprint', 'text'],
  ['id_version', 'bigint'],
  ['change', 'text'],
  ['expect_every_ms', 'bigint static'],
  ['max_staleness_ms', 'bigint static'],
  ['deleted_at_ms', 'bigint static'],
  ['trusted_keys', 'text static'],
  ['signature_key_id', 'text'],
  ['signature', 'text'],
  ['rollout_policy', 'text static'],
  ['rollout_active', 'bigint static'],
  ['withdrawn', 'set<bigint> static'],
  ['rollout', 'text'],
  ['rollout_revision', 'int'],
];

/** A topic's trusted keys as stored: a JSON array of raw keys (base64), null for none. */
const trustedKeysColumn = (keys: readonly string[] | undefined): string | null => (keys && keys.length > 0 ? JSON.stringify(keys) : null);

/** A staleness contract's limit as a column: null for none. */
const contractMs = (ms: number | undefined): bigint | null => (ms === undefined ? null : BigInt(ms));

/** CQL text for one keyspace (validated as a plain identifier by config). */
function cqlFor(ks: string) {
  const RECORD_COLUMNS = 'topic, version, published_at_ms, metadata, pointer_kind, size, sha256, direct, locations, digest, scopes, scope_added, publish_id, signature_key_id, signature';
  /** The topic's own columns (statics of its partition): what a topic read selects and a purge deletes. */
  const TOPIC_STATICS = 'owner, description, keep_versions, keep_days, created_at_ms, latest_version, expect_every_ms, max_staleness_ms, deleted_at_ms, trusted_keys, rollout_policy, rollout_active, withdrawn';
  const TOPIC_COLUMNS = `topic, ${TOPIC_STATICS}`;
  const RECORD_KEY = `topic = ? AND kind = 'r' AND scope_key = '' AND version = ?`;
  const ROLLOUT_KEY = `topic = ? AND kind = 'o' AND scope_key = '' AND version = ?`;
  return {
    ddl: (replication: Readonly<Record<string, string>>) => [
      `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = {${Object.entries(replication)
        .map(([k, v]) => `'${k}': '${v}'`)
        .join(', ')}}`,
      `CREATE TYPE IF NOT EXISTS ${ks}.blob_location (kind text, region text, bucket text, object_key text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.topics (
        topic text,
        kind text,
        scope_key text,
        version bigint,
        owner text static,
        description text static,
        keep_versions int static,
        keep_days int static,
        created_at_ms bigint static,
        latest_version bigint static,
        published_at_ms bigint,
        metadata frozen<map<text, text>>,
        pointer_kind text,
        size bigint,
        sha256 text,
        direct blob,
        locations frozen<list<frozen<blob_location>>>,
        digest text,
        claim uuid,
        scopes map<text, text>,
        scope_added map<text, bigint>,
        head_version bigint,
        scope text,
        added_at_ms bigint,
        ${ADDED_COLUMNS.map(([c, t]) => `${c} ${t},`).join('\n        ')}
        PRIMARY KEY ((topic), kind, scope_key, version)
      ) WITH CLUSTERING ORDER BY (kind ASC, scope_key ASC, version DESC)
        AND comment = 'Imprint: one partition per topic; statics = the topic, its version counter, its active rollout and withdrawn versions; kind r = records, h = scope heads, s = scopes attached to versions, i = publish ids, g = grants, o = rollouts, c = history'`,
      `CREATE TABLE IF NOT EXISTS ${ks}.pins (
        topic text,
        scope_key text,
        scope text,
        version bigint,
        created_at_ms bigint,
        reason text,
        created_by text,
        PRIMARY KEY ((topic), scope_key)
      ) WITH comment = 'Imprint: operator pins, one per topic and scope'`,
      `CREATE TABLE IF NOT EXISTS ${ks}.rollout_outcomes (
        topic text,
        version bigint,
        node_key text,
        at_ms bigint,
        outcome text,
        PRIMARY KEY ((topic, version), node_key)
      ) WITH comment = 'Imprint: consumer outcomes per rollout and node; the write timestamp is the outcome time (latest wins)'`,
      `CREATE TABLE IF NOT EXISTS ${ks}.leases (name text PRIMARY KEY, holder text, expires_at_ms bigint) WITH comment = 'Imprint: janitor leases (one holder per job)'`,
      `CREATE TABLE IF NOT EXISTS ${ks}.janitor_jobs (job text PRIMARY KEY, last_success_ms bigint) WITH comment = 'Imprint: the last success of each janitor job'`,
      `CREATE TABLE IF NOT EXISTS ${ks}.imprint_meta (key text PRIMARY KEY, value text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.feed (
        bucket bigint,
        shard int,
        at bigint,
        id bigint,
        topic text,
        kind text,
        version bigint,
        hint boolean,
        PRIMARY KEY ((bucket, shard), at, id)
      ) WITH CLUSTERING ORDER BY (at ASC, id ASC)
        AND compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}
        AND gc_grace_seconds = 3600
        AND comment = 'Imprint: the change feed; partitions by minute and shard, rows expire (TTL)'`,
    ],
    schemaVersionInsert: `INSERT INTO ${ks}.imprint_meta (key, value) VALUES ('schema_version', ?) IF NOT EXISTS`,
    feedIdInsert: `INSERT INTO ${ks}.imprint_meta (key, value) VALUES ('feed_id', ?) IF NOT EXISTS`,
    addFeedEntry: `INSERT INTO ${ks}.feed (bucket, shard, at, id, topic, kind, version, hint) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
    feedScan: `SELECT at, id, topic, kind, version, hint FROM ${ks}.feed WHERE bucket = ? AND shard IN ? AND at > ? AND at <= ?`,
    topicsColumns: `SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = 'topics'`,
    addColumn: (column: string, type: string) => `ALTER TABLE ${ks}.topics ADD ${column} ${type}`,
    keyspaceReplication: 'SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?',

    createTopic: `INSERT INTO ${ks}.topics (topic, owner, description, keep_versions, keep_days, created_at_ms, expect_every_ms, max_staleness_ms, trusted_keys, rollout_policy, latest_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) IF NOT EXISTS`,
    restoreTopic: `INSERT INTO ${ks}.topics (topic, owner, description, keep_versions, keep_days, created_at_ms, expect_every_ms, max_staleness_ms, trusted_keys, rollout_policy, latest_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
    topic: `SELECT DISTINCT ${TOPIC_COLUMNS} FROM ${ks}.topics WHERE topic = ?`,
    allTopics: `SELECT DISTINCT ${TOPIC_COLUMNS} FROM ${ks}.topics`,
    updateTopic: (sets: readonly string[]) => `UPDATE ${ks}.topics SET ${sets.map((s) => `${s} = ?`).join(', ')} WHERE topic = ? IF EXISTS`,

    // The counter, and the active rollout the publish leaves (its own, or none: it supersedes), as expected.
    cas: `UPDATE ${ks}.topics SET latest_version = ?, rollout_active = ? WHERE topic = ? IF latest_version = ? AND deleted_at_ms = null AND rollout_active = ?`,
    deleteTopic: `UPDATE ${ks}.topics SET deleted_at_ms = ? WHERE topic = ? IF created_at_ms != null AND deleted_at_ms = null`,
    purgeKind: `DELETE FROM ${ks}.topics WHERE topic = ? AND kind = ?`,
    purgeTopicRow: `DELETE ${TOPIC_STATICS} FROM ${ks}.topics WHERE topic = ? IF deleted_at_ms = ?`,
    purgePins: `DELETE FROM ${ks}.pins WHERE topic = ?`,
    insertRecord: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, published_at_ms, metadata, pointer_kind, size, sha256, direct, locations, digest, claim, scopes, scope_added, publish_id, signature_key_id, signature)
      VALUES (?, 'r', '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    newPublishId: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, id_version, claim, fingerprint) VALUES (?, 'i', ?, 0, ?, ?, ?) IF NOT EXISTS`,
    deletePublishId: `DELETE FROM ${ks}.topics WHERE topic = ? AND kind = 'i' AND scope_key = ? AND version = 0`,
    addChange: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, change) VALUES (?, 'c', '', ?, ?)`,
    changes: `SELECT version, change FROM ${ks}.topics WHERE topic = ? AND kind = 'c' AND scope_key = '' AND version < ? LIMIT ?`,
    changeAt: `SELECT version FROM ${ks}.topics WHERE topic = ? AND kind = 'c' AND scope_key = '' AND version = ?`,
    insertScope: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, scope, added_at_ms) VALUES (?, 's', ?, ?, ?, ?)`,
    setHead: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, head_version, scope, added_at_ms) VALUES (?, 'h', ?, 0, ?, ?, ?)`,
    newHead: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, head_version, scope, added_at_ms) VALUES (?, 'h', ?, 0, ?, ?, ?) IF NOT EXISTS`,
    moveHead: `UPDATE ${ks}.topics SET head_version = ?, scope = ?, added_at_ms = ? WHERE topic = ? AND kind = 'h' AND scope_key = ? AND version = 0 IF head_version = ?`,
    attachScopes: (n: number) =>
      `UPDATE ${ks}.topics SET scopes = scopes + ?, scope_added = scope_added + ? WHERE ${RECORD_KEY} IF digest != null${' AND scopes[?] = null'.repeat(n)}`,
    claim: `SELECT claim FROM ${ks}.topics WHERE ${RECORD_KEY}`,

    grants: `SELECT scope_key FROM ${ks}.topics WHERE topic = ? AND kind = 'g'`,
    grantOf: `SELECT scope_key FROM ${ks}.topics WHERE topic = ? AND kind = 'g' AND scope_key = ? AND version = 0`,
    newGrant: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, added_at_ms) VALUES (?, 'g', ?, 0, ?)`,
    grant: `UPDATE ${ks}.topics SET added_at_ms = ? WHERE topic = ? AND kind = 'g' AND scope_key = ? AND version = 0 IF created_at_ms != null AND deleted_at_ms = null`,
    revoke: `DELETE FROM ${ks}.topics WHERE topic = ? AND kind = 'g' AND scope_key = ? AND version = 0 IF EXISTS`,

    record: `SELECT ${RECORD_COLUMNS} FROM ${ks}.topics WHERE ${RECORD_KEY}`,
    recordExists: `SELECT version FROM ${ks}.topics WHERE ${RECORD_KEY}`,
    records: `SELECT ${RECORD_COLUMNS} FROM ${ks}.topics WHERE topic = ? AND kind = 'r' AND scope_key = '' AND version < ? LIMIT ?`,
    countRecords: `SELECT COUNT(*) AS n FROM ${ks}.topics WHERE topic = ? AND kind = 'r'`,
    heads: `SELECT scope_key, head_version, scope, added_at_ms FROM ${ks}.topics WHERE topic = ? AND kind = 'h'`,
    headsOf: `SELECT scope_key, head_version FROM ${ks}.topics WHERE topic = ? AND kind = 'h' AND scope_key IN ? AND version = 0`,
    headsAt: `SELECT scope_key, version, scope, added_at_ms FROM ${ks}.topics WHERE topic = ? AND kind = 's' AND added_at_ms <= ? GROUP BY scope_key ALLOW FILTERING`,

    deleteRecord: `DELETE FROM ${ks}.topics WHERE ${RECORD_KEY} IF EXISTS`,
    deleteScope: `DELETE FROM ${ks}.topics WHERE topic = ? AND kind = 's' AND scope_key = ? AND version = ?`,
    headOf: `SELECT head_version FROM ${ks}.topics WHERE topic = ? AND kind = 'h' AND scope_key = ? AND version = 0`,
    previousOfScope: `SELECT version, scope, added_at_ms FROM ${ks}.topics WHERE topic = ? AND kind = 's' AND scope_key = ? AND version < ? LIMIT 1`,
    dropHead: `DELETE FROM ${ks}.topics WHERE topic = ? AND kind = 'h' AND scope_key = ? AND version = 0 IF head_version = ?`,

    lease: `SELECT holder, expires_at_ms FROM ${ks}.leases WHERE name = ?`,
    takeFreeLease: `INSERT INTO ${ks}.leases (name, holder, expires_at_ms) VALUES (?, ?, ?) IF NOT EXISTS`,
    takeLease: `UPDATE ${ks}.leases SET holder = ?, expires_at_ms = ? WHERE name = ? IF holder = ? AND expires_at_ms = ?`,
    releaseLease: `DELETE FROM ${ks}.leases WHERE name = ? IF holder = ?`,
    jobSuccess: `INSERT INTO ${ks}.janitor_jobs (job, last_success_ms) VALUES (?, ?) USING TIMESTAMP ?`,
    jobSuccesses: `SELECT job, last_success_ms FROM ${ks}.janitor_jobs`,

    pin: `INSERT INTO ${ks}.pins (topic, scope_key, scope, version, created_at_ms, reason, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    pinOf: `SELECT topic, scope, version, created_at_ms, reason, created_by FROM ${ks}.pins WHERE topic = ? AND scope_key = ?`,
    pins: `SELECT topic, scope, version, created_at_ms, reason, created_by FROM ${ks}.pins WHERE topic = ?`,
    unpin: `DELETE FROM ${ks}.pins WHERE topic = ? AND scope_key = ?`,

    rollout: `SELECT version, rollout, rollout_revision FROM ${ks}.topics WHERE ${ROLLOUT_KEY}`,
    rolloutWithTopic: `SELECT version, rollout, rollout_revision, rollout_active, deleted_at_ms FROM ${ks}.topics WHERE ${ROLLOUT_KEY}`,
    rollouts: `SELECT version, rollout, rollout_revision FROM ${ks}.topics WHERE topic = ? AND kind = 'o' AND scope_key = '' AND version < ? LIMIT ?`,
    rolloutVersions: `SELECT version FROM ${ks}.topics WHERE topic = ? AND kind = 'o'`,
    activeRollouts: `SELECT DISTINCT topic, rollout_active, deleted_at_ms FROM ${ks}.topics`,
    insertRollout: `INSERT INTO ${ks}.topics (topic, kind, scope_key, version, rollout, rollout_revision) VALUES (?, 'o', '', ?, ?, ?)`,
    changeRollout: `UPDATE ${ks}.topics SET rollout = ?, rollout_revision = ? WHERE ${ROLLOUT_KEY} IF rollout_revision = ? AND deleted_at_ms = null`,
    setActiveRollout: `UPDATE ${ks}.topics SET rollout_active = ? WHERE topic = ?`,
    clearActiveRollout: `UPDATE ${ks}.topics SET rollout_active = null WHERE topic = ? IF rollout_active = ?`,
    withdraw: `UPDATE ${ks}.topics SET withdrawn = withdrawn + ? WHERE topic = ?`,
    unwithdraw: `UPDATE ${ks}.topics SET withdrawn = withdrawn - ? WHERE topic = ?`,
    deleteRollout: `DELETE FROM ${ks}.topics WHERE ${ROLLOUT_KEY}`,
    recordOutcome: `INSERT INTO ${ks}.rollout_outcomes (topic, version, node_key, at_ms, outcome) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?`,
    outcomes: `SELECT at_ms, outcome FROM ${ks}.rollout_outcomes WHERE topic = ? AND version = ?`,
    deleteOutcomes: `DELETE FROM ${ks}.rollout_outcomes WHERE topic = ? AND version = ?`,
  };
}

type Cql = ReturnType<typeof cqlFor>;

/** Counters for tests and metrics. */
export interface CassandraStoreStats {
  /** Version-number CASes that lost to another publisher. */
  casLost: number;
  /** Conditional writes whose outcome was unknown and had to be read back at SERIAL. */
  unknownOutcomes: number;
  /** Times the schema was (re-)created after a request found it missing. */
  schemaRecreated: number;
  /** Feed entries after a change that could not be written (the change's hint stands for them). */
  feedConfirmFailures: number;
}

/** Outcome writes in flight at once per recordOutcomes call. */
const OUTCOME_WRITERS = 16;

export class CassandraMetadataStore implements JanitorStore {
  readonly name = 'cassandra';
  readonly options: CassandraStoreOptions;
  readonly stats: CassandraStoreStats = { casLost: 0, unknownOutcomes: 0, schemaRecreated: 0, feedConfirmFailures: 0 };
  private readonly cql: Cql;
  private readonly log: Logger;
  private readonly cl: types.consistencies;
  private readonly serialCl: types.consistencies;
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private schemaRepair: Promise<void> | undefined;
  private closed = false;
  private lastError = 'not connected yet';
  private available = false;
  /** Requests in a row that got no answer within the request timeout. */
  private timeoutsInARow = 0;
  private readonly availabilityListeners = new Set<(up: boolean) => void>();
  private wakeRetry: (() => void) | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** The last counter value seen per topic: the first guess of the next CAS (the CAS checks it). */
  private readonly latestSeen = new Map<string, bigint>();
  /** The active rollout a publish here last left per topic (with the counter above: the next publish's guess; the CAS checks it). */
  private readonly activeSeen = new Map<string, Rollout>();
  private readonly feed: ResolvedFeedOptions;
  private readonly clock: () => number;
  private readonly feedClock: FeedClock;
  /** The keyspace's feed (imprint_meta), named in cursors: a keyspace created again is another feed. Known once connected. */
  private feedId: string | undefined;

  /** Not connected yet: call `connect()` (once) or `connectInBackground()` (until it works). */
  constructor(options: CassandraStoreOptions) {
    this.options = options;
    this.cql = cqlFor(options.keyspace);
    this.log = options.log ?? silentLogger;
    this.cl = CONSISTENCY[options.consistency];
    this.serialCl = CONSISTENCY[options.serialConsistency];
    this.feed = feedWithDefaults(options.feed);
    this.clock = options.clock ?? Date.now;
    this.feedClock = new FeedClock(this.clock);
  }

  /** A connected store (schema created when missing), or the reason it could not connect. */
  static async open(options: CassandraStoreOptions): Promise<CassandraMetadataStore> {
    const store = new CassandraMetadataStore(options);
    await store.connect();
    return store;
  }

  get where(): string {
    return `Cassandra at ${this.options.contactPoints.join(',')} (keyspace ${this.options.keyspace})`;
  }

  /** True while connected with at least one node of the local data center up. */
  get isAvailable(): boolean {
    return this.available;
  }

  /** Calls `fn` whenever availability changes; returns the unsubscribe function. */
  onAvailabilityChange(fn: (up: boolean) => void): () => void {
    this.availabilityListeners.add(fn);
    return () => this.availabilityListeners.delete(fn);
  }

  /** One attempt: connects the driver and creates the keyspace and tables when missing. */
  async connect(): Promise<void> {
    if (this.client) return;
    if (this.closed) throw new UnavailableError(`${this.where}: the store is closed`);
    this.connecting ??= this.connectOnce().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Keeps trying to connect, with exponential backoff, logging each failure, until it
   * connects (resolves) or the store is closed (resolves too; check `isAvailable`).
   */
  async connectInBackground(): Promise<void> {
    let delay = this.options.reconnectBaseMs;
    for (let attempt = 1; !this.closed && !this.client; attempt++) {
      try {
        await this.connect();
        this.log.info('cassandra connected', { at: this.options.contactPoints.join(','), keyspace: this.options.keyspace, dc: this.options.localDataCenter, attempts: attempt });
        return;
      } catch (err) {
        if (this.closed) return;
        this.lastError = messageOf(err instanceof UnavailableError && err.cause !== undefined ? err.cause : err);
        this.log.warn('cassandra is not reachable; imprint answers UNAVAILABLE until it is', {
          at: this.options.contactPoints.join(','),
          attempt,
          retryInMs: delay,
          error: this.lastError,
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = undefined;
        delay = Math.min(delay * 2, this.options.reconnectMaxMs);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const o = this.options;
    const client = new cassandra.Client({
      contactPoints: [...o.contactPoints],
      localDataCenter: o.localDataCenter,
      // bigint columns as JS bigint, both ways (versions are 64-bit).
      encoding: { useBigIntAsLong: true, useUndefinedAsUnset: true },
      socketOptions: { connectTimeout: o.connectTimeoutMs, readTimeout: o.requestTimeoutMs },
      policies: {
        // The default (1 s doubling to 10 min) would leave a node that came back unused for minutes.
        reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(o.reconnectBaseMs, o.reconnectMaxMs, true),
      },
      queryOptions: { consistency: this.cl, serialConsistency: this.serialCl, prepare: true },
      protocolOptions: { maxSchemaAgreementWaitSeconds: 10 },
      ...(o.auth && { authProvider: new cassandra.auth.PlainTextAuthProvider(o.auth.username, o.auth.password) }),
      ...(o.tls && { sslOptions: { rejectUnauthorized: true, ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, servername: o.tls.serverName } }),
    });
    try {
      await client.connect();
      await this.ensureSchema(client);
    } catch (err) {
      await client.shutdown().catch(() => undefined);
      throw this.unavailable(err, 'connect');
    }
    if (this.closed) {
      await client.shutdown().catch(() => undefined);
      throw new UnavailableError(`${this.where}: the store is closed`);
    }
    this.client = client;
    // Availability follows the driver's view of the local nodes (read a tick later: its host
    // list is updated after the event), and is confirmed by any answer. A node that comes back
    // with a new identity (a wiped node) is removed and added again, without an "up" event.
    const update = (): void => {
      setImmediate(() => {
        if (this.client !== client) return;
        const up = this.localHostUp(client);
        this.setAvailable(up);
        if (!up) this.scheduleProbe(client, this.options.reconnectBaseMs);
      });
    };
    const seen = (what: string, level: 'info' | 'warn') => (host: { address?: string }) => {
      this.log[level](`cassandra node ${what}`, { node: host.address });
      update();
      // A node that came back may have lost its data: check the schema (and availability) now.
      if (what === 'up' || what === 'added') this.scheduleProbe(client, 0);
    };
    client.on('hostDown', seen('down', 'warn'));
    client.on('hostUp', seen('up', 'info'));
    client.on('hostAdd', seen('added', 'info'));
    client.on('hostRemove', seen('removed', 'info'));
    // The driver's own account (reconnection attempts, control connection), for debugging.
    client.on('log', (level: string, where: string, message: string) => {
      if (level === 'warning' || level === 'error') this.log.debug(`cassandra driver ${level}`, { where, message });
    });
    this.answered();
  }

  /**
   * While Cassandra looks away, and after a node (re)appears: re-create the schema when
   * missing; success proves Cassandra answers again (health SERVING without waiting for traffic).
   */
  private scheduleProbe(client: Client, delayMs: number): void {
    if (this.closed || this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      if (this.closed || this.client !== client) return;
      this.repairSchema(client).then(
        () => this.answered(),
        (err: unknown) => {
          this.log.debug('cassandra probe failed', { error: messageOf(err) });
          if (!this.available) this.scheduleProbe(client, this.options.reconnectMaxMs);
        },
      );
    }, delayMs);
    this.probeTimer.unref();
  }

  private localHostUp(client: Client): boolean {
    return client.hosts.values().some((h) => h.datacenter === this.options.localDataCenter && h.isUp());
  }

  private setAvailable(up: boolean): void {
    if (up === this.available) return;
    this.available = up;
    for (const fn of this.availabilityListeners) fn(up);
  }

  /** Cassandra answered: it is available, whatever the driver's events said. */
  private answered(): void {
    this.timeoutsInARow = 0;
    this.setAvailable(true);
  }

  /** A request failed: one that got no answer at all counts towards "hung" (see Faults above). */
  private failed(client: Client, err: unknown): void {
    if (!isNoAnswer(err)) return;
    this.timeoutsInARow++;
    if (this.timeoutsInARow < this.options.timeoutsBeforeUnavailable || !this.available || this.client !== client) return;
    this.log.warn('cassandra does not answer; unavailable until it does', { at: this.options.contactPoints.join(','), timeoutsInARow: this.timeoutsInARow, requestTimeoutMs: this.options.requestTimeoutMs });
    this.setAvailable(false);
    this.scheduleProbe(client, this.options.reconnectBaseMs);
  }

  /** Keyspace, type and tables, each IF NOT EXISTS (idempotent, also with several servers starting). */
  private async ensureSchema(client: Client): Promise<void> {
    const ks = this.options.keyspace;
    const existing = (await client.execute(this.cql.keyspaceReplication, [ks], { prepare: false })).first();
    const replication = existing ? asStringMap(col(existing, 'replication')) : undefined;
    if (replication && !sameReplication(replication, this.options.replication)) {
      this.log.info('cassandra keyspace exists with another replication than configured; left as it is', { keyspace: ks, replication: JSON.stringify(replication) });
    }
    const ddlTimeout = { prepare: false, readTimeout: Math.max(this.options.requestTimeoutMs, 20_000) };
    for (const ddl of this.cql.ddl(this.options.replication)) await client.execute(ddl, [], ddlTimeout);
    const have = new Set((await client.execute(this.cql.topicsColumns, [ks], { prepare: false })).rows.map((r) => str(r, 'column_name')));
    for (const [column, type] of ADDED_COLUMNS) {
      if (have.has(column)) continue;
      this.log.info('cassandra: adding a column to the topics table', { keyspace: ks, column });
      await client.execute(this.cql.addColumn(column, type), [], ddlTimeout).catch((err: unknown) => {
        // Another server added it at the same moment.
        if (!(err instanceof cassandra.errors.ResponseError && /already exist/i.test(err.message))) throw err;
      });
    }
    const rs = await client.execute(this.cql.schemaVersionInsert, [SCHEMA_VERSION], { consistency: this.cl, serialConsistency: this.serialCl });
    const version = rs.wasApplied() ? SCHEMA_VERSION : str(rs.first(), 'value');
    if (version !== SCHEMA_VERSION) throw new CassandraSchemaError(`${this.where}: schema version ${String(version)}, this build reads ${SCHEMA_VERSION}`);
    const feedId = cassandra.types.Uuid.random().toString();
    const feed = await client.execute(this.cql.feedIdInsert, [feedId], { consistency: this.cl, serialConsistency: this.serialCl });
    this.feedId = feed.wasApplied() ? feedId : str(feed.first(), 'value');
    if (this.options.replication.class === 'NetworkTopologyStrategy' && !replication) {
      const rf = Number(this.options.replication[this.options.localDataCenter] ?? 0);
      const nodes = client.hosts.values().filter((h) => h.datacenter === this.options.localDataCenter).length;
      if (Math.floor(rf / 2) + 1 > nodes) {
        this.log.warn('cassandra keyspace created with more replicas than the local data center can hold a quorum of; quorum reads and writes will fail', { rf, nodes, dc: this.options.localDataCenter });
      }
    }
  }

  /** Re-creates missing schema once for all concurrent requests that noticed. */
  private repairSchema(client: Client): Promise<void> {
    this.schemaRepair ??= this.ensureSchema(client).finally(() => {
      this.schemaRepair = undefined;
    });
    return this.schemaRepair;
  }

  private live(what: string): Client {
    if (this.client) return this.client;
    if (this.closed) throw new UnavailableError(`${this.where} is closed (${what})`);
    throw new UnavailableError(`${this.where} is not connected (${what}); retrying in the background; last error: ${this.lastError}`);
  }

  // ---- plumbing ----

  /** Runs one statement; a missing schema is re-created and the statement retried once. */
  private async exec(what: string, query: string, params: Params, opts: { consistency?: types.consistencies; fetchSize?: number; pageState?: string } = {}): Promise<types.ResultSet> {
    const client = this.live(what);
    const options = { prepare: true, consistency: this.cl, ...opts };
    try {
      const rs = await client.execute(query, params, options);
      this.answered();
      return rs;
    } catch (err) {
      this.failed(client, err);
      if (!isSchemaMissing(err)) throw this.unavailable(err, what);
      await this.recreateSchema(client, err, what);
      try {
        return await client.execute(query, params, options);
      } catch (again) {
        this.failed(client, again);
        throw this.unavailable(again, what);
      }
    }
  }

  /**
   * A LOGGED batch of plain writes (pin and unpin with their history entry): applied whole or
   * not at all. A missing schema is re-created and the batch sent again once.
   */
  private async loggedBatch(what: string, statements: readonly Statement[]): Promise<void> {
    const client = this.live(what);
    const options = { prepare: true, consistency: this.cl, logged: true };
    try {
      await client.batch([...statements], options);
      this.setAvailable(true);
    } catch (err) {
      if (!isSchemaMissing(err)) throw this.unavailable(err, what);
      await this.recreateSchema(client, err, what);
      try {
        await client.batch([...statements], options);
      } catch (again) {
        throw this.unavailable(again, what);
      }
    }
  }

  /** The statement that writes a change's history entry (in the batch of the change). */
  private historyStatement(c: ChangeDraft): Statement {
    return { query: this.cql.addChange, params: [c.topic, changeSeq(c.atMs), encodeChange(c)] };
  }

  /** A change-feed entry of `topic` ("Change feed" at the top). */
  private feedStatement(topic: string, kind: FeedKind, version: bigint, hint: boolean): Statement {
    const at = this.feedClock.next();
    return { query: this.cql.addFeedEntry, params: [bucketOf(at), shardOf(topic), at, entryId(), topic, kind, version, hint, Math.ceil(this.feed.retentionMs / 1000)] };
  }

  /** Step 1 of a conditional change: its hint, stored before the change can be. The change fails when it cannot be written. */
  private async announce(what: string, topic: string, kind: FeedKind, version: bigint): Promise<void> {
    const st = this.feedStatement(topic, kind, version, true);
    await this.exec(what, st.query, st.params);
  }

  /**
   * After a change was acknowledged: the entry readers can act on at once. A failure is
   * counted and logged, not thrown: the change is made, and its hint stands for it when it settles.
   */
  private async confirm(what: string, topic: string, kind: FeedKind, version: bigint): Promise<void> {
    const st = this.feedStatement(topic, kind, version, false);
    try {
      await this.exec(what, st.query, st.params);
    } catch (err) {
      this.stats.feedConfirmFailures++;
      this.log.warn('cassandra: no change-feed entry after a change; readers get it when its hint settles', { what, topic, error: messageOf(err) });
    }
  }

  /** Every row, page by page (large records: pages of PAGE rows). */
  private async all(what: string, query: string, params: Params, opts: { consistency?: types.consistencies; fetchSize?: number } = {}): Promise<Row[]> {
    const rows: Row[] = [];
    let pageState: string | undefined;
    do {
      const rs = await this.exec(what, query, params, { fetchSize: PAGE, ...opts, ...(pageState !== undefined && { pageState }) });
      rows.push(...rs.rows);
      pageState = rs.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  private async recreateSchema(client: Client, err: unknown, what: string): Promise<void> {
    this.log.warn('cassandra schema missing; creating it again', { what, error: messageOf(err) });
    this.stats.schemaRecreated++;
    try {
      await this.repairSchema(client);
    } catch (e) {
      throw this.unavailable(e, what);
    }
  }

  /**
   * A conditional write. Returns the result, or 'unknown' when Cassandra may or may not
   * have applied it (the caller reads back at SERIAL). Errors that prove nothing was
   * applied are thrown (mapped).
   */
  private async conditional(what: string, statements: readonly Statement[]): Promise<types.ResultSet | 'unknown'> {
    const client = this.live(what);
    // Not idempotent, and no driver retries at all: every failure comes back here to be settled.
    const options = { prepare: true, consistency: this.cl, serialConsistency: this.serialCl, isIdempotent: false, readTimeout: this.options.lwtTimeoutMs, retry: NO_RETRY };
    for (let schemaRetry = 0; ; schemaRetry++) {
      try {
        const [only] = statements;
        const rs = statements.length === 1 && only ? await client.execute(only.query, only.params, options) : await client.batch([...statements], options);
        this.answered();
        return rs;
      } catch (err) {
        this.failed(client, err);
        if (isSchemaMissing(err) && schemaRetry === 0) {
          await this.recreateSchema(client, err, what);
          continue;
        }
        if (provesNotApplied(err)) throw this.unavailable(err, what);
        this.stats.unknownOutcomes++;
        this.log.warn('cassandra conditional write outcome unknown; reading it back at serial consistency', { what, error: messageOf(err) });
        return 'unknown';
      }
    }
  }

  /** A read at SERIAL consistency (settles any undecided Paxos round first), tried a few times. */
  private async serialRead(what: string, query: string, params: Params): Promise<Row | undefined> {
    let lastErr: unknown;
    for (let i = 0; i < 3; i++) {
      try {
        return (await this.exec(what, query, params, { consistency: this.serialCl })).first() ?? undefined;
      } catch (err) {
        lastErr = err;
        await sleep(50 * (i + 1));
      }
    }
    throw lastErr;
  }

  private unavailable(err: unknown, what: string): Error {
    if (err instanceof ImprintError) return err;
    if (isUnavailable(err)) return new UnavailableError(`${this.where} is unavailable (${what}): ${messageOf(err)}`, { cause: err });
    // The server's own role lacks a permission (CassandraAuthorizer): unusable until an operator grants it.
    if (err instanceof cassandra.errors.ResponseError && err.code === codes.unauthorized) {
      return new UnavailableError(`${this.where} refused the server's role (${what}): ${messageOf(err)}`, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  // ---- topics ----

  async createTopic(t: NewTopic, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    const params: Params = [t.name, t.owner, t.description, t.retention.keepVersions, t.retention.keepDays, BigInt(nowMs), contractMs(t.expectEveryMs), contractMs(t.maxStalenessMs), trustedKeysColumn(t.trustedKeys), encodePolicy(t.rolloutPolicy)];
    const history = this.historyStatement(changeDraft('create-topic', t.name, nowMs, by, { details: topicDetails(t) }));
    // Its first grants ('g' rows of the partition) with their entries, in the same batch.
    const grants = (t.grants ?? []).flatMap((g) => [
      { query: this.cql.newGrant, params: [t.name, grantKey(g), BigInt(nowMs)] },
      this.historyStatement(changeDraft('grant', t.name, nowMs, by, { details: grantDetails(g) })),
    ]);
    await this.announce('createTopic', t.name, 'create-topic', 0n);
    const rs = await this.conditional('createTopic', [{ query: this.cql.createTopic, params }, history, ...grants]);
    if (rs === 'unknown') {
      // Ours if it is there with exactly our fields; someone else's otherwise.
      const row = await this.serialRead('createTopic', this.cql.topic, [t.name]).catch((err: unknown) => {
        throw new UnavailableError(`${this.where}: creating topic "${t.name}" may or may not have happened: ${messageOf(err)}`, { cause: err });
      });
      if (!row) throw new UnavailableError(`${this.where}: topic "${t.name}" was not created (Cassandra did not answer in time); try again`);
      const topic = toTopic(row);
      const mine = topic.owner === t.owner && topic.description === t.description && topic.createdAtMs === nowMs &&
        topic.retention.keepVersions === t.retention.keepVersions && topic.retention.keepDays === t.retention.keepDays &&
        topic.expectEveryMs === t.expectEveryMs && topic.maxStalenessMs === t.maxStalenessMs && trustedKeysColumn(topic.trustedKeys) === trustedKeysColumn(t.trustedKeys) &&
        encodePolicy(topic.rolloutPolicy) === encodePolicy(t.rolloutPolicy);
      if (!mine) throw new AlreadyExistsError(`topic "${t.name}"`);
      await this.confirm('createTopic', t.name, 'create-topic', 0n);
      return topic;
    }
    if (!rs.wasApplied()) throw new AlreadyExistsError(`topic "${t.name}"`);
    await this.confirm('createTopic', t.name, 'create-topic', 0n);
    return this.mustGetTopic(t.name);
  }

  async updateTopic(name: string, patch: TopicPatch, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    const set: Array<[string, unknown]> = [];
    if (patch.owner !== undefined) set.push(['owner', patch.owner]);
    if (patch.description !== undefined) set.push(['description', patch.description]);
    // New retention replaces both limits (null deletes the one not given), as in SQLite.
    if (patch.retention) set.push(['keep_versions', patch.retention.keepVersions ?? null], ['keep_days', patch.retention.keepDays ?? null]);
    // A contract limit of 0 removes it (null).
    if (patch.expectEveryMs !== undefined) set.push(['expect_every_ms', patch.expectEveryMs === 0 ? null : BigInt(patch.expectEveryMs)]);
    if (patch.maxStalenessMs !== undefined) set.push(['max_staleness_ms', patch.maxStalenessMs === 0 ? null : BigInt(patch.maxStalenessMs)]);
    // Trusted keys are replaced whole; none ([]) is null.
    if (patch.trustedKeys !== undefined) set.push(['trusted_keys', trustedKeysColumn(patch.trustedKeys)]);
    // The rollout policy is replaced whole; null removes it.
    if (patch.rolloutPolicy !== undefined) set.push(['rollout_policy', encodePolicy(patch.rolloutPolicy)]);
    const sets = set.map(([c]) => c);
    const params: Params = set.map(([, v]) => v);
    if (sets.length === 0) return this.mustGetTopic(name);
    const history = this.historyStatement(changeDraft('update-topic', name, nowMs, by, { details: topicDetails(patch) }));
    await this.announce('updateTopic', name, 'update-topic', 0n);
    const rs = await this.conditional('updateTopic', [{ query: this.cql.updateTopic(sets), params: [...params, name] }, history]);
    if (rs === 'unknown') throw new UnavailableError(`${this.where}: the update of topic "${name}" may or may not have been applied (Cassandra did not answer in time); it is safe to repeat`);
    if (!rs.wasApplied()) throw new NotFoundError(`topic "${name}"`);
    await this.confirm('updateTopic', name, 'update-topic', 0n);
    return this.mustGetTopic(name);
  }

  /** One conditional batch (the mark and its history entry), so a publish's CAS either comes before it or is refused after it. */
  async deleteTopic(name: string, reason: string, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    const history = this.historyStatement(changeDraft('delete-topic', name, nowMs, by, { reason }));
    await this.announce('deleteTopic', name, 'delete-topic', 0n);
    const rs = await this.conditional('deleteTopic', [{ query: this.cql.deleteTopic, params: [BigInt(nowMs), name] }, history]);
    if (rs === 'unknown') throw new UnavailableError(`${this.where}: the deletion of topic "${name}" may or may not have been applied (Cassandra did not answer in time); it is safe to repeat`);
    // Not applied: no such topic, or deleted already (returned as it is).
    if (rs.wasApplied()) await this.confirm('deleteTopic', name, 'delete-topic', 0n);
    return this.mustGetTopic(name);
  }

  async getTopic(name: string): Promise<Topic | undefined> {
    const row = await this.topicRow(name);
    return row && toTopic(row);
  }

  /** The topic's statics (the topic, its counter, its active rollout and withdrawn versions), or undefined. */
  private async topicRow(name: string): Promise<Row | undefined> {
    const row = (await this.exec('getTopic', this.cql.topic, [name])).first();
    return row && isTopicRow(row) ? row : undefined;
  }

  async listTopics(): Promise<Topic[]> {
    const rows = await this.all('listTopics', this.cql.allTopics, []);
    return rows
      .filter(isTopicRow)
      .map(toTopic)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async mustGetTopic(name: string): Promise<Topic> {
    const t = await this.getTopic(name);
    if (!t) throw new NotFoundError(`topic "${name}"`);
    return t;
  }

  // ---- versions ----

  async publish(v: NewVersion, nowMs: number, by: Actor = NOBODY): Promise<Published> {
    const done = await this.publishAttempts(v, nowMs, by);
    if (done.replayed) return done.published;
    await this.confirm('publish', v.topic, 'publish', done.published.record.version);
    // The rollout changes rode on the publish's hint; each gets its own entry now.
    if (done.superseded !== undefined) await this.confirm('publish', v.topic, 'rollout', done.superseded);
    if (done.published.rollout) await this.confirm('publish', v.topic, 'rollout', done.published.record.version);
    return done.published;
  }

  /** The CAS loop of a publish (described at the top); each attempt announced in the feed first. */
  private async publishAttempts(v: NewVersion, nowMs: number, by: Actor): Promise<{ published: Published; replayed: boolean; superseded?: Version }> {
    const pointer: DataPointer = v.pointer.kind === 'direct' ? { ...v.pointer, bytes: asBuffer(v.pointer.bytes) } : v.pointer;
    // With a rollout the record has no scopes until the rollout completes (core/rollout.ts).
    const scopes = v.rollout ? [] : uniqueScopes(v.scopes);
    const claim = cassandra.types.Uuid.random();
    const id = v.publishId ? { publishId: v.publishId, fingerprint: publishFingerprint(v) } : undefined;
    const missing = () => new FailedPreconditionError(`cannot publish to topic "${v.topic}": it does not exist (create it first)`);
    const deleted = (atMs: bigint) => new TopicDeletedError(v.topic, Number(atMs), `publish to topic "${v.topic}"`);
    let expected = this.latestSeen.get(v.topic);
    // The topic's running or paused rollout, which this publish supersedes. With a cached
    // counter, the one this instance last left (a guess: a lost CAS says which there is).
    let active: Rollout | undefined = this.activeSeen.get(v.topic);
    if (expected === undefined) {
      const row = await this.topicRow(v.topic);
      if (!row) throw missing();
      const t = toTopic(row);
      if (t.deletedAtMs !== undefined) throw deleted(BigInt(t.deletedAtMs));
      expected = t.latestVersion;
      active = await this.activeRolloutOf(v.topic, big(row, 'rollout_active'));
    }
    // Attempts whose outcome was unknown and read back as "not written": checked again when a later one loses.
    const undecided = new Map<bigint, PublishAttempt>();
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const version: bigint = expected + 1n;
      const record: VersionRecord = { topic: v.topic, version, publishedAtMs: nowMs, metadata: v.metadata, pointer, scopes: v.rollout ? [] : v.scopes, digest: '', ...(v.signature && { signature: v.signature }) };
      const digested: VersionRecord = { ...record, digest: recordDigest(record) };
      const history = changeDraft('publish', v.topic, nowMs, by, { version, scopes: v.scopes, publishId: v.publishId ?? '' });
      const rollouts = this.publishRollouts(v, version, active, nowMs, by);
      const mine: PublishAttempt = { record: digested, ...(rollouts.started && { rollout: rollouts.started }), ...(active && { superseded: active.version }) };
      await this.announce('publish', v.topic, 'publish', version).catch((err: unknown) => {
        if (undecided.size === 0) throw err;
        throw new UnavailableError(`${this.where}: publishing to topic "${v.topic}" stopped (${messageOf(err)}); an attempt whose outcome is unknown may still be written`, { cause: err });
      });
      const stmts = [...this.publishStatements(digested, scopes, claim, { counter: expected, active: active?.version }, rollouts.started ? version : undefined, nowMs, history, id), ...rollouts.statements];
      const rs = await this.conditional('publish', stmts);
      if (rs !== 'unknown' && rs.wasApplied()) {
        this.latestSeen.set(v.topic, version);
        this.seeActive(v.topic, mine.rollout);
        return attemptDone(mine);
      }
      if (rs === 'unknown') {
        const owner = await this.claimOf(v.topic, version).catch((err: unknown) => {
          throw new UnavailableError(
            `${this.where}: the outcome of publishing version ${version} of topic "${v.topic}" is unknown (it may have been written): ${messageOf(err)}`,
            { cause: err },
          );
        });
        if (owner?.equals(claim)) {
          this.latestSeen.set(v.topic, version);
          this.seeActive(v.topic, mine.rollout);
          return attemptDone(mine);
        }
        if (owner) {
          // Someone else's: go on after it, with the rollout it left.
          expected = version;
          active = await this.activeRolloutOf(v.topic, big(await this.topicRow(v.topic), 'rollout_active'));
        } else undecided.set(version, mine); // not written; may still land if a coordinator is still at it
      } else if (casDeletedAt(rs) !== undefined) {
        throw deleted(casDeletedAt(rs) ?? 0n); // the topic was deleted: nothing was written
      } else if (id && idRow(rs)) {
        // The publish id is taken: by an attempt of ours that landed late, or by an earlier publish.
        const made = await this.madeBy(v, idRow(rs) as Row, claim, undecided);
        if (made) return made;
        // Its version was purged between our batch and our read (the id with it): try again.
      } else {
        const current = casCurrent(rs);
        if (current === undefined) throw missing(); // no partition: no topic; nothing was written
        if (current !== expected) this.stats.casLost++;
        expected = current;
        this.latestSeen.set(v.topic, current);
        // The rollout this publish supersedes, as it is now (another publish or a rollout change moved it).
        const activeNow = casActive(rs);
        active = await this.activeRolloutOf(v.topic, activeNow === undefined ? big(await this.topicRow(v.topic), 'rollout_active') : activeNow);
        for (const [u, att] of undecided) {
          if (u > current) continue;
          const owner = await this.claimOf(v.topic, u).catch((err: unknown) => {
            // Going on without knowing could publish this twice: give up instead.
            throw new UnavailableError(`${this.where}: the outcome of publishing version ${u} of topic "${v.topic}" is unknown (it may have been written): ${messageOf(err)}`, { cause: err });
          });
          if (owner?.equals(claim)) {
            this.latestSeen.set(v.topic, current);
            this.activeSeen.delete(v.topic);
            return attemptDone(att);
          }
          if (owner) undecided.delete(u);
        }
      }
      if (Date.now() - started > this.options.publishBudgetMs) {
        const outcome = undecided.size === 0 ? 'nothing was published, try again' : 'an attempt whose outcome is unknown may still be written';
        throw new UnavailableError(`${this.where}: no version number for topic "${v.topic}" after ${attempt} attempts in ${Date.now() - started} ms (contention or timeouts); ${outcome}`);
      }
      // Jitter, so contending publishers do not meet again at once.
      await sleep(Math.random() * Math.min(2 * attempt, 50));
    }
  }

  private seeActive(topic: string, rollout: Rollout | undefined): void {
    if (rollout && isActive(rollout.state)) this.activeSeen.set(topic, rollout);
    else this.activeSeen.delete(topic);
  }

  /**
   * The rollout rows of a publish's batch: the running or paused rollout it supersedes (a CAS
   * on its revision) and the one it starts (revision 1), each with its 'rollout' history entry.
   */
  private publishRollouts(v: NewVersion, version: bigint, active: Rollout | undefined, nowMs: number, by: Actor): { statements: Statement[]; started?: Rollout } {
    const statements: Statement[] = [];
    if (active) {
      const { next, action, reason } = supersedeMove(active, nowMs, version);
      statements.push(...this.rolloutStatements(next, active.revision, action, reason, nowMs, by).statements);
    }
    if (!v.rollout) return { statements };
    // Inserted as its first revision.
    const started: Rollout = { ...startRollout(v.topic, version, v.rollout, nowMs), revision: 1 };
    statements.push(
      { query: this.cql.insertRollout, params: [v.topic, version, encodeRollout(started), started.revision] },
      this.historyStatement(changeDraft('rollout', v.topic, nowMs, by, { version, reason: '', details: rolloutDetails('start', started) })),
    );
    return { statements, started };
  }

  /**
   * A rollout change on its 'o' row (a CAS on the revision it was computed from, the topic not
   * deleted) and its history entry, whose row (`seq`) exists exactly when the change does.
   */
  private rolloutStatements(next: Rollout, from: number, action: string, reason: string, nowMs: number, by: Actor): { statements: Statement[]; seq: bigint } {
    const written: Rollout = { ...next, revision: from + 1 };
    const history = this.historyStatement(changeDraft('rollout', written.topic, nowMs, by, { version: written.version, reason, details: rolloutDetails(action, written) }));
    return { statements: [{ query: this.cql.changeRollout, params: [encodeRollout(written), written.revision, written.topic, written.version, from] }, history], seq: history.params[1] as bigint };
  }

  /**
   * The version a publish id made (its 'i' row, as a failed batch returned it): ours when it
   * carries our claim, else a replay of an earlier publish, refused when the content differs.
   * Undefined when the version is gone (purged since).
   */
  private async madeBy(v: NewVersion, row: Row, claim: Uuid, undecided: ReadonlyMap<bigint, PublishAttempt>): Promise<{ published: Published; replayed: boolean; superseded?: Version } | undefined> {
    const version = big(row, 'id_version') ?? 0n;
    const owner: unknown = row.get('claim');
    const ours = owner instanceof cassandra.types.Uuid && owner.equals(claim);
    const mine = ours ? undecided.get(version) : undefined;
    if (mine) {
      this.latestSeen.delete(v.topic);
      this.activeSeen.delete(v.topic);
      return attemptDone(mine);
    }
    const record = await this.getVersion(v.topic, version);
    if (!record) return undefined;
    const rollout = await this.getRollout(v.topic, version);
    if (ours) {
      this.latestSeen.delete(v.topic);
      this.activeSeen.delete(v.topic);
      return { published: { record, replayed: false, ...(rollout && { rollout }) }, replayed: false };
    }
    if (str(row, 'fingerprint') !== publishFingerprint(v)) throw new PublishIdConflictError(v.topic, v.publishId ?? '', version, publishDifference(v, record));
    return { published: { record, replayed: true, ...(rollout && { rollout }) }, replayed: true };
  }

  private publishStatements(
    r: VersionRecord,
    scopes: readonly Scope[],
    claim: Uuid,
    expected: { counter: bigint; active: bigint | undefined },
    activeAfter: bigint | undefined,
    nowMs: number,
    history: ChangeDraft,
    id: { publishId: string; fingerprint: string } | undefined,
  ): Statement[] {
    const at = BigInt(nowMs);
    const keys = scopes.map(scopeKey);
    const stmts: Statement[] = [
      { query: this.cql.cas, params: [r.version, activeAfter ?? null, r.topic, expected.counter, expected.active ?? null] },
      this.recordStatement(r, claim, scopes.map((scope) => ({ scope, addedAtMs: nowMs })), id?.publishId),
    ];
    scopes.forEach((s, i) => {
      const json = JSON.stringify(s);
      stmts.push({ query: this.cql.insertScope, params: [r.topic, keys[i], r.version, json, at] });
      // The batch commits only as the newest version, so this head can never go back.
      stmts.push({ query: this.cql.setHead, params: [r.topic, keys[i], r.version, json, at] });
    });
    stmts.push(this.historyStatement(history));
    if (id) stmts.push({ query: this.cql.newPublishId, params: [r.topic, id.publishId, r.version, claim, id.fingerprint] });
    return stmts;
  }

  /** The 'r' row of a record: its digest, the claim of the call that writes it, its scopes and since when. */
  private recordStatement(r: VersionRecord, claim: Uuid, scopes: readonly { scope: Scope; addedAtMs: number }[], publishId: string | undefined): Statement {
    const p = r.pointer;
    return {
      query: this.cql.insertRecord,
      params: [
        r.topic,
        r.version,
        BigInt(r.publishedAtMs),
        { ...r.metadata },
        p.kind,
        BigInt(p.size),
        p.sha256,
        p.kind === 'direct' ? asBuffer(p.bytes) : undefined,
        p.kind === 'blob' ? p.locations.map((l) => ({ kind: l.kind, region: l.region, bucket: l.bucket, object_key: l.key })) : undefined,
        r.digest,
        claim,
        Object.fromEntries(scopes.map((s) => [scopeKey(s.scope), JSON.stringify(s.scope)])),
        Object.fromEntries(scopes.map((s) => [scopeKey(s.scope), BigInt(s.addedAtMs)])),
        publishId,
        r.signature?.keyId ?? null,
        r.signature?.signature ?? null,
      ],
    };
  }

  async restoreTopic(plan: RestorePlan, origin: SnapshotOrigin, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    const t = plan.topic;
    const details = { restored: restoredFrom(origin) };
    const claim = cassandra.types.Uuid.random();
    // 1. The topic's partition in one conditional batch: the topic (IF NOT EXISTS) with its
    //    counter at the plan's latest version, the records, their scopes, the heads, the history.
    const stmts: Statement[] = [
      { query: this.cql.restoreTopic, params: [t.name, t.owner, t.description, t.retention.keepVersions, t.retention.keepDays, BigInt(t.createdAtMs), contractMs(t.expectEveryMs), contractMs(t.maxStalenessMs), trustedKeysColumn(t.trustedKeys), encodePolicy(t.rolloutPolicy), t.latestVersion] },
      this.historyStatement(changeDraft('create-topic', t.name, nowMs, by, { details: { ...topicDetails(t), ...details } })),
    ];
    for (const r of plan.records) {
      const scopes = plan.scopes.filter((s) => s.version === r.version);
      stmts.push(this.recordStatement(r, claim, scopes, undefined));
      for (const s of scopes) stmts.push({ query: this.cql.insertScope, params: [t.name, scopeKey(s.scope), r.version, JSON.stringify(s.scope), BigInt(s.addedAtMs)] });
      stmts.push(this.historyStatement(changeDraft('publish', t.name, nowMs, by, { version: r.version, scopes: r.scopes, details })));
    }
    for (const h of plan.heads) stmts.push({ query: this.cql.setHead, params: [t.name, scopeKey(h.scope), h.version, JSON.stringify(h.scope), BigInt(h.sinceMs)] });
    await this.announce('restoreTopic', t.name, 'create-topic', 0n);
    const rs = await this.conditional('restoreTopic', stmts);
    if (rs === 'unknown') {
      // Ours if the topic is there with our claim on its newest record (or, with no records, our fields).
      const row = await this.serialRead('restoreTopic', this.cql.topic, [t.name]).catch((err: unknown) => {
        throw new UnavailableError(`${this.where}: restoring topic "${t.name}" may or may not have happened: ${messageOf(err)}`, { cause: err });
      });
      if (!row) throw new UnavailableError(`${this.where}: topic "${t.name}" was not restored (Cassandra did not answer in time); try again`);
      const newest = plan.records[plan.records.length - 1];
      const mine = newest ? (await this.claimOf(t.name, newest.version))?.equals(claim) === true : toTopic(row).createdAtMs === t.createdAtMs && toTopic(row).latestVersion === t.latestVersion;
      if (!mine) throw new AlreadyExistsError(`topic "${t.name}"`);
    } else if (!rs.wasApplied()) throw new AlreadyExistsError(`topic "${t.name}"`);
    this.latestSeen.set(t.name, t.latestVersion);
    // 2. Its pins with their history entries: a table of their own, so one logged batch after.
    if (plan.pins.length > 0) {
      const pinStmts: Statement[] = plan.pins.flatMap((p) => [
        { query: this.cql.pin, params: [t.name, scopeKey(p.scope), JSON.stringify(p.scope), p.version, BigInt(p.createdAtMs), p.reason, p.createdBy] },
        this.historyStatement(changeDraft('pin', t.name, nowMs, by, { version: p.version, scopes: [p.scope], reason: p.reason, details })),
      ]);
      await this.loggedBatch('restoreTopic', [...pinStmts, this.feedStatement(t.name, 'pin', 0n, true)]).catch((err: unknown) => {
        const pins = plan.pins.map((p) => `${scopeKey(p.scope) || '*'} -> v${p.version}`).join(', ');
        throw new UnavailableError(`${this.where}: topic "${t.name}" was restored but its pins were not (${pins}); set them with imprint pin: ${messageOf(err)}`, { cause: err });
      });
    }
    await this.confirm('restoreTopic', t.name, 'create-topic', 0n);
    return this.mustGetTopic(t.name);
  }

  /** Whose publish holds `version`, read at SERIAL (final); undefined when nobody's. */
  private async claimOf(topic: string, version: bigint): Promise<Uuid | undefined> {
    const row = await this.serialRead('publish', this.cql.claim, [topic, version]);
    const c: unknown = row?.get('claim');
    return c instanceof cassandra.types.Uuid ? c : undefined;
  }

  async addScopes(topic: string, version: Version, scopes: readonly Scope[], nowMs: number, by: Actor = NOBODY): Promise<VersionRecord> {
    const notFound = () => new NotFoundError(`version ${version} of topic "${topic}"`);
    if (version < 1n || version > MAX_VERSION) throw notFound();
    const wanted = uniqueScopes(scopes);
    const at = BigInt(nowMs);
    for (let attempt = 1; ; attempt++) {
      const row = (await this.exec('addScopes', this.cql.record, [topic, version])).first();
      if (!row) throw notFound();
      const have = asStringMap(row.get('scopes'));
      const fresh = wanted.filter((s) => have[scopeKey(s)] === undefined);
      if (fresh.length === 0) return toRecord(row);
      const keys = fresh.map(scopeKey);
      const heads = new Map<string, bigint>();
      for (const h of await this.all('addScopes', this.cql.headsOf, [topic, keys])) {
        const k = str(h, 'scope_key');
        const hv = big(h, 'head_version');
        if (k !== undefined && hv !== undefined) heads.set(k, hv);
      }
      // Attach (only if still unattached), index, and move each head forward if this version is newer.
      const stmts: Statement[] = [
        {
          query: this.cql.attachScopes(keys.length),
          params: [
            Object.fromEntries(fresh.map((s, i) => [keys[i], JSON.stringify(s)])),
            Object.fromEntries(keys.map((k) => [k, at])),
            topic,
            version,
            ...keys,
          ],
        },
      ];
      fresh.forEach((s, i) => {
        const k = keys[i] as string;
        const json = JSON.stringify(s);
        stmts.push({ query: this.cql.insertScope, params: [topic, k, version, json, at] });
        const head = heads.get(k);
        if (head === undefined) stmts.push({ query: this.cql.newHead, params: [topic, k, version, json, at] });
        else if (head < version) stmts.push({ query: this.cql.moveHead, params: [version, json, at, topic, k, head] });
      });
      stmts.push(this.historyStatement(changeDraft('add-scopes', topic, nowMs, by, { version, scopes: fresh })));
      await this.announce('addScopes', topic, 'add-scopes', version);
      const rs = await this.conditional('addScopes', stmts);
      if (rs === 'unknown' || !rs.wasApplied()) {
        // Unknown, or something changed under us (a publish moved a head, another call attached a scope): look again.
        if (attempt >= 10) throw new UnavailableError(`${this.where}: adding scopes to version ${version} of topic "${topic}" kept conflicting; try again`);
        if (rs === 'unknown') {
          const back = await this.serialRead('addScopes', this.cql.record, [topic, version]).catch(() => undefined);
          if (back && wanted.every((s) => asStringMap(back.get('scopes'))[scopeKey(s)] !== undefined)) {
            await this.confirm('addScopes', topic, 'add-scopes', version);
            return toRecord(back);
          }
        }
        await sleep(Math.random() * 5 * attempt);
        continue;
      }
      await this.confirm('addScopes', topic, 'add-scopes', version);
      const after = await this.getVersion(topic, version);
      if (!after) throw notFound();
      return after;
    }
  }

  async getVersion(topic: string, version: Version): Promise<VersionRecord | undefined> {
    if (version < 1n || version > MAX_VERSION) return undefined;
    const row = (await this.exec('getVersion', this.cql.record, [topic, version])).first();
    return row ? toRecord(row) : undefined;
  }

  async listVersions(topic: string, opts: { below?: Version; limit: number }): Promise<VersionRecord[]> {
    const below = opts.below === undefined || opts.below > MAX_VERSION ? MAX_VERSION : opts.below;
    if (opts.limit <= 0 || below <= 1n) return [];
    const rows = await this.all('listVersions', this.cql.records, [topic, below, opts.limit]);
    return rows.map(toRecord);
  }

  async countVersions(topic: string): Promise<number> {
    const row = (await this.exec('countVersions', this.cql.countRecords, [topic])).first();
    return Number(big(row, 'n') ?? 0n);
  }

  async scopeHeads(topic: string, atMs?: number): Promise<ScopeHead[]> {
    if (atMs === undefined) return this.currentHeads(topic);
    const rows = await this.all('scopeHeads', this.cql.headsAt, [topic, BigInt(Math.trunc(atMs))]);
    return rows.flatMap((r) => toHead(r, 'version'));
  }

  private async currentHeads(topic: string): Promise<ScopeHead[]> {
    return (await this.all('pollState', this.cql.heads, [topic])).flatMap((r) => toHead(r, 'head_version'));
  }

  async pollState(topic: string): Promise<PollState | undefined> {
    // Four reads of two partitions at once; unlike SQLite not one snapshot, but each answer is
    // complete in itself (heads and records are written in one batch). The topic's statics
    // name its active rollout and carry its withdrawn versions: a topic with a rollout running
    // costs one more read (its 'o' row), one without none.
    const [row, heads, pins, grants] = await Promise.all([this.topicRow(topic), this.currentHeads(topic), this.listPins(topic), this.listGrants(topic)]);
    if (!row) return undefined;
    const t = toTopic(row);
    if (t.deletedAtMs !== undefined) return undefined;
    const rollout = await this.activeRolloutOf(topic, big(row, 'rollout_active'));
    return { topic: t, heads, pins, grants, withdrawn: withdrawnOf(row), ...(rollout && { rollout }) };
  }

  // ---- rollouts ("Rollouts" at the top) ----

  async getRollout(topic: string, version: Version): Promise<Rollout | undefined> {
    if (version < 1n || version > MAX_VERSION) return undefined;
    const row = (await this.exec('getRollout', this.cql.rollout, [topic, version])).first();
    return row ? toRollout(topic, row) : undefined;
  }

  /** The rollout the topic's statics name active, when it still is (read after them, it may have ended). */
  private async activeRolloutOf(topic: string, version: bigint | null | undefined): Promise<Rollout | undefined> {
    if (version === null || version === undefined) return undefined;
    const r = await this.getRollout(topic, version);
    return r && isActive(r.state) ? r : undefined;
  }

  async listRollouts(topic: string, opts: { below?: Version; limit: number }): Promise<Rollout[]> {
    const below = opts.below === undefined || opts.below > MAX_VERSION ? MAX_VERSION : opts.below;
    if (opts.limit <= 0 || below <= 1n) return [];
    return (await this.all('listRollouts', this.cql.rollouts, [topic, below, opts.limit])).flatMap((r) => toRollout(topic, r) ?? []);
  }

  /** A scan of every topic's statics (like listTopics), then the 'o' row of each one that names an active rollout. */
  async activeRollouts(): Promise<Rollout[]> {
    const named = (await this.all('activeRollouts', this.cql.activeRollouts, [])).flatMap((r) => {
      const topic = str(r, 'topic');
      const version = big(r, 'rollout_active');
      return topic !== undefined && version !== undefined && big(r, 'deleted_at_ms') === undefined ? [{ topic, version }] : [];
    });
    const found = await Promise.all(named.map((n) => this.activeRolloutOf(n.topic, n.version)));
    return found.filter((r): r is Rollout => r !== undefined).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  /**
   * One conditional batch on the topic's partition: the 'o' row IF its revision is the expected
   * one and the topic is not deleted, its history entry; an ending rollout clears the topic's
   * active rollout, a cancelled one adds its version to the withdrawn ones; a completed one
   * attaches the empty scope to the version (the record's scopes, its 's' row, the head moved
   * forward IF it is still where it was read), as addScopes does.
   */
  async changeRollout(change: RolloutChange, nowMs: number, by: Actor = NOBODY): Promise<Rollout | undefined> {
    const { next, expectedRevision } = change;
    const { topic, version } = next;
    const written: Rollout = { ...next, revision: expectedRevision + 1 };
    const notFound = () => new NotFoundError(`rollout of version ${version} of topic "${topic}"`);
    const deleted = (atMs: bigint) => new TopicDeletedError(topic, Number(atMs), `change the rollout of topic "${topic}"`);
    if (version < 1n || version > MAX_VERSION) throw notFound();
    // The history rows (seqs) of attempts whose outcome was unknown and read back as not
    // applied: a coordinator may still apply one later (it retries its Paxos round), until the
    // revision moves on. So when it has, whether one of ours moved it is asked again.
    const undecided: bigint[] = [];
    const landed = async (): Promise<boolean> => {
      for (const seq of undecided) if (await this.settled(topic, version, seq)) return true;
      return false;
    };
    const done = async (): Promise<Rollout> => {
      if (this.activeSeen.get(topic)?.version === version) this.seeActive(topic, written);
      await this.confirm('changeRollout', topic, 'rollout', version);
      return written;
    };
    for (let attempt = 1; ; attempt++) {
      // 1. The stored rollout with the topic's statics: nothing is sent unless the revision is still the expected one.
      const row = (await this.exec('changeRollout', this.cql.rolloutWithTopic, [topic, version])).first();
      const deletedAt = row ? big(row, 'deleted_at_ms') : undefined;
      if (!row || deletedAt !== undefined || int(row, 'rollout_revision') !== expectedRevision) {
        if (await landed()) return done();
        if (deletedAt !== undefined) throw deleted(deletedAt);
        if (row) return undefined;
        const t = await this.getTopic(topic);
        if (t?.deletedAtMs !== undefined) throw deleted(BigInt(t.deletedAtMs));
        throw notFound();
      }
      // 2. The batch.
      const { statements: stmts, seq } = this.rolloutStatements(next, expectedRevision, change.action, change.reason, nowMs, by);
      if (!isActive(next.state) && big(row, 'rollout_active') === version) stmts.push({ query: this.cql.clearActiveRollout, params: [topic, version] });
      if (next.state === 'cancelled') stmts.push({ query: this.cql.withdraw, params: [[version], topic] });
      if (next.state === 'completed') {
        const attach = await this.attachEveryone(topic, version, nowMs);
        if (!attach) throw notFound();
        stmts.push(...attach);
      }
      await this.announce('changeRollout', topic, 'rollout', version);
      const rs = await this.conditional('changeRollout', stmts);
      if (rs !== 'unknown' && rs.wasApplied()) return done();
      if (rs === 'unknown') {
        if (await this.settled(topic, version, seq)) return done();
        undecided.push(seq);
      }
      // Not applied: the revision moved, the topic was deleted, or the empty scope's head moved
      // under us (step 1 tells which); or an unknown outcome that did not apply (yet): again.
      if (attempt >= 10) {
        const outcome = undecided.length > 0 ? 'an attempt whose outcome is unknown may still be applied' : 'nothing was changed, try again';
        throw new UnavailableError(`${this.where}: changing the rollout of version ${version} of topic "${topic}" kept conflicting; ${outcome}`);
      }
      await sleep(Math.random() * 5 * attempt);
    }
  }

  /** Whether the rollout change whose history row is `seq` applied, read at SERIAL (the row exists exactly when its batch applied). */
  private async settled(topic: string, version: bigint, seq: bigint): Promise<boolean> {
    const row = await this.serialRead('changeRollout', this.cql.changeAt, [topic, seq]).catch((err: unknown) => {
      throw new UnavailableError(`${this.where}: the rollout change of version ${version} of topic "${topic}" may or may not have been applied: ${messageOf(err)}`, { cause: err });
    });
    return row !== undefined;
  }

  /**
   * The statements that make `version` the latest for everyone (the empty scope attached, its
   * head moved forward), guarded like addScopes; none when it has the empty scope already.
   * Undefined when the version is gone.
   */
  private async attachEveryone(topic: string, version: bigint, nowMs: number): Promise<Statement[] | undefined> {
    const record = (await this.exec('changeRollout', this.cql.record, [topic, version])).first();
    if (!record) return undefined;
    if (asStringMap(record.get('scopes'))[''] !== undefined) return [];
    const at = BigInt(nowMs);
    const json = JSON.stringify({});
    const head = big((await this.exec('changeRollout', this.cql.headOf, [topic, ''])).first(), 'head_version');
    const stmts: Statement[] = [
      { query: this.cql.attachScopes(1), params: [{ '': json }, { '': at }, topic, version, ''] },
      { query: this.cql.insertScope, params: [topic, '', version, json, at] },
    ];
    if (head === undefined) stmts.push({ query: this.cql.newHead, params: [topic, '', version, json, at] });
    else if (head < version) stmts.push({ query: this.cql.moveHead, params: [version, json, at, topic, '', head] });
    return stmts;
  }

  /**
   * Outcomes have a table of their own (many small upserts from serving instances, none in a
   * topic's Paxos rounds): each written with its time as the write timestamp, so the latest
   * word of a node wins whatever order the writes arrive in (two of the same millisecond: the
   * greater text, Cassandra's tie rule).
   */
  async recordOutcomes(outcomes: readonly ConsumerOutcome[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let o = outcomes[next++]; o; o = outcomes[next++]) {
        await this.exec('recordOutcomes', this.cql.recordOutcome, [o.topic, o.version, nodeKey(o.identity), BigInt(o.atMs), encodeOutcome(o), BigInt(o.atMs) * 1000n]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(OUTCOME_WRITERS, outcomes.length) }, worker));
  }

  async listOutcomes(topic: string, version: Version): Promise<ConsumerOutcome[]> {
    const rows = await this.all('listOutcomes', this.cql.outcomes, [topic, version], { fetchSize: 1000 });
    return rows.flatMap((r) => {
      const text = str(r, 'outcome');
      return text === undefined ? [] : [decodeOutcome(topic, version, Number(big(r, 'at_ms') ?? 0n), text)];
    });
  }

  // ---- pins ----

  async pin(pin: Pin, by: Actor = NOBODY): Promise<Pin> {
    const exists = pin.version >= 1n && pin.version <= MAX_VERSION && (await this.exec('pin', this.cql.recordExists, [pin.topic, pin.version])).rowLength > 0;
    if (!exists) throw new NotFoundError(`version ${pin.version} of topic "${pin.topic}"`);
    const params = [pin.topic, scopeKey(pin.scope), JSON.stringify(pin.scope), pin.version, BigInt(pin.createdAtMs), pin.reason, pin.createdBy];
    const history = changeDraft('pin', pin.topic, pin.createdAtMs, by, { version: pin.version, scopes: [pin.scope], reason: pin.reason });
    await this.loggedBatch('pin', [{ query: this.cql.pin, params }, this.historyStatement(history), this.feedStatement(pin.topic, 'pin', pin.version, true)]);
    await this.confirm('pin', pin.topic, 'pin', pin.version);
    return pin;
  }

  async unpin(topic: string, scope: Scope, nowMs: number, by: Actor = NOBODY): Promise<Pin | undefined> {
    const key = scopeKey(scope);
    const row = (await this.exec('unpin', this.cql.pinOf, [topic, key])).first();
    if (!row) return undefined;
    const removed = toPin(row);
    const history = changeDraft('unpin', topic, nowMs, by, { version: removed.version, scopes: [removed.scope] });
    await this.loggedBatch('unpin', [{ query: this.cql.unpin, params: [topic, key] }, this.historyStatement(history), this.feedStatement(topic, 'unpin', removed.version, true)]);
    await this.confirm('unpin', topic, 'unpin', removed.version);
    return removed;
  }

  async listPins(topic: string): Promise<Pin[]> {
    return (await this.all('listPins', this.cql.pins, [topic])).map(toPin).sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  // ---- grants ----

  async listGrants(topic: string): Promise<Grant[]> {
    return sortGrants((await this.all('listGrants', this.cql.grants, [topic])).flatMap((r) => fromGrantKey(str(r, 'scope_key'))));
  }

  /** One conditional batch on the topic's partition: the 'g' row (if the topic is there and not deleted) and its history entry. */
  async grant(topic: string, grant: Grant, nowMs: number, by: Actor = NOBODY): Promise<boolean> {
    const key = grantKey(grant);
    if ((await this.exec('grant', this.cql.grantOf, [topic, key])).rowLength > 0) return false;
    const history = this.historyStatement(changeDraft('grant', topic, nowMs, by, { details: grantDetails(grant) }));
    await this.announce('grant', topic, 'grant', 0n);
    const rs = await this.conditional('grant', [{ query: this.cql.grant, params: [BigInt(nowMs), topic, key] }, history]);
    if (rs === 'unknown') throw new UnavailableError(`${this.where}: the grant on topic "${topic}" may or may not have been applied (Cassandra did not answer in time); it is safe to repeat`);
    if (!rs.wasApplied()) {
      const t = await this.mustGetTopic(topic);
      throw new TopicDeletedError(topic, t.deletedAtMs ?? nowMs, `grant on topic "${topic}"`);
    }
    await this.confirm('grant', topic, 'grant', 0n);
    return true;
  }

  async revoke(topic: string, grant: Grant, nowMs: number, by: Actor = NOBODY): Promise<boolean> {
    const history = this.historyStatement(changeDraft('revoke', topic, nowMs, by, { details: grantDetails(grant) }));
    await this.announce('revoke', topic, 'revoke', 0n);
    const rs = await this.conditional('revoke', [{ query: this.cql.revoke, params: [topic, grantKey(grant)] }, history]);
    if (rs === 'unknown') throw new UnavailableError(`${this.where}: the revocation on topic "${topic}" may or may not have been applied (Cassandra did not answer in time); it is safe to repeat`);
    if (!rs.wasApplied()) return false;
    await this.confirm('revoke', topic, 'revoke', 0n);
    return true;
  }

  // ---- history ----

  async listHistory(topic: string, opts: { below?: bigint; limit: number }): Promise<Change[]> {
    const below = opts.below === undefined || opts.below > MAX_VERSION ? MAX_VERSION : opts.below;
    if (opts.limit <= 0 || below <= 0n) return [];
    const rows = await this.all('listHistory', this.cql.changes, [topic, below, opts.limit]);
    return rows.flatMap((r) => decodeChange(topic, big(r, 'version') ?? 0n, str(r, 'change')) ?? []);
  }

  // ---- change feed ("Change feed" at the top; the walk over buckets is cassandra-feed.ts) ----

  async feedHead(): Promise<FeedCursor> {
    return encodeCursor(await headAt(this.feedScan, this.currentFeedId('feedHead'), this.clock(), this.feed));
  }

  async readFeed(after: FeedCursor, opts: { limit: number }): Promise<FeedPage> {
    checkFeedLimit(opts.limit);
    const cursor = decodeCursor(after);
    const feedId = this.currentFeedId('readFeed');
    const now = this.clock();
    if (cursor.feedId !== feedId || isTooOld(cursor, now, this.feed)) {
      return { entries: [], cursor: encodeCursor(await headAt(this.feedScan, feedId, now, this.feed)), more: false, tooOld: true };
    }
    const page = await readPage(this.feedScan, cursor, opts.limit, now, this.feed);
    return { entries: page.entries, cursor: encodeCursor(page.cursor), more: page.more, tooOld: false };
  }

  private currentFeedId(what: string): string {
    this.live(what);
    if (this.feedId === undefined) throw new UnavailableError(`${this.where}: the change feed is not known yet (${what})`);
    return this.feedId;
  }

  /** One bucket's entries of every shard, after `from` up to `upTo`, in time order. */
  private readonly feedScan: BucketScan = async (bucket, from, upTo) => {
    const rows = await this.all('readFeed', this.cql.feedScan, [bucket, FEED_SHARD_LIST, from, upTo], { fetchSize: 1000 });
    return rows.flatMap(toFeedRow).sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };

  // ---- janitor ----

  /**
   * Removes the record and its scope rows in one conditional batch; a scope whose head it was
   * falls back to its previous version (or has no head left), guarded by the head's value so
   * a concurrent publish or addScopes is never undone.
   */
  async deleteVersion(topic: string, version: Version): Promise<void> {
    if (version < 1n || version > MAX_VERSION) return;
    for (let attempt = 1; ; attempt++) {
      const [row, rollout] = await Promise.all([
        this.exec('deleteVersion', this.cql.record, [topic, version]).then((rs) => rs.first()),
        this.exec('deleteVersion', this.cql.rolloutWithTopic, [topic, version]).then((rs) => rs.first()),
      ]);
      if (!row) return this.deleteOutcomes(topic, version);
      const keys = Object.keys(asStringMap(row.get('scopes')));
      const stmts: Statement[] = [{ query: this.cql.deleteRecord, params: [topic, version] }];
      // Its rollout goes with it: the row, its place among the withdrawn, the topic's active one if it was.
      if (rollout) {
        stmts.push({ query: this.cql.deleteRollout, params: [topic, version] }, { query: this.cql.unwithdraw, params: [[version], topic] });
        if (big(rollout, 'rollout_active') === version) stmts.push({ query: this.cql.clearActiveRollout, params: [topic, version] });
      }
      // Its publish id goes with it (retention forgets the ids of what it purges).
      const publishId = str(row, 'publish_id');
      if (publishId) stmts.push({ query: this.cql.deletePublishId, params: [topic, publishId] });
      for (const k of keys) {
        stmts.push({ query: this.cql.deleteScope, params: [topic, k, version] });
        const head = big((await this.exec('deleteVersion', this.cql.headOf, [topic, k])).first(), 'head_version');
        if (head !== version) continue;
        const prev = (await this.exec('deleteVersion', this.cql.previousOfScope, [topic, k, version])).first();
        const pv = big(prev, 'version');
        stmts.push(
          prev && pv !== undefined
            ? { query: this.cql.moveHead, params: [pv, str(prev, 'scope'), big(prev, 'added_at_ms'), topic, k, version] }
            : { query: this.cql.dropHead, params: [topic, k, version] },
        );
      }
      await this.announce('deleteVersion', topic, 'delete-version', version);
      const rs = await this.conditional('deleteVersion', stmts);
      if (rs !== 'unknown' && rs.wasApplied()) {
        await this.confirm('deleteVersion', topic, 'delete-version', version);
        return this.deleteOutcomes(topic, version);
      }
      // Unknown, or changed under us (deleted already, or a head moved): look again.
      if (attempt >= 10) throw new UnavailableError(`${this.where}: deleting version ${version} of topic "${topic}" kept conflicting; try again`);
      await sleep(Math.random() * 5 * attempt);
    }
  }

  /** A rollout's outcomes (a partition of their own table, written after the rollout's rows are gone). */
  private async deleteOutcomes(topic: string, version: Version): Promise<void> {
    await this.exec('deleteVersion', this.cql.deleteOutcomes, [topic, version]);
  }

  /**
   * Pins and the outcomes of its rollouts first (their own tables), then one conditional batch
   * on the topic's partition: the records, scopes, heads, publish ids, grants and rollouts
   * (range deletions, taking the batch's Paxos timestamp, so they shadow every earlier write),
   * and the topic's statics, guarded by its deletion time. The history rows ('c') stay.
   */
  async purgeTopic(name: string): Promise<boolean> {
    const t = await this.getTopic(name);
    if (!t) return true;
    if (t.deletedAtMs === undefined) return false;
    await this.exec('purgeTopic', this.cql.purgePins, [name]);
    for (const r of await this.all('purgeTopic', this.cql.rolloutVersions, [name])) {
      const v = big(r, 'version');
      if (v !== undefined) await this.exec('purgeTopic', this.cql.deleteOutcomes, [name, v]);
    }
    const stmts: Statement[] = ['r', 's', 'h', 'i', 'g', 'o'].map((kind) => ({ query: this.cql.purgeKind, params: [name, kind] }));
    stmts.push({ query: this.cql.purgeTopicRow, params: [name, BigInt(t.deletedAtMs)] });
    const rs = await this.conditional('purgeTopic', stmts);
    if (rs === 'unknown') throw new UnavailableError(`${this.where}: purging topic "${name}" may or may not have completed (Cassandra did not answer in time); it is safe to repeat`);
    return rs.wasApplied() || (await this.getTopic(name)) === undefined;
  }

  /** Takes a free or expired lease, or renews our own: each step a CAS on the lease row. */
  async acquireLease(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    const expires = BigInt(nowMs + ttlMs);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const free = await this.conditional('acquireLease', [{ query: this.cql.takeFreeLease, params: [name, holder, expires] }]);
      if (free !== 'unknown' && free.wasApplied()) return true;
      const current = free === 'unknown' ? await this.serialRead('acquireLease', this.cql.lease, [name]) : free.first();
      const h = str(current, 'holder');
      const e = big(current, 'expires_at_ms');
      if (h === undefined || e === undefined) continue; // released meanwhile: try the free path again
      if (free === 'unknown' && h === holder && e === expires) return true; // our insert landed
      if (h !== holder && e > BigInt(nowMs)) return false; // someone else's, unexpired
      const took = await this.conditional('acquireLease', [{ query: this.cql.takeLease, params: [holder, expires, name, h, e] }]);
      if (took !== 'unknown' && took.wasApplied()) return true;
      if (took === 'unknown') {
        const back = await this.serialRead('acquireLease', this.cql.lease, [name]);
        if (str(back, 'holder') === holder && big(back, 'expires_at_ms') === expires) return true;
      }
    }
    throw new UnavailableError(`${this.where}: lease "${name}" kept changing under us; try again`);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    const rs = await this.conditional('releaseLease', [{ query: this.cql.releaseLease, params: [name, holder] }]);
    if (rs === 'unknown') {
      const back = await this.serialRead('releaseLease', this.cql.lease, [name]);
      if (str(back, 'holder') === holder) throw new UnavailableError(`${this.where}: releasing lease "${name}" did not complete; it expires by itself`);
    }
  }

  async recordJobSuccess(job: string, atMs: number): Promise<void> {
    // The write timestamp is the success's time (microseconds): the newest success wins.
    await this.exec('recordJobSuccess', this.cql.jobSuccess, [job, BigInt(atMs), BigInt(atMs) * 1000n]);
  }

  async jobSuccesses(): Promise<Map<string, number>> {
    const rs = await this.exec('jobSuccesses', this.cql.jobSuccesses, []);
    const out = new Map<string, number>();
    for (const r of rs.rows) {
      const job = str(r, 'job');
      const at = big(r, 'last_success_ms');
      if (job !== undefined && at !== undefined) out.set(job, Number(at));
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeRetry?.();
    clearTimeout(this.probeTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    this.setAvailable(false);
    if (client) await client.shutdown();
  }
}

// ---- errors ----

const codes = cassandra.types.responseErrorCodes;

/** "Cassandra cannot answer now": retryable, UNAVAILABLE. */
function isUnavailable(err: unknown): boolean {
  const e = cassandra.errors;
  if (err instanceof e.NoHostAvailableError || err instanceof e.OperationTimedOutError || err instanceof e.BusyConnectionError) return true;
  if (err instanceof e.ResponseError) {
    return [
      codes.unavailableException,
      codes.overloaded,
      codes.isBootstrapping,
      codes.writeTimeout,
      codes.readTimeout,
      codes.writeFailure,
      codes.readFailure,
      codes.truncateError,
      codes.serverError,
    ].includes(err.code);
  }
  // Socket errors surface as plain driver errors ("Socket was closed", ECONNRESET...).
  return err instanceof e.DriverError || (err instanceof Error && 'code' in err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code));
}

/** No node answered within the client's timeout: the sign of a node that hangs (the driver still thinks it is up). */
function isNoAnswer(err: unknown): boolean {
  const e = cassandra.errors;
  if (err instanceof e.OperationTimedOutError) return true;
  if (!(err instanceof e.NoHostAvailableError)) return false;
  const inner: unknown = err.innerErrors;
  const errs = inner && typeof inner === 'object' ? Object.values(inner) : [];
  return errs.length > 0 && errs.every((i: unknown) => i instanceof e.OperationTimedOutError);
}

/**
 * Errors raised before Cassandra could act on the request: it was certainly not applied.
 * With no driver retries (NO_RETRY), "no host available" means it was never sent.
 */
function provesNotApplied(err: unknown): boolean {
  if (err instanceof ImprintError || err instanceof cassandra.errors.NoHostAvailableError) return true;
  if (err instanceof cassandra.errors.ResponseError) {
    return [codes.syntaxError, codes.invalid, codes.unauthorized, codes.configError, codes.alreadyExists, codes.protocolError, codes.badCredentials, codes.overloaded, codes.isBootstrapping].includes(err.code);
  }
  // Bad parameters (encoding) and other programming errors never reach Cassandra.
  return err instanceof TypeError || err instanceof RangeError || err instanceof cassandra.errors.ArgumentError;
}

/**
 * The keyspace, a table or the type is gone (a wiped node came back): re-create and retry.
 * A statement prepared before that fails as "unprepared" (its re-preparation failed, wrapped
 * in "no host available"), so that counts too: re-checking the schema is cheap.
 */
function isSchemaMissing(err: unknown): boolean {
  const { ResponseError, NoHostAvailableError } = cassandra.errors;
  if (err instanceof NoHostAvailableError) {
    const inner: unknown = err.innerErrors;
    return !!inner && typeof inner === 'object' && Object.values(inner).some((e: unknown) => e instanceof ResponseError && e.code === codes.unprepared);
  }
  if (!(err instanceof ResponseError)) return false;
  if (err.code === codes.unprepared) return true;
  return err.code === codes.invalid && /keyspace .*(does not exist|doesn't exist)|unconfigured table|table .* does not exist|unknown type|undefined column/i.test(err.message);
}

/** One line: "no host available" lists each node's reason instead of a dump of its inner errors. */
function messageOf(err: unknown): string {
  if (err instanceof cassandra.errors.NoHostAvailableError) {
    const inner: unknown = err.innerErrors;
    const reasons = inner && typeof inner === 'object' ? Object.entries(inner as Record<string, unknown>).map(([host, e]) => `${host}: ${e instanceof Error ? e.message : String(e)}`) : [];
    return `no Cassandra node answered${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

// ---- rows ----

// Row.get returns `any` in the driver's types; these read a column as `unknown` and narrow it.
function col(row: Row | undefined | null, name: string): unknown {
  return row?.get(name) as unknown;
}
function str(row: Row | undefined | null, name: string): string | undefined {
  const v = col(row, name);
  return typeof v === 'string' ? v : undefined;
}
function big(row: Row | undefined | null, name: string): bigint | undefined {
  const v = col(row, name);
  return typeof v === 'bigint' ? v : undefined;
}
function int(row: Row | undefined | null, name: string): number | undefined {
  const v = col(row, name);
  return typeof v === 'number' ? v : undefined;
}
function asStringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The counter value a lost CAS reports (any returned row carries the static column). */
function casCurrent(rs: types.ResultSet): bigint | undefined {
  for (const r of rs.rows) {
    const v = big(r, 'latest_version');
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The deletion time a lost publish CAS found on the topic, if it is deleted. */
function casDeletedAt(rs: types.ResultSet): bigint | undefined {
  for (const r of rs.rows) {
    const at = big(r, 'deleted_at_ms');
    if (at !== undefined) return at;
  }
  return undefined;
}

/** The active rollout a lost publish CAS found: its version, null for none, undefined when the answer does not say. */
function casActive(rs: types.ResultSet): bigint | null | undefined {
  for (const r of rs.rows) if (r.keys().includes('rollout_active')) return big(r, 'rollout_active') ?? null;
  return undefined;
}

/** What one attempt of a publish writes: its record, the rollout it starts, the version whose rollout it supersedes. */
interface PublishAttempt {
  readonly record: VersionRecord;
  readonly rollout?: Rollout;
  readonly superseded?: Version;
}

function attemptDone(a: PublishAttempt): { published: Published; replayed: boolean; superseded?: Version } {
  return { published: { record: a.record, replayed: false, ...(a.rollout && { rollout: a.rollout }) }, replayed: false, ...(a.superseded !== undefined && { superseded: a.superseded }) };
}

/** The 'i' row a failed publish batch returned: its publish id is taken. */
function idRow(rs: types.ResultSet): Row | undefined {
  return rs.rows.find((r) => str(r, 'kind') === 'i');
}

/** A history entry's number: its time in ms, then 21 random bits (two entries of one millisecond do not collide). */
function changeSeq(atMs: number): bigint {
  return (BigInt(Math.max(0, Math.trunc(atMs))) << 21n) | BigInt(randomInt(1 << 21));
}

/** A partition whose statics say it is a topic (a partition could hold rows only, if damaged). */
function isTopicRow(row: Row): boolean {
  return big(row, 'created_at_ms') !== undefined || big(row, 'latest_version') !== undefined;
}

/** A grant's clustering key in the topic's partition ('g' rows): role, a space, grantee (grantees have no spaces). */
function grantKey(g: Grant): string {
  return `${g.role} ${g.grantee}`;
}

function fromGrantKey(key: string | undefined): Grant[] {
  const at = key?.indexOf(' ') ?? -1;
  const role = key?.slice(0, at);
  return key !== undefined && at > 0 && isRole(role) ? [{ role, grantee: key.slice(at + 1) }] : [];
}

function toTopic(r: Row): Topic {
  const keepVersions = int(r, 'keep_versions');
  const keepDays = int(r, 'keep_days');
  const expectEveryMs = big(r, 'expect_every_ms');
  const maxStalenessMs = big(r, 'max_staleness_ms');
  const trustedKeys = parseJson<string[]>(str(r, 'trusted_keys'));
  const rolloutPolicy = decodePolicy(str(r, 'rollout_policy'));
  return {
    name: str(r, 'topic') ?? '',
    owner: str(r, 'owner') ?? '',
    description: str(r, 'description') ?? '',
    retention: { ...(keepVersions !== undefined && { keepVersions }), ...(keepDays !== undefined && { keepDays }) },
    createdAtMs: Number(big(r, 'created_at_ms') ?? 0n),
    latestVersion: big(r, 'latest_version') ?? 0n,
    ...(expectEveryMs !== undefined && { expectEveryMs: Number(expectEveryMs) }),
    ...(maxStalenessMs !== undefined && { maxStalenessMs: Number(maxStalenessMs) }),
    ...(big(r, 'deleted_at_ms') !== undefined && { deletedAtMs: Number(big(r, 'deleted_at_ms')) }),
    ...(trustedKeys && { trustedKeys }),
    ...(rolloutPolicy && { rolloutPolicy }),
  };
}

/**
 * The record as stored, whole or not: missing cells (a record replicated only in part) come
 * back empty, so the digest check fails; this never throws on a damaged row.
 */
function toRecord(r: Row): VersionRecord {
  const size = Number(big(r, 'size') ?? 0n);
  const sha256 = str(r, 'sha256') ?? '';
  const direct = col(r, 'direct');
  const pointer: DataPointer =
    str(r, 'pointer_kind') === 'direct'
      ? { kind: 'direct', size, sha256, bytes: Buffer.isBuffer(direct) ? direct : Buffer.alloc(0) }
      : { kind: 'blob', size, sha256, locations: toLocations(col(r, 'locations')) };
  const scopeJson = asStringMap(col(r, 'scopes'));
  const [keyId, signature] = [str(r, 'signature_key_id'), str(r, 'signature')];
  const added = col(r, 'scope_added');
  const addedAt = (k: string): bigint => {
    const v: unknown = added && typeof added === 'object' ? (added as Record<string, unknown>)[k] : undefined;
    return typeof v === 'bigint' ? v : 0n;
  };
  // Like SQLite: in the order they were attached, then by key.
  const scopes = Object.keys(scopeJson)
    .sort((a, b) => {
      const d = addedAt(a) - addedAt(b);
      return d < 0n ? -1 : d > 0n ? 1 : a < b ? -1 : a > b ? 1 : 0;
    })
    .flatMap((k) => {
      const s = parseJson<Scope>(scopeJson[k]);
      return s ? [s] : [];
    });
  return {
    topic: str(r, 'topic') ?? '',
    version: big(r, 'version') ?? 0n,
    publishedAtMs: Number(big(r, 'published_at_ms') ?? 0n),
    metadata: asStringMap(col(r, 'metadata')),
    pointer,
    scopes,
    digest: str(r, 'digest') ?? '',
    ...(keyId !== undefined && signature !== undefined && { signature: { keyId, signature } }),
  };
}

function toLocations(v: unknown): BlobLocation[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((l: unknown): BlobLocation[] => {
    if (!l || typeof l !== 'object') return [];
    const o = l as Record<string, unknown>;
    const s = (k: string): string => (typeof o[k] === 'string' ? o[k] : '');
    return [{ kind: s('kind') === 'file' ? 'file' : 's3', region: s('region'), bucket: s('bucket'), key: s('object_key') }];
  });
}

function toHead(r: Row, versionColumn: string): ScopeHead[] {
  const scope = parseJson<Scope>(str(r, 'scope'));
  const version = big(r, versionColumn);
  if (!scope || version === undefined) return [];
  return [{ scope, version, sinceMs: Number(big(r, 'added_at_ms') ?? 0n) }];
}

/** A feed row, or none when damaged. */
function toFeedRow(r: Row): FeedRow[] {
  const at = big(r, 'at');
  const id = big(r, 'id');
  const topic = str(r, 'topic');
  const kind = str(r, 'kind');
  if (at === undefined || id === undefined || topic === undefined || !(isChangeKind(kind) || kind === 'delete-version')) return [];
  return [{ at, id, topic, kind, version: big(r, 'version') ?? 0n, hint: col(r, 'hint') === true }];
}

/** A rollout's 'o' row; undefined when damaged. */
function toRollout(topic: string, r: Row): Rollout | undefined {
  const version = big(r, 'version');
  const revision = int(r, 'rollout_revision');
  const text = str(r, 'rollout');
  if (version === undefined || revision === undefined || text === undefined) return undefined;
  try {
    return decodeRollout(topic, version, revision, text);
  } catch {
    return undefined;
  }
}

/** The withdrawn versions a topic's statics carry, newest first. */
function withdrawnOf(r: Row): Version[] {
  const v: unknown = r.get('withdrawn');
  return (Array.isArray(v) ? v.filter((x): x is bigint => typeof x === 'bigint') : []).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
}

function toPin(r: Row): Pin {
  return {
    topic: str(r, 'topic') ?? '',
    scope: parseJson<Scope>(str(r, 'scope')) ?? {},
    version: big(r, 'version') ?? 0n,
    createdAtMs: Number(big(r, 'created_at_ms') ?? 0n),
    reason: str(r, 'reason') ?? '',
    createdBy: str(r, 'created_by') ?? '',
  };
}

// ---- small things ----


function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function sameReplication(actual: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  const norm = (m: Readonly<Record<string, string>>) =>
    JSON.stringify(
      Object.entries(m)
        .map(([k, v]) => [k, k === 'class' ? v.replace(/^org\.apache\.cassandra\.locator\./, '') : v])
        .sort(),
    );
  return norm(actual) === norm(wanted);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
