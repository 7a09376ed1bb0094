/**
 * The embedded metadata store: one SQLite file (WAL), one transaction per change, the
 * version assigned inside it, the change's history entry written in it. Serves one machine;
 * `npm start` needs nothing else.
 *
 * ## Change feed
 *
 * The history is the feed: its `seq` is one sequence over all topics (AUTOINCREMENT, so a
 * number is never given twice, even if rows were ever deleted), a row is written in the
 * transaction of its change, and write transactions run one at a time, so seq order is commit
 * order and no reader ever sees seq n+1 while n is still to come. A feed read is a range of
 * the primary key after the cursor's seq: each committed change exactly once, in commit order,
 * none for a change that failed or changed nothing. The feed keeps what the history keeps (as
 * long as the topic), so a cursor is never too old by age: only a cursor of another database
 * (its `feed_id` in imprint_meta differs) or one past the end (an older copy of the file) is.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  ImprintError,
  TopicDeletedError,
  NotFoundError,
  PublishIdConflictError,
  publishDifference,
  publishFingerprint,
  recordDigest,
  restoredFrom,
  scopeKey,
  sortGrants,
  isRole,
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
  nodeKey,
  startRollout,
  supersedeMove,
} from '../../core/index.js';
import { badCursor, checkFeedLimit, type FeedCursor, type FeedEntry, type FeedPage } from './change-feed.js';
import { NOBODY, changeDraft, decodeChange, encodeChange, grantDetails, isChangeKind, topicDetails, type ChangeDraft } from './history.js';
import type { JanitorStore, NewTopic, PollState, Published, RolloutChange, TopicPatch } from './metadata-store.js';
import { decodeOutcome, decodePolicy, decodeRollout, encodeOutcome, encodePolicy, encodeRollout, rolloutDetails } from './rollouts.js';

const SCHEMA_VERSION = 1;
const MAX_SEQ = 0x7fff_ffff_ffff_ffffn;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS imprint_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS topics (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  description TEXT NOT NULL,
  keep_versions INTEGER,
  keep_days INTEGER,
  created_at_ms INTEGER NOT NULL,
  latest_version INTEGER NOT NULL DEFAULT 0,
  expect_every_ms INTEGER,
  max_staleness_ms INTEGER,
  deleted_at_ms INTEGER,
  trusted_keys TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS versions (
  topic TEXT NOT NULL,
  version INTEGER NOT NULL,
  published_at_ms INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  direct BLOB,
  locations TEXT,
  digest TEXT NOT NULL,
  publish_id TEXT,
  fingerprint TEXT,
  signature_key_id TEXT,
  signature TEXT,
  PRIMARY KEY (topic, version)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS version_scopes (
  topic TEXT NOT NULL,
  version INTEGER NOT NULL,
  scope_key TEXT NOT NULL,
  scope TEXT NOT NULL,
  added_at_ms INTEGER NOT NULL,
  PRIMARY KEY (topic, version, scope_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS version_scopes_by_scope ON version_scopes (topic, scope_key, version);
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS janitor_jobs (
  job TEXT PRIMARY KEY,
  last_success_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS pins (
  topic TEXT NOT NULL,
  scope_key TEXT NOT NULL,
  scope TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (topic, scope_key)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grants (
  topic TEXT NOT NULL,
  role TEXT NOT NULL,
  grantee TEXT NOT NULL,
  PRIMARY KEY (topic, role, grantee)
) STRICT, WITHOUT ROWID;
${historyTable('history')}
CREATE INDEX IF NOT EXISTS history_by_topic ON history (topic, seq);
CREATE TABLE IF NOT EXISTS rollouts (
  topic TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  revision INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (topic, version)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollouts_by_state ON rollouts (state, topic);
CREATE TABLE IF NOT EXISTS rollout_outcomes (
  topic TEXT NOT NULL,
  version INTEGER NOT NULL,
  node_key TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (topic, version, node_key)
) STRICT, WITHOUT ROWID;
`;

/** The history, which is also the change feed (seq never reused: AUTOINCREMENT). */
function historyTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  change TEXT NOT NULL
) STRICT;`;
}

/**
 * A history table of the previous release (seq without AUTOINCREMENT, so a deleted last row's
 * number could be given again) is copied into one with it, in one transaction, keeping every seq.
 */
const HISTORY_AUTOINCREMENT = `
${historyTable('history_next')}
INSERT INTO history_next (seq, topic, at_ms, kind, change) SELECT seq, topic, at_ms, kind, change FROM history;
DROP TABLE history;
ALTER TABLE history_next RENAME TO history;
CREATE INDEX IF NOT EXISTS history_by_topic ON history (topic, seq);
`;

/** Columns added to tables of earlier databases of this schema version (added when missing). */
const ADDED_COLUMNS: readonly { table: string; column: string; type: string }[] = [
  { table: 'versions', column: 'publish_id', type: 'TEXT' },
  { table: 'versions', column: 'fingerprint', type: 'TEXT' },
  { table: 'topics', column: 'expect_every_ms', type: 'INTEGER' },
  { table: 'topics', column: 'max_staleness_ms', type: 'INTEGER' },
  { table: 'topics', column: 'deleted_at_ms', type: 'INTEGER' },
  { table: 'topics', column: 'trusted_keys', type: 'TEXT' },
  { table: 'versions', column: 'signature_key_id', type: 'TEXT' },
  { table: 'versions', column: 'signature', type: 'TEXT' },
  { table: 'topics', column: 'rollout_policy', type: 'TEXT' },
];

/** Indexes over added columns: created after the columns are there. */
const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_publish_id ON versions (topic, publish_id) WHERE publish_id IS NOT NULL;
`;

