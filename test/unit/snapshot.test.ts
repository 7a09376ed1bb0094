import { describe, expect, it } from 'vitest';
import { DataIntegrityError, decideFromSnapshot, decodeSnapshot, encodeSnapshot, planRestore, recordDigest, sha256Hex, type Snapshot, type SnapshotTopic, type VersionRecord } from '../../core/index.js';

function rec(version: bigint, text: string, scopes: Record<string, string>[] = [{}]): VersionRecord {
  const bytes = Buffer.from(text);
  const base = { topic: 'm', version, publishedAtMs: 1_000 + Number(version), metadata: { v: text }, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes } };
  return { ...base, scopes, digest: recordDigest(base) };
}

const id = (region: string) => ({ app: 'scorer', cluster: '', region, nodeId: 'n', labels: {} });

const snapshot: Snapshot = {
  writtenAtMs: 5_000,
  topics: [
    {
      topic: { name: 'm', owner: 'o', description: '', retention: { keepVersions: 3 }, createdAtMs: 1, latestVersion: 3n },
      heads: [
        { scope: {}, version: 2n, sinceMs: 1_002 },
        { scope: { region: 'eu' }, version: 3n, sinceMs: 1_003 },
      ],
      pins: [{ topic: 'm', scope: { region: 'us' }, version: 1n, createdAtMs: 4_000, reason: 'lkg', createdBy: 'ops' }],
      records: [rec(1n, 'one'), rec(2n, 'two'), rec(3n, 'three', [{ region: 'eu' }]), { ...rec(2n, 'blob'), version: 4n, pointer: { kind: 'blob', size: 9, sha256: 'c'.repeat(64), locations: [{ kind: 's3', region: 'eu-west-1', bucket: 'b', key: 'k' }] } }],
    },
  ],
};

describe('fallback snapshot encoding', () => {
  it('decodes to exactly what was encoded (bigints, bytes, locations, pins)', () => {
    const { bytes } = encodeSnapshot(snapshot);
    expect(decodeSnapshot(bytes)).toEqual(snapshot);
  });

  it('carries records\' signatures and topics\' trusted keys; a snapshot written before them reads with neither', () => {
    const t = snapshot.topics[0]!;
    const signature = { keyId: '0123456789abcdef', signature: Buffer.alloc(64, 9).toString('base64') };
    const signed: Snapshot = { ...snapshot, topics: [{ ...t, topic: { ...t.topic, trustedKeys: [Buffer.alloc(32, 1).toString('base64')] }, records: t.records.map((r) => ({ ...r, signature })) }] };
    expect(decodeSnapshot(encodeSnapshot(signed).bytes)).toEqual(signed);
    // As the janitor wrote it before signing: no such fields at all.
    const old = decodeSnapshot(encodeSnapshot(snapshot).bytes);
    expect('trustedKeys' in old.topics[0]!.topic).toBe(false);
    expect(old.topics[0]!.records.some((r) => 'signature' in r)).toBe(false);
  });

  it.each([
    ['one byte of the body changed', (b: Buffer) => Buffer.concat([b.subarray(0, b.length - 5), Buffer.from('X'), b.subarray(b.length - 4)])],
    ['the body cut short', (b: Buffer) => b.subarray(0, b.length - 10)],
    ['no header line', (b: Buffer) => b.subarray(b.indexOf(0x0a) + 1)],
    ['another format', (b: Buffer) => Buffer.from(b.toString().replace('imprint.snapshot.v1', 'imprint.snapshot.v0'))],
  ])('refuses a snapshot with %s', (_name, damage) => {
    const { bytes } = encodeSnapshot(snapshot);
    expect(() => decodeSnapshot(damage(bytes))).toThrow(DataIntegrityError);
  });
});

describe('decideFromSnapshot uses the service rules', () => {
  it.each([
    ['latest of the empty scope', 'ap', 0n, 2n, false],
    ['latest of a matching scope', 'eu', 0n, 3n, false],
    ['a pin, even older', 'us', 2n, 1n, true],
    ['nothing when already held', 'eu', 3n, undefined, false],
    ['never older unpinned', 'ap', 3n, undefined, false],
  ] as const)('%s', (_name, region, lastSeen, want, pinned) => {
    const d = decideFromSnapshot(snapshot, 'm', id(region), lastSeen);
    expect(d.record?.version).toBe(want);
    if (want !== undefined) expect(d.pinned).toBe(pinned);
    expect(d.known).toBe(true);
  });

  it('a target whose record the snapshot lacks is passed over as a failing one: no update with data, the newest it has below without', () => {
    const [t] = snapshot.topics;
    if (!t) throw new Error('no topic');
    const lacking: Snapshot = { ...snapshot, topics: [{ ...t, records: t.records.filter((r) => r.version !== 2n) }] };
    expect(decideFromSnapshot(lacking, 'm', id('ap'), 1n)).toEqual({ pinned: false, known: true });
    expect(decideFromSnapshot(lacking, 'm', id('ap'), 0n)).toMatchObject({ record: { version: 1n }, pinned: false, known: true });
  });

  it('knows nothing of a topic the snapshot does not have', () => {
    expect(decideFromSnapshot(snapshot, 'other', id('eu'), 0n)).toEqual({ pinned: false, known: false });
  });
});

describe('planRestore: what a restore writes back of a snapshot topic', () => {
  const topic = (): SnapshotTopic => {
    const [t] = snapshot.topics;
    if (!t) throw new Error('no topic');
    return t;
  };

  it('records that pass, oldest first; heads from them with the snapshot head times; pins of restored versions', () => {
    const plan = planRestore(topic());
    expect(plan.records.map((r) => r.version)).toEqual([1n, 2n, 3n]);
    // v4's digest was computed for another version: it is left out, and said so.
    expect(plan.leftOut).toEqual(['v4: not restored: record digest mismatch for m v4']);
    expect(plan.heads).toEqual([
      { scope: {}, version: 2n, sinceMs: 1_002 },
      { scope: { region: 'eu' }, version: 3n, sinceMs: 1_003 },
    ]);
    // A scope that is not a head any more counts from its version's publish.
    expect(plan.scopes).toEqual([
      { version: 1n, scope: {}, addedAtMs: 1_001 },
      { version: 2n, scope: {}, addedAtMs: 1_002 },
      { version: 3n, scope: { region: 'eu' }, addedAtMs: 1_003 },
    ]);
    expect(plan.pins).toEqual(topic().pins);
    expect(plan.topic).toEqual(topic().topic);
  });

  it('the counter is at least every restored version; pins and heads whose record is not restored are named', () => {
    const t = topic();
    const plan = planRestore({ ...t, topic: { ...t.topic, latestVersion: 1n }, records: t.records.filter((r) => r.version !== 1n) });
    expect(plan.topic.latestVersion).toBe(3n);
    expect(plan.pins).toEqual([]);
    expect(plan.leftOut).toContain('pin region=us -> v1: not restored: its record is not restored');
    const headless = planRestore({ ...t, records: t.records.filter((r) => r.version !== 2n) });
    expect(headless.leftOut).toContain('head * -> v2: its record is not in the snapshot, or fails its check');
    expect(headless.heads).toEqual([
      { scope: {}, version: 1n, sinceMs: 1_001 },
      { scope: { region: 'eu' }, version: 3n, sinceMs: 1_003 },
    ]);
    expect(headless.topic.latestVersion).toBe(3n);
  });
});
