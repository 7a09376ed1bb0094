/**
 * The fallback snapshot: every topic's heads, pins and the records they name, written by the
 * janitor every few minutes so that clients can decide and fetch while the service is down.
 * Encoding and decisions are here; reading and writing objects are at the edges.
 *
 * An encoded snapshot is one header line, then the body:
 *   {"format":"imprint.snapshot.v1","sha256":"<hex of body>","size":<bytes of body>}\n<body JSON>
 * so it carries its own sha256, and a torn or altered object is refused.
 *
 * Records carry the publisher's `signature` ({keyId, signature}) and topics their
 * `trustedKeys` when they have them; both are absent in snapshots written before signing
 * existed, and such a snapshot still reads (a subscriber with trusted keys then refuses its
 * unsigned records, as it would the service's).
 */
import { DataIntegrityError, ImprintError } from './errors.js';
import { decidePoll, verdictOf, type PollSource } from './poll.js';
import { recordProblem, sha256Hex } from './digest.js';
import { scopeKey } from './scope.js';
import type { BlobLocation, ConsumerIdentity, DataPointer, Pin, Retention, Scope, ScopeHead, Topic, Version, VersionRecord } from './types.js';
import type { RolloutPolicy } from './types.js';

export const SNAPSHOT_FORMAT = 'imprint.snapshot.v1';

export interface SnapshotTopic {
  readonly topic: Topic;
  readonly heads: readonly ScopeHead[];
  readonly pins: readonly Pin[];
  /** The record of every head and every pinned version (those that pass their digest). */
  readonly records: readonly VersionRecord[];
}

export interface Snapshot {
  readonly writtenAtMs: number;
  readonly topics: readonly SnapshotTopic[];
}

/** What the pointer object says: which snapshot is current. */
export interface SnapshotPointer {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
  readonly writtenAtMs: number;
  /** The snapshot before it, kept one more round for readers still fetching it. */
  readonly previousKey?: string;
}

// ---- encoding: bigints as decimal strings, bytes as base64 ----

type Wire<T> = T extends bigint
  ? string
  : T extends Uint8Array
    ? string
    : T extends readonly (infer U)[]
      ? Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

function pointerOut(p: DataPointer): Wire<DataPointer> {
  return p.kind === 'direct' ? { ...p, bytes: Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength).toString('base64') } : { ...p, locations: p.locations.map((l) => ({ ...l })) };
}

function pointerIn(p: Wire<DataPointer>): DataPointer {
  return p.kind === 'direct' ? { ...p, bytes: Buffer.from(p.bytes, 'base64') } : { ...p, locations: p.locations.map((l: Wire<BlobLocation>) => ({ ...l })) };
}

const recordOut = (r: VersionRecord): Wire<VersionRecord> => ({ ...r, version: r.version.toString(), pointer: pointerOut(r.pointer), scopes: r.scopes.map((s) => ({ ...s })), metadata: { ...r.metadata } });
const recordIn = (r: Wire<VersionRecord>): VersionRecord => ({ ...r, version: BigInt(r.version), pointer: pointerIn(r.pointer), scopes: r.scopes as Scope[] });
const pinOut = (p: Pin): Wire<Pin> => ({ ...p, version: p.version.toString(), scope: { ...p.scope } });
const pinIn = (p: Wire<Pin>): Pin => ({ ...p, version: BigInt(p.version) });
const headOut = (h: ScopeHead): Wire<ScopeHead> => ({ ...h, version: h.version.toString(), scope: { ...h.scope } });
const headIn = (h: Wire<ScopeHead>): ScopeHead => ({ ...h, version: BigInt(h.version) });
const topicOut = ({ trustedKeys, rolloutPolicy, ...t }: Topic): Wire<Topic> => ({
  ...t,
  latestVersion: t.latestVersion.toString(),
  retention: { ...t.retention },
  ...(trustedKeys && { trustedKeys: [...trustedKeys] }),
  // Plain JSON already (no bigint): a deep copy with the readonly marks dropped.
  ...(rolloutPolicy && { rolloutPolicy: structuredClone(rolloutPolicy) as Wire<Topic>['rolloutPolicy'] }),
});
const topicIn = (t: Wire<Topic>): Topic => ({ ...t, latestVersion: BigInt(t.latestVersion), retention: t.retention as Retention, ...(t.rolloutPolicy && { rolloutPolicy: t.rolloutPolicy as RolloutPolicy }) });

