/**
 * The poll decision (core/poll.ts) as a table, over an in-memory source that answers either
 * at once or through promises: the same answers both ways, and no promise at all when every
 * answer is at hand.
 */
import { describe, expect, it } from 'vitest';
import {
  NotFoundError,
  OLDER_PAGE,
  olderMatches,
  decidePoll,
  recordDigest,
  sha256Hex,
  verdictOf,
  type PollDecision,
  type PollSource,
  type PollView,
  type Scope,
  type Version,
  type VersionRecord,
} from '../../core/index.js';
import { identity } from '../helpers.js';

function rec(version: Version, scopes: Scope[] = [{}]): VersionRecord {
  const bytes = Buffer.from(`v${version}`);
  const base = { topic: 't', version, publishedAtMs: 1000 + Number(version), metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes } };
  return { ...base, scopes, digest: recordDigest(base) };
}

/** The record with its digest no longer matching (as a row altered behind the store's back). */
const bad = (r: VersionRecord): VersionRecord => ({ ...r, metadata: { tampered: 'yes' } });

interface Topic extends PollView {
  readonly records: readonly VersionRecord[];
}

/** A topic whose head (scope {}) is `latest`, with records 1..latest (those in `failing` altered, those in `missing` absent). */
function topic(latest: number, opts: { failing?: number[]; missing?: number[]; pins?: PollView['pins']; scoped?: Record<number, Scope[]> } = {}): Topic {
  const records: VersionRecord[] = [];
  for (let v = 1; v <= latest; v++) {
    if (opts.missing?.includes(v)) continue;
    const r = rec(BigInt(v), opts.scoped?.[v] ?? [{}]);
    records.push(opts.failing?.includes(v) ? bad(r) : r);
  }
  return { heads: latest > 0 ? [{ scope: {}, version: BigInt(latest), sinceMs: 0 }] : [], pins: opts.pins ?? [], records };
}

/** Every answer at hand (`sync`) or promised; counts what the decision asked for. */
function source(topics: Record<string, Topic>, sync: boolean): PollSource<Topic> & { readonly asked: string[] } {
  const asked: string[] = [];
  const give = <T>(v: T): T | Promise<T> => (sync ? v : Promise.resolve(v));
  return {
    asked,
    state: (name) => {
      asked.push(`state ${name}`);
      return give(topics[name]);
    },
    record: (name, view, version) => {
      asked.push(`record ${version}`);
      return give(verdictOf(name, version, view.records.find((r) => r.version === version)));
    },
    versionsBelow: (_name, below, limit) => {
      asked.push(`below ${below}`);
      const view = topics['t'];
      return give(
        [...(view?.records ?? [])]
          .filter((r) => r.version < below)
          .sort((a, b) => Number(b.version - a.version))
          .slice(0, limit),
      );
    },
  };
}

const pin = (version: Version, scope: Scope = {}) => ({ topic: 't', scope, version, createdAtMs: 1, reason: '', createdBy: '' });

/** "v3", "v1 pinned", "none", "none (pinned)", then the versions that failed, e.g. "v2 failed:3". */
function show(d: PollDecision): string {
  const answer = d.record ? `v${d.record.version}${d.pinned ? ' pinned' : ''}` : d.pinned ? 'none (pinned)' : 'none';
  return d.failures ? `${answer} failed:${d.failures.map((f) => f.version).join(',')}` : answer;
}

