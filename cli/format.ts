/** How the CLI shows domain values: plain text for people, JSON (--json) for scripts. */
import { formatRolloutPolicy, keyIdOf, scopeKey, type Change, type Pin, type PublishStatus, type Scope, type Topic, type VersionRecord } from '../core/index.js';

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function when(ms: number): string {
  return new Date(ms).toISOString();
}

export function scopeText(s: Scope): string {
  return scopeKey(s) || '*';
}

/** JSON with bigints as strings and direct bytes left out (size and sha256 say what they are). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return undefined;
      if (v && typeof v === 'object' && 'type' in v && (v as { type: unknown }).type === 'Buffer') return undefined;
      return v;
    },
    2,
  );
}

export function recordJson(r: VersionRecord): unknown {
  const p = r.pointer;
  return {
    topic: r.topic,
    version: r.version.toString(),
    publishedAt: when(r.publishedAtMs),
    metadata: r.metadata,
    scopes: r.scopes,
    pointer: p.kind === 'direct' ? { kind: 'direct', size: p.size, sha256: p.sha256 } : { kind: 'blob', size: p.size, sha256: p.sha256, locations: p.locations },
    digest: r.digest,
    ...(r.signature && { signature: r.signature }),
  };
}

export function recordText(r: VersionRecord): string {
  const p = r.pointer;
  const where = p.kind === 'direct' ? 'direct' : p.locations.map((l) => `${l.kind}://${l.bucket}/${l.key} (${l.region})`).join(', ');
  const meta = Object.entries(r.metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `${r.topic} v${r.version}  published ${when(r.publishedAtMs)}`,
    `  size     ${bytes(p.size)} (${p.size} bytes)`,
    `  sha256   ${p.sha256}`,
    `  payload  ${where}`,
    // A rollout's version has none until its rollout completes (its rollout says whom it reached).
    `  scopes   ${r.scopes.length ? r.scopes.map(scopeText).join('  ') : '(none until its rollout completes)'}`,
    ...(meta ? [`  metadata ${meta}`] : []),
    ...(r.signature ? [`  signed   by key ${r.signature.keyId}`] : []),
  ].join('\n');
}

export function topicText(t: Topic): string {
  const r = t.retention;
  const retention =
    [r.keepVersions !== undefined ? `${r.keepVersions} versions` : '', r.keepDays !== undefined ? `${r.keepDays} days` : ''].filter(Boolean).join(' or ') || 'everything';
  return [
    `${t.name}  latest v${t.latestVersion}`,
    `  owner       ${t.owner || '-'}`,
    `  description ${t.description || '-'}`,
    `  retention   keep ${retention}`,
    ...(t.expectEveryMs !== undefined || t.maxStalenessMs !== undefined
      ? [`  contract    published every ${t.expectEveryMs !== undefined ? duration(t.expectEveryMs) : '-'}, consumers at most ${t.maxStalenessMs !== undefined ? duration(t.maxStalenessMs) : '-'} stale`]
      : []),
    ...(t.trustedKeys?.length ? [`  signatures  required, by any of key ${t.trustedKeys.map((k) => keyIdOf(k)).join(', ')}`] : []),
    ...(t.rolloutPolicy ? [`  rollout     ${formatRolloutPolicy(t.rolloutPolicy)}`] : []),
    `  created     ${when(t.createdAtMs)}`,
    ...(t.deletedAtMs !== undefined ? [`  DELETED     ${when(t.deletedAtMs)} (polls get NOT_FOUND; the janitor purges it after its --delete-grace)`] : []),
  ].join('\n');
}

/** A duration in its largest whole unit (90 min: "90m", 2 h: "2h"). */
export function duration(ms: number): string {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
}

/** When a topic was last published, and whether it is overdue (DescribeTopic's publish status). */
export function publishStatusText(p: PublishStatus): string {
  const last = p.lastPublishMs !== undefined ? when(p.lastPublishMs) : 'never';
  return p.overdueSinceMs > 0 ? `${last}  OVERDUE since ${when(p.overdueSinceMs)}` : last;
}

export function pinText(p: Pin): string {
  return `${p.topic}  scope ${scopeText(p.scope)}  -> v${p.version}  since ${when(p.createdAtMs)}${p.createdBy ? `  by ${p.createdBy}` : ''}${p.reason ? `  (${p.reason})` : ''}`;
}

