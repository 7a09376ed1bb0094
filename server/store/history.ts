/**
 * A topic's change history, as both stores keep it: each change is one JSON document, written
 * in the same transaction (SQLite) or batch (Cassandra) as the change itself, under a number
 * that orders it within the topic (`seq`). One codec, so the two stores read and write the same
 * thing.
 */
import type { TopicPatch } from './metadata-store.js';
import { formatRolloutPolicy, keyIdOf, type Actor, type Change, type ChangeKind, type Grant, type Scope, type Version } from '../../core/index.js';

/** A change before the store gives it its place in the history. */
export type ChangeDraft = Omit<Change, 'seq'>;

/** The actor of a change nobody named (stores called without one: tools, tests). */
export const NOBODY: Actor = { principal: '', authenticated: false, peer: '' };

export function changeDraft(
  kind: ChangeKind,
  topic: string,
  atMs: number,
  by: Actor,
  fields: { version?: Version; scopes?: readonly Scope[]; reason?: string; publishId?: string; details?: Readonly<Record<string, string>> } = {},
): ChangeDraft {
  return {
    topic,
    kind,
    atMs,
    by,
    version: fields.version ?? 0n,
    scopes: fields.scopes ?? [],
    reason: fields.reason ?? '',
    publishId: fields.publishId ?? '',
    details: fields.details ?? {},
  };
}

/** A grant or revoke entry's details. */
export function grantDetails(g: Grant): Record<string, string> {
  return { role: g.role, grantee: g.grantee };
}

/**
 * The fields a topic change sets, as history details ("" for a retention limit removed, or a
 * contract limit a patch set to 0). A new topic records the contract limits it has.
 */
export function topicDetails(t: TopicPatch): Record<string, string> {
  const limit = (ms: number) => (ms === 0 ? '' : ms.toString());
  return {
    ...(t.owner !== undefined && { owner: t.owner }),
    ...(t.description !== undefined && { description: t.description }),
    ...(t.retention && { keep_versions: t.retention.keepVersions?.toString() ?? '', keep_days: t.retention.keepDays?.toString() ?? '' }),
    ...(t.expectEveryMs !== undefined && { expect_every_ms: limit(t.expectEveryMs) }),
    ...(t.maxStalenessMs !== undefined && { max_staleness_ms: limit(t.maxStalenessMs) }),
    // The keys by their ids, comma-separated ("" when none are required any more).
    ...(t.trustedKeys !== undefined && { trusted_keys: t.trustedKeys.map((k) => keyIdOf(k)).join(',') }),
    // The policy in its text form ("" when removed).
    ...(t.rolloutPolicy !== undefined && { rollout_policy: t.rolloutPolicy ? formatRolloutPolicy(t.rolloutPolicy) : '' }),
  };
}

interface StoredChange {
  kind: ChangeKind;
  atMs: number;
  by: Actor;
  version: string;
  scopes: Scope[];
  reason: string;
  publishId: string;
  details: Record<string, string>;
}

/** The stored form: everything but the topic and seq, which are the row's keys. */
export function encodeChange(c: ChangeDraft): string {
  const stored: StoredChange = {
    kind: c.kind,
    atMs: c.atMs,
    by: { principal: c.by.principal, authenticated: c.by.authenticated, peer: c.by.peer },
    version: c.version.toString(),
    scopes: [...c.scopes],
    reason: c.reason,
    publishId: c.publishId,
    details: { ...c.details },
  };
  return JSON.stringify(stored);
}

const KINDS: ReadonlySet<string> = new Set<ChangeKind>(['create-topic', 'update-topic', 'publish', 'add-scopes', 'pin', 'unpin', 'delete-topic', 'grant', 'revoke', 'rollout']);

/** A kind of change history keeps (the stores' rows are text). */
export function isChangeKind(kind: unknown): kind is ChangeKind {
  return typeof kind === 'string' && KINDS.has(kind);
}

/**
 * A stored change back, or undefined when the document is not one (a damaged row: the stores
 * leave it out of the page rather than fail the whole history).
 */
export function decodeChange(topic: string, seq: bigint, text: string | undefined): Change | undefined {
  let s: Partial<StoredChange>;
  try {
    s = JSON.parse(text ?? '') as Partial<StoredChange>;
  } catch {
    return undefined;
  }
  if (!s || typeof s !== 'object' || !isChangeKind(s.kind)) return undefined;
  return {
    topic,
    seq,
    kind: s.kind,
    atMs: typeof s.atMs === 'number' ? s.atMs : 0,
    by: { principal: s.by?.principal ?? '', authenticated: s.by?.authenticated === true, peer: s.by?.peer ?? '' },
    version: typeof s.version === 'string' && /^[0-9]{1,20}$/.test(s.version) ? BigInt(s.version) : 0n,
    scopes: Array.isArray(s.scopes) ? s.scopes : [],
    reason: s.reason ?? '',
    publishId: s.publishId ?? '',
    details: s.details ?? {},
  };
}