export function encodeSnapshot(s: Snapshot): { bytes: Buffer; sha256: string } {
  const body = Buffer.from(
    JSON.stringify({
      writtenAtMs: s.writtenAtMs,
      topics: s.topics.map((t) => ({ topic: topicOut(t.topic), heads: t.heads.map(headOut), pins: t.pins.map(pinOut), records: t.records.map(recordOut) })),
    }),
  );
  const sha256 = sha256Hex(body);
  const header = Buffer.from(`${JSON.stringify({ format: SNAPSHOT_FORMAT, sha256, size: body.length })}\n`);
  return { bytes: Buffer.concat([header, body]), sha256 };
}

/** @throws DataIntegrityError for anything but a whole, unaltered snapshot. */
export function decodeSnapshot(bytes: Buffer): Snapshot {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) throw new DataIntegrityError('snapshot has no header line');
  let header: { format?: unknown; sha256?: unknown; size?: unknown };
  try {
    header = JSON.parse(bytes.subarray(0, nl).toString('utf8')) as typeof header;
  } catch {
    throw new DataIntegrityError('snapshot header is not JSON');
  }
  if (header.format !== SNAPSHOT_FORMAT) throw new DataIntegrityError(`snapshot format ${String(header.format)} is not ${SNAPSHOT_FORMAT}`);
  const body = bytes.subarray(nl + 1);
  if (body.length !== header.size) throw new DataIntegrityError(`snapshot body has ${body.length} bytes, its header says ${String(header.size)}`);
  if (sha256Hex(body) !== header.sha256) throw new DataIntegrityError('snapshot body does not match its sha256');
  const raw = JSON.parse(body.toString('utf8')) as { writtenAtMs: number; topics: Wire<SnapshotTopic>[] };
  return {
    writtenAtMs: raw.writtenAtMs,
    topics: raw.topics.map((t) => ({ topic: topicIn(t.topic), heads: t.heads.map(headIn), pins: t.pins.map(pinIn), records: t.records.map(recordIn) })),
  };
}

/**
 * What the service would answer, decided from a snapshot by the poll decision itself
 * (poll.ts), over the snapshot's topic as a source at hand. The snapshot holds the records of
 * heads and pins that passed their check when it was written: a target whose record it lacks
 * is treated as failing (a consumer with data stays; one with none gets the newest matching
 * record the snapshot has below it). `known` is false when the snapshot lacks the topic.
 * `maxStalenessMs`: the topic's contract, as the snapshot has it (snapshots written before
 * contracts existed have none).
 */
export function decideFromSnapshot(
  snap: Snapshot,
  topic: string,
  identity: ConsumerIdentity,
  lastSeen: Version,
): { record?: VersionRecord; pinned: boolean; known: boolean; maxStalenessMs?: number } {
  const t = snap.topics.find((x) => x.topic.name === topic);
  if (!t) return { pinned: false, known: false };
  const d = decidePoll(snapshotSource(t), topic, identity, lastSeen);
  // The source answers at once, so does the decision.
  if (d instanceof Promise) throw new ImprintError('INTERNAL', 'decideFromSnapshot: a snapshot source never waits');
  const contract = d.maxStalenessMs !== undefined ? { maxStalenessMs: d.maxStalenessMs } : {};
  return d.record ? { record: d.record, pinned: d.pinned, known: true, ...contract } : { pinned: d.pinned, known: true, ...contract };
}

