/**
 * The Kibana saved objects (kibana/imprint-saved-objects.ndjson) and the Discover deep link,
 * checked against a real Elasticsearch: every field an object uses exists in the index the
 * audit template creates, with a type that fits the use; each saved search's KQL selects
 * exactly the documents of its kind; the link's KQL, translated to the equivalent
 * Elasticsearch queries, returns exactly the topic's (and version's) documents in the link's
 * time range. No Kibana runs here; what Kibana would read is checked instead.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, type estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../server/audit/audit-sink.js';
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
            case 'sum':
            case 'average':
              uses.push({ object: name, field: col.sourceField, need: 'aggregatable', dataType: col.dataType });
              if (col.dataType !== 'number') throw new Error(`${name}: ${col.operationType} of ${col.sourceField} must be a number column`);
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

const SAMPLE_TAGS = ['move', 'flip', 'gone', 'summary'] as const;

/**
 * A document of each kind for a node holding `version` of `topic` at `atMs`: a hold that is a
 * move, a hold that only flips the pin flag, a gone, and its group's summary.
 */
function sample(atMs: number, topic: string, nodeId: string, version: string): AuditEvent[] {
  const identity = { app: 'scorer', cluster: 'c1', region: 'eu', nodeId, labels: { rack: 'r1' } };
  const node = { topic, identity, replica: 'consume-1', version };
  return [
    { kind: 'hold', atMs, ...node, previous: '1', moved: true, pinned: false },
    { kind: 'hold', atMs, ...node, previous: version, moved: false, pinned: true },
    { kind: 'gone', atMs, ...node, seenMs: atMs - 1 },
    { kind: 'summary', atMs, topic, replica: 'consume-1', app: 'scorer', cluster: 'c1', region: 'eu', version, nodeCount: 3, pinnedCount: 1, errorCount: 2, foldedPolls: 4, periodMs: 300_000 },
  ];
}

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
    expect(objects.map((o) => `${o.type}:${o.id}`).sort()).toEqual([
      'dashboard:imprint-consumers',
      'index-pattern:imprint-audit',
      'lens:imprint-nodes-per-version',
      'search:imprint-gone',
      'search:imprint-moves',
      'search:imprint-summaries',
    ]);
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
    expect(panels.map((p) => p.type).sort()).toEqual(['lens', 'search', 'search', 'search']);
    expect(dash?.attributes['title']).toBe('Imprint: topic consumers');
  });

  it('every field an object uses is in the audit mapping with a type that fits the use (checked on a real index)', async () => {
    const uses = fieldUses();
    expect(uses.length).toBeGreaterThan(30);
    const mapped = new Set<string>(Object.keys(AUDIT_MAPPING.properties));
    for (const u of uses) expect(mapped.has(u.field), `${u.object} uses ${u.field}, which AUDIT_MAPPING lacks`).toBe(true);

    // The index the template creates, with an event of each kind in it.
    await indexEvents(sample(Date.now(), 't', 'n', '2'));
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

describe('the saved searches and kibanaConsumersLink against real Elasticsearch', () => {
  const topic = `kib-${randomBytes(3).toString('hex')}`;
  const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
  const FROM = T0 + 3_600_000;
  const TO = T0 + 2 * 3_600_000;
  const events: Array<{ e: AuditEvent; tag: string }> = [];
  /** The four documents of `sample`, tagged `label/move`, `label/flip`, `label/gone`, `label/summary`. */
  const add = (t: string, version: string, atMs: number, label: string) => sample(atMs, t, label, version).forEach((e, i) => events.push({ e, tag: `${label}/${SAMPLE_TAGS[i] ?? i}` }));
  for (let i = 0; i < 5; i++) add(topic, '3', FROM + 60_000 * (i + 1), `in-v3-${i}`);
  add(topic, '3', FROM, 'in-v3-at-from');
  add(topic, '3', TO, 'in-v3-at-to');
  for (let i = 0; i < 3; i++) add(topic, '2', FROM + 60_000 * (i + 1), `in-v2-${i}`);
  add(topic, '3', FROM - 1, 'before');
  add(topic, '3', TO + 1, 'after');
  add(`${topic}-2`, '3', FROM + 1000, 'other-topic'); // a topic whose name starts with ours
  add(topic.slice(0, -1), '3', FROM + 1000, 'prefix-topic');
  add(topic, '13', FROM + 1000, 'in-v13'); // a version that contains "3"
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

  const timeRange = (from?: string, to?: string): estypes.QueryDslQueryContainer[] =>
    from !== undefined && to !== undefined ? [{ range: { '@timestamp': { gte: from, lte: to, format: 'strict_date_optional_time' } } }] : [];

  /** KQL `field:"value" and field:value` as Kibana runs it: match_phrase per quoted clause, match per bare one, in the time range. */
  function kqlToDsl(kql: string, from?: string, to?: string): estypes.QueryDslQueryContainer {
    const clauses = kql.split(' and ').map((c): estypes.QueryDslQueryContainer => {
      const m = /^([\w@.]+):(?:"((?:[^"\\]|\\.)*)"|([\w.-]+))$/.exec(c);
      if (!m) throw new Error(`the KQL has a clause this test cannot translate: ${c}`);
      const field = m[1] as string;
      return m[2] !== undefined ? { match_phrase: { [field]: m[2].replace(/\\(.)/g, '$1') } } : { match: { [field]: m[3] as string } };
    });
    return { bool: { filter: [...clauses, ...timeRange(from, to)] } };
  }

  /** The same KQL as a Lucene query_string (AND for and; quoted values are phrases in both). */
  function kqlToQueryString(kql: string, from?: string, to?: string): estypes.QueryDslQueryContainer {
    return { bool: { filter: [{ query_string: { query: kql.split(' and ').join(' AND ') } }, ...timeRange(from, to)] } };
  }

  async function tagsFor(query: estypes.QueryDslQueryContainer, dataViewTitle: string): Promise<string[]> {
    const res = await client.search({ index: dataViewTitle, query, size: 1000, _source: false });
    // The data view spans every audit index; only this describe's documents are ours to judge.
    return res.hits.hits.filter((h) => h._index === INDEX && tagOf.has(h._id ?? '')).map((h) => tagOf.get(h._id ?? '') ?? '').sort();
  }

  const dataViewTitle = () => str(byType('index-pattern')[0]?.attributes['title']);

  it.each([
    ['imprint-moves', 'move'],
    ['imprint-gone', 'gone'],
    ['imprint-summaries', 'summary'],
  ])('the saved search %s selects exactly the %s documents', async (id, kind) => {
    const search = objects.find((o) => o.type === 'search' && o.id === id);
    const src = JSON.parse(str((search?.attributes['kibanaSavedObjectMeta'] as Record<string, unknown>)['searchSourceJSON'])) as { query: { query: string } };
    const expected = events.filter((x) => x.tag.endsWith(`/${kind}`)).map((x) => x.tag).sort();
    expect(expected).toHaveLength(15);
    expect(await tagsFor(kqlToDsl(src.query.query), dataViewTitle())).toEqual(expected);
    expect(await tagsFor(kqlToQueryString(src.query.query), dataViewTitle())).toEqual(expected);
  });

  it('the link with a version: exactly the documents of that topic and version, inside the time range', async () => {
    const url = kibanaConsumersLink({ kibanaUrl: 'https://kibana.example.com', topic, version: 3n, fromMs: FROM, toMs: TO });
    const s = state(url);
    expect(s.kql).toBe(`topic:"${topic}" and version:"3"`);
    expect(s.dataView).toBe(byType('index-pattern')[0]?.id);
    const expected = ['in-v3-0', 'in-v3-1', 'in-v3-2', 'in-v3-3', 'in-v3-4', 'in-v3-at-from', 'in-v3-at-to'].flatMap((l) => SAMPLE_TAGS.map((k) => `${l}/${k}`)).sort();
    expect(await tagsFor(kqlToDsl(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
    expect(await tagsFor(kqlToQueryString(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
  });

  it('the link without a version: every document of that topic in the range, whatever the version', async () => {
    const s = state(kibanaConsumersLink({ kibanaUrl: 'https://kibana.example.com', topic, fromMs: FROM, toMs: TO }));
    const expected = events.filter((x) => x.e.topic === topic && x.e.atMs >= FROM && x.e.atMs <= TO).map((x) => x.tag).sort();
    expect(expected).toContain('in-v13/move');
    expect(await tagsFor(kqlToDsl(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
    expect(await tagsFor(kqlToQueryString(s.kql, s.from, s.to), dataViewTitle())).toEqual(expected);
  });
});
