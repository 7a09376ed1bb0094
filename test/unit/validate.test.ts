import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SNAPSHOT_PREFIX,
  isTopicKey,
  topicKey,
  validateSnapshotPrefix,
  MAX_DIRECT_BYTES,
  MAX_PAYLOAD_SIZE,
  MAX_RETENTION,
  checkRange,
  MAX_METADATA_ENTRIES,
  MAX_METADATA_VALUE,
  MAX_SCOPES_PER_VERSION,
  parseVersion,
  validateMetadata,
  validateNewVersion,
  validatePointer,
  validatePublishId,
  validateRetention,
  validateText,
  validateTopicName,
} from '../../core/index.js';
import type { BlobLocation, DataPointer, NewVersion, Retention } from '../../core/index.js';
import { invalid } from './util.js';

const SHA = 'a'.repeat(64);

function direct(bytes: Uint8Array, over: Partial<{ size: number; sha256: string }> = {}): DataPointer {
  return { kind: 'direct', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), bytes, ...over };
}

function loc(over: Partial<BlobLocation> = {}): BlobLocation {
  return { kind: 's3', region: 'us-east-1', bucket: 'imprint-data', key: 'trust-model/1', ...over };
}

function blob(locations: BlobLocation[], over: Partial<{ size: number; sha256: string }> = {}): DataPointer {
  return { kind: 'blob', size: 10, sha256: SHA, locations, ...over };
}

describe('validateTopicName', () => {
  it.each([
    'a',
    '0',
    'trust-model',
    'reputation.table_v2',
    '9lives',
    'a'.repeat(128),
    `a${'-._'.repeat(42)}`, // 127 characters, punctuation after the first
  ])('accepts %j', (name) => {
    expect(validateTopicName(name)).toBe(name);
  });

  it.each([
    ['', 'empty'],
    ['Trust', 'uppercase'],
    ['trustModel', 'uppercase inside'],
    ['-trust', 'leading "-"'],
    ['.trust', 'leading "."'],
    ['_trust', 'leading "_"'],
    ['a'.repeat(129), '129 characters'],
    ['trust model', 'a space'],
    ['trust/model', 'a slash'],
    ['trüst', 'a non-ASCII letter'],
  ])('rejects %j (%s)', (name) => {
    const err = invalid(() => validateTopicName(name));
    expect(err.field).toBe('topic');
  });

  it('names the field it is given', () => {
    expect(invalid(() => validateTopicName('X', 'topics[3]')).field).toBe('topics[3]');
  });

  it('refuses the snapshot prefix: no topic owns the snapshots\' keys', () => {
    expect(SNAPSHOT_PREFIX).toBe('imprint-snapshots');
    expect(invalid(() => validateTopicName('imprint-snapshots')).rule).toMatch(/reserved/);
    expect(validateTopicName('imprint-snapshots2')).toBe('imprint-snapshots2');
  });
});

describe('topic keys (where a topic\'s objects live)', () => {
  it.each<[string, string, boolean]>([
    ['model', 'model/2026-x', true],
    ['model', topicKey('model', 'a/b'), true],
    ['model', 'model/', false],
    ['model', 'model', false],
    ['model', 'model2/x', false],
    ['model', 'other/x', false],
    ['model', 'imprint-snapshots/LATEST', false],
    ['model', 'model/../other/x', false],
    ['model', 'model/./x', false],
    ['model', 'model//x', false],
    ['model', 'model/x/', false],
    ['model', '/model/x', false],
    ['model', 'model/a..b', true],
    ['a.b', 'a.b/x', true],
    ['a.b', 'a-b/x', false],
  ])('topic %j, key %j: %s', (topic, key, ok) => {
    expect(isTopicKey(topic, key)).toBe(ok);
  });

  it.each([
    ['imprint-snapshots', true],
    ['_snapshots', true],
    ['.imprint/snapshots', true],
    ['_snap/shots', true],
    ['snapshots', false], // a topic could be named so
    ['models/snapshots', false],
    ['', false],
    ['_snap/', false],
    ['_snap/../x', false],
  ])('snapshot prefix %j: %s', (prefix, ok) => {
    if (ok) expect(validateSnapshotPrefix(prefix)).toBe(prefix);
    else expect(invalid(() => validateSnapshotPrefix(prefix)).field).toBe('prefix');
  });
});

