import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { publishDifference, publishFingerprint, recordDigest, recordProblem, sha256Hex } from '../../core/index.js';
import type { BlobLocation, DataPointer, DigestInput, NewVersion, VersionRecord } from '../../core/index.js';

const enc = new TextEncoder();

const LOCS: BlobLocation[] = [
  { kind: 's3', region: 'us-east-1', bucket: 'imprint-use1', key: 'trust-model/7' },
  { kind: 's3', region: 'eu-west-1', bucket: 'imprint-euw1', key: 'trust-model/7' },
];

function blobInput(over: Partial<DigestInput> = {}): DigestInput {
  return {
    topic: 'trust-model',
    version: 7n,
    publishedAtMs: 1_700_000_000_000,
    metadata: { git: 'abc123', owner: 'risk' },
    pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: LOCS },
    ...over,
  };
}

function directPointer(text: string): DataPointer {
  const bytes = enc.encode(text);
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
}

/** A consistent record: its digest written from its own fields. */
function sealed(input: DigestInput, scopes: VersionRecord['scopes'] = [{}]): VersionRecord {
  return { ...input, scopes, digest: recordDigest(input) };
}

describe('sha256Hex', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('sha256(%j) is the published test vector', (text, hex) => {
    expect(sha256Hex(enc.encode(text))).toBe(hex);
  });

  it('agrees with node:crypto on arbitrary bytes', () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
    expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('recordDigest', () => {
  it('is 64 lowercase hex digits', () => {
    expect(recordDigest(blobInput())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is deterministic', () => {
    expect(recordDigest(blobInput())).toBe(recordDigest(blobInput()));
  });

  it('does not depend on the order of metadata keys', () => {
    const a = recordDigest(blobInput({ metadata: { git: 'abc123', owner: 'risk', z: '1' } }));
    const b = recordDigest(blobInput({ metadata: { z: '1', owner: 'risk', git: 'abc123' } }));
    expect(a).toBe(b);
  });

  it('is not changed by scopes (they may grow)', () => {
    const input = blobInput();
    const r1: VersionRecord = { ...input, scopes: [{}], digest: '' };
    const r2: VersionRecord = { ...input, scopes: [{}, { region: 'eu-west-1' }, { app: 'scorer' }], digest: '' };
    expect(recordDigest(r1)).toBe(recordDigest(r2));
    expect(recordDigest(r1)).toBe(recordDigest(input));
  });

  const base = blobInput();
  it.each<[string, DigestInput]>([
    ['topic', blobInput({ topic: 'trust-model2' })],
    ['version', blobInput({ version: 8n })],
    ['publishedAtMs', blobInput({ publishedAtMs: base.publishedAtMs + 1 })],
    ['a metadata value', blobInput({ metadata: { git: 'abc124', owner: 'risk' } })],
    ['a metadata key', blobInput({ metadata: { git2: 'abc123', owner: 'risk' } })],
    ['an added metadata entry', blobInput({ metadata: { git: 'abc123', owner: 'risk', extra: '' } })],
    ['a removed metadata entry', blobInput({ metadata: { git: 'abc123' } })],
    ['size', blobInput({ pointer: { kind: 'blob', size: 1235, sha256: 'b'.repeat(64), locations: LOCS } })],
    ['sha256', blobInput({ pointer: { kind: 'blob', size: 1234, sha256: 'c'.repeat(64), locations: LOCS } })],
    [
      "a location's key",
      blobInput({ pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: [LOCS[0]!, { ...LOCS[1]!, key: 'trust-model/8' }] } }),
    ],
    [
      "a location's bucket",
      blobInput({ pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: [{ ...LOCS[0]!, bucket: 'other' }, LOCS[1]!] } }),
    ],
    [
      "a location's region",
      blobInput({ pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: [{ ...LOCS[0]!, region: 'ap-south-1' }, LOCS[1]!] } }),
    ],
    ['a dropped location', blobInput({ pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: [LOCS[0]!] } })],
    [
      'the pointer kind',
      blobInput({ pointer: { kind: 'direct', size: 1234, sha256: 'b'.repeat(64), bytes: new Uint8Array(1234) } }),
    ],
  ])('changes when %s changes', (_name, changed) => {
    expect(recordDigest(changed)).not.toBe(recordDigest(base));
  });

  it('does not confuse metadata boundaries ({a:"b,c"} vs {a:"b", c:""})', () => {
    expect(recordDigest(blobInput({ metadata: { a: 'b,c' } }))).not.toBe(recordDigest(blobInput({ metadata: { a: 'b', c: '' } })));
  });

  it('changes when the direct payload (and so its sha256) changes', () => {
    const a = recordDigest(blobInput({ pointer: directPointer('hello') }));
    const b = recordDigest(blobInput({ pointer: directPointer('hellp') }));
    expect(a).not.toBe(b);
  });
});