export interface SqliteStoreOptions {
  /** The database file; created with its directory when missing. ":memory:" for tests. */
  readonly file: string;
  /** How long a writer waits for another process's lock. @default 5000 */
  readonly busyTimeoutMs?: number;
}

/** The data dir holds something that is not a healthy Imprint database. */
export class StoreOpenError extends ImprintError {
  constructor(file: string, why: string, cause?: unknown) {
    super('FAILED_PRECONDITION', `cannot open the metadata store ${file}: ${why}`, { cause });
  }
}

interface TopicRow {
  name: string;
  owner: string;
  description: string;
  keep_versions: bigint | null;
  keep_days: bigint | null;
  created_at_ms: bigint;
  latest_version: bigint;
  expect_every_ms: bigint | null;
  max_staleness_ms: bigint | null;
  deleted_at_ms: bigint | null;
  /** JSON array of raw public keys (base64); NULL: none required. */
  trusted_keys: string | null;
  /** JSON of the RolloutPolicy; NULL: none. */
  rollout_policy: string | null;
}

interface RolloutRow {
  topic: string;
  version: bigint;
  state: string;
  revision: bigint;
  doc: string;
}

interface VersionRow {
  topic: string;
  version: bigint;
  published_at_ms: bigint;
  metadata: string;
  size: bigint;
  sha256: string;
  direct: Buffer | null;
  locations: string | null;
  digest: string;
  publish_id: string | null;
  fingerprint: string | null;
  signature_key_id: string | null;
  signature: string | null;
}

interface ScopeRow {
  version: bigint;
  scope: string;
  added_at_ms: bigint;
}

interface PinRow {
  topic: string;
  scope: string;
  version: bigint;
  created_at_ms: bigint;
  reason: string;
  created_by: string;
}

