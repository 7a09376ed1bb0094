import { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, compareVersions, type DeniedEvent, type HoldingEvent } from '../../core/index.js';
import {
  AUDIT_MAPPING,
  ElasticsearchAuditSink,
  consumersFromElasticsearch,
  fromAuditDocument,
  movesFromElasticsearch,
  purgeAuditIndices,
  toAuditDocument,
  validateIndexPrefix,
  versionOrderKey,
} from '../../server/audit/elasticsearch.js';
import { AUDIT_LIFECYCLE_VERSION, auditLifecyclePolicy } from '../../server/audit/elasticsearch-lifecycle.js';
import { withDefaults } from '../../server/config.js';

/** The field an InvalidArgumentError names (fails the test when something else happens). */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return (e as InvalidArgumentError).field;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('ElasticsearchAuditSink options', () => {
  const node = 'http://127.0.0.1:9';
  it.each<[string, ConstructorParameters<typeof ElasticsearchAuditSink>[0], string]>([
    ['neither client nor node', {}, 'client'],
    ['both client and node', { node, client: new Client({ node }) }, 'client'],
    ['a bound of 0', { node, maxBuffered: 0 }, 'maxBuffered'],
    ['a batch larger than the bound', { node, maxBuffered: 100, batchSize: 101 }, 'batchSize'],
    ['a fractional interval', { node, flushIntervalMs: 1.5 }, 'flushIntervalMs'],
    ['an index prefix with a wildcard', { node, indexPrefix: 'audit-*' }, 'indexPrefix'],
    ['an upper-case index prefix', { node, indexPrefix: 'Audit' }, 'indexPrefix'],
    ['a retention of 0 days', { node, retentionDays: 0 }, 'retentionDays'],
    ['a probe interval of 0', { node, probeIntervalMs: 0 }, 'probeIntervalMs'],
  ])('refuses %s, naming the field', (_name, opts, field) => {
    expect(fieldOf(() => new ElasticsearchAuditSink(opts))).toBe(field);
  });

  it('accepts index prefixes Elasticsearch accepts', () => {
    expect(validateIndexPrefix('imprint-audit')).toBe('imprint-audit');
    expect(validateIndexPrefix('team.a_audit-2')).toBe('team.a_audit-2');
    expect(() => validateIndexPrefix('-x')).toThrow(InvalidArgumentError);
  });

  it('purge refuses a retention below one day before asking anything', async () => {
    const client = new Client({ node });
    await expect(purgeAuditIndices(client, { retentionDays: 0, nowMs: Date.now() })).rejects.toBeInstanceOf(InvalidArgumentError);
    await client.close();
  });
});

describe('queries refuse bad input before asking anything', () => {
  // Nothing listens on port 9: a request would fail with UNAVAILABLE, not INVALID_ARGUMENT.
  const client = new Client({ node: 'http://127.0.0.1:9' });
  it.each<[string, () => Promise<unknown>, string]>([
    ['a since that is not a time', () => consumersFromElasticsearch(client, 't', { sinceMs: Number.NaN }), 'sinceMs'],
    ['an until before since', () => consumersFromElasticsearch(client, 't', { sinceMs: 10, untilMs: 5 }), 'untilMs'],
    ['too many nodes to list', () => consumersFromElasticsearch(client, 't', { sinceMs: 0, nodeLimit: 10_001 }), 'nodeLimit'],
    ['a version that is not one', () => consumersFromElasticsearch(client, 't', { sinceMs: 0, version: 'v3' }), 'version'],
    ['a page size of 0', () => consumersFromElasticsearch(client, 't', { sinceMs: 0 }, { pageSize: 0 }), 'pageSize'],
    ['a moves limit of 0', () => movesFromElasticsearch(client, 't', { sinceMs: 0, limit: 0 }), 'limit'],
    ['an empty node id', () => movesFromElasticsearch(client, 't', { sinceMs: 0, nodeId: '' }), 'nodeId'],
  ])('%s: InvalidArgumentError naming %s', async (_what, call, field) => {
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });
});

