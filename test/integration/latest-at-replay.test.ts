/**
 * GetLatestAt with apply_pins replays the topic's history to find the pins of a past moment,
 * and that replay is bounded (MAX_REPLAY_ENTRIES, 100k in production): a topic with more
 * entries than the bound answers RESOURCE_EXHAUSTED naming it, after reading at most one
 * entry past it, instead of reading its whole history for one request. The bound is made small
 * here so the test writes a few hundred entries, not 100k; the rule is the same.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceExhaustedError, type Change } from '../../core/index.js';
import { ImprintService, MAX_REPLAY_ENTRIES, SqliteMetadataStore } from '../../server/index.js';
import { CountingStore } from '../counting-store.js';
import { MemoryAuditSink, directPointer, identity, tempDir } from '../helpers.js';

/** Counts the history entries the service reads. */
class HistoryReads extends CountingStore {
  entries = 0;
  override async listHistory(topic: string, opts: { below?: bigint; limit: number }): Promise<Change[]> {
    const page = await super.listHistory(topic, opts);
    this.entries += page.length;
    return page;
  }
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A topic "model" with v1, v2 and `pinCycles` pin/unpin pairs (2 history entries each) after a pin of v1 at `pinnedAt`. */
async function seeded(maxReplayEntries: number, pinCycles: number) {
  const sqlite = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
  closers.push(() => sqlite.close());
  const store = new HistoryReads(sqlite);
  let now = 1_000_000;
  const svc = new ImprintService({ store, audit: new MemoryAuditSink(), clock: () => now, maxReplayEntries });
  await svc.createTopic({ name: 'model', owner: 'team', description: '', retention: {} });
  await svc.publish({ topic: 'model', metadata: {}, pointer: directPointer('v1'), scopes: [] });
  await svc.publish({ topic: 'model', metadata: {}, pointer: directPointer('v2'), scopes: [] });
  now += 1000;
  await svc.pin('model', {}, 1n, 'bad v2', 'oncall');
  const pinnedAt = now;
  now += 1000;
  await svc.unpin('model', {});
  for (let i = 0; i < pinCycles; i++) {
    now += 10;
    await svc.pin('model', { region: 'eu' }, 1n, 'drill', 'oncall');
    await svc.unpin('model', { region: 'eu' });
  }
  // create-topic, 2 publishes, the pin and unpin of v1, then the cycles.
  const total = 5 + 2 * pinCycles;
  return { svc, store, pinnedAt, total };
}

describe('GetLatestAt apply_pins: the replay of the history is bounded', () => {
  it('the production bound is 100k entries', () => {
    expect(MAX_REPLAY_ENTRIES).toBe(100_000);
  });

  it('within the bound: the pins of the moment apply (v1 pinned then, v2 now)', async () => {
    const { svc, store, pinnedAt, total } = await seeded(1300, 600);
    expect(total).toBe(1205);
    const then = await svc.latestAt('model', identity(), pinnedAt, true);
    expect(then).toMatchObject({ pinned: true, record: { version: 1n } });
    const later = await svc.latestAt('model', identity(), pinnedAt + 500_000, true);
    expect(later).toMatchObject({ pinned: false, record: { version: 2n } });
    // Each replay read the whole history (1205 entries) once, in pages.
    expect(store.entries).toBe(2 * total);
  });

  it('past the bound: RESOURCE_EXHAUSTED naming it, after reading one entry past it, and the answer without apply_pins still works', async () => {
    const { svc, store, pinnedAt, total } = await seeded(1000, 600);
    expect(total).toBeGreaterThan(1000);
    const err = await svc.latestAt('model', identity(), pinnedAt, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect((err as Error).message).toBe('topic "model" has more than 1000 history entries to replay for apply_pins; ask without apply_pins, or for a later at_ms');
    expect(store.entries).toBe(1001);
    expect(await svc.latestAt('model', identity(), pinnedAt, false)).toMatchObject({ pinned: false, record: { version: 2n } });
  });

  it('exactly at the bound is within it', async () => {
    const { svc, pinnedAt, total } = await seeded(1205, 600);
    expect(total).toBe(1205);
    expect(await svc.latestAt('model', identity(), pinnedAt, true)).toMatchObject({ pinned: true, record: { version: 1n } });
  });

  it('a bound outside 1..100k is refused when the service is made', () => {
    const sqlite = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
    closers.push(() => sqlite.close());
    expect(() => new ImprintService({ store: sqlite, audit: new MemoryAuditSink(), maxReplayEntries: 0 })).toThrow(/maxReplayEntries must be a whole number between 1 and 100000/);
    expect(() => new ImprintService({ store: sqlite, audit: new MemoryAuditSink(), maxReplayEntries: 100_001 })).toThrow(/maxReplayEntries/);
  });
});