export class SqliteMetadataStore implements JanitorStore {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  /** This database's feed, named in its cursors (a cursor of another database is too old here). */
  private readonly feedId: string;

  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, feedId: string) {
    this.db = db;
    this.feedId = feedId;
  }

  /** Opens (creating when missing) and checks the database; a corrupt file is an error, never an empty store. */
  static open(opts: SqliteStoreOptions): SqliteMetadataStore {
    const { file } = opts;
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.defaultSafeIntegers(true);
      db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new StoreOpenError(file, `integrity check failed: ${String(check)}`);
      db.exec(SCHEMA);
      for (const c of ADDED_COLUMNS) {
        const have = (db.pragma(`table_info(${c.table})`) as { name: string }[]).some((col) => col.name === c.column);
        if (!have) db.exec(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.type}`);
      }
      db.exec(INDEXES);
      const history = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'history'`).get() as { sql: string };
      const opened = db;
      if (!/AUTOINCREMENT/i.test(history.sql)) db.transaction(() => opened.exec(HISTORY_AUTOINCREMENT)).immediate();
      const meta = (key: string): string | undefined => (opened.prepare('SELECT value FROM imprint_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
      const version = meta('schema_version');
      if (version === undefined) db.prepare('INSERT INTO imprint_meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
      else if (Number(version) !== SCHEMA_VERSION) throw new StoreOpenError(file, `schema version ${version}, this build reads ${SCHEMA_VERSION}`);
      db.prepare('INSERT OR IGNORE INTO imprint_meta (key, value) VALUES (?, ?)').run('feed_id', randomUUID());
      return new SqliteMetadataStore(db, meta('feed_id') ?? '');
    } catch (err) {
      db?.close();
      if (err instanceof StoreOpenError) throw err;
      throw new StoreOpenError(file, err instanceof Error ? err.message : String(err), err);
    }
  }

  async createTopic(t: NewTopic, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    return this.db
      .transaction((): Topic => {
        try {
          this
            .stmt('INSERT INTO topics (name, owner, description, keep_versions, keep_days, created_at_ms, expect_every_ms, max_staleness_ms, trusted_keys, rollout_policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
            .run(t.name, t.owner, t.description, t.retention.keepVersions ?? null, t.retention.keepDays ?? null, nowMs, t.expectEveryMs ?? null, t.maxStalenessMs ?? null, trustedKeysColumn(t.trustedKeys), encodePolicy(t.rolloutPolicy));
        } catch (err) {
          if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError(`topic "${t.name}"`);
          throw err;
        }
        this.addHistory(changeDraft('create-topic', t.name, nowMs, by, { details: topicDetails(t) }));
        for (const g of t.grants ?? []) this.insertGrant(t.name, g, nowMs, by);
        return this.mustGetTopic(t.name);
      })
      .immediate();
  }

  async updateTopic(name: string, patch: TopicPatch, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    return this.db
      .transaction((): Topic => {
        const current = this.mustGetTopic(name);
        if (Object.keys(topicDetails(patch)).length === 0) return current; // nothing to change
        const r = patch.retention ?? current.retention;
        // A contract limit: the patch's (0 removes it), else the current one.
        const limit = (given: number | undefined, now: number | undefined) => (given === undefined ? (now ?? null) : given || null);
        this
          .stmt('UPDATE topics SET owner = ?, description = ?, keep_versions = ?, keep_days = ?, expect_every_ms = ?, max_staleness_ms = ?, trusted_keys = ?, rollout_policy = ? WHERE name = ?')
          .run(
            patch.owner ?? current.owner,
            patch.description ?? current.description,
            r.keepVersions ?? null,
            r.keepDays ?? null,
            limit(patch.expectEveryMs, current.expectEveryMs),
            limit(patch.maxStalenessMs, current.maxStalenessMs),
            trustedKeysColumn(patch.trustedKeys ?? current.trustedKeys),
            encodePolicy(patch.rolloutPolicy === undefined ? current.rolloutPolicy : patch.rolloutPolicy),
            name,
          );
        this.addHistory(changeDraft('update-topic', name, nowMs, by, { details: topicDetails(patch) }));
        return this.mustGetTopic(name);
      })
      .immediate();
  }

  async deleteTopic(name: string, reason: string, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    return this.db
      .transaction((): Topic => {
        const current = this.mustGetTopic(name);
        if (current.deletedAtMs !== undefined) return current; // deleted already: nothing to change
        this.stmt('UPDATE topics SET deleted_at_ms = ? WHERE name = ?').run(nowMs, name);
        this.addHistory(changeDraft('delete-topic', name, nowMs, by, { reason }));
        return this.mustGetTopic(name);
      })
      .immediate();
  }

  async getTopic(name: string): Promise<Topic | undefined> {
    const row = this.topicRow(name);
    return row && toTopic(row);
  }

  async listTopics(): Promise<Topic[]> {
    return (this.stmt('SELECT * FROM topics ORDER BY name').all() as TopicRow[]).map(toTopic);
  }

  async publish(v: NewVersion, nowMs: number, by: Actor = NOBODY): Promise<Published> {
    // Direct bytes as a Buffer view, the same type reads return.
    const p: DataPointer = v.pointer.kind === 'direct' ? { ...v.pointer, bytes: asBuffer(v.pointer.bytes) } : v.pointer;
    const publishId = v.publishId ?? '';
    const fingerprint = publishId === '' ? null : publishFingerprint(v);
    const run = this.db.transaction((): Published => {
      // 1. A deleted topic takes nothing, not even a replay.
      const deletedAt = this.topicRow(v.topic)?.deleted_at_ms;
      if (deletedAt !== undefined && deletedAt !== null) throw new TopicDeletedError(v.topic, Number(deletedAt), `publish to topic "${v.topic}"`);
      // 1b. A publish id the topic has recorded: its version, and nothing written.
      if (publishId !== '') {
        const made = this.stmt('SELECT * FROM versions WHERE topic = ? AND publish_id = ?').get(v.topic, publishId) as VersionRow | undefined;
        if (made) {
          const record = this.toRecord(made, this.scopesOf(v.topic, [made.version]).get(made.version) ?? []);
          if (made.fingerprint !== fingerprint) throw new PublishIdConflictError(v.topic, publishId, made.version, publishDifference(v, record));
          const rollout = this.rollout(v.topic, made.version);
          return rollout ? { record, replayed: true, rollout } : { record, replayed: true };
        }
      }
      // 2. Take the next version number for the topic (the row lock is the transaction's).
      const row = this.stmt('UPDATE topics SET latest_version = latest_version + 1 WHERE name = ? RETURNING latest_version').get(v.topic) as
        | { latest_version: bigint }
        | undefined;
      if (!row) throw new FailedPreconditionError(`cannot publish to topic "${v.topic}": it does not exist (create it first)`);
      const version = row.latest_version;
      // 3. Write the record with its digest and publish id.
      const digest = recordDigest({ topic: v.topic, version, publishedAtMs: nowMs, metadata: v.metadata, pointer: p });
      // With a rollout it has no scopes until the rollout completes (core/rollout.ts).
      const scopes = v.rollout ? [] : v.scopes;
      const record: VersionRecord = { topic: v.topic, version, publishedAtMs: nowMs, metadata: v.metadata, pointer: p, scopes, digest, ...(v.signature && { signature: v.signature }) };
      this.insertRecord(record, publishId === '' ? null : publishId, fingerprint);
      // 4. Attach its scopes, 5. and say so in the history.
      this.insertScopes(v.topic, version, scopes, nowMs);
      this.addHistory(changeDraft('publish', v.topic, nowMs, by, { version, scopes: v.scopes, publishId }));
      // 6. A running rollout is superseded; 7. the version's own begins.
      const running = this.activeRollout(v.topic);
      if (running) {
        const { next, action, reason } = supersedeMove(running, nowMs, version);
        this.writeRollout(next, running.revision, action, reason, nowMs, by);
      }
      if (!v.rollout) return { record, replayed: false };
      const rollout = startRollout(v.topic, version, v.rollout, nowMs);
      this.stmt('INSERT INTO rollouts (topic, version, state, revision, doc) VALUES (?, ?, ?, 0, ?)').run(v.topic, version, rollout.state, encodeRollout(rollout));
      return { record, replayed: false, rollout: this.writeRollout(rollout, 0, 'start', '', nowMs, by) };
    });
    return run.immediate();
  }

  async addScopes(topic: string, version: Version, scopes: readonly Scope[], nowMs: number, by: Actor = NOBODY): Promise<VersionRecord> {
    this.db.transaction(() => {
      const exists = this.stmt('SELECT 1 FROM versions WHERE topic = ? AND version = ?').get(topic, version);
      if (!exists) throw new NotFoundError(`version ${version} of topic "${topic}"`);
      const attached = this.insertScopes(topic, version, scopes, nowMs);
      if (attached.length > 0) this.addHistory(changeDraft('add-scopes', topic, nowMs, by, { version, scopes: attached }));
    }).immediate();
    const rec = await this.getVersion(topic, version);
    if (!rec) throw new NotFoundError(`version ${version} of topic "${topic}"`);
    return rec;
  }

  async getVersion(topic: string, version: Version): Promise<VersionRecord | undefined> {
    const row = this.stmt('SELECT * FROM versions WHERE topic = ? AND version = ?').get(topic, version) as VersionRow | undefined;
    if (!row) return undefined;
    return this.toRecord(row, this.scopesOf(topic, [version]).get(version) ?? []);
  }

  async listVersions(topic: string, opts: { below?: Version; limit: number }): Promise<VersionRecord[]> {
    const rows = this
      .stmt('SELECT * FROM versions WHERE topic = ? AND version < ? ORDER BY version DESC LIMIT ?')
      .all(topic, opts.below ?? 0x7fff_ffff_ffff_ffffn, opts.limit) as VersionRow[];
    const scopes = this.scopesOf(
      topic,
      rows.map((r) => r.version),
    );
    return rows.map((r) => this.toRecord(r, scopes.get(r.version) ?? []));
  }

  async countVersions(topic: string): Promise<number> {
    const row = this.stmt('SELECT COUNT(*) AS n FROM versions WHERE topic = ?').get(topic) as { n: bigint };
    return Number(row.n);
  }

  async scopeHeads(topic: string, atMs?: number): Promise<ScopeHead[]> {
    return this.heads(topic, atMs);
  }

  async pollState(topic: string): Promise<PollState | undefined> {
    // One read transaction, so heads and pins are of the same moment.
    return this.db.transaction((): PollState | undefined => {
      const t = this.topicRow(topic);
      if (!t || t.deleted_at_ms !== null) return undefined;
      const rollout = this.activeRollout(topic);
      const withdrawn = (this.stmt(`SELECT version FROM rollouts WHERE topic = ? AND state = 'cancelled' ORDER BY version DESC`).all(topic) as { version: bigint }[]).map((r) => r.version);
      return { topic: toTopic(t), heads: this.heads(topic), pins: this.pins(topic), grants: this.grants(topic), withdrawn, ...(rollout && { rollout }) };
    })();
  }

  async pin(pin: Pin, by: Actor = NOBODY): Promise<Pin> {
    this.db.transaction(() => {
      const exists = this.stmt('SELECT 1 FROM versions WHERE topic = ? AND version = ?').get(pin.topic, pin.version);
      if (!exists) throw new NotFoundError(`version ${pin.version} of topic "${pin.topic}"`);
      this.upsertPin(pin);
      this.addHistory(changeDraft('pin', pin.topic, pin.createdAtMs, by, { version: pin.version, scopes: [pin.scope], reason: pin.reason }));
    }).immediate();
    return pin;
  }

  async restoreTopic(plan: RestorePlan, origin: SnapshotOrigin, nowMs: number, by: Actor = NOBODY): Promise<Topic> {
    const t = plan.topic;
    const details = { restored: restoredFrom(origin) };
    return this.db
      .transaction((): Topic => {
        // 1. The topic, its counter at the plan's latest version; refused when it exists.
        try {
          this
            .stmt('INSERT INTO topics (name, owner, description, keep_versions, keep_days, created_at_ms, expect_every_ms, max_staleness_ms, latest_version, trusted_keys, rollout_policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
            .run(t.name, t.owner, t.description, t.retention.keepVersions ?? null, t.retention.keepDays ?? null, t.createdAtMs, t.expectEveryMs ?? null, t.maxStalenessMs ?? null, t.latestVersion, trustedKeysColumn(t.trustedKeys), encodePolicy(t.rolloutPolicy));
        } catch (err) {
          if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new AlreadyExistsError(`topic "${t.name}"`);
          throw err;
        }
        this.addHistory(changeDraft('create-topic', t.name, nowMs, by, { details: { ...topicDetails(t), ...details } }));
        // 2. The records as they were, 3. their scopes since when the plan says, 4. the pins.
        for (const r of plan.records) {
          this.insertRecord({ ...r, pointer: r.pointer.kind === 'direct' ? { ...r.pointer, bytes: asBuffer(r.pointer.bytes) } : r.pointer }, null, null);
          this.addHistory(changeDraft('publish', t.name, nowMs, by, { version: r.version, scopes: r.scopes, details }));
        }
        const attach = this.stmt('INSERT OR IGNORE INTO version_scopes (topic, version, scope_key, scope, added_at_ms) VALUES (?, ?, ?, ?, ?)');
        for (const s of plan.scopes) attach.run(t.name, s.version, scopeKey(s.scope), JSON.stringify(s.scope), s.addedAtMs);
        for (const p of plan.pins) {
          this.upsertPin(p);
          this.addHistory(changeDraft('pin', t.name, nowMs, by, { version: p.version, scopes: [p.scope], reason: p.reason, details }));
        }
        return this.mustGetTopic(t.name);
      })
      .immediate();
  }

  async unpin(topic: string, scope: Scope, nowMs: number, by: Actor = NOBODY): Promise<Pin | undefined> {
    return this.db
      .transaction((): Pin | undefined => {
        const row = this.stmt('DELETE FROM pins WHERE topic = ? AND scope_key = ? RETURNING *').get(topic, scopeKey(scope)) as PinRow | undefined;
        if (!row) return undefined;
        const removed = toPin(row);
        this.addHistory(changeDraft('unpin', topic, nowMs, by, { version: removed.version, scopes: [removed.scope] }));
        return removed;
      })
      .immediate();
  }

  async listPins(topic: string): Promise<Pin[]> {
    return this.pins(topic);
  }

  async listGrants(topic: string): Promise<Grant[]> {
    return this.grants(topic);
  }

  async grant(topic: string, grant: Grant, nowMs: number, by: Actor = NOBODY): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        const t = this.mustGetTopic(topic);
        if (t.deletedAtMs !== undefined) throw new TopicDeletedError(topic, t.deletedAtMs, `grant on topic "${topic}"`);
        return this.insertGrant(topic, grant, nowMs, by);
      })
      .immediate();
  }

  async revoke(topic: string, grant: Grant, nowMs: number, by: Actor = NOBODY): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        const gone = this.stmt('DELETE FROM grants WHERE topic = ? AND role = ? AND grantee = ?').run(topic, grant.role, grant.grantee).changes === 1;
        if (gone) this.addHistory(changeDraft('revoke', topic, nowMs, by, { details: grantDetails(grant) }));
        return gone;
      })
      .immediate();
  }

  /** Adds a grant with its history entry (inside the caller's transaction); false when it was there. */
  private insertGrant(topic: string, grant: Grant, nowMs: number, by: Actor): boolean {
    const added = this.stmt('INSERT OR IGNORE INTO grants (topic, role, grantee) VALUES (?, ?, ?)').run(topic, grant.role, grant.grantee).changes === 1;
    if (added) this.addHistory(changeDraft('grant', topic, nowMs, by, { details: grantDetails(grant) }));
    return added;
  }

  private grants(topic: string): Grant[] {
    const rows = this.stmt('SELECT role, grantee FROM grants WHERE topic = ?').all(topic) as { role: string; grantee: string }[];
    return sortGrants(rows.flatMap((r) => (isRole(r.role) ? [{ role: r.role, grantee: r.grantee }] : [])));
  }

  async listHistory(topic: string, opts: { below?: bigint; limit: number }): Promise<Change[]> {
    const rows = this
      .stmt('SELECT seq, change FROM history WHERE topic = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
      .all(topic, opts.below ?? MAX_SEQ, opts.limit) as { seq: bigint; change: string }[];
    return rows.flatMap((r) => decodeChange(topic, r.seq, r.change) ?? []);
  }

  // ---- change feed: the history by its seq (see the top of this file) ----

  async feedHead(): Promise<FeedCursor> {
    return this.cursorAt(this.lastSeq());
  }

  async readFeed(after: FeedCursor, opts: { limit: number }): Promise<FeedPage> {
    checkFeedLimit(opts.limit);
    const m = /^sqlite:([0-9a-f-]{36}):([0-9]{1,19})$/.exec(after);
    const seq = m?.[2] === undefined ? undefined : BigInt(m[2]);
    if (!m || seq === undefined || seq > MAX_SEQ) throw badCursor(after, this.name);
    const last = this.lastSeq();
    if (m[1] !== this.feedId || seq > last) return { entries: [], cursor: this.cursorAt(last), more: false, tooOld: true };
    // One row more than asked says whether more wait.
    const rows = this
      .stmt(`SELECT seq, topic, kind, at_ms, json_extract(change, '$.version') AS version FROM history WHERE seq > ? ORDER BY seq LIMIT ?`)
      .all(seq, opts.limit + 1) as { seq: bigint; topic: string; kind: string; at_ms: bigint; version: string | null }[];
    const page = rows.slice(0, opts.limit);
    const entries = page.flatMap((r): FeedEntry[] =>
      // A damaged row is left out, as listHistory leaves it out.
      isChangeKind(r.kind) ? [{ topic: r.topic, kind: r.kind, version: /^[0-9]{1,19}$/.test(r.version ?? '') ? BigInt(r.version ?? 0) : 0n, atMs: Number(r.at_ms), hint: false }] : [],
    );
    return { entries, cursor: this.cursorAt(page[page.length - 1]?.seq ?? seq), more: rows.length > opts.limit, tooOld: false };
  }

  private lastSeq(): bigint {
    return (this.stmt('SELECT MAX(seq) AS seq FROM history').get() as { seq: bigint | null }).seq ?? 0n;
  }

  private cursorAt(seq: bigint): FeedCursor {
    return `sqlite:${this.feedId}:${seq}`;
  }

  async getRollout(topic: string, version: Version): Promise<Rollout | undefined> {
    return this.rollout(topic, version);
  }

  async listRollouts(topic: string, opts: { below?: Version; limit: number }): Promise<Rollout[]> {
    const rows = this.stmt('SELECT * FROM rollouts WHERE topic = ? AND version < ? ORDER BY version DESC LIMIT ?').all(topic, opts.below ?? MAX_SEQ, opts.limit) as RolloutRow[];
    return rows.map(toRollout);
  }

  async activeRollouts(): Promise<Rollout[]> {
    const rows = this
      .stmt(`SELECT r.* FROM rollouts r JOIN topics t ON t.name = r.topic WHERE r.state IN ('running', 'paused') AND t.deleted_at_ms IS NULL ORDER BY r.topic`)
      .all() as RolloutRow[];
    return rows.map(toRollout);
  }

  async changeRollout(change: RolloutChange, nowMs: number, by: Actor = NOBODY): Promise<Rollout | undefined> {
    const { next } = change;
    return this.db
      .transaction((): Rollout | undefined => {
        const t = this.topicRow(next.topic);
        if (t && t.deleted_at_ms !== null) throw new TopicDeletedError(next.topic, Number(t.deleted_at_ms), `change the rollout of topic "${next.topic}"`);
        const current = this.rollout(next.topic, next.version);
        if (!current) throw new NotFoundError(`rollout of version ${next.version} of topic "${next.topic}"`);
        if (current.revision !== change.expectedRevision) return undefined;
        // Completing it makes the version the latest for everyone, in the same step.
        if (next.state === 'completed') this.insertScopes(next.topic, next.version, [{}], nowMs);
        return this.writeRollout(next, change.expectedRevision, change.action, change.reason, nowMs, by);
      })
      .immediate();
  }

  async recordOutcomes(outcomes: readonly ConsumerOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const upsert = this.stmt(
      `INSERT INTO rollout_outcomes (topic, version, node_key, at_ms, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (topic, version, node_key) DO UPDATE SET at_ms = excluded.at_ms, doc = excluded.doc WHERE excluded.at_ms >= rollout_outcomes.at_ms`,
    );
    this.db.transaction(() => {
      for (const o of outcomes) upsert.run(o.topic, o.version, nodeKey(o.identity), o.atMs, encodeOutcome(o));
    }).immediate();
  }

  async listOutcomes(topic: string, version: Version): Promise<ConsumerOutcome[]> {
    const rows = this.stmt('SELECT at_ms, doc FROM rollout_outcomes WHERE topic = ? AND version = ? ORDER BY node_key').all(topic, version) as { at_ms: bigint; doc: string }[];
    return rows.map((r) => decodeOutcome(topic, version, Number(r.at_ms), r.doc));
  }

  async deleteVersion(topic: string, version: Version): Promise<void> {
    this.db.transaction(() => {
      this.stmt('DELETE FROM rollouts WHERE topic = ? AND version = ?').run(topic, version);
      this.stmt('DELETE FROM rollout_outcomes WHERE topic = ? AND version = ?').run(topic, version);
      this.stmt('DELETE FROM version_scopes WHERE topic = ? AND version = ?').run(topic, version);
      this.stmt('DELETE FROM versions WHERE topic = ? AND version = ?').run(topic, version);
    }).immediate();
  }

  async purgeTopic(name: string): Promise<boolean> {
    return this.db
      .transaction((): boolean => {
        const row = this.topicRow(name);
        if (!row) return true;
        if (row.deleted_at_ms === null) return false;
        for (const table of ['version_scopes', 'versions', 'pins', 'grants', 'rollouts', 'rollout_outcomes']) this.stmt(`DELETE FROM ${table} WHERE topic = ?`).run(name);
        this.stmt('DELETE FROM topics WHERE name = ?').run(name);
        return true;
      })
      .immediate();
  }

  async acquireLease(name: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
    // One statement: take it when free, expired or already ours; the WHERE leaves another's alone.
    const res = this.stmt(
      `INSERT INTO leases (name, holder, expires_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
       WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?`,
    ).run(name, holder, nowMs + ttlMs, nowMs);
    return res.changes === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.stmt('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }

  async recordJobSuccess(job: string, atMs: number): Promise<void> {
    this.stmt(
      `INSERT INTO janitor_jobs (job, last_success_ms) VALUES (?, ?)
       ON CONFLICT (job) DO UPDATE SET last_success_ms = max(last_success_ms, excluded.last_success_ms)`,
    ).run(job, atMs);
  }

  async jobSuccesses(): Promise<Map<string, number>> {
    const rows = this.stmt('SELECT job, last_success_ms FROM janitor_jobs').all() as { job: string; last_success_ms: number | bigint }[];
    return new Map(rows.map((r) => [r.job, Number(r.last_success_ms)]));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** For tests of consistency checks: the raw database. */
  get database(): Database.Database {
    return this.db;
  }

  /** Within a transaction: a record row with its digest (and its publish id and fingerprint, if any). */
  private insertRecord(r: VersionRecord, publishId: string | null, fingerprint: string | null): void {
    const p = r.pointer;
    this
      .stmt('INSERT INTO versions (topic, version, published_at_ms, metadata, size, sha256, direct, locations, digest, publish_id, fingerprint, signature_key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        r.topic,
        r.version,
        r.publishedAtMs,
        JSON.stringify(r.metadata),
        p.size,
        p.sha256,
        p.kind === 'direct' ? p.bytes : null,
        p.kind === 'blob' ? JSON.stringify(p.locations) : null,
        r.digest,
        publishId,
        fingerprint,
        r.signature?.keyId ?? null,
        r.signature?.signature ?? null,
      );
  }

  /** Within a transaction: the pin, replacing one of the same topic and scope. */
  private upsertPin(pin: Pin): void {
    this
      .stmt(
        `INSERT INTO pins (topic, scope_key, scope, version, created_at_ms, reason, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (topic, scope_key) DO UPDATE SET scope = excluded.scope, version = excluded.version,
           created_at_ms = excluded.created_at_ms, reason = excluded.reason, created_by = excluded.created_by`,
      )
      .run(pin.topic, scopeKey(pin.scope), JSON.stringify(pin.scope), pin.version, pin.createdAtMs, pin.reason, pin.createdBy);
  }

  /** Attaches the scopes not attached yet; returns those. */
  private insertScopes(topic: string, version: Version, scopes: readonly Scope[], nowMs: number): Scope[] {
    const ins = this.stmt('INSERT OR IGNORE INTO version_scopes (topic, version, scope_key, scope, added_at_ms) VALUES (?, ?, ?, ?, ?)');
    return scopes.filter((s) => ins.run(topic, version, scopeKey(s), JSON.stringify(s), nowMs).changes === 1);
  }

  /** Within the change's transaction. */
  private addHistory(c: ChangeDraft): void {
    this.stmt('INSERT INTO history (topic, at_ms, kind, change) VALUES (?, ?, ?, ?)').run(c.topic, c.atMs, c.kind, encodeChange(c));
  }

  private scopesOf(topic: string, versions: readonly bigint[]): Map<bigint, Scope[]> {
    const out = new Map<bigint, Scope[]>();
    if (versions.length === 0) return out;
    const rows = this
      .stmt(`SELECT version, scope FROM version_scopes WHERE topic = ? AND version IN (${versions.map(() => '?').join(',')}) ORDER BY added_at_ms, scope_key`)
      .all(topic, ...versions) as { version: bigint; scope: string }[];
    for (const r of rows) {
      const list = out.get(r.version) ?? [];
      list.push(JSON.parse(r.scope) as Scope);
      out.set(r.version, list);
    }
    return out;
  }

  private toRecord(row: VersionRow, scopes: Scope[]): VersionRecord {
    const size = Number(row.size);
    const pointer: DataPointer = row.direct
      ? { kind: 'direct', size, sha256: row.sha256, bytes: row.direct }
      : { kind: 'blob', size, sha256: row.sha256, locations: JSON.parse(row.locations ?? '[]') as BlobLocation[] };
    return {
      topic: row.topic,
      version: row.version,
      publishedAtMs: Number(row.published_at_ms),
      metadata: JSON.parse(row.metadata) as Record<string, string>,
      pointer,
      scopes,
      digest: row.digest,
      ...(row.signature_key_id !== null && row.signature !== null && { signature: { keyId: row.signature_key_id, signature: row.signature } }),
    };
  }

  private mustGetTopic(name: string): Topic {
    const row = this.topicRow(name);
    if (!row) throw new NotFoundError(`topic "${name}"`);
    return toTopic(row);
  }

  /** Prepared statements, compiled once each. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private topicRow(name: string): TopicRow | undefined {
    return this.stmt('SELECT * FROM topics WHERE name = ?').get(name) as TopicRow | undefined;
  }

  private heads(topic: string, atMs?: number): ScopeHead[] {
    // For each scope, its highest version; "since" is when that scope was attached to it.
    const rows = this
      .stmt(
        `SELECT s.scope, s.version, s.added_at_ms FROM version_scopes s
         JOIN (SELECT scope_key, MAX(version) AS version FROM version_scopes WHERE topic = ? AND added_at_ms <= ? GROUP BY scope_key) h
           ON s.scope_key = h.scope_key AND s.version = h.version
         WHERE s.topic = ?`,
      )
      .all(topic, atMs ?? Number.MAX_SAFE_INTEGER, topic) as ScopeRow[];
    return rows.map((r) => ({ scope: JSON.parse(r.scope) as Scope, version: r.version, sinceMs: Number(r.added_at_ms) }));
  }

  private rollout(topic: string, version: Version): Rollout | undefined {
    const row = this.stmt('SELECT * FROM rollouts WHERE topic = ? AND version = ?').get(topic, version) as RolloutRow | undefined;
    return row && toRollout(row);
  }

  /** The topic's running or paused rollout (a publish supersedes the one before, so there is at most one). */
  private activeRollout(topic: string): Rollout | undefined {
    const row = this.stmt(`SELECT * FROM rollouts WHERE topic = ? AND state IN ('running', 'paused') ORDER BY version DESC LIMIT 1`).get(topic) as RolloutRow | undefined;
    return row && toRollout(row);
  }

  /** Within a transaction: the rollout at revision `from` + 1, with its history entry. */
  private writeRollout(next: Rollout, from: number, action: string, reason: string, nowMs: number, by: Actor): Rollout {
    const written: Rollout = { ...next, revision: from + 1 };
    this.stmt('UPDATE rollouts SET state = ?, revision = ?, doc = ? WHERE topic = ? AND version = ?').run(written.state, written.revision, encodeRollout(written), written.topic, written.version);
    this.addHistory(changeDraft('rollout', written.topic, nowMs, by, { version: written.version, reason, details: rolloutDetails(action, written) }));
    return written;
  }

  private pins(topic: string): Pin[] {
    return (this.stmt('SELECT * FROM pins WHERE topic = ? ORDER BY created_at_ms').all(topic) as PinRow[]).map(toPin);
  }
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function toTopic(r: TopicRow): Topic {
  return {
    name: r.name,
    owner: r.owner,
    description: r.description,
    retention: {
      ...(r.keep_versions !== null && { keepVersions: Number(r.keep_versions) }),
      ...(r.keep_days !== null && { keepDays: Number(r.keep_days) }),
    },
    createdAtMs: Number(r.created_at_ms),
    latestVersion: r.latest_version,
    ...(r.expect_every_ms !== null && { expectEveryMs: Number(r.expect_every_ms) }),
    ...(r.max_staleness_ms !== null && { maxStalenessMs: Number(r.max_staleness_ms) }),
    ...(r.deleted_at_ms !== null && { deletedAtMs: Number(r.deleted_at_ms) }),
    ...(r.trusted_keys !== null && { trustedKeys: JSON.parse(r.trusted_keys) as string[] }),
    ...(decodePolicy(r.rollout_policy) && { rolloutPolicy: decodePolicy(r.rollout_policy) }),
  };
}

function toRollout(r: RolloutRow): Rollout {
  return decodeRollout(r.topic, r.version, Number(r.revision), r.doc);
}

/** A topic's trusted keys as stored: a JSON array, NULL for none. */
function trustedKeysColumn(keys: readonly string[] | undefined): string | null {
  return keys && keys.length > 0 ? JSON.stringify(keys) : null;
}

function toPin(r: PinRow): Pin {
  return {
    topic: r.topic,
    scope: JSON.parse(r.scope) as Scope,
    version: r.version,
    createdAtMs: Number(r.created_at_ms),
    reason: r.reason,
    createdBy: r.created_by,
  };
}
