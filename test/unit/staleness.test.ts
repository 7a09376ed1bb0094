/** Staleness contracts (core/staleness.ts): the limits' rules, the overdue and violated rules, the snapshot, the store-read status cache. */
import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  MAX_CONTRACT_MS,
  MIN_CONTRACT_MS,
  contractViolated,
  decideFromSnapshot,
  decodeSnapshot,
  encodeSnapshot,
  lastPublishMs,
  publishOverdue,
  publishStatusOf,
  recordDigest,
  sha256Hex,
  validateContract,
  type ScopeHead,
  type Snapshot,
  type Topic,
} from '../../core/index.js';
import { contractMsFromWire } from '../../proto/convert.js';
import { StorePublishStatus } from '../../server/publish-status.js';
import { SqliteMetadataStore } from '../../server/store/sqlite.js';
import { CountingStore } from '../counting-store.js';

const HOUR = 3_600_000;
const topic = (over: Partial<Topic> = {}): Topic => ({ name: 't', owner: '', description: '', retention: {}, createdAtMs: 1_000, latestVersion: 0n, ...over });

/** The error `fn` throws, for its message. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('validateContract', () => {
  it('takes each limit from 1 minute to 365 days, absent for none', () => {
    expect(validateContract({})).toEqual({});
    expect(validateContract({ expectEveryMs: MIN_CONTRACT_MS, maxStalenessMs: MAX_CONTRACT_MS })).toEqual({ expectEveryMs: 60_000, maxStalenessMs: 31_536_000_000 });
  });

  it.each([
    [{ expectEveryMs: 59_999 }, 'expect_every_ms'],
    [{ maxStalenessMs: MAX_CONTRACT_MS + 1 }, 'max_staleness_ms'],
    [{ expectEveryMs: 90_000.5 }, 'expect_every_ms'],
    [{ maxStalenessMs: -HOUR }, 'max_staleness_ms'],
  ])('refuses %j naming %s and the range', (c, field) => {
    const err = thrown(() => validateContract(c));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toContain(field);
    expect(err.message).toContain('from 60000 (1 minute) to 31536000000 (365 days)');
  });

  it('refuses a max-staleness below the expect-every, in the names the caller gives', () => {
    expect(thrown(() => validateContract({ expectEveryMs: 2 * HOUR, maxStalenessMs: HOUR })).message).toBe(
      `max_staleness_ms must not be below expect_every_ms (7200000) (got 3600000)`,
    );
    expect(thrown(() => validateContract({ expectEveryMs: 2 * HOUR, maxStalenessMs: HOUR }, { expectEveryMs: 'expect-every', maxStalenessMs: 'max-staleness' })).message).toContain(
      'max-staleness must not be below expect-every',
    );
    expect(validateContract({ expectEveryMs: HOUR, maxStalenessMs: HOUR })).toEqual({ expectEveryMs: HOUR, maxStalenessMs: HOUR });
  });

  it('the wire: 0 is none; a number out of range or not a number names the wire field', () => {
    expect(contractMsFromWire('0', 'expect_every_ms')).toBe(0);
    expect(contractMsFromWire('3600000', 'expect_every_ms')).toBe(HOUR);
    expect(thrown(() => contractMsFromWire('-1', 'max_staleness_ms')).message).toContain('max_staleness_ms must be 0 (none)');
    expect(thrown(() => contractMsFromWire('99999999999999999999', 'expect_every_ms'))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('publishOverdue (the overdue rule)', () => {
  const hourly = topic({ expectEveryMs: HOUR, createdAtMs: 0 });
  it.each([
    ['no expect-every: never overdue', topic(), 10, 100 * HOUR, 0],
    ['published within the hour', hourly, 5 * HOUR, 5 * HOUR + HOUR, 0],
    ['exactly expect-every after the publish: still on time', hourly, 5 * HOUR, 6 * HOUR, 0],
    ['a millisecond later: overdue since publish + expect-every', hourly, 5 * HOUR, 6 * HOUR + 1, 6 * HOUR],
    ['never published: from its creation', hourly, undefined, HOUR + 1, HOUR],
    ['never published, created within the hour', hourly, undefined, HOUR, 0],
    ['deleted: nobody publishes to it, never overdue', topic({ expectEveryMs: HOUR, createdAtMs: 0, deletedAtMs: 2 * HOUR }), undefined, 100 * HOUR, 0],
  ])('%s', (_name, t, last, now, want) => {
    expect(publishOverdue(t, last, now)).toBe(want);
  });

  it("the latest publish is the earliest time a head of the latest version has (scopes added later do not count)", () => {
    const t = topic({ latestVersion: 3n, expectEveryMs: HOUR });
    const heads: ScopeHead[] = [
      { scope: {}, version: 2n, sinceMs: 900 },
      { scope: { region: 'eu' }, version: 3n, sinceMs: 5_000 },
      { scope: { region: 'us' }, version: 3n, sinceMs: 2_000 },
    ];
    expect(lastPublishMs(t, heads)).toBe(2_000);
    expect(lastPublishMs(topic(), [])).toBeUndefined();
    expect(publishStatusOf({ topic: t, heads }, 2_000 + HOUR + 1)).toEqual({ topic: 't', lastPublishMs: 2_000, overdueSinceMs: 2_000 + HOUR });
    expect(publishStatusOf({ topic: t, heads }, 2_000 + HOUR)).toEqual({ topic: 't', lastPublishMs: 2_000, overdueSinceMs: 0 });
  });
});

describe('contractViolated (the violated rule)', () => {
  it.each([
    ['no max-staleness: never', undefined, 0, 100 * HOUR, false],
    ['confirmed within it', HOUR, 10 * HOUR, 10 * HOUR + HOUR, false],
    ['more than max-staleness since the last confirmation', HOUR, 10 * HOUR, 11 * HOUR + 1, true],
  ])('%s', (_name, max, confirmed, now, want) => {
    expect(contractViolated(max, confirmed, now)).toBe(want);
  });
});

describe('the fallback snapshot carries the contract', () => {
  const bytes = Buffer.from('one');
  const base = { topic: 'm', version: 1n, publishedAtMs: 1_500, metadata: {}, pointer: { kind: 'direct' as const, size: 3, sha256: sha256Hex(bytes), bytes } };
  const record = { ...base, scopes: [{}], digest: recordDigest(base) };
  const snap = (t: Topic): Snapshot => ({ writtenAtMs: 5_000, topics: [{ topic: t, heads: [{ scope: {}, version: 1n, sinceMs: 1_500 }], pins: [], records: [record] }] });
  const id = { app: 'scorer', cluster: '', region: 'eu', nodeId: 'n', labels: {} };

  it('round-trips it, and a decision from it carries max-staleness', () => {
    const s = snap(topic({ name: 'm', latestVersion: 1n, expectEveryMs: HOUR, maxStalenessMs: 2 * HOUR }));
    const back = decodeSnapshot(encodeSnapshot(s).bytes);
    expect(back.topics[0]?.topic).toMatchObject({ expectEveryMs: HOUR, maxStalenessMs: 2 * HOUR });
    expect(decideFromSnapshot(back, 'm', id, 0n)).toMatchObject({ record: { version: 1n }, maxStalenessMs: 2 * HOUR });
    expect(decideFromSnapshot(back, 'm', id, 1n)).toEqual({ pinned: false, known: true, maxStalenessMs: 2 * HOUR });
  });

  it('a snapshot written before contracts existed (no such fields) reads as none', () => {
    const old = snap(topic({ name: 'm', latestVersion: 1n }));
    const back = decodeSnapshot(encodeSnapshot(old).bytes);
    expect('maxStalenessMs' in (back.topics[0]?.topic ?? {})).toBe(false);
    expect(decideFromSnapshot(back, 'm', id, 1n)).toEqual({ pinned: false, known: true });
  });
});

describe('StorePublishStatus (roles all and publish)', () => {
  it('reads the store at most once per maxAgeMs, deciding overdue again at each ask; only topics with an expect-every', async () => {
    let now = 10 * HOUR;
    const store = new CountingStore(SqliteMetadataStore.open({ file: ':memory:' }));
    try {
      await store.createTopic({ name: 'hourly', owner: '', description: '', retention: {}, expectEveryMs: HOUR }, now);
      await store.createTopic({ name: 'plain', owner: '', description: '', retention: {} }, now);
      const bytes = Buffer.from('x');
      await store.publish({ topic: 'hourly', metadata: {}, pointer: { kind: 'direct', size: 1, sha256: sha256Hex(bytes), bytes }, scopes: [{}] }, now);
      const source = new StorePublishStatus({ store, clock: () => now });
      now = 11 * HOUR - 10_000;
      expect(await source.statuses()).toEqual([{ topic: 'hourly', lastPublishMs: 10 * HOUR, overdueSinceMs: 0 }]);
      expect(store.count('pollState', 'plain')).toBe(0);
      // Asked again and again within 30 s of that read: no store read; the clock passing the hour makes it overdue.
      const reads = store.count('listTopics');
      now += 20_000;
      for (let i = 0; i < 5; i++) expect(await source.statuses()).toEqual([{ topic: 'hourly', lastPublishMs: 10 * HOUR, overdueSinceMs: 11 * HOUR }]);
      expect(source.reads).toBe(1);
      expect(store.count('listTopics')).toBe(reads);
      // 30 s after the read: one more read, however many ask at once.
      now += 10_000;
      await Promise.all([source.statuses(), source.statuses()]);
      expect(source.reads).toBe(2);
    } finally {
      await store.close();
    }
  });
});
