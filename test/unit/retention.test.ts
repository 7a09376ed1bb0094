import { describe, expect, it } from 'vitest';
import { retentionDecision } from '../../core/index.js';
import type { KeepReason, Pin, RetentionCandidate, RetentionInput, Scope, Version } from '../../core/index.js';

const DAY_MS = 86_400_000;
const NOW = 1_000 * DAY_MS;

/** A version published `ageMs` before NOW. */
const v = (version: Version, ageMs: number, scopes: Scope[] = [{}]): RetentionCandidate => ({ version, publishedAtMs: NOW - ageMs, scopes });
const pin = (version: Version, scope: Scope = {}): Pin => ({ topic: 't', scope, version, createdAtMs: 0, reason: '', createdBy: '' });

function decide(over: Partial<RetentionInput> & Pick<RetentionInput, 'versions'>) {
  const out = retentionDecision({ retention: {}, pins: [], nowMs: NOW, ...over });
  // every version is decided exactly once
  const all = [...out.keep.keys(), ...out.purge].map(String).sort();
  expect(all).toEqual(over.versions.map((c) => String(c.version)).sort());
  return out;
}

/** Five versions, one a day apart (v5 newest, 1 day old), all to the empty scope. */
const fiveDaily = (scopes: (n: number) => Scope[] = () => [{}]) =>
  [1, 2, 3, 4, 5].map((n) => v(BigInt(n), (6 - n) * DAY_MS, scopes(n)));

