/**
 * The Kibana saved objects (kibana/imprint-saved-objects.ndjson) and the Discover deep link,
 * checked against a real Elasticsearch: every field an object uses exists in the index the
 * audit template creates, with a type that fits the use; the link's KQL, translated to the
 * equivalent Elasticsearch queries, returns exactly the topic's (and version's) events in the
 * link's time range. No Kibana runs here; what Kibana would read is checked instead.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, type estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, PollEvent } from '../../server/audit/audit-sink.js';
import { AUDIT_MAPPING, DEFAULT_INDEX_PREFIX, auditTemplateNames, installAuditTemplate, toAuditDocument } from '../../server/audit/elasticsearch.js';
import { KIBANA_DATA_VIEW_ID, KIBANA_LINK_COLUMNS, kibanaConsumersLink, parseRison, type RisonValue } from '../../server/audit/kibana.js';

const NDJSON = fileURLToPath(new URL('../../kibana/imprint-saved-objects.ndjson', import.meta.url));

interface SavedObject {
  readonly id: string;
  readonly type: string;
  readonly attributes: Record<string, unknown>;
  readonly references: ReadonlyArray<{ readonly id: string; readonly name: string; readonly type: string }>;
}

/** A use of a field by a saved object, and what the use needs from the field. */
interface FieldUse {
  readonly object: string;
  readonly field: string;
  readonly need: 'date' | 'aggregatable' | 'searchable' | 'exists';
  /** Lens' data type for the column, when it describes the field itself. */
  readonly dataType?: string;
}

const objects: SavedObject[] = fs
  .readFileSync(NDJSON, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as SavedObject);

const byType = (type: string) => objects.filter((o) => o.type === type);
const str = (v: unknown): string => {
  if (typeof v !== 'string') throw new Error(`expected a string, got ${JSON.stringify(v)}`);
  return v;
};

/** Field names in a KQL query (`field:value` / `field : value`). */
function kqlFields(kql: string): string[] {
  return [...kql.matchAll(/([A-Za-z_@][\w.@]*)\s*:/g)].map((m) => m[1] as string);
}

/** Every field use in the saved objects. */
function fieldUses(): FieldUse[] {
  const uses: FieldUse[] = [];
  for (const o of objects) {
    const name = `${o.type}:${o.id}`;
    const a = o.attributes;
    if (o.type === 'index-pattern') uses.push({ object: name, field: str(a['timeFieldName']), need: 'date' });
    if (o.type === 'search') {
      for (const c of a['columns'] as string[]) uses.push({ object: name, field: c, need: 'exists' });
      for (const [f] of a['sort'] as Array<[string, string]>) uses.push({ object: name, field: f, need: 'aggregatable' });
    }
    if (o.type === 'search' || o.type === 'dashboard') {
      const src = JSON.parse(str((a['kibanaSavedObjectMeta'] as Record<string, unknown>)['searchSourceJSON'])) as { query: { query: string; language: string } };
      expect(src.query.language, name).toBe('kuery');
      for (const f of kqlFields(src.query.query)) uses.push({ object: name, field: f, need: 'searchable' });
    }
    if (o.type === 'lens') {
      const state = a['state'] as {
        query: { query: string };
        datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, { operationType: string; sourceField: string; dataType: string }> }> } };
      };
      for (const f of kqlFields(state.query.query)) uses.push({ object: name, field: f, need: 'searchable' });
      for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
        for (const col of Object.values(layer.columns)) {
          if (col.sourceField === '___records___') continue; // count of documents: no field
          switch (col.operationType) {
            case 'date_histogram':
              uses.push({ object: name, field: col.sourceField, need: 'date', dataType: col.dataType });
              break;
            case 'terms':
              uses.push({ object: name, field: col.sourceField, need: 'aggregatable', dataType: col.dataType });
              break;
            case 'max':
            case 'min':
              uses.push({ object: name, field: col.sourceField, need: 'aggregatable', dataType: col.dataType });
              break;
            case 'unique_count':
              uses.push({ object: name, field: col.sourceField, need: 'aggregatable' });
              break;
            default:
              throw new Error(`${name}: operation ${col.operationType} is not checked by this test; add it`);
          }
        }
      }
    }
  }
  return uses;
}

/** Lens data types and the Elasticsearch field types they stand for. */
const LENS_TYPES: Record<string, readonly string[]> = {
  string: ['keyword'],
  date: ['date'],
  number: ['long', 'integer', 'double', 'float', 'short', 'byte'],
  boolean: ['boolean'],
};

let client: Client;
/** An index of the audit pattern, created by the installed template (its mapping is the real one). */
const INDEX = `${DEFAULT_INDEX_PREFIX}-kibanatest-${randomBytes(4).toString('hex')}`;
let templateExisted = false;

beforeAll(async () => {
  const url = process.env['IMPRINT_ELASTICSEARCH'];
  if (!url) throw new Error('IMPRINT_ELASTICSEARCH is not set: run with `npx vitest run --project elasticsearch`');
  client = new Client({ node: url });
  templateExisted = await client.indices.existsIndexTemplate({ name: auditTemplateNames().index });
  await installAuditTemplate(client, { replicas: 0 });
});

