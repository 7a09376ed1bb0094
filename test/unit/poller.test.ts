/**
 * The Poller over an in-memory PollSource (a fake of the port, answering at once or through
 * promises): bad input throws before anything is observed, every other poll is told to the
 * observer once (errors included), an answer memory can give comes without a promise, and records
 * that failed their check are counted each time and logged once.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, recordDigest, sha256Hex, verdictOf, type PollSource, type PollView, type VersionRecord } from '../../core/index.js';
import { createLogger } from '../../log/index.js';
import { Poller } from '../../server/index.js';
import { MemoryPollObserver, identity } from '../helpers.js';

function rec(version: bigint): VersionRecord {
  const bytes = Buffer.from(`v${version}`);
  const base = { topic: 't', version, publishedAtMs: 1000, metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes } };
  return { ...base, scopes: [{}], digest: recordDigest(base) };
}

/** Topic "t": v1 good, v2 altered (fails its check), head v2. */
const view: PollView & { records: VersionRecord[] } = {
  heads: [{ scope: {}, version: 2n, sinceMs: 0 }],
  pins: [],
  records: [rec(1n), { ...rec(2n), metadata: { tampered: 'yes' } }],
};

function source(sync: boolean): PollSource<typeof view> {
  const give = <T>(v: T): T | Promise<T> => (sync ? v : Promise.resolve(v));
  return {
    state: (topic) => give(topic === 't' ? view : undefined),
    record: (topic, v, version) => give(verdictOf(topic, version, v.records.find((r) => r.version === version))),
    versionsBelow: (_topic, below) => give(view.records.filter((r) => r.version < below).reverse()),
  };
}

function setup(sync: boolean) {
  const observer = new MemoryPollObserver();
  const lines: string[] = [];
  const poller = new Poller({ source: source(sync), observer, log: createLogger({ format: 'pretty', destination: { write: (l) => lines.push(l) } }) });
  return { poller, observer, lines };
}

describe('Poller', () => {
  it('answers from a source at hand without a promise, and tells its observer once', () => {
    const { poller, observer } = setup(true);
    const answer = poller.poll('t', identity(), 1n);
    expect(answer).not.toBeInstanceOf(Promise);
    expect(answer).toEqual({ pinned: false });
    expect(observer.polls).toEqual([{ topic: 't', identity: identity(), lastSeen: '1', holds: '1', outcome: 'no-update', pinned: false }]);
  });

  it.each([true, false])('counts each record that failed its check, and logs each once (source at hand: %s)', async (sync) => {
    const { poller, observer, lines } = setup(sync);
    for (let i = 0; i < 3; i++) expect((await poller.poll('t', identity(), 0n)).record?.version).toBe(1n);
    expect(poller.integrityFailures).toBe(3);
    expect(lines.filter((l) => l.includes('record failed its consistency check'))).toEqual([expect.stringContaining('version=2')]);
    expect(observer.polls.map((e) => [e.outcome, e.holds])).toEqual([
      ['update', '1'],
      ['update', '1'],
      ['update', '1'],
    ]);
  });

  it("tells the observer the caller's decimal text of lastSeen, and lastSeen's own for text that cannot be it", () => {
    const { poller, observer } = setup(true);
    for (const text of ['2', '02', '', '+2', '2.0', '1'.repeat(21)]) poller.poll('t', identity(), 2n, undefined, 'BatchPoll', text);
    expect(observer.polls.map((e) => [e.lastSeen, e.holds])).toEqual(Array.from({ length: 6 }, () => ['2', '2']));
  });

  it('bad input throws at once, before anything is observed or asked; a bad identity after a good one too', () => {
    const { poller, observer } = setup(true);
    expect(() => poller.poll('Bad Name', identity(), 0n)).toThrow(InvalidArgumentError);
    poller.poll('t', identity(), 2n);
    expect(() => poller.poll('t', identity({ app: '' }), 0n)).toThrow(/identity\.app/);
    expect(observer.polls).toHaveLength(1);
  });

  it.each([true, false])('an unknown topic is NOT_FOUND and observed as an error, the node keeping what it had (source at hand: %s)', async (sync) => {
    const { poller, observer } = setup(sync);
    await expect((async () => poller.poll('ghost', identity(), 3n))()).rejects.toThrow(NotFoundError);
    expect(observer.polls).toEqual([expect.objectContaining({ topic: 'ghost', outcome: 'error', lastSeen: '3', holds: '3' })]);
  });
});