type ChangeView = Omit<Change, 'seq'>;

/** History details that are limits: "" means removed. */
const LIMITS: ReadonlySet<string> = new Set(['keep_versions', 'keep_days', 'expect_every_ms', 'max_staleness_ms', 'rollout_policy']);

/** What a change did, in a few words (the version, who and when have columns of their own). */
function changeWhat(c: ChangeView): string {
  const { restored, ...set } = c.details;
  return `${changeDone({ ...c, details: set })}${restored ? `  (${restored})` : ''}`;
}

function changeDone(c: ChangeView): string {
  // A retention or contract limit set to "" was removed; other values are quoted when empty or spaced.
  const details = Object.entries(c.details)
    .map(([k, v]) => `${k}=${v === '' && LIMITS.has(k) ? 'none' : v === '' || /\s/.test(v) ? JSON.stringify(v) : v}`)
    .join(' ');
  const scopes = c.scopes.map(scopeText).join(' ');
  switch (c.kind) {
    case 'create-topic':
    case 'update-topic':
      return details;
    case 'publish':
      return `scopes ${scopes}${c.publishId ? `  publish id ${c.publishId}` : ''}`;
    case 'add-scopes':
      return `+ ${scopes}`;
    case 'pin':
      return `scope ${scopes}${c.reason ? `  (${c.reason})` : ''}`;
    case 'unpin':
      return `scope ${scopes}`;
    case 'delete-topic':
      return c.reason ? `(${c.reason})` : '';
    case 'grant':
    case 'revoke':
      return `${c.details['role'] ?? '?'} ${c.details['grantee'] ?? '?'}`;
    case 'rollout':
      return rolloutChangeText(c.details, c.reason);
  }
}

/** What a rollout change did (details: action, step (the index applied), state), e.g. "step 2 applied", "REJECTED at step 1 by a gate: ...". */
export function rolloutChangeText(details: Readonly<Record<string, string>>, reason: string): string {
  const n = /^[0-9]+$/.test(details['step'] ?? '') ? Number(details['step']) + 1 : undefined;
  const at = n === undefined ? '' : ` at step ${n}`;
  const why = reason ? `: ${reason}` : '';
  switch (details['action']) {
    case 'start':
      return `rollout started, step 1 applied`;
    case 'step':
      return details['state'] === 'completed' ? 'rollout completed: the latest for everyone' : `step ${n ?? '?'} applied`;
    case 'promote':
      return details['state'] === 'completed' ? `promoted to everyone${why}` : `promoted: step ${n ?? '?'} applied${why}`;
    case 'pause':
      return `paused${at}${why}`;
    case 'resume':
      return `resumed${at}`;
    case 'cancel':
      return `cancelled${at}${why}`;
    case 'reject':
      return `REJECTED${at} by a gate${why}`;
    case 'complete':
      return 'rollout completed: the latest for everyone';
    case 'supersede':
      return `superseded${at}${why}`;
    case 'webhook-passed':
      return `webhook gate passed${at}`;
    default:
      return Object.entries(details).map(([k, v]) => `${k}=${v}`).join(' ') + (reason ? `  (${reason})` : '');
  }
}

/** The header of changeText's columns. */
export const CHANGE_HEADER = `${'WHEN'.padEnd(24)}  ${'CHANGE'.padEnd(12)}  ${'VERSION'.padEnd(8)}  ${'BY'.padEnd(16)}  ${'FROM'.padEnd(22)}  WHAT`;

/** One line per change: when, what kind, which version, who, from where, what it did. */
export function changeText(c: ChangeView): string {
  const version = c.version === 0n ? '-' : `v${c.version}`;
  return `${when(c.atMs).padEnd(24)}  ${c.kind.padEnd(12)}  ${version.padEnd(8)}  ${(c.by.principal || '-').padEnd(16)}  ${(c.by.peer || '-').padEnd(22)}  ${changeWhat(c)}`;
}

export function changeJson(c: ChangeView): unknown {
  return {
    at: when(c.atMs),
    kind: c.kind,
    version: c.version.toString(),
    scopes: c.scopes,
    reason: c.reason,
    publishId: c.publishId,
    details: c.details,
    by: c.by,
  };
}