describe('validateRetention', () => {
  it.each<Retention>([{}, { keepVersions: 1 }, { keepDays: 1 }, { keepVersions: 10, keepDays: 30 }, { keepVersions: undefined }])(
    'accepts %j',
    (r) => {
      expect(validateRetention(r)).toBe(r);
    },
  );

  it.each<[Retention, string]>([
    [{ keepVersions: 0 }, 'retention.keepVersions'],
    [{ keepVersions: -1 }, 'retention.keepVersions'],
    [{ keepVersions: 1.5 }, 'retention.keepVersions'],
    [{ keepVersions: Number.NaN }, 'retention.keepVersions'],
    [{ keepDays: 0 }, 'retention.keepDays'],
    [{ keepDays: -1 }, 'retention.keepDays'],
    [{ keepDays: 1.5 }, 'retention.keepDays'],
    [{ keepDays: Number.POSITIVE_INFINITY }, 'retention.keepDays'],
    [{ keepVersions: 3, keepDays: 0 }, 'retention.keepDays'],
    [{ keepVersions: MAX_RETENTION + 1 }, 'retention.keepVersions'],
    [{ keepDays: 4294967295 }, 'retention.keepDays'],
  ])('rejects %j on %s', (r, field) => {
    expect(invalid(() => validateRetention(r)).field).toBe(field);
  });
});

describe('validateText', () => {
  it('accepts up to max characters and rejects one more', () => {
    expect(validateText('abc', 'description', 3)).toBe('abc');
    const err = invalid(() => validateText('abcd', 'description', 3));
    expect(err.field).toBe('description');
    expect(err.message).toContain('3');
  });
});

describe('validateMetadata', () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

  it.each<[string, Record<string, string>]>([
    ['empty', {}],
    ['exactly the maximum number of entries', many(MAX_METADATA_ENTRIES)],
    ['a key with ._:/-', { 'git.sha/short_x:y-z': 'abc' }],
    ['an empty value', { note: '' }],
    ['a value of the maximum length', { note: 'x'.repeat(MAX_METADATA_VALUE) }],
    ['a 128-character key', { ['k'.repeat(128)]: 'v' }],
  ])('accepts %s', (_name, md) => {
    expect(validateMetadata(md)).toBe(md);
  });

  it.each<[string, Record<string, string>, string]>([
    ['one entry too many', many(MAX_METADATA_ENTRIES + 1), 'metadata'],
    ['a key starting with "-"', { '-x': 'v' }, 'metadata'],
    ['a key with a space', { 'my key': 'v' }, 'metadata'],
    ['an empty key', { '': 'v' }, 'metadata'],
    ['a 129-character key', { ['k'.repeat(129)]: 'v' }, 'metadata'],
    ['a value one character too long', { note: 'x'.repeat(MAX_METADATA_VALUE + 1) }, 'metadata.note'],
  ])('rejects %s', (_name, md, field) => {
    expect(invalid(() => validateMetadata(md)).field).toBe(field);
  });

  it('the max-entries constant is 64 and the max value 4096', () => {
    expect(MAX_METADATA_ENTRIES).toBe(64);
    expect(MAX_METADATA_VALUE).toBe(4096);
  });
});

