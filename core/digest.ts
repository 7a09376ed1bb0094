/**
 * Record digests for consistency checks. Each stored version carries the sha256 of its
 * immutable fields; a record whose digest does not match what is read back (a torn write,
 * a partly replicated row, a hand edit) is never served.
 */
import { createHash } from 'node:crypto';
import { scopeKey } from './scope.js';
import type { DataPointer, NewVersion, Version, VersionRecord } from './types.js';

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

/**
 * What makes two publishes one publish, for retries with the same publish id: the topic, the
 * metadata, the scopes, and the payload by its size and sha256. Where the payload lies is not
 * in it: a retry that uploaded the same bytes again (under a new key) is the same publish.
 */
export function publishFingerprint(v: NewVersion): string {
  const metadata = Object.keys(v.metadata)
    .sort()
    .map((k) => [k, v.metadata[k]]);
  const scopes = [...new Set(v.scopes.map(scopeKey))].sort();
  const canonical = JSON.stringify(['imprint.v1.publish', v.topic, metadata, [v.pointer.size, v.pointer.sha256], scopes]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** For the error of a publish id used again with other content: which part differs from the version it made. */
export function publishDifference(v: NewVersion, made: VersionRecord): 'metadata' | 'payload' | 'scopes' {
  const keys = Object.keys(v.metadata);
  if (keys.length !== Object.keys(made.metadata).length || keys.some((k) => made.metadata[k] !== v.metadata[k])) return 'metadata';
  if (v.pointer.size !== made.pointer.size || v.pointer.sha256 !== made.pointer.sha256) return 'payload';
  return 'scopes';
}