/** One topic of a snapshot as a PollSource: every answer at hand. */
function snapshotSource(t: SnapshotTopic): PollSource<SnapshotTopic> {
  return {
    state: () => t,
    record: (topic, _view, version) => verdictOf(topic, version, t.records.find((r) => r.version === version)),
    versionsBelow: (_topic, below, limit) =>
      t.records
        .filter((r) => r.version < below)
        .sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0))
        .slice(0, limit),
  };
}

// ---- restoring a snapshot into an empty metadata store ----

/** Which snapshot a restore comes from, as its history entries name it. */
export interface SnapshotOrigin {
  readonly key: string;
  readonly writtenAtMs: number;
}

/** The text every history entry a restore writes carries (in its details, under "restored"). */
export function restoredFrom(o: SnapshotOrigin): string {
  return `restored from snapshot ${o.key} written at ${new Date(o.writtenAtMs).toISOString()}`;
}

/** A scope attached to a restored version, and since when. */
export interface RestoredScope {
  readonly version: Version;
  readonly scope: Scope;
  readonly addedAtMs: number;
}

/**
 * One topic of a snapshot as a store writes it back (MetadataStore.restoreTopic): only what
 * passes, and everything a store must write decided here, so both stores write the same.
 */
export interface RestorePlan {
  /** The topic as the snapshot had it, its latestVersion at least every restored version (the next publish goes above). */
  readonly topic: Topic;
  /** Records that pass their digest check, oldest first, as they were (numbers, times, metadata, pointers, digests). */
  readonly records: readonly VersionRecord[];
  /** Every scope of every restored record: since the head's time where it is that scope's head, else since its publish. */
  readonly scopes: readonly RestoredScope[];
  /** Per scope, its newest restored version (what the store's heads become). */
  readonly heads: readonly ScopeHead[];
  /** Pins whose version is restored. */
  readonly pins: readonly Pin[];
  /** What the snapshot has that is not restored, and why (one line each). */
  readonly leftOut: readonly string[];
}

export function planRestore(t: SnapshotTopic): RestorePlan {
  const name = t.topic.name;
  const leftOut: string[] = [];
  // 1. Records that pass their check (the writer left out failing ones; a reader checks again).
  const records = [...t.records]
    .filter((r) => {
      const problem = r.topic !== name ? `it belongs to topic "${r.topic}"` : recordProblem(r);
      if (problem) leftOut.push(`v${r.version}: not restored: ${problem}`);
      return !problem;
    })
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const kept = new Set(records.map((r) => r.version));
  // 2. Scopes since the snapshot's head time where they are a head; heads are what the records give.
  const headSince = new Map(t.heads.map((h) => [`${scopeKey(h.scope)}\u0000${h.version}`, h.sinceMs]));
  const scopes = records.flatMap((r) => r.scopes.map((scope) => ({ version: r.version, scope, addedAtMs: headSince.get(`${scopeKey(scope)}\u0000${r.version}`) ?? r.publishedAtMs })));
  const heads = new Map<string, ScopeHead>();
  for (const s of scopes) heads.set(scopeKey(s.scope), { scope: s.scope, version: s.version, sinceMs: s.addedAtMs }); // oldest first: the newest wins
  for (const h of t.heads) if (!kept.has(h.version)) leftOut.push(`head ${scopeKey(h.scope) || '*'} -> v${h.version}: its record is not in the snapshot, or fails its check`);
  // 3. Pins of restored versions.
  const pins = t.pins.filter((p) => {
    if (!kept.has(p.version)) leftOut.push(`pin ${scopeKey(p.scope) || '*'} -> v${p.version}: not restored: its record is not restored`);
    return kept.has(p.version);
  });
  // 4. The counter never goes back: the next publish gets a number above every one given before.
  const highest = records.reduce((m, r) => (r.version > m ? r.version : m), t.topic.latestVersion);
  return { topic: { ...t.topic, latestVersion: highest }, records, scopes, heads: [...heads.values()], pins, leftOut };
}