describe('validatePointer', () => {
  it('MAX_DIRECT_BYTES is 1 MiB', () => {
    expect(MAX_DIRECT_BYTES).toBe(1024 * 1024);
  });

  it.each<[string, DataPointer]>([
    ['a one-byte direct payload', direct(new Uint8Array([7]))],
    ['a direct payload of exactly 1 MiB', direct(new Uint8Array(MAX_DIRECT_BYTES))],
    ['a blob with one s3 location', blob([loc()])],
    ['a blob with one location per region', blob([loc(), loc({ region: 'eu-west-1' })])],
    ['a file location without a region', blob([loc({ kind: 'file', region: '', bucket: '/var/lib/imprint' })])],
    ['a key with ".." inside a segment', blob([loc({ key: 'a..b/c' })])],
  ])('accepts %s', (_name, p) => {
    expect(validatePointer(p)).toBe(p);
  });

  it.each<[string, DataPointer, string]>([
    ['empty direct bytes', direct(new Uint8Array(0), { size: 1 }), 'pointer.direct'],
    ['empty direct bytes and size 0', direct(new Uint8Array(0)), 'pointer.size'],
    ['direct bytes of MAX_DIRECT_BYTES + 1', direct(new Uint8Array(MAX_DIRECT_BYTES + 1)), 'pointer.direct'],
    ['a size that differs from the direct bytes', direct(new Uint8Array(5), { size: 6 }), 'pointer.size'],
    ['a negative size', blob([loc()], { size: -1 }), 'pointer.size'],
    ['a fractional size', blob([loc()], { size: 1.5 }), 'pointer.size'],
    ['a size above 2^53-1', blob([loc()], { size: MAX_PAYLOAD_SIZE + 1 }), 'pointer.size'],
    ['an uppercase sha256', blob([loc()], { sha256: 'A'.repeat(64) }), 'pointer.sha256'],
    ['a 63-digit sha256', blob([loc()], { sha256: 'a'.repeat(63) }), 'pointer.sha256'],
    ['a non-hex sha256', blob([loc()], { sha256: 'g'.repeat(64) }), 'pointer.sha256'],
    ['a blob without locations', blob([]), 'pointer.blob.locations'],
    ['two locations in one region', blob([loc(), loc({ bucket: 'other' })]), 'pointer.blob.locations[1].region'],
    ['a key with a ".." segment', blob([loc({ key: 'topic/../etc/passwd' })]), 'pointer.blob.locations[0].key'],
    ['a key that is ".."', blob([loc({ key: '..' })]), 'pointer.blob.locations[0].key'],
    ['an empty key', blob([loc({ key: '' })]), 'pointer.blob.locations[0].key'],
    ['an s3 location without region', blob([loc({ region: '' })]), 'pointer.blob.locations[0].region'],
    ['an empty bucket', blob([loc({ bucket: '' })]), 'pointer.blob.locations[0].bucket'],
    ['an unknown location kind', blob([loc({ kind: 'ftp' as 's3' })]), 'pointer.blob.locations[0].kind'],
  ])('rejects %s', (_name, p, field) => {
    expect(invalid(() => validatePointer(p)).field).toBe(field);
  });

  it('the oversize error says how many bytes it got and where larger payloads go', () => {
    const err = invalid(() => validatePointer(direct(new Uint8Array(MAX_DIRECT_BYTES + 1))));
    expect(err.message).toContain(`${MAX_DIRECT_BYTES + 1} bytes`);
    expect(err.message).toContain('blob');
  });
});

describe('validateNewVersion', () => {
  const base: NewVersion = { topic: 'trust-model', metadata: { git: 'abc' }, pointer: blob([loc()]), scopes: [] };

  it('no scopes means the empty scope', () => {
    expect(validateNewVersion(base).scopes).toEqual([{}]);
  });

  it('keeps the other fields', () => {
    const out = validateNewVersion(base);
    expect(out.topic).toBe('trust-model');
    expect(out.metadata).toBe(base.metadata);
    expect(out.pointer).toBe(base.pointer);
  });

  it('removes duplicate scopes, whatever their key order', () => {
    const out = validateNewVersion({
      ...base,
      scopes: [{ region: 'eu', app: 'x' }, { region: 'us' }, { app: 'x', region: 'eu' }, { region: 'us' }],
    });
    expect(out.scopes).toEqual([{ region: 'eu', app: 'x' }, { region: 'us' }]);
  });

  it.each<[string, NewVersion, string]>([
    ['a bad topic', { ...base, topic: 'Bad' }, 'topic'],
    ['bad metadata', { ...base, metadata: { '-k': 'v' } }, 'metadata'],
    ['a bad pointer', { ...base, pointer: blob([]) }, 'pointer.blob.locations'],
    ["a key outside the topic's prefix", { ...base, pointer: blob([loc(), loc({ region: 'eu-west-1', key: 'other-topic/1' })]) }, 'pointer.blob.locations[1].key'],
    ['a bad scope value', { ...base, scopes: [{ region: 'eu' }, { region: 'a b' }] }, 'scopes[1].region'],
    ['a bad scope key', { ...base, scopes: [{ '-r': 'eu' }] }, 'scopes[0]'],
    [
      'too many scopes',
      { ...base, scopes: Array.from({ length: MAX_SCOPES_PER_VERSION + 1 }, (_, i) => ({ n: String(i) })) },
      'scopes',
    ],
  ])('rejects %s', (_name, v, field) => {
    expect(invalid(() => validateNewVersion(v)).field).toBe(field);
  });

  it('accepts exactly MAX_SCOPES_PER_VERSION distinct scopes', () => {
    const scopes = Array.from({ length: MAX_SCOPES_PER_VERSION }, (_, i) => ({ n: String(i) }));
    expect(validateNewVersion({ ...base, scopes }).scopes).toHaveLength(MAX_SCOPES_PER_VERSION);
  });
});