describe('audit documents', () => {
  const identity = { app: 'scorer', cluster: 'c1', region: 'eu-west-1', nodeId: 'n7', labels: { tier: 'gold' } };
  const at = Date.UTC(2026, 10, 20, 10, 0, 0, 5);
  const events: HoldingEvent[] = [
    { kind: 'hold', atMs: at, topic: 'ip-reputation', identity, replica: 'consume-1', version: '3', previous: '2', moved: true, pinned: false },
    { kind: 'hold', atMs: at, topic: 'ip-reputation', identity: { ...identity, labels: {} }, replica: 'consume-1', version: '3', previous: '3', moved: false, pinned: true },
    { kind: 'gone', atMs: at + 600_000, topic: 'ip-reputation', identity, replica: 'consume-2', version: '3', seenMs: at + 1 },
    {
      kind: 'summary',
      atMs: at,
      topic: 'ip-reputation',
      replica: 'consume-1',
      app: 'scorer',
      cluster: 'c1',
      region: 'eu-west-1',
      version: '3',
      nodeCount: 120,
      pinnedCount: 4,
      errorCount: 2,
      foldedPolls: 17,
      periodMs: 300_000,
    },
  ];

  it('a hold is a flat document: identity, versions, moved, pinned, and seen_at its time', () => {
    expect(toAuditDocument(events[0] as HoldingEvent)).toEqual({
      '@timestamp': '2026-11-20T10:00:00.005Z',
      kind: 'hold',
      topic: 'ip-reputation',
      replica: 'consume-1',
      app: 'scorer',
      cluster: 'c1',
      region: 'eu-west-1',
      node_id: 'n7',
      labels: { tier: 'gold' },
      version: '3',
      version_order: versionOrderKey('3'),
      previous: '2',
      moved: true,
      pinned: false,
      seen_at: '2026-11-20T10:00:00.005Z',
    });
  });

  it("a gone's seen_at is the node's last poll, not the time it was reported", () => {
    const d = toAuditDocument(events[2] as HoldingEvent);
    expect(d).toMatchObject({ '@timestamp': '2026-11-20T10:10:00.005Z', kind: 'gone', seen_at: '2026-11-20T10:00:00.006Z', version: '3', node_id: 'n7' });
    expect(d).not.toHaveProperty('moved');
    expect(d).not.toHaveProperty('node_count');
  });

  it('a summary carries its group and counts, no node', () => {
    expect(toAuditDocument(events[3] as HoldingEvent)).toEqual({
      '@timestamp': '2026-11-20T10:00:00.005Z',
      kind: 'summary',
      topic: 'ip-reputation',
      replica: 'consume-1',
      app: 'scorer',
      cluster: 'c1',
      region: 'eu-west-1',
      version: '3',
      node_count: 120,
      pinned_count: 4,
      error_count: 2,
      folded_polls: 17,
      period_ms: 300_000,
    });
  });

  const denials: DeniedEvent[] = [
    { kind: 'denied', atMs: at, topic: 'ip-reputation', replica: 'consume-1', principal: 'spiffe://corp/eve', action: 'consume', method: 'Poll', app: 'scorer', count: 12 },
    { kind: 'denied', atMs: at, topic: 'ip-reputation', replica: 'consume-1', principal: 'eve', action: 'own', method: 'UpdateTopic', count: 1 },
  ];

  /** A hold made by a poll with an authenticated principal. */
  const byPrincipal = { ...(events[0] as HoldingEvent), principal: 'spiffe://corp/scorer' } as HoldingEvent;

  it('a denial is a flat document: principal, action, method, app when claimed, and its count as `denied`', () => {
    expect(toAuditDocument(denials[0] as DeniedEvent)).toEqual({
      '@timestamp': new Date(at).toISOString(),
      kind: 'denied',
      topic: 'ip-reputation',
      replica: 'consume-1',
      principal: 'spiffe://corp/eve',
      action: 'consume',
      method: 'Poll',
      app: 'scorer',
      denied: 12,
    });
    expect(toAuditDocument(denials[1] as DeniedEvent)).not.toHaveProperty('app');
    const doc = JSON.parse(JSON.stringify(toAuditDocument(denials[0] as DeniedEvent))) as Record<string, unknown>;
    expect(fromAuditDocument({ ...doc, denied: 0 })).toBeUndefined();
    expect(fromAuditDocument({ ...doc, action: 'fly' })).toBeUndefined();
    expect(fromAuditDocument({ ...doc, principal: undefined })).toBeUndefined();
  });

  it('every kind comes back from its document as the same event (through JSON, as Elasticsearch keeps it)', () => {
    for (const e of [...events, byPrincipal, ...denials]) expect(fromAuditDocument(JSON.parse(JSON.stringify(toAuditDocument(e))))).toEqual(e);
  });

  it('every field a document has is in the mapping', () => {
    const mapped = new Set(Object.keys(AUDIT_MAPPING.properties));
    for (const e of [...events, byPrincipal, ...denials]) for (const f of Object.keys(toAuditDocument(e))) expect(mapped.has(f), f).toBe(true);
  });

  it('documents of the earlier per-poll mapping and broken ones are not events', () => {
    const poll = { '@timestamp': '2026-11-20T10:00:00.005Z', kind: 'poll', topic: 't', app: 'a', cluster: 'c', region: 'r', node_id: 'n', holds: '3', last_seen: '2', outcome: 'update', pinned: false };
    expect(fromAuditDocument(poll)).toBeUndefined();
    const hold = JSON.parse(JSON.stringify(toAuditDocument(events[0] as HoldingEvent))) as Record<string, unknown>;
    expect(fromAuditDocument({ ...hold, moved: 'yes' })).toBeUndefined();
    expect(fromAuditDocument({ ...hold, '@timestamp': 'not a time' })).toBeUndefined();
    expect(fromAuditDocument({ ...hold, replica: undefined })).toBeUndefined();
    expect(fromAuditDocument({ ...hold, labels: { k: 1 } })).toBeUndefined();
    expect(fromAuditDocument({ ...toAuditDocument(events[3] as HoldingEvent), node_count: '120' })).toBeUndefined();
    expect(fromAuditDocument(null)).toBeUndefined();
  });

  it("version_order sorts as text in core's version order", () => {
    const versions = ['10', '9', '100', '0', '18446744073709551615', '2', '007', '7', '99999999999999999999', 'x', ''];
    const byKey = [...versions].sort((a, b) => (versionOrderKey(a) < versionOrderKey(b) ? -1 : versionOrderKey(a) > versionOrderKey(b) ? 1 : 0));
    expect(byKey).toEqual([...versions].sort(compareVersions));
  });
});

describe('audit retention: the ILM policy', () => {
  it('deletes an index retentionDays after its creation, tagged with the version and retention the sink compares at start', () => {
    const p = auditLifecyclePolicy(7);
    expect(p.phases).toEqual({ hot: { min_age: '0ms', actions: {} }, delete: { min_age: '7d', actions: { delete: {} } } });
    expect(p._meta).toMatchObject({ managed_by: 'imprint', version: AUDIT_LIFECYCLE_VERSION, retention_days: 7 });
  });

  it('serve refuses a retention out of range, naming the flag', () => {
    for (const esRetentionDays of [0, 1.5, 36501]) {
      expect(fieldOf(() => withDefaults({ audit: 'elasticsearch', esUrl: 'http://127.0.0.1:9200', esRetentionDays }))).toBe('audit-retention-days');
    }
    expect(withDefaults({ audit: 'elasticsearch', esUrl: 'http://127.0.0.1:9200' }).esRetentionDays).toBe(30);
  });
});
