/**
 * The shared vectors of docs/CLIENTS.md (test/vectors/records.json, snapshot.json): what every
 * language's client implements from that document (python/tests/test_vectors.py reads the same
 * files). Here: the TypeScript core gives exactly the vectors' answers.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataIntegrityError, decideFromSnapshot, decodeSnapshot, recordDigest, recordProblem, sha256Hex, type DataPointer, type VersionRecord } from '../../core/index.js';

interface WireRecord {
  topic: string;
  version: string;
  publishedAtMs: number;
  metadata: Record<string, string>;
  pointer: { kind: 'direct'; size: number; sha256: string; bytes: string } | { kind: 'blob'; size: number; sha256: string; locations: { kind: 'file' | 's3'; region: string; bucket: string; key: string }[] };
}
const read = <T>(name: string): T => JSON.parse(fs.readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as T;
const records = read<{ cases: { record: WireRecord; encoding: string; digest: string }[]; problems: { record: WireRecord; digest: string; problem: string }[] }>('records.json');
const snapshot = read<{
  snapshot: string;
  decisions: { about: string; topic: string; identity: { app: string; cluster: string; region: string; nodeId: string; labels: Record<string, string> }; lastSeen: string; expect: { known: boolean; version: string | null; pinned: boolean } }[];
  refused: { about: string; snapshot: string; problem: string }[];
}>('snapshot.json');

function recordOf(w: WireRecord, digest: string): VersionRecord {
  const p = w.pointer;
  const pointer: DataPointer = p.kind === 'direct' ? { ...p, bytes: Buffer.from(p.bytes, 'base64') } : p;
  return { topic: w.topic, version: BigInt(w.version), publishedAtMs: w.publishedAtMs, metadata: w.metadata, pointer, scopes: [], digest };
}

describe('record digest vectors', () => {
  it.each(records.cases.map((c, i) => [i, c] as const))('case %i: the digest is the sha256 of the encoding', (_i, c) => {
    expect(sha256Hex(Buffer.from(c.encoding, 'utf8'))).toBe(c.digest);
    const r = recordOf(c.record, c.digest);
    expect(recordDigest(r)).toBe(c.digest);
    expect(recordProblem(r)).toBeUndefined();
  });

  it.each(records.problems.map((c) => [c.problem, c] as const))('refuses: %s', (_p, c) => {
    expect(recordProblem(recordOf(c.record, c.digest))).toBe(c.problem);
  });
});

describe('snapshot vectors', () => {
  const snap = decodeSnapshot(Buffer.from(snapshot.snapshot, 'utf8'));

  it.each(snapshot.decisions.map((d) => [d.about, d] as const))('%s', (_about, d) => {
    const got = decideFromSnapshot(snap, d.topic, d.identity, BigInt(d.lastSeen));
    expect({ known: got.known, version: got.record ? got.record.version.toString() : null, pinned: got.pinned }).toEqual(d.expect);
  });

  it.each(snapshot.refused.map((r) => [r.about, r] as const))('refuses %s', (_about, r) => {
    expect(() => decodeSnapshot(Buffer.from(r.snapshot, 'utf8'))).toThrow(DataIntegrityError);
    expect(() => decodeSnapshot(Buffer.from(r.snapshot, 'utf8'))).toThrow(r.problem);
  });
});