describe('parseVersion', () => {
  it.each<[string, bigint]>([
    ['1', 1n],
    ['42', 42n],
    ['9007199254740993', 9007199254740993n], // above Number.MAX_SAFE_INTEGER: must not go through a number
    ['9223372036854775807', 9223372036854775807n], // 2^63-1: both stores hold signed 64-bit
  ])('parses %j', (text, v) => {
    const got = parseVersion(text);
    expect(typeof got).toBe('bigint');
    expect(got).toBe(v);
  });

  it.each([
    ['0', 'zero'],
    ['-1', 'negative'],
    ['abc', 'not a number'],
    ['', 'empty'],
    ['1.5', 'fractional'],
    [' 1', 'a leading blank'],
    ['0x10', 'hex'],
    ['1e3', 'exponent'],
    ['9223372036854775808', '2^63'],
    ['18446744073709551615', '2^64-1'],
    ['18446744073709551616', '2^64'],
    ['99999999999999999999', '20 nines'],
    ['123456789012345678901', '21 digits'],
  ])('rejects %j (%s)', (text) => {
    expect(invalid(() => parseVersion(text)).field).toBe('version');
  });

  it('names the field it is given', () => {
    expect(invalid(() => parseVersion('0', 'lastSeen')).field).toBe('lastSeen');
  });
});

describe('checkRange', () => {
  it.each<[number | bigint, number | bigint, number | bigint]>([
    [1, 1, 3],
    [3, 1, 3],
    [9223372036854775807n, 1n, 9223372036854775807n],
  ])('accepts %s in [%s, %s]', (v, min, max) => {
    expect(checkRange(v, 'f', min, max)).toBe(v);
  });

  it.each<[number | bigint, string]>([
    [0, 'f must be a whole number between 1 and 3 (got 0)'],
    [4, 'f must be a whole number between 1 and 3 (got 4)'],
    [1.5, 'f must be a whole number between 1 and 3 (got 1.5)'],
    [Number.NaN, 'f must be a whole number between 1 and 3 (got NaN)'],
    [Number.POSITIVE_INFINITY, 'f must be a whole number between 1 and 3 (got Infinity)'],
  ])('refuses %s, naming the field, the range and the value', (v, message) => {
    const err = invalid(() => checkRange(v, 'f', 1, 3));
    expect(err.field).toBe('f');
    expect(err.message).toBe(message);
  });

  it('shows a 64-bit value exactly', () => {
    expect(invalid(() => checkRange(18446744073709551615n, 'version', 1n, 9223372036854775807n)).message).toBe('version must be a whole number between 1 and 9223372036854775807 (got 18446744073709551615)');
  });
});

describe('validatePublishId', () => {
  it.each(['', 'build-1234', 'ci:pipeline.7', 'A_b.c:d-e', 'x'.repeat(128)])('accepts %j', (id) => {
    expect(validatePublishId(id)).toBe(id);
  });

  it.each(['has space', 'slash/inside', 'x'.repeat(129), 'é', 'tab\t'])('refuses %j, naming publish_id', (id) => {
    const e = invalid(() => validatePublishId(id));
    expect(e.field).toBe('publish_id');
    expect(e.message).toMatch(/^publish_id must be 1-128 characters of A-Z, a-z, 0-9, "\.", "_", ":" or "-"/);
  });

  it('is checked with the rest of a publish, and named as the caller names it', () => {
    const v: NewVersion = { topic: 't', metadata: {}, pointer: direct(new Uint8Array([1])), scopes: [], publishId: 'no spaces please' };
    expect(invalid(() => validateNewVersion(v)).field).toBe('publish_id');
    expect(invalid(() => validatePublishId('a b', 'publishId')).field).toBe('publishId');
  });
});