afterAll(async () => {
  await client.indices.delete({ index: INDEX, ignore_unavailable: true });
  if (!templateExisted) {
    const names = auditTemplateNames();
    await client.indices.deleteIndexTemplate({ name: names.index });
    await client.cluster.deleteComponentTemplate({ name: names.mappings });
    await client.cluster.deleteComponentTemplate({ name: names.settings });
  }
  await client.close();
});

/** Indexes the events into INDEX as the sink would write them; returns their ids in order. */
let batches = 0;
async function indexEvents(events: readonly AuditEvent[]): Promise<string[]> {
  const batch = batches++;
  const ids = events.map((_, i) => `b${batch}-e${i}`);
  const operations = events.flatMap((e, i) => [{ create: { _index: INDEX, _id: ids[i] } }, toAuditDocument(e)]);
  const res = await client.bulk({ operations, refresh: true });
  expect(res.errors).toBe(false);
  return ids;
}

describe('kibana/imprint-saved-objects.ndjson', () => {
  it('holds the data view, the saved searches, the consumers panels and the dashboard, all references resolved', () => {
    expect(objects.map((o) => o.type).sort()).toEqual(['dashboard', 'index-pattern', 'lens', 'lens', 'lens', 'search']);
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    expect(ids.size).toBe(objects.length);
    const [dataView] = byType('index-pattern');
    expect(dataView?.id).toBe(KIBANA_DATA_VIEW_ID);
    expect(dataView?.attributes['title']).toBe(`${DEFAULT_INDEX_PREFIX}-*`);
    for (const o of objects) {
      for (const r of o.references) expect(ids.has(`${r.type}:${r.id}`), `${o.id} -> ${r.type}:${r.id}`).toBe(true);
    }
    // Each object names the references it uses, and only those.
    for (const o of byType('search')) {
      const src = JSON.parse(str((o.attributes['kibanaSavedObjectMeta'] as Record<string, unknown>)['searchSourceJSON'])) as { indexRefName: string };
      expect(o.references.map((r) => r.name)).toEqual([src.indexRefName]);
    }
    for (const o of byType('lens')) {
      const layers = Object.keys((o.attributes['state'] as { datasourceStates: { formBased: { layers: object } } }).datasourceStates.formBased.layers);
      expect(o.references.map((r) => r.name).sort()).toEqual(layers.map((l) => `indexpattern-datasource-layer-${l}`).sort());
    }
    const [dash] = byType('dashboard');
    const panels = JSON.parse(str(dash?.attributes['panelsJSON'])) as Array<{ panelRefName: string; type: string }>;
    expect(panels.map((p) => p.panelRefName).sort()).toEqual((dash?.references ?? []).map((r) => r.name).sort());
    expect(panels.map((p) => p.type).sort()).toEqual(['lens', 'lens', 'lens', 'search']);
  });

  it('every field an object uses is in the audit mapping with a type that fits the use (checked on a real index)', async () => {
    const uses = fieldUses();
    expect(uses.length).toBeGreaterThan(20);
    const mapped = new Set<string>(Object.keys(AUDIT_MAPPING.properties));
    for (const u of uses) expect(mapped.has(u.field), `${u.object} uses ${u.field}, which AUDIT_MAPPING lacks`).toBe(true);

    // The index the template creates, with an event in it.
    const poll: PollEvent = {
      kind: 'poll',
      atMs: Date.now(),
      topic: 't',
      identity: { app: 'a', cluster: 'c', region: 'r', nodeId: 'n', labels: { k: 'v' } },
      lastSeen: '1',
      holds: '2',
      outcome: 'error',
      pinned: true,
      error: 'boom',
    };
    await indexEvents([poll]);
    const caps = await client.fieldCaps({ index: INDEX, fields: '*' });
    for (const u of uses) {
      const types = caps.fields[u.field] as Record<string, estypes.FieldCapsFieldCapability> | undefined;
      expect(types, `${u.object}: field ${u.field} is not in the index`).toBeDefined();
      const entries = Object.values(types ?? {});
      expect(entries, `${u.object}: ${u.field} has conflicting types`).toHaveLength(1);
      const cap = entries[0] as estypes.FieldCapsFieldCapability;
      const where = `${u.object} uses ${u.field} (${cap.type}) as ${u.need}`;
      if (u.need === 'date') expect(cap.type, where).toBe('date');
      if (u.need === 'aggregatable') expect(cap.aggregatable, where).toBe(true);
      if (u.need === 'searchable') expect(cap.searchable, where).toBe(true);
      if (u.dataType !== undefined) expect(LENS_TYPES[u.dataType] ?? [], where).toContain(cap.type);
    }
    // The link's columns too.
    for (const c of KIBANA_LINK_COLUMNS) expect(caps.fields[c], `link column ${c}`).toBeDefined();
  });
});

