/**
 * The Elasticsearch audit sink against a real Elasticsearch 8.19 (the project's globalSetup
 * one, in IMPRINT_ELASTICSEARCH), each test on its own index prefix; and one this file starts
 * itself so it can stop it under load and start it again on the same port.
 *
 * Invariant 7: record() never waits or throws, the buffer is bounded, and every event is
 * accounted for: offered = recorded + refused, recorded = written + failed + buffered.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from '@elastic/elasticsearch';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { freePort } from '../../scripts/backends/launcher.js';
import { consumersView, movesOf, type ConsumersQuery, type MovesQuery } from '../../core/index.js';
import type { AuditEvent, HoldEvent, HoldingEvent } from '../../server/audit/audit-sink.js';
import {
  AUDIT_MAPPING,
  AUDIT_TEMPLATE_VERSION,
  AuditElasticsearchError,
  ElasticsearchAuditSink,
  auditTemplateNames,
  consumersFromElasticsearch,
  dailyIndexName,
  fromAuditDocument,
  movesFromElasticsearch,
  type ElasticsearchAuditSinkOptions,
} from '../../server/audit/elasticsearch.js';
import { createLogger } from '../../log/index.js';

const DAY = 86_400_000;
const NOW = Date.now();
/** Noon (UTC) today: events a few seconds around it stay in today's index. */
const NOON = Math.floor(NOW / DAY) * DAY + DAY / 2;

function esUrl(): string {
  const url = process.env['IMPRINT_ELASTICSEARCH'];
  if (!url) throw new Error('IMPRINT_ELASTICSEARCH is not set: run with `npx vitest run --project elasticsearch`');
  return url;
}

let client: Client;
const prefixes: string[] = [];
const sinks: ElasticsearchAuditSink[] = [];

/** A fresh index prefix (its own template and indices), removed after the file. */
function newPrefix(): string {
  const p = `t${randomBytes(4).toString('hex')}-audit`;
  prefixes.push(p);
  return p;
}

function sinkFor(prefix: string, opts: Partial<ElasticsearchAuditSinkOptions> = {}): ElasticsearchAuditSink {
  const s = new ElasticsearchAuditSink({ node: esUrl(), indexPrefix: prefix, replicas: 0, refreshInterval: '1s', flushIntervalMs: 100, ...opts });
  sinks.push(s);
  return s;
}

/** A node's move to `version` as replica `replica` saw it (from the version before; from 0 for version 1). */
function hold(topic: string, app: string, cluster: string, nodeId: string, version: string, atMs: number, region = 'eu-west-1', replica = 'consume-1'): HoldEvent {
  return {
    kind: 'hold',
    atMs,
    topic,
    identity: { app, cluster, region, nodeId, labels: { rack: `r${nodeId.length}` } },
    replica,
    version,
    previous: version === '1' ? '0' : String(Number(version) - 1),
    moved: true,
    pinned: false,
  };
}