describe('recordProblem', () => {
  it('passes a consistent blob record', () => {
    expect(recordProblem(sealed(blobInput()))).toBeUndefined();
  });

  it('passes a consistent direct record', () => {
    expect(recordProblem(sealed(blobInput({ pointer: directPointer('{"threshold":0.7}') })))).toBeUndefined();
  });

  it('passes a record whose scopes grew after it was sealed', () => {
    const r = sealed(blobInput());
    expect(recordProblem({ ...r, scopes: [...r.scopes, { region: 'eu-west-1' }] })).toBeUndefined();
  });

  it('reports a tampered metadata value, naming topic and version', () => {
    const r = sealed(blobInput());
    const problem = recordProblem({ ...r, metadata: { ...r.metadata, git: 'evil' } });
    expect(problem).toBeTypeOf('string');
    expect(problem).toContain('trust-model');
    expect(problem).toContain('7');
  });

  it('reports a record with a changed version', () => {
    const r = sealed(blobInput());
    expect(recordProblem({ ...r, version: 8n })).toBeTypeOf('string');
  });

  it('reports a record whose digest field is not a digest of it', () => {
    const r = sealed(blobInput());
    expect(recordProblem({ ...r, digest: 'e'.repeat(64) })).toBeTypeOf('string');
    expect(recordProblem({ ...r, digest: '' })).toBeTypeOf('string');
  });

  it('reports direct bytes that do not match the sha256 (same length)', () => {
    const good = directPointer('hello');
    const r = sealed(blobInput({ pointer: good }));
    if (r.pointer.kind !== 'direct') throw new Error('unreachable');
    const problem = recordProblem({ ...r, pointer: { ...r.pointer, bytes: enc.encode('jello') } });
    expect(problem).toBeTypeOf('string');
    expect(problem).toContain('sha256');
  });

  it('reports direct bytes whose length differs from the size', () => {
    const good = directPointer('hello');
    const r = sealed(blobInput({ pointer: good }));
    if (r.pointer.kind !== 'direct') throw new Error('unreachable');
    const problem = recordProblem({ ...r, pointer: { ...r.pointer, bytes: enc.encode('hello!') } });
    expect(problem).toBeTypeOf('string');
    expect(problem).toContain('6');
    expect(problem).toContain('5');
  });

  it('reports a direct pointer sealed with a sha256 that does not match its bytes', () => {
    const bytes = enc.encode('hello');
    const input = blobInput({ pointer: { kind: 'direct', size: 5, sha256: sha256Hex(enc.encode('other')), bytes } });
    expect(recordProblem(sealed(input))).toBeTypeOf('string');
  });
});

describe('publishFingerprint: what makes two publishes one publish (for retries with a publish id)', () => {
  const base: NewVersion = { topic: 'trust-model', metadata: { git: 'abc123', owner: 'risk' }, pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: LOCS }, scopes: [{ region: 'eu' }, {}] };
  const fp = publishFingerprint(base);

  it.each<[string, NewVersion]>([
    ['the payload is elsewhere (a retry that uploaded again)', { ...base, pointer: { kind: 'blob', size: 1234, sha256: 'b'.repeat(64), locations: [{ ...LOCS[0]!, key: 'trust-model/retry' }] } }],
    ['metadata keys in another order', { ...base, metadata: { owner: 'risk', git: 'abc123' } }],
    ['scopes in another order, or repeated', { ...base, scopes: [{}, { region: 'eu' }, { region: 'eu' }] }],
    ['the publish id itself differs (it is the key, not the content)', { ...base, publishId: 'other' }],
  ])('is the same when %s', (_name, v) => {
    expect(publishFingerprint(v)).toBe(fp);
  });

  it.each<[string, NewVersion, 'metadata' | 'payload' | 'scopes' | undefined]>([
    ['a metadata value', { ...base, metadata: { git: 'def456', owner: 'risk' } }, 'metadata'],
    ['a metadata key more', { ...base, metadata: { ...base.metadata, extra: '' } }, 'metadata'],
    ['the size', { ...base, pointer: { kind: 'blob', size: 1235, sha256: 'b'.repeat(64), locations: LOCS } }, 'payload'],
    ['the sha256', { ...base, pointer: { kind: 'blob', size: 1234, sha256: 'c'.repeat(64), locations: LOCS } }, 'payload'],
    ['a scope', { ...base, scopes: [{ region: 'us' }, {}] }, 'scopes'],
    ['a scope fewer', { ...base, scopes: [{}] }, 'scopes'],
    ['the topic', { ...base, topic: 'other-model' }, undefined],
  ])('differs when %s changes, and publishDifference names it', (_name, v, differs) => {
    expect(publishFingerprint(v)).not.toBe(fp);
    const made = sealed({ topic: base.topic, version: 1n, publishedAtMs: 1, metadata: base.metadata, pointer: base.pointer }, base.scopes);
    if (differs) expect(publishDifference(v, made)).toBe(differs);
  });
});