describe('retentionDecision', () => {
  it('no limits: everything is kept within retention', () => {
    const { keep, purge } = decide({ versions: fiveDaily(), retention: {} });
    expect(purge).toEqual([]);
    expect([...keep.entries()].sort((a, b) => Number(a[0] - b[0]))).toEqual([
      [1n, 'within-retention'],
      [2n, 'within-retention'],
      [3n, 'within-retention'],
      [4n, 'within-retention'],
      [5n, 'within-retention'],
    ]);
  });

  it('no versions: nothing to do', () => {
    const { keep, purge } = decide({ versions: [], retention: { keepVersions: 1 } });
    expect(keep.size).toBe(0);
    expect(purge).toEqual([]);
  });

  it('keepVersions=2 over five versions of one scope: 5 and 4 kept, 3, 2, 1 purged', () => {
    const { keep, purge } = decide({ versions: fiveDaily(), retention: { keepVersions: 2 } });
    expect(keep.get(5n)).toBe('within-retention');
    expect(keep.get(4n)).toBe('within-retention');
    expect(keep.size).toBe(2);
    expect(purge).toEqual([3n, 2n, 1n]);
  });

  it('keepVersions=2: the latest of another scope is kept as latest-of-scope', () => {
    const versions = fiveDaily((n) => (n === 2 ? [{ region: 'eu-west-1' }] : [{}]));
    const { keep, purge } = decide({ versions, retention: { keepVersions: 2 } });
    expect(keep.get(5n)).toBe('within-retention');
    expect(keep.get(4n)).toBe('within-retention');
    expect(keep.get(2n)).toBe('latest-of-scope');
    expect(purge).toEqual([3n, 1n]);
  });

  it('only the newest version of a scope is its latest', () => {
    const eu = { region: 'eu-west-1' };
    const versions = fiveDaily((n) => (n === 1 || n === 3 ? [eu] : [{}]));
    const { keep, purge } = decide({ versions, retention: { keepVersions: 1 } });
    expect(keep.get(3n)).toBe('latest-of-scope');
    expect(purge).toEqual([4n, 2n, 1n]);
  });

  it('scopes are compared canonically (key order does not make a new scope)', () => {
    const versions = [v(1n, 3 * DAY_MS, [{ app: 'a', region: 'r' }]), v(2n, 2 * DAY_MS, [{ region: 'r', app: 'a' }]), v(3n, DAY_MS)];
    const { keep, purge } = decide({ versions, retention: { keepVersions: 1 } });
    expect(keep.get(2n)).toBe('latest-of-scope');
    expect(purge).toEqual([1n]);
  });

  it('a version attached to several scopes is the latest of each', () => {
    const versions = [
      v(1n, 4 * DAY_MS, [{ region: 'eu' }]),
      v(2n, 3 * DAY_MS, [{ region: 'us' }]),
      v(3n, 2 * DAY_MS, [{ region: 'eu' }, { region: 'us' }]),
      v(4n, 1 * DAY_MS),
    ];
    const { keep, purge } = decide({ versions, retention: { keepVersions: 1 } });
    expect(keep.get(3n)).toBe('latest-of-scope');
    expect(purge).toEqual([2n, 1n]);
  });

  it.each<[string, number, boolean]>([
    ['one ms younger than keepDays', 7 * DAY_MS - 1, true],
    ['exactly keepDays old (not younger)', 7 * DAY_MS, false],
    ['one ms older than keepDays', 7 * DAY_MS + 1, false],
    ['published now', 0, true],
  ])('keepDays=7, a version %s: kept=%s', (_name, ageMs, kept) => {
    // v1 is the one under test; v2 (newer, same scope) is the latest of the scope.
    const { keep, purge } = decide({ versions: [v(1n, ageMs), v(2n, 0)], retention: { keepDays: 7 } });
    if (kept) {
      expect(keep.get(1n)).toBe('within-retention');
      expect(purge).toEqual([]);
    } else {
      expect(keep.has(1n)).toBe(false);
      expect(purge).toEqual([1n]);
    }
    expect(keep.get(2n)).toBe('within-retention');
  });

  it('keepDays only: old versions go even when few, but the latest of the scope stays', () => {
    const versions = [v(1n, 30 * DAY_MS), v(2n, 20 * DAY_MS), v(3n, 10 * DAY_MS)];
    const { keep, purge } = decide({ versions, retention: { keepDays: 7 } });
    expect(keep.get(3n)).toBe('latest-of-scope');
    expect(purge).toEqual([2n, 1n]);
  });

  // v4 0.5 days old, v3 2 days, v2 4 days, v1 5 days.
  const aged = [v(1n, 5 * DAY_MS), v(2n, 4 * DAY_MS), v(3n, 2 * DAY_MS), v(4n, DAY_MS / 2)];
  it.each<[string, { keepVersions: number; keepDays: number }, Version[], Version[]]>([
    ['count keeps 1, days keep 2', { keepVersions: 1, keepDays: 3 }, [4n, 3n], [2n, 1n]],
    ['count keeps 3, days keep 1', { keepVersions: 3, keepDays: 1 }, [4n, 3n, 2n], [1n]],
    ['both keep 2', { keepVersions: 2, keepDays: 3 }, [4n, 3n], [2n, 1n]],
    ['days keep everything', { keepVersions: 1, keepDays: 6 }, [4n, 3n, 2n, 1n], []],
  ])('both limits set (%s): kept while either keeps it', (_name, retention, kept, purged) => {
    const { keep, purge } = decide({ versions: aged, retention });
    for (const k of kept) expect(keep.get(k)).toBe('within-retention');
    expect(keep.size).toBe(kept.length);
    expect(purge).toEqual(purged);
  });

  it('a pinned old version is kept with reason pinned', () => {
    const { keep, purge } = decide({ versions: fiveDaily(), retention: { keepVersions: 1 }, pins: [pin(2n, { region: 'eu' })] });
    expect(keep.get(2n)).toBe('pinned');
    expect(keep.get(5n)).toBe('within-retention');
    expect(purge).toEqual([4n, 3n, 1n]);
  });

  it('protected versions are kept with reason protected', () => {
    const { keep, purge } = decide({ versions: fiveDaily(), retention: { keepVersions: 1 }, protectedVersions: [3n, 1n] });
    expect(keep.get(3n)).toBe('protected');
    expect(keep.get(1n)).toBe('protected');
    expect(purge).toEqual([4n, 2n]);
  });

  it('pins and protected versions that are not candidates change nothing', () => {
    const { keep, purge } = decide({
      versions: fiveDaily(),
      retention: { keepVersions: 2 },
      pins: [pin(99n)],
      protectedVersions: [100n],
    });
    expect(keep.size).toBe(2);
    expect(purge).toEqual([3n, 2n, 1n]);
  });

  it.each<[string, Partial<RetentionInput>, Version, KeepReason]>([
    ['within retention before latest-of-scope', { retention: { keepVersions: 1 } }, 5n, 'within-retention'],
    ['within retention before pinned', { retention: { keepVersions: 2 }, pins: [pin(4n)] }, 4n, 'within-retention'],
    ['latest-of-scope before pinned', { retention: { keepVersions: 1 }, pins: [pin(2n)] }, 2n, 'latest-of-scope'],
    ['pinned before protected', { retention: { keepVersions: 1 }, pins: [pin(3n)], protectedVersions: [3n] }, 3n, 'pinned'],
  ])('gives the first reason: %s', (_name, over, version, reason) => {
    const versions = fiveDaily((n) => (n === 2 ? [{ region: 'eu' }] : [{}]));
    const { keep } = decide({ ...over, versions });
    expect(keep.get(version)).toBe(reason);
  });

  it('the purge list is newest first whatever the input order, and the count limit follows version order', () => {
    const versions = [v(2n, 4 * DAY_MS), v(6n, 0), v(1n, 5 * DAY_MS), v(4n, 2 * DAY_MS), v(3n, 3 * DAY_MS), v(5n, DAY_MS)];
    const { keep, purge } = decide({ versions, retention: { keepVersions: 2 } });
    expect([...keep.keys()].sort((a, b) => Number(a - b))).toEqual([5n, 6n]);
    expect(purge).toEqual([4n, 3n, 2n, 1n]);
  });

  it('works with versions beyond 2^53', () => {
    const big = 2n ** 60n;
    const versions = [v(big, 2 * DAY_MS), v(big + 1n, DAY_MS), v(big + 2n, 0)];
    const { keep, purge } = decide({ versions, retention: { keepVersions: 1 }, pins: [pin(big)] });
    expect(keep.get(big + 2n)).toBe('within-retention');
    expect(keep.get(big)).toBe('pinned');
    expect(purge).toEqual([big + 1n]);
  });
});