async function count(prefix: string, query?: object, c: Client = client): Promise<number> {
  await c.indices.refresh({ index: `${prefix}-*` });
  return (await c.count({ index: `${prefix}-*`, ...(query && { query }) })).count;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(() => {
  client = new Client({ node: esUrl() });
});

afterAll(async () => {
  await Promise.allSettled(sinks.map((s) => s.close()));
  for (const p of prefixes) {
    const names = auditTemplateNames(p);
    await client.indices.delete({ index: `${p}-*`, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' }).catch(() => undefined);
    await client.indices.deleteIndexTemplate({ name: names.index }).catch(() => undefined);
    await client.cluster.deleteComponentTemplate({ name: names.mappings }).catch(() => undefined);
    await client.cluster.deleteComponentTemplate({ name: names.settings }).catch(() => undefined);
  }
  await client.close();
});

describe('ElasticsearchAuditSink on a real Elasticsearch', () => {
  it('installs its composable index template idempotently; daily indices get the explicit mapping', async () => {
    const prefix = newPrefix();
    const a = sinkFor(prefix);
    const b = sinkFor(prefix); // a second server starting against the same cluster
    await Promise.all([a.ready(), b.ready()]);
    const names = auditTemplateNames(prefix);
    const t = await client.indices.getIndexTemplate({ name: names.index });
    expect(t.index_templates[0]?.index_template).toMatchObject({ index_patterns: [`${prefix}-*`], composed_of: [names.mappings, names.settings], version: AUDIT_TEMPLATE_VERSION });

    a.record(hold('topic-a', 'scorer', 'c1', 'n1', '3', NOW));
    a.record(hold('topic-a', 'scorer', 'c1', 'n2', '3', NOW - 2 * DAY));
    await a.flush();
    expect(a.stats()).toMatchObject({ recorded: 2, written: 2, dropped: 0, buffered: 0 });

    const mappings = await client.indices.getMapping({ index: `${prefix}-*` });
    expect(Object.keys(mappings).sort()).toEqual([dailyIndexName(prefix, NOW - 2 * DAY), dailyIndexName(prefix, NOW)]);
    for (const m of Object.values(mappings)) {
      const props = m.mappings.properties ?? {};
      expect(m.mappings.dynamic).toBe('false');
      for (const f of ['kind', 'topic', 'replica', 'app', 'cluster', 'region', 'node_id', 'version', 'version_order', 'previous']) expect(props[f], f).toEqual({ type: 'keyword' });
      for (const f of ['@timestamp', 'seen_at']) expect(props[f], f).toEqual({ type: 'date' });
      for (const f of ['moved', 'pinned']) expect(props[f], f).toEqual({ type: 'boolean' });
      for (const f of ['node_count', 'pinned_count', 'error_count', 'folded_polls', 'period_ms']) expect(props[f], f).toEqual({ type: 'long' });
      expect(props['labels']).toEqual({ type: 'flattened' });
      expect(Object.keys(props).sort()).toEqual(Object.keys(AUDIT_MAPPING.properties).sort());
    }
  });

  it('by default an audit index has no replica, so a single-node cluster keeps it green', async () => {
    const prefix = newPrefix();
    const s = new ElasticsearchAuditSink({ node: esUrl(), indexPrefix: prefix, flushIntervalMs: 100 });
    sinks.push(s);
    s.record(hold('green', 'scorer', 'c1', 'n1', '1', NOW));
    await s.flush();
    const index = dailyIndexName(prefix, NOW);
    const settings = await client.indices.getSettings({ index });
    expect(settings[index]?.settings?.index?.number_of_replicas).toBe('0');
    expect((await client.cluster.health({ index, wait_for_status: 'green', timeout: '10s' })).status).toBe('green');
  });

  it('every kind of event comes back from its stored document as the same event', async () => {
    const prefix = newPrefix();
    const sink = sinkFor(prefix);
    const identity = { app: 'scorer', cluster: '', region: 'eu-west-1', nodeId: 'n-ü', labels: { tier: 'gold', 'rack.row': '7' } };
    const events: AuditEvent[] = [
      { kind: 'hold', atMs: NOW, topic: 'round-trip', identity, replica: 'host:1/x', version: '18446744073709551615', previous: '0', moved: true, pinned: true },
      { kind: 'gone', atMs: NOW + 5, topic: 'round-trip', identity: { ...identity, labels: {} }, replica: 'host:1/x', version: '3', seenMs: NOW - 600_000 },
      { kind: 'summary', atMs: NOW + 7, topic: 'round-trip', replica: 'host:2/y', app: 'scorer', cluster: '', region: 'eu-west-1', version: '3', nodeCount: 2_000_000, pinnedCount: 1, errorCount: 0, foldedPolls: 123_456_789, periodMs: 300_000 },
    ];
    for (const e of events) sink.record(e);
    await sink.flush();
    await client.indices.refresh({ index: `${prefix}-*` });
    const res = await client.search({ index: `${prefix}-*`, size: 10, sort: [{ '@timestamp': { order: 'asc' } }] });
    expect(res.hits.hits.map((h) => fromAuditDocument(h._source))).toEqual(events);
  });

  it('an index of the earlier mapping (an upgrade in the middle of a day) gets the new fields; its per-poll documents are left out of the answers', async () => {
    const prefix = newPrefix();
    const today = dailyIndexName(prefix, Date.now());
    const yesterday = dailyIndexName(prefix, Date.now() - DAY);
    const older = dailyIndexName(prefix, Date.now() - 3 * DAY);
    const v1 = {
      dynamic: false,
      properties: Object.fromEntries(
        [['@timestamp', 'date'], ['pinned', 'boolean'], ['labels', 'flattened'], ...['kind', 'topic', 'version', 'holds', 'last_seen', 'outcome', 'app', 'cluster', 'region', 'node_id'].map((f) => [f, 'keyword'])].map(([f, type]) => [f, { type }]),
      ),
    } as const;
    for (const index of [today, older]) await client.indices.create({ index, mappings: v1, settings: { number_of_replicas: 0 } });
    // Yesterday's index has a field of the new mapping with another type: it keeps its mapping, and today's still gets the new one.
    await client.indices.create({ index: yesterday, mappings: { dynamic: false, properties: { seen_at: { type: 'keyword' } } }, settings: { number_of_replicas: 0 } });
    const old = { '@timestamp': new Date(NOW - 1000).toISOString(), kind: 'poll', topic: 'upgraded', version: '1', holds: '1', last_seen: '0', outcome: 'update', pinned: false, app: 'a', cluster: 'c', region: 'eu-west-1', node_id: 'old-node' };
    await client.index({ index: today, document: old, refresh: true });

    const sink = sinkFor(prefix);
    await sink.ready();
    const props = async (index: string) => (await client.indices.getMapping({ index }))[index]?.mappings.properties ?? {};
    expect(await props(today)).toMatchObject({ seen_at: { type: 'date' }, replica: { type: 'keyword' }, moved: { type: 'boolean' }, node_count: { type: 'long' }, holds: { type: 'keyword' } });
    expect((await props(yesterday))['seen_at']).toEqual({ type: 'keyword' });
    expect(await props(older)).not.toHaveProperty('seen_at');

    const now = Date.now();
    sink.record(hold('upgraded', 'a', 'c', 'n1', '2', now - 10));
    sink.record({ kind: 'summary', atMs: now - 5, topic: 'upgraded', replica: 'consume-1', app: 'a', cluster: 'c', region: 'eu-west-1', version: '2', nodeCount: 1, pinnedCount: 0, errorCount: 0, foldedPolls: 0, periodMs: 1000 });
    await sink.flush();
    await client.indices.refresh({ index: `${prefix}-*` });
    const view = await sink.consumers('upgraded', { sinceMs: 0, nodeLimit: 10 });
    expect(view).toMatchObject({ nodeCount: 1, liveCount: 1, versions: [{ version: '2', nodeCount: 1, lastSeenMs: now - 5 }] });
    expect(view.nodes?.map((n) => n.nodeId)).toEqual(['n1']);
    expect((await sink.moves('upgraded', { sinceMs: 0 })).moves.map((m) => m.nodeId)).toEqual(['n1']);
  });

  it('10k hold events are all indexed, into one index per day', async () => {
    const prefix = newPrefix();
    const sink = sinkFor(prefix, { batchSize: 500 });
    await sink.ready();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) sink.record(hold('busy', `app${i % 5}`, `c${i % 2}`, `n${i % 300}`, String(1 + (i % 4)), NOON - (i % 3) * DAY - i));
    const recordMs = performance.now() - t0;
    await sink.flush();
    expect(sink.stats()).toMatchObject({ recorded: 10_000, written: 10_000, dropped: 0, failed: 0, buffered: 0 });
    expect(await count(prefix)).toBe(10_000);
    for (let d = 0; d < 3; d++) {
      const day = dailyIndexName(prefix, NOON - d * DAY);
      await client.indices.refresh({ index: day });
      expect((await client.count({ index: day })).count, day).toBe(d === 0 ? 3334 : 3333);
    }
    expect(await count(prefix, { bool: { filter: [{ term: { kind: 'hold' } }, { term: { version: '4' } }, { term: { app: 'app3' } }] } })).toBe(500);
    expect(recordMs).toBeLessThan(1000);
  });

  describe('consumers and moves read from Elasticsearch are what core answers over all the events, whatever the page size', () => {
    const prefix = newPrefix();
    const TOPIC = 'ip-reputation';
    const start = NOON - 3_600_000;
    const T = start + 1_800_000;
    const events: HoldingEvent[] = [];
    const summary = (atMs: number, replica: string, app: string, cluster: string, region: string, version: string, nodeCount: number, foldedPolls = 0): HoldingEvent => ({
      kind: 'summary',
      atMs,
      topic: TOPIC,
      replica,
      app,
      cluster,
      region,
      version,
      nodeCount,
      pinnedCount: 0,
      errorCount: 0,
      foldedPolls,
      periodMs: 300_000,
    });
    // scorer s0..s9 on 1; s0..s3 move to 2 at T. Summaries of consume-1 every 5 minutes.
    for (let i = 0; i < 10; i++) events.push(hold(TOPIC, 'scorer', 'c1', `s${i}`, '1', start + i));
    for (let i = 0; i < 4; i++) events.push(hold(TOPIC, 'scorer', 'c1', `s${i}`, '2', T + i));
    for (let k = 1; k <= 12; k++) {
      const at = start + k * 300_000;
      events.push(summary(at, 'consume-1', 'scorer', 'c1', 'eu-west-1', '1', at > T ? 6 : 10, k));
      if (at > T) events.push(summary(at, 'consume-1', 'scorer', 'c1', 'eu-west-1', '2', 4));
    }
    // ranker r0..r4 (no cluster, no region) handed from consume-1 to consume-2, which sees them
    // without a move; consume-1 reports them gone later (their last poll there was before).
    for (let i = 0; i < 5; i++) {
      events.push(hold(TOPIC, 'ranker', '', `r${i}`, '2', start + 100 + i, '', 'consume-1'));
      events.push({ ...hold(TOPIC, 'ranker', '', `r${i}`, '2', T - 60_000, '', 'consume-2'), previous: '2', moved: false });
      events.push({ kind: 'gone', atMs: T + 600_000, topic: TOPIC, identity: hold(TOPIC, 'ranker', '', `r${i}`, '2', 0, '').identity, replica: 'consume-1', version: '2', seenMs: T - 90_000 });
    }
    events.push(summary(T + 300_000, 'consume-2', 'ranker', '', '', '2', 5));
    // mailer m0..m4 move to 10 (consume-2); later consume-2 says 9 and 10 (pinned now) in one
    // millisecond, neither a move: its latest word is the higher version, "10" (a text sort
    // would pick "9"). m5: consume-1 reports it gone with its last poll at the very
    // millisecond consume-2 answered it: the hold wins.
    for (let i = 0; i < 6; i++) events.push(hold(TOPIC, 'mailer', 'c3', `m${i}`, '9', start + 200 + i));
    for (let i = 0; i < 5; i++) {
      events.push({ ...hold(TOPIC, 'mailer', 'c3', `m${i}`, '10', T + 1_000, 'eu-west-1', 'consume-2'), previous: '9' });
      events.push({ ...hold(TOPIC, 'mailer', 'c3', `m${i}`, '9', T + 5_000, 'eu-west-1', 'consume-2'), previous: '10', moved: false });
      events.push({ ...hold(TOPIC, 'mailer', 'c3', `m${i}`, '10', T + 5_000, 'eu-west-1', 'consume-2'), previous: '10', moved: false, pinned: true });
    }
    events.push({ ...hold(TOPIC, 'mailer', 'c3', 'm5', '9', T + 7_000, 'eu-west-1', 'consume-2'), previous: '9', moved: false });
    events.push({ kind: 'gone', atMs: T + 900_000, topic: TOPIC, identity: hold(TOPIC, 'mailer', 'c3', 'm5', '9', 0).identity, replica: 'consume-1', version: '9', seenMs: T + 7_000 });
    // x0..x11: the same move from two replicas at one millisecond (one move each), all at one
    // millisecond (a page boundary inside a tie).
    for (let i = 0; i < 12; i++) for (const r of ['consume-1', 'consume-2']) events.push(hold(TOPIC, 'mailer', 'c4', `x${i}`, '3', T + 10_000, 'eu-west-1', r));
    // Noise: another topic.
    events.push(hold('other-topic', 'scorer', 'c1', 's0', '7', T));
    // Another topic whose node ids Elasticsearch orders as UTF-8 bytes (U+FF5E before U+1F600)
    // and JavaScript as UTF-16 units (U+1F600 first): the moves page must still be core's.
    for (const id of ['\uFF5Ea', '\uFF5Eb', '\u{1F600}']) events.push(hold('collation', 'a', 'c', id, '1', T));
    let sink: ElasticsearchAuditSink;

    beforeAll(async () => {
      sink = sinkFor(prefix);
      for (const e of events) sink.record(e);
      await sink.flush();
      expect(sink.stats()).toMatchObject({ recorded: events.length, written: events.length, dropped: 0 });
      await client.indices.refresh({ index: `${prefix}-*` });
    });

    const consumerQueries: ConsumersQuery[] = [
      { sinceMs: 0 },
      { sinceMs: start, nodeLimit: 10_000 },
      { sinceMs: start, nodeLimit: 7, version: '9' },
      { sinceMs: T, nodeLimit: 100 },
      { sinceMs: T + 20 * 60_000, nodeLimit: 100 },
      { sinceMs: start, untilMs: T, nodeLimit: 100 },
      { sinceMs: start, untilMs: T + 5_000, nodeLimit: 100 },
      { sinceMs: start + 0.5, untilMs: T + 5_000.5, nodeLimit: 100 },
    ];

    it.each([1000, 3])('consumers, %i nodes per page', async (pageSize) => {
      for (const q of consumerQueries) {
        expect(await consumersFromElasticsearch(client, TOPIC, q, { indexPrefix: prefix, pageSize }), JSON.stringify(q)).toEqual(consumersView(TOPIC, q, events));
      }
    });

    it('the answers say what the events say: one node each, the replica that saw it last, the higher version, a hold over a gone', async () => {
      const r = await sink.consumers(TOPIC, { sinceMs: start, nodeLimit: 100 });
      expect(r).toMatchObject({ nodeCount: 33, liveCount: 33, foldedPolls: 12 });
      const byId = new Map((r.nodes ?? []).map((n) => [n.nodeId, n]));
      expect(byId.get('r0')).toMatchObject({ replica: 'consume-2', live: true, version: '2', sinceMs: start + 100, lastSeenMs: T + 300_000 });
      expect(byId.get('m0')).toMatchObject({ replica: 'consume-2', version: '10', sinceMs: T + 1_000, pinned: true, lastSeenMs: T + 5_000 });
      expect(byId.get('m5')).toMatchObject({ replica: 'consume-2', live: true, version: '9' });
      expect(byId.get('s0')).toMatchObject({ version: '2', sinceMs: T, lastSeenMs: start + 12 * 300_000 });
      expect(r.groups.map((g) => `${g.app}/${g.cluster}/${g.region}`)).toEqual(['mailer/c3/eu-west-1', 'mailer/c4/eu-west-1', 'ranker//', 'scorer/c1/eu-west-1']);
    });

    const moveQueries: MovesQuery[] = [
      { sinceMs: 0, limit: 1000 },
      { sinceMs: 0 },
      { sinceMs: start, limit: 5 },
      { sinceMs: start, limit: 13 },
      { sinceMs: start, limit: 1 },
      { sinceMs: T, untilMs: T + 10_000 },
      { sinceMs: 0, nodeId: 'x3' },
      { sinceMs: 0, nodeId: 'm0', limit: 1 },
    ];

    it.each([1000, 3, 1])('moves, %i events per page', async (pageSize) => {
      for (const q of moveQueries) {
        expect(await movesFromElasticsearch(client, TOPIC, q, { indexPrefix: prefix, pageSize }), JSON.stringify(q)).toEqual(movesOf(TOPIC, q, events));
      }
      expect(await movesFromElasticsearch(client, 'collation', { sinceMs: 0, limit: 1 }, { indexPrefix: prefix, pageSize })).toEqual(movesOf('collation', { sinceMs: 0, limit: 1 }, events));
      expect(movesOf('collation', { sinceMs: 0, limit: 1 }, events).moves[0]?.nodeId).toBe('\u{1F600}');
      const page = await sink.moves(TOPIC, { sinceMs: start, limit: 13 });
      expect(page.truncated).toBe(true);
      expect(page.moves.slice(0, 12).map((m) => m.nodeId)).toEqual(Array.from({ length: 12 }, (_, i) => `x${i}`).sort());
    });

    it('a topic nobody polls has no consumers and no moves (and other topics do not leak in), also with no audit index at all', async () => {
      expect(await sink.consumers('nobody-polls-this', { sinceMs: 0 })).toEqual({ topic: 'nobody-polls-this', sinceMs: 0, nodeCount: 0, liveCount: 0, versions: [], groups: [], foldedPolls: 0 });
      expect(await sink.moves('nobody-polls-this', { sinceMs: 0 })).toEqual({ topic: 'nobody-polls-this', moves: [], truncated: false });
      const other = await sink.consumers('other-topic', { sinceMs: 0 });
      expect(other.versions).toEqual([{ version: '7', nodeCount: 1, lastSeenMs: T }]);
      expect((await consumersFromElasticsearch(client, TOPIC, { sinceMs: 0 }, { indexPrefix: 'no-such-audit' })).nodeCount).toBe(0);
      expect((await movesFromElasticsearch(client, TOPIC, { sinceMs: 0 }, { indexPrefix: 'no-such-audit' })).moves).toEqual([]);
    });
  });

  it('retention on this cluster, which has no ILM (the integ-test build lacks x-pack-ilm): the template names no policy, and the sink deletes indices past retentionDays itself at start', async () => {
    const prefix = newPrefix();
    // The ILM API is absent here: the answer the sink recognises.
    const probe = await fetch(`${esUrl()}/_ilm/policy/${prefix}`);
    expect(probe.status).toBe(400);
    expect(await probe.text()).toContain('no handler found');
    const old = dailyIndexName(prefix, NOW - 40 * DAY);
    const recent = dailyIndexName(prefix, NOW - 10 * DAY);
    await client.indices.create({ index: old });
    await client.indices.create({ index: recent });
    const sink = sinkFor(prefix, { retentionDays: 30 });
    await sink.ready();
    expect(sink.retentionBy).toBe('sink');
    const settings = await client.cluster.getComponentTemplate({ name: auditTemplateNames(prefix).settings });
    expect(JSON.stringify(settings.component_templates[0]?.component_template.template.settings)).not.toContain('lifecycle');
    const end = Date.now() + 30_000;
    while ((await client.indices.exists({ index: old })) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(await client.indices.exists({ index: old })).toBe(false);
    expect(await client.indices.exists({ index: recent })).toBe(true);
  });

  it('purgeOldIndices deletes the daily indices older than the retention and keeps the rest', async () => {
    const prefix = newPrefix();
    const sink = sinkFor(prefix, { retentionDays: 30 });
    const ages = [45, 31, 30, 29, 1, 0];
    for (const d of ages) sink.record(hold('t', 'scorer', 'c1', `n${d}`, String(d), NOW - d * DAY));
    await sink.flush();
    const indices = async () => (await client.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index' })).map((r) => r.index ?? '').sort();
    expect(await indices()).toHaveLength(ages.length);
    // An index goes when its whole day is more than 30 days old: the days 45 and 31 days ago
    // ended more than 30 days ago; the day 30 days ago ends less than 30 days ago.
    const deleted = await sink.purgeOldIndices(NOW);
    expect(deleted).toEqual([dailyIndexName(prefix, NOW - 45 * DAY), dailyIndexName(prefix, NOW - 31 * DAY)]);
    expect(await indices()).toEqual([30, 29, 1, 0].map((d) => dailyIndexName(prefix, NOW - d * DAY)).sort());
    expect(await sink.purgeOldIndices(NOW)).toEqual([]);
  });

  it('events Elasticsearch refuses are counted as dropped (rejected), not retried forever; the rest are indexed', async () => {
    const prefix = newPrefix();
    const lines: string[] = [];
    const sink = sinkFor(prefix, { log: createLogger({ level: 'debug', format: 'pretty', destination: { write: (l) => lines.push(l) } }) });
    sink.record(hold('t', 'ok', 'c', 'n1', '1', NOW));
    sink.record(hold('t', 'x'.repeat(40_000), 'c', 'n2', '1', NOW)); // a keyword term over Lucene's 32 KiB limit
    sink.record(hold('t', 'ok', 'c', 'n3', '1', Number.NaN)); // no valid time: refused before sending
    sink.record(hold('t', 'ok', 'c', 'n4', '1', NOW));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ recorded: 4, written: 2, failed: 2, dropped: 2, buffered: 0, droppedBy: { buffer_full: 0, after_close: 0, rejected: 2, closed: 0 } });
    expect(await count(prefix)).toBe(2);
    expect(lines.filter((l) => l.includes('audit: elasticsearch rejected events'))).toHaveLength(2);
  });

  it('Elasticsearch slow (answers held back): record() stays fast, the buffer bound holds, and retries do not duplicate', async () => {
    const prefix = newPrefix();
    const proxy = await HoldingProxy.start(new URL(esUrl()));
    const sink = sinkFor(prefix, { node: `http://127.0.0.1:${proxy.port}`, maxBuffered: 2000, batchSize: 200, requestTimeoutMs: 500, initialBackoffMs: 50, maxBackoffMs: 200 });
    try {
      await sink.ready();
      for (let i = 0; i < 1000; i++) sink.record(hold('slow', 'a', 'c', `n${i}`, '1', NOW));
      await sink.flush();
      expect(sink.stats().written).toBe(1000);

      proxy.hold(); // requests reach Elasticsearch (and are indexed); the answers do not come back
      let maxBuffered = 0;
      let worstRecordMs = 0;
      let refused = 0;
      for (let round = 0; round < 20; round++) {
        const t0 = performance.now();
        for (let i = 0; i < 500; i++) if (!sink.record(hold('slow', 'a', 'c', `m${round}-${i}`, '2', NOW))) refused++;
        worstRecordMs = Math.max(worstRecordMs, performance.now() - t0);
        maxBuffered = Math.max(maxBuffered, sink.stats().buffered);
        await new Promise((r) => setTimeout(r, 50));
      }
      const held = sink.stats();
      expect(held.unavailable).toBe(true); // requests time out
      expect(held.bulkFailures).toBeGreaterThan(0);
      expect(maxBuffered).toBeLessThanOrEqual(2000);
      expect(held.droppedBy.buffer_full).toBeGreaterThanOrEqual(10_000 - 2000);
      // record() said false for exactly the events it dropped (Holdings say those again).
      expect(refused).toBe(held.droppedBy.buffer_full);
      expect(worstRecordMs).toBeLessThan(100); // 500 record() calls

      proxy.release();
      await sink.flush();
      const s = sink.stats();
      expect(s).toMatchObject({ buffered: 0, unavailable: false, failed: 0 });
      expect(s.recorded + s.droppedBy.buffer_full).toBe(11_000); // every record() call accounted for
      expect(s.written).toBe(s.recorded);
      // Batches whose answers were lost were indexed and then sent again: the ids make the
      // second attempt a no-op (409), so the index holds each event exactly once.
      expect(await count(prefix)).toBe(s.written);
    } finally {
      await sink.close();
      await proxy.close();
    }
  });
});

describe('Elasticsearch down: nothing listens', () => {
  it('record() never waits or throws; drops are counted (stats, metric, log); buffer and heap stay bounded over 200k events', async () => {
    const gc = exposeGc();
    const registry = new Registry();
    const lines: string[] = [];
    const BOUND = 10_000;
    const sink = sinkFor('imprint-down-audit', {
      node: `http://127.0.0.1:${await freePort()}`, // nothing listens there: Elasticsearch down
      maxBuffered: BOUND,
      registry,
      dropLogIntervalMs: 50,
      closeTimeoutMs: 200,
      flushTimeoutMs: 300,
      log: createLogger({ format: 'pretty', destination: { write: (l) => lines.push(l) } }),
    });
    const makeEvent = (i: number): HoldEvent => hold(`topic-${i % 50}`, `app-${i % 7}`, `cluster-${i % 3}`, `node-${i}-${'x'.repeat(40)}`, String(i), NOW + i);

    // What 200k such events weigh when kept: the bound below must be far under it.
    gc();
    const base = process.memoryUsage().heapUsed;
    const kept: HoldEvent[] = [];
    for (let i = 0; i < 200_000; i++) kept.push(makeEvent(i));
    gc();
    const unbounded = process.memoryUsage().heapUsed - base;
    kept.length = 0;
    gc();

    const before = process.memoryUsage().heapUsed;
    let maxBuffered = 0;
    let taken: boolean | undefined;
    for (let i = 0; i < 200_000; i++) {
      taken = sink.record(makeEvent(i));
      if (i % 1000 === 0) maxBuffered = Math.max(maxBuffered, sink.stats().buffered);
      if (i % 50_000 === 0) await new Promise((r) => setImmediate(r)); // let the retry loop run
    }
    gc();
    const growth = process.memoryUsage().heapUsed - before;

    expect(maxBuffered).toBeLessThanOrEqual(BOUND);
    // record() never waits: it answers synchronously (a boolean, not a promise); a full buffer refuses.
    expect(taken).toBe(false);
    expect(sink.stats()).toMatchObject({ recorded: BOUND, dropped: 200_000 - BOUND, buffered: BOUND, written: 0 });
    expect(unbounded).toBeGreaterThan(60 * 1024 * 1024);
    expect(growth).toBeLessThan(unbounded / 5);

    // Never silently: a metric and a periodic log line.
    const dropped = await registry.getSingleMetric('imprint_audit_events_dropped_total')?.get();
    expect(dropped?.values.find((v) => v.labels['reason'] === 'buffer_full')?.value).toBe(200_000 - BOUND);
    await until(() => lines.some((l) => l.includes('audit: events dropped') && l.includes(`droppedTotal=${200_000 - BOUND}`)), 2000, 'the drop log line');
    expect(lines.some((l) => l.includes('audit: elasticsearch unavailable'))).toBe(true);
    const buffered = await registry.getSingleMetric('imprint_audit_buffered_events')?.get();
    expect(buffered?.values[0]?.value).toBe(BOUND);

    // flush() gives up after its timeout: the events stay buffered (and retried).
    const tf = performance.now();
    await sink.flush();
    expect(performance.now() - tf).toBeLessThan(1500);
    expect(sink.stats().buffered).toBe(BOUND);

    // Reads fail with a typed UNAVAILABLE error (the service maps it to the gRPC status).
    for (const read of [sink.consumers('topic-1', { sinceMs: 0 }), sink.moves('topic-1', { sinceMs: 0 })]) {
      const readError = await read.catch((e: unknown) => e);
      expect(readError).toBeInstanceOf(AuditElasticsearchError);
      expect((readError as AuditElasticsearchError).code).toBe('UNAVAILABLE');
    }
    await expect(sink.purgeOldIndices(Date.now())).rejects.toBeInstanceOf(AuditElasticsearchError);

    // close() gives up after its timeout and counts what was left; later records are refused.
    const tc = performance.now();
    await sink.close();
    expect(performance.now() - tc).toBeLessThan(2000);
    sink.record(makeEvent(0));
    expect(sink.stats()).toMatchObject({ recorded: BOUND, buffered: 0, failed: BOUND, dropped: 200_001, droppedBy: { buffer_full: 200_000 - BOUND, after_close: 1, rejected: 0, closed: BOUND } });
  });
});

describe('Elasticsearch stopped under load, then started again on the same port', () => {
  let es: RunningBackend | undefined;
  let es2: RunningBackend | undefined;

  beforeAll(async () => {
    es = await backends.elasticsearch.start(createContext({ log: () => undefined }), {});
  });

  afterAll(async () => {
    await es?.stop();
    await es2?.stop();
  });

  it('keeps serving record() in microseconds, counts the drops, and resumes indexing (template included) on the new node', async () => {
    if (!es) throw new Error('no Elasticsearch');
    const BOUND = 5000;
    const prefix = 'imprint-restart-audit';
    const sink = new ElasticsearchAuditSink({
      node: es.endpoint,
      indexPrefix: prefix,
      replicas: 0,
      maxBuffered: BOUND,
      batchSize: 500,
      flushIntervalMs: 100,
      requestTimeoutMs: 2000,
      initialBackoffMs: 100,
      maxBackoffMs: 500,
    });
    sinks.push(sink);
    await sink.ready();

    // Steady load: 100 events every 5 ms (~20k/s), throughout.
    let offered = 0;
    let maxBuffered = 0;
    let loadError: unknown;
    const load = setInterval(() => {
      try {
        for (let i = 0; i < 100; i++) sink.record(hold('under-load', 'a', 'c', `n${offered++ % 500}`, '1', Date.now()));
        maxBuffered = Math.max(maxBuffered, sink.stats().buffered);
      } catch (err) {
        loadError = err;
      }
    }, 5);
    try {
      await until(() => sink.stats().written >= 5000, 20_000, '5000 events written');
      const port = es.port;
      await es.stop();
      es = undefined;
      await until(() => sink.stats().unavailable, 10_000, 'the sink to notice');
      // Written from now on can only be the new node's acknowledgements.
      const writtenBySecondNode = () => sink.stats().written - writtenByFirst;
      const writtenByFirst = sink.stats().written;

      const droppedBefore = sink.stats().dropped;
      const t0 = performance.now();
      for (let i = 0; i < 50_000; i++) sink.record(hold('burst', 'b', 'c', `n${i}`, '1', Date.now()));
      const burstMs = performance.now() - t0;
      expect(burstMs).toBeLessThan(250); // "well under a second" with Elasticsearch down
      expect(sink.stats().dropped - droppedBefore).toBeGreaterThanOrEqual(50_000 - BOUND);
      expect(sink.stats().buffered).toBe(BOUND);

      es2 = await backends.elasticsearch.start(createContext({ log: () => undefined }), { port });
      clearInterval(load);
      await sink.flush();
      const s = sink.stats();
      expect(loadError).toBeUndefined();
      expect(maxBuffered).toBeLessThanOrEqual(BOUND);
      expect(s).toMatchObject({ buffered: 0, failed: 0, unavailable: false });
      expect(s.recorded + s.droppedBy.buffer_full).toBe(offered + 50_000);
      expect(s.written).toBe(s.recorded);

      const c2 = new Client({ node: es2.endpoint });
      try {
        expect(await count(prefix, undefined, c2)).toBe(writtenBySecondNode());
        expect(writtenBySecondNode()).toBeGreaterThan(0);
        // The new node is empty: the sink put its template in again before indexing.
        const m = await c2.indices.getMapping({ index: `${prefix}-*` });
        for (const idx of Object.values(m)) expect(idx.mappings.properties?.['seen_at']).toEqual({ type: 'date' });

        // And indexing goes on as normal.
        for (let i = 0; i < 1000; i++) sink.record(hold('after-restart', 'a', 'c', `n${i}`, '2', Date.now()));
        await sink.flush();
        expect(await count(prefix, { term: { topic: 'after-restart' } }, c2)).toBe(1000);
      } finally {
        await c2.close();
      }
    } finally {
      clearInterval(load);
      await sink.close();
    }
  });
});

describe('Elasticsearch hung (SIGSTOP), then answering again (SIGCONT)', () => {
  let es: RunningBackend | undefined;

  beforeAll(async () => {
    es = await backends.elasticsearch.start(createContext({ log: () => undefined }), {});
  });
  afterAll(async () => {
    await es?.stop();
  });

  it('is noticed within about probeIntervalMs of answering again, whatever the backoff', async () => {
    if (!es) throw new Error('no Elasticsearch');
    const prefix = newPrefix();
    // A backoff of a minute: only the probe interval (default 1 s) can make the sink try sooner.
    const sink = sinkFor(prefix, { node: es.endpoint, requestTimeoutMs: 1000, initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    await sink.ready();
    const group = -es.pid; // the launcher starts it in a process group of its own
    process.kill(group, 'SIGSTOP');
    try {
      for (let i = 0; i < 10; i++) sink.record(hold('hung', 'a', 'c', `n${i}`, '1', Date.now()));
      await until(() => sink.stats().unavailable, 10_000, 'the sink to notice Elasticsearch does not answer');
    } finally {
      process.kill(group, 'SIGCONT');
    }
    const t0 = performance.now();
    await until(() => !sink.stats().unavailable, 10_000, 'the sink to notice Elasticsearch answers again');
    const noticedMs = performance.now() - t0;
    process.stderr.write(`[audit] elasticsearch answered again (SIGCONT); the sink noticed after ${Math.round(noticedMs)} ms\n`);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ buffered: 0, written: 10, dropped: 0, unavailable: false });
    const c = new Client({ node: es.endpoint });
    try {
      expect(await count(prefix, undefined, c)).toBe(10);
    } finally {
      await c.close();
    }
  });
});

/** `gc()` (exposed at run time: vitest's forks do not pass --expose-gc). */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * A TCP proxy in front of Elasticsearch that can hold back the answers: requests still reach
 * Elasticsearch (and are executed), the responses wait until release(). A slow cluster as
 * the client sees it, with the real server behind.
 */
class HoldingProxy {
  private held = false;
  private readonly conns = new Set<{ down: net.Socket; up: net.Socket; queue: Buffer[] }>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: URL): Promise<HoldingProxy> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = new HoldingProxy(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (down) => {
      const conn = { down, up: net.connect(Number(target.port), target.hostname), queue: [] as Buffer[] };
      proxy.conns.add(conn);
      down.pipe(conn.up);
      conn.up.on('data', (chunk: Buffer) => (proxy.held ? conn.queue.push(chunk) : down.write(chunk)));
      const end = () => {
        down.destroy();
        conn.up.destroy();
        proxy.conns.delete(conn);
      };
      down.on('error', end).on('close', end);
      conn.up.on('error', end).on('close', end);
    });
    return proxy;
  }

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const c of this.conns) for (const chunk of c.queue.splice(0)) c.down.write(chunk);
  }

  async close(): Promise<void> {
    for (const c of this.conns) {
      c.down.destroy();
      c.up.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
