import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import type { AuditEvent, PollEvent } from '../../server/audit/audit-sink.js';
import { compareVersions, groupConsumers, observationsOf, type ConsumerObservation } from '../../server/audit/consumers.js';
import { dailyIndexName, dayOfIndex, toAuditDocument } from '../../server/audit/elasticsearch.js';

const obs = (app: string, cluster: string, nodeId: string, holds: string, atMs: number, region = 'r1'): ConsumerObservation => ({ app, cluster, region, nodeId, holds, atMs });

describe('groupConsumers', () => {
  it('counts each node once, by the version of its latest poll', () => {
    const r = groupConsumers('t', { sinceMs: 0 }, [
      obs('scorer', 'c1', 'n1', '1', 100),
      obs('scorer', 'c1', 'n1', '2', 200), // n1 moved to 2
      obs('scorer', 'c1', 'n2', '1', 150),
      obs('scorer', 'c1', 'n2', '1', 250),
      obs('scorer', 'c2', 'n3', '2', 120),
      obs('ranker', 'c1', 'n4', '3', 300),
    ]);
    expect(r).toEqual({
      topic: 't',
      sinceMs: 0,
      nodeCount: 4,
      lastSeenMs: 300,
      versions: [
        { version: '3', nodeCount: 1, lastSeenMs: 300 },
        { version: '2', nodeCount: 2, lastSeenMs: 200 },
        { version: '1', nodeCount: 1, lastSeenMs: 250 },
      ],
      groups: [
        { app: 'ranker', cluster: 'c1', nodeCount: 1, lastSeenMs: 300, versions: [{ version: '3', nodeCount: 1, lastSeenMs: 300 }] },
        {
          app: 'scorer',
          cluster: 'c1',
          nodeCount: 2,
          lastSeenMs: 250,
          versions: [
            { version: '2', nodeCount: 1, lastSeenMs: 200 },
            { version: '1', nodeCount: 1, lastSeenMs: 250 },
          ],
        },
        { app: 'scorer', cluster: 'c2', nodeCount: 1, lastSeenMs: 120, versions: [{ version: '2', nodeCount: 1, lastSeenMs: 120 }] },
      ],
    });
  });

  it('does not depend on the order of the observations', () => {
    const all: ConsumerObservation[] = [];
    for (let n = 0; n < 20; n++) for (let t = 0; t < 5; t++) all.push(obs(`a${n % 3}`, `c${n % 2}`, `n${n}`, String(1 + ((n + t) % 4)), 1000 + t * 10 + n));
    const sorted = groupConsumers('t', { sinceMs: 0 }, all);
    const reversed = groupConsumers('t', { sinceMs: 0 }, [...all].reverse());
    const shuffled = groupConsumers('t', { sinceMs: 0 }, [...all].sort((a, b) => ((a.atMs * 7919) % 101) - ((b.atMs * 7919) % 101)));
    expect(reversed).toEqual(sorted);
    expect(shuffled).toEqual(sorted);
    expect(sorted.nodeCount).toBe(20);
  });

  it('keeps only polls inside [sinceMs, untilMs)', () => {
    const events = [obs('a', 'c', 'old', '1', 99), obs('a', 'c', 'n1', '1', 100), obs('a', 'c', 'n1', '2', 199), obs('a', 'c', 'n1', '3', 200)];
    const r = groupConsumers('t', { sinceMs: 100, untilMs: 200 }, events);
    expect(r.nodeCount).toBe(1);
    expect(r.untilMs).toBe(200);
    expect(r.versions).toEqual([{ version: '2', nodeCount: 1, lastSeenMs: 199 }]);
  });

  it('a node is app, cluster, region and node id: the same node id in two apps is two nodes', () => {
    const r = groupConsumers('t', { sinceMs: 0 }, [obs('a', 'c', 'host1', '1', 1), obs('b', 'c', 'host1', '1', 2), obs('a', 'c', 'host1', '1', 3, 'r2')]);
    expect(r.nodeCount).toBe(3);
    expect(r.groups.map((g) => [g.app, g.nodeCount])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('orders versions numerically, highest first ("10" above "9")', () => {
    const r = groupConsumers('t', { sinceMs: 0 }, [obs('a', 'c', 'n1', '9', 1), obs('a', 'c', 'n2', '10', 1), obs('a', 'c', 'n3', '0', 1)]);
    expect(r.versions.map((v) => v.version)).toEqual(['10', '9', '0']);
    expect(compareVersions('18446744073709551615', '18446744073709551614')).toBe(1);
  });

  it('two polls of a node in the same millisecond: the higher version wins', () => {
    const r = groupConsumers('t', { sinceMs: 0 }, [obs('a', 'c', 'n1', '10', 5), obs('a', 'c', 'n1', '9', 5)]);
    expect(r.versions).toEqual([{ version: '10', nodeCount: 1, lastSeenMs: 5 }]);
  });

  it('an unused topic: no nodes, no groups, no last seen', () => {
    const r = groupConsumers('quiet', { sinceMs: 10 }, [obs('a', 'c', 'n1', '1', 5)]);
    expect(r).toEqual({ topic: 'quiet', sinceMs: 10, nodeCount: 0, versions: [], groups: [] });
    expect('lastSeenMs' in r).toBe(false);
  });

  it('refuses a window that is not one', () => {
    expect(() => groupConsumers('t', { sinceMs: Number.NaN }, [])).toThrow(InvalidArgumentError);
    expect(() => groupConsumers('t', { sinceMs: 10, untilMs: 5 }, [])).toThrow(/untilMs/);
  });

  it('observationsOf keeps the polls of the topic only', () => {
    const poll = (topic: string, nodeId: string): PollEvent => ({
      kind: 'poll',
      atMs: 1,
      topic,
      identity: { app: 'a', cluster: 'c', region: 'r', nodeId, labels: {} },
      lastSeen: '0',
      holds: '1',
      outcome: 'update',
      pinned: false,
    });
    const events: AuditEvent[] = [poll('t', 'n1'), poll('u', 'n2')];
    expect(observationsOf(events, 't').map((o) => o.nodeId)).toEqual(['n1']);
  });
});

describe('audit documents and daily indices', () => {
  it('a poll becomes a flat document with the identity fields and the version served', () => {
    const e: PollEvent = {
      kind: 'poll',
      atMs: Date.UTC(2026, 10, 20, 10, 0, 0, 5),
      topic: 'ip-reputation',
      identity: { app: 'scorer', cluster: 'c1', region: 'eu-west-1', nodeId: 'n7', labels: { tier: 'gold' } },
      lastSeen: '2',
      holds: '3',
      outcome: 'update',
      pinned: true,
    };
    expect(toAuditDocument(e)).toEqual({
      '@timestamp': '2026-11-20T10:00:00.005Z',
      kind: 'poll',
      topic: 'ip-reputation',
      version: '3',
      holds: '3',
      last_seen: '2',
      outcome: 'update',
      pinned: true,
      app: 'scorer',
      cluster: 'c1',
      region: 'eu-west-1',
      node_id: 'n7',
      labels: { tier: 'gold' },
    });
    // No update: nothing was served; the consumer keeps what it had.
    expect(toAuditDocument({ ...e, outcome: 'no-update', holds: '2' })).not.toHaveProperty('version');
  });

  it('one index per UTC day, and back', () => {
    const ms = Date.UTC(2026, 0, 9, 23, 59, 59, 999);
    expect(dailyIndexName('imprint-audit', ms)).toBe('imprint-audit-2026.01.09');
    expect(dayOfIndex('imprint-audit', 'imprint-audit-2026.01.09')).toBe(Date.UTC(2026, 0, 9));
    expect(dayOfIndex('imprint-audit', 'imprint-audit-2026.13.09')).toBeUndefined();
    expect(dayOfIndex('imprint-audit', 'imprint-audit-x-2026.01.09')).toBeUndefined();
    expect(dayOfIndex('imprint-audit', 'other-2026.01.09')).toBeUndefined();
  });
});