describe('decidePoll', () => {
  it.each<[string, Topic, bigint, string]>([
    ['holds nothing: the latest', topic(3), 0n, 'v3'],
    ['holds an older one: the latest', topic(3), 1n, 'v3'],
    ['holds the latest: no update', topic(3), 3n, 'none'],
    ['holds one ahead of the latest: no update (never older unless pinned)', topic(3), 7n, 'none'],
    ['no version at all: no update', topic(0), 0n, 'none'],
    ['a pin to an older version: back to it, pinned', topic(3, { pins: [pin(1n)] }), 3n, 'v1 pinned'],
    ['holds the pinned version: no update, pinned', topic(3, { pins: [pin(1n)] }), 1n, 'none (pinned)'],
    ['a pin that does not match the consumer: the latest', topic(3, { pins: [pin(1n, { region: 'eu' })] }), 0n, 'v3'],
    ['the target fails, holds data: no update', topic(3, { failing: [3] }), 2n, 'none failed:3'],
    ['the target fails, holds a newer one: no update', topic(3, { failing: [3] }), 1n, 'none failed:3'],
    ['the target fails, holds nothing: the newest good one below it', topic(3, { failing: [3] }), 0n, 'v2 failed:3'],
    ['two fail, holds nothing: past both', topic(3, { failing: [2, 3] }), 0n, 'v1 failed:3,2'],
    ['the target is missing, holds nothing: the newest good one below it', topic(3, { missing: [3] }), 0n, 'v2 failed:3'],
    ['all fail, holds nothing: no update', topic(2, { failing: [1, 2] }), 0n, 'none failed:2,1'],
    ['older versions of other scopes are passed over, not counted', topic(3, { failing: [3], scoped: { 2: [{ region: 'eu' }] } }), 0n, 'v1 failed:3'],
    ['a failing pinned target, holds nothing: the newest good one below it, not pinned', topic(3, { failing: [2], pins: [pin(2n)] }), 0n, 'v1 failed:2'],
  ])('%s', async (_name, t, lastSeen, expected) => {
    const now = decidePoll(source({ t }, true), 't', identity(), lastSeen);
    expect(now).not.toBeInstanceOf(Promise);
    expect(show(now as PollDecision)).toBe(expected);
    const later = decidePoll(source({ t }, false), 't', identity(), lastSeen);
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toEqual(now);
  });

  it('asks only for what it needs: no record when no update is due, no older records when the target passes', () => {
    const up = source({ t: topic(3) }, true);
    decidePoll(up, 't', identity(), 3n);
    expect(up.asked).toEqual(['state t']);
    const update = source({ t: topic(3, { failing: [1] }) }, true);
    decidePoll(update, 't', identity(), 0n);
    expect(update.asked).toEqual(['state t', 'record 3']);
  });

  it(`reads older records ${OLDER_PAGE} at a time until one passes`, () => {
    const failing = Array.from({ length: 250 }, (_, i) => i + 51); // 51..300 fail
    const s = source({ t: topic(300, { failing }) }, true);
    const d = decidePoll(s, 't', identity(), 0n) as PollDecision;
    expect(d.record?.version).toBe(50n);
    expect(d.failures).toHaveLength(250);
    expect(s.asked).toEqual(['state t', 'record 300', 'below 300', 'below 200', 'below 100']);
  });

  it('an unknown topic is NOT_FOUND: thrown at once from a source at hand, rejected from a promising one', async () => {
    expect(() => decidePoll(source({}, true), 'ghost', identity(), 0n)).toThrow(NotFoundError);
    expect(() => decidePoll(source({}, true), 'ghost', identity(), 0n)).toThrow('topic "ghost" does not exist');
    await expect(decidePoll(source({}, false), 'ghost', identity(), 0n)).rejects.toThrow(NotFoundError);
  });
});

describe('olderMatches (the rule step 4 and the Subscriber start-up choose older versions by)', () => {
  const attrs = { region: 'eu-west-1', cluster: 'c1', app: 'scorer' };
  it.each([
    ['a record for everyone', [{}], undefined, true],
    ['a record for this region', [{ region: 'eu-west-1' }], undefined, true],
    ['a record for another region only', [{ region: 'us-east-1' }], undefined, false],
    ['a record for another region or this cluster', [{ region: 'us-east-1' }, { cluster: 'c1' }], undefined, true],
    ['a record published after the time asked about', [{}], 1000, false],
    ['a record published at the time asked about', [{}], 1002, true],
  ] as const)('%s: %s', (_what, scopes, atMs, expected) => {
    expect(olderMatches(rec(2n, [...scopes]), attrs, atMs)).toBe(expected);
  });
});
