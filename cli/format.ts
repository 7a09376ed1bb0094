/** How the CLI shows domain values: plain text for people, JSON (--json) for scripts. */
import { scopeKey, type Pin, type Scope, type Topic, type VersionRecord } from '../core/index.js';

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
    `  scopes   ${r.scopes.map(scopeText).join('  ')}`,
    ...(meta ? [`  metadata ${meta}`] : []),
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
    `  created     ${when(t.createdAtMs)}`,
  ].join('\n');
}

export function pinText(p: Pin): string {
  return `${p.topic}  scope ${scopeText(p.scope)}  -> v${p.version}  since ${when(p.createdAtMs)}${p.createdBy ? `  by ${p.createdBy}` : ''}${p.reason ? `  (${p.reason})` : ''}`;
}
