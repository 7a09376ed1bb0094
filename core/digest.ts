/**
 * Record digests for consistency checks. Each stored version carries the sha256 of its
 * immutable fields; a record whose digest does not match what is read back (a torn write,
 * a partly replicated row, a hand edit) is never served.
 */
import { createHash } from 'node:crypto';
import type { DataPointer, Version, VersionRecord } from './types.js';

export interface DigestInput {
  readonly topic: string;
  readonly version: Version;
  readonly publishedAtMs: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly pointer: DataPointer;
}

/** sha256 (hex) of a canonical encoding of the fields that never change. Scopes are not in it: they may grow. */
export function recordDigest(r: DigestInput): string {
  const metadata = Object.keys(r.metadata)
    .sort()
    .map((k) => [k, r.metadata[k]]);
  const p = r.pointer;
  const pointer =
    p.kind === 'direct'
      ? ['direct', p.size, p.sha256]
      : ['blob', p.size, p.sha256, p.locations.map((l) => [l.kind, l.region, l.bucket, l.key])];
  const canonical = JSON.stringify(['imprint.v1.record', r.topic, r.version.toString(), r.publishedAtMs, metadata, pointer]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Why a record fails its consistency check, or undefined when it passes. */
export function recordProblem(r: VersionRecord): string | undefined {
  if (r.digest !== recordDigest(r)) return `record digest mismatch for ${r.topic} v${r.version}`;
  if (r.pointer.kind === 'direct') {
    if (r.pointer.bytes.length !== r.pointer.size) return `direct payload of ${r.topic} v${r.version} has ${r.pointer.bytes.length} bytes, pointer says ${r.pointer.size}`;
    if (sha256Hex(r.pointer.bytes) !== r.pointer.sha256) return `direct payload of ${r.topic} v${r.version} does not match its sha256`;
  }
  return undefined;
}