describe('kibanaConsumersLink against real Elasticsearch', () => {
  const topic = `kib-${randomBytes(3).toString('hex')}`;
  const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
  const FROM = T0 + 3_600_000;
  const TO = T0 + 2 * 3_600_000;
  const events: Array<{ e: AuditEvent; tag: string }> = [];
  const pollAt = (t: string, holds: string, atMs: number, tag: string) =>
    events.push({
      tag,
      e: { kind: 'poll', atMs, topic: t, identity: { app: 'scorer', cluster: 'c1', region: 'eu', nodeId: tag, labels: {} }, lastSeen: '0', holds, outcome: 'update', pinned: false },
    });
  for (let i = 0; i < 5; i++) pollAt(topic, '3', FROM + 60_000 * (i + 1), `in-v3-${i}`);
  pollAt(topic, '3', FROM, 'in-v3-at-from');
  pollAt(topic, '3', TO, 'in-v3-at-to');
  for (let i = 0; i < 3; i++) pollAt(topic, '2', FROM + 60_000 * (i + 1), `in-v2-${i}`);
  pollAt(topic, '3', FROM - 1, 'before');
  pollAt(topic, '3', TO + 1, 'after');
  pollAt(`${topic}-2`, '3', FROM + 1000, 'other-topic'); // a topic whose name starts with ours
  pollAt(topic.slice(0, -1), '3', FROM + 1000, 'prefix-topic');
  pollAt(topic, '13', FROM + 1000, 'in-v13'); // a version that contains "3"
  let tagOf: Map<string, string>;

  beforeAll(async () => {
    const ids = await indexEvents(events.map((x) => x.e));
    tagOf = new Map(ids.map((id, i) => [id, events[i]?.tag ?? '']));
  });

  /** The link's state: data view, KQL and time range. */
  function state(url: string): { kql: string; from: string; to: string; dataView: string } {
    const params = new URLSearchParams((url.split('#')[1] ?? '').replace(/^\/\?/, ''));
    const g = parseRison(params.get('_g') ?? '') as { time: { from: string; to: string } };
    const a = parseRison(params.get('_a') ?? '') as { index: string; query: { language: string; query: string } } & Record<string, RisonValue>;
    expect(a.query.language).toBe('kuery');
    return { kql: a.query.query, from: g.time.from, to: g.time.to, dataView: a.index };
  }

  /** KQL `field:"value" and field:"value"` as Kibana runs it: match_phrase per clause, in the time range. */
  function kqlToDsl(kql: string, from: string, to: string): estypes.QueryDslQueryContainer {
    const clauses = kql.split(' and ').map((c) => {
      const m = /^([\w@.]+):"((?:[^"\\]|\\.)*)"$/.exec(c);
      if (!m) throw new Error(`the link's KQL has a clause this test cannot translate: ${c}`);
      return { match_phrase: { [m[1] as string]: (m[2] as string).replace(/\\(.)/g, '$1') } };
    });
    return { bool: { filter: [...clauses, { range: { '@timestamp': { gte: from, lte: to, format: 'strict_date_optional_time' } } }] } };
  }

  /** The same KQL as a Lucene query_string (AND for and; quoted values are phrases in both). */
  function kqlToQueryString(kql: string, from: string, to: string): estypes.QueryDslQueryContainer {
    return { bool: { filter: [{ query_string: { query: kql.split(' and ').join(' AND ') } }, { range: { '@timestamp': { gte: from, lte: to, format: 'strict_date_optional_time' } } }] } };
  }

  async function tagsFor(query: estypes.QueryDslQueryContainer, dataViewTitle: string): Promise<string[]> {
    const res = await client.search({ index: dataViewTitle, query, size: 1000, _source: false });
    // The data view spans every audit index; only this test's index is ours to judge.
    return res.hits.hits.filter((h) => h._index === INDEX).map((h) => tagOf.get(h._id ?? '') ?? `?${h._id}`).sort();
  }

  const dataViewTitle = () => str(byType('index-pattern')[0]?.attributes['title']);

  it('with a version: exactly the polls of that topic holding that version, inside the time range', async () => {
    const url = kibanaConsumersLink({ kibanaUrl: 'https://kibana.example.com', topic, version: 3n, fromMs: FROM, toMs: TO });
    const s = state(url);
    expect(s.kql).toBe(`topic:"${topic}" and holds:"3"`);
    expect(s.dataView).toBe(byType('index-pattern')[0]?.id);
    const expected = ['in-v3-0', 'in-v3-1', 'in-v3-2', 'in-v3-3', 'in-v3-4', 'in-v3-at-from', 'in-v3-at-to'].sort();
    expect(await tagsFor(kqlToDsl(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
    expect(await tagsFor(kqlToQueryString(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
  });

  it('without a version: every poll of that topic in the range, whatever version it holds', async () => {
    const s = state(kibanaConsumersLink({ kibanaUrl: 'https://kibana.example.com', topic, fromMs: FROM, toMs: TO }));
    const expected = events.filter((x) => x.e.topic === topic && x.e.atMs >= FROM && x.e.atMs <= TO).map((x) => x.tag).sort();
    expect(expected).toContain('in-v13');
    expect(await tagsFor(kqlToDsl(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
    expect(await tagsFor(kqlToQueryString(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
  });
});
