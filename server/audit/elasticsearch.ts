/**
 * The Elasticsearch audit sink: every event goes into a bounded in-memory buffer and from
 * there, in batches, to the bulk API, into one index per day (`<prefix>-YYYY.MM.DD`, UTC)
 * whose mapping an index template installs.
 *
 * Audit never slows or fails a request (DESIGN.md invariant 7): `record()` is synchronous,
 * O(1), never throws and never does I/O. When Elasticsearch is slow or down, failed bulks are
 * retried with backoff and the buffer fills; what does not fit is dropped and counted (stats(),
 * the `imprint_audit_events_dropped_total` metric and a periodic log line), never silently.
 * The bound covers every event held in memory: the queue plus the batch being sent. While
 * Elasticsearch cannot be reached at all, it is tried again at least every `probeIntervalMs`
 * (with the small template request), so its return is noticed within about that long.
 *
 * Also here: the documents (one per hold, gone and summary event: `toAuditDocument`,
 * `fromAuditDocument`), the template (installed at start, and again after Elasticsearch was
 * unreachable, since a restarted cluster may be empty), retention (`purgeAuditIndices`), and
 * the reads over the audit indices: the consumers view (`consumersFromElasticsearch`) and the
 * moves (`movesFromElasticsearch`), both answered by core's functions as the file sink's are.
 *
 * Works with the stripped integ-test distribution: only index templates, bulk, search and
 * core aggregations (no ingest pipelines, scripts, ILM or data streams).
 */
import { randomBytes } from 'node:crypto';
import { Client, errors } from '@elastic/elasticsearch';
import { installAuditLifecycle } from './elasticsearch-lifecycle.js';
import type { estypes } from '@elastic/elasticsearch';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  ACTIONS,
  InvalidArgumentError,
  UnavailableError,
  consumersView,
  denialsOf,
  evidenceMs,
  isDeniedEvent,
  movesOf,
  validateConsumersQuery,
  validateDenialsQuery,
  validateMovesQuery,
  type DeniedEvent,
  type DenialsPage,
  type DenialsQuery,
  type HoldingEvent,
  type ConsumersQuery,
  type MovesPage,
  type MovesQuery,
  type TopicConsumers,
} from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { auditEventCounters, zeroed, type AuditEvent, type AuditEventCounters, type AuditSink, type AuditStats } from './audit-sink.js';
import type { EsAuth } from '../backend-credentials.js';

// ---------------------------------------------------------------------------------------
// Documents, mapping, template

export const DEFAULT_INDEX_PREFIX = 'imprint-audit';
const DAY_MS = 86_400_000;

/**
 * One audit event as stored in Elasticsearch: flat, snake_case, one document per hold, gone,
 * summary (core/holdings.ts says what each means) or denied event (core/denials.ts).
 */
export type AuditDocument = HoldingDocument | DeniedDocument;

/** A hold, gone or summary event's document. */
export interface HoldingDocument {
  /** The event's time (`atMs`). */
  readonly '@timestamp': string;
  readonly kind: HoldingEvent['kind'];
  readonly topic: string;
  /** The serving instance that saw it. */
  readonly replica: string;
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  /** hold, gone: the version the node holds (held); summary: the group's version. */
  readonly version: string;
  /** hold, gone: `version` as text that sorts in core's version order (a replica's two words of one millisecond: the higher version is its latest). */
  readonly version_order?: string;
  /** hold, gone. */
  readonly node_id?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** hold, gone: when the replica last saw the node, by this event (a hold's time, a gone's last poll: core's evidenceMs). */
  readonly seen_at?: string;
  /** hold: what it held before, whether its copy changed, whether the answer was pinned. */
  readonly previous?: string;
  readonly moved?: boolean;
  readonly pinned?: boolean;
  /** hold: the poll's authenticated principal, when it had one. */
  readonly principal?: string;
  /** summary: the group's live nodes, of them pinned, failed polls, polls of untracked nodes, the period closed (ms). */
  readonly node_count?: number;
  readonly pinned_count?: number;
  readonly error_count?: number;
  readonly folded_polls?: number;
  readonly period_ms?: number;
}

/** A denied event's document: who (`principal`, and `app` when the call claimed one) was refused which `action` by which `method`, and how many times (`denied`). */
export interface DeniedDocument {
  readonly '@timestamp': string;
  readonly kind: 'denied';
  readonly topic: string;
  readonly replica: string;
  readonly principal: string;
  readonly action: string;
  readonly method: string;
  readonly app?: string;
  readonly denied: number;
}

const keyword = { type: 'keyword' } as const;
const long = { type: 'long' } as const;

/**
 * The explicit mapping of the audit indices. `dynamic: false`: a field not listed here stays
 * in `_source` but is not indexed (a new field can never break indexing or change a type).
 */
export const AUDIT_MAPPING = {
  dynamic: false,
  properties: {
    '@timestamp': { type: 'date' },
    kind: keyword,
    topic: keyword,
    replica: keyword,
    app: keyword,
    cluster: keyword,
    region: keyword,
    node_id: keyword,
    labels: { type: 'flattened' },
    version: keyword,
    version_order: keyword,
    previous: keyword,
    moved: { type: 'boolean' },
    pinned: { type: 'boolean' },
    seen_at: { type: 'date' },
    node_count: long,
    pinned_count: long,
    error_count: long,
    folded_polls: long,
    period_ms: long,
    principal: keyword,
    action: keyword,
    method: keyword,
    denied: long,
  },
} as const satisfies estypes.MappingTypeMapping;

/** Field names of AUDIT_MAPPING (the Kibana objects may only use these). */
export type AuditField = keyof (typeof AUDIT_MAPPING)['properties'];

/**
 * Text whose order (Elasticsearch sorts keywords as text) is core's compareVersions order:
 * non-numbers first, by text; numbers by length, then digits.
 */
export function versionOrderKey(version: string): string {
  return /^\d+$/.test(version) ? `1${String(version.length).padStart(5, '0')}${version}` : `0${version}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toAuditDocument(e: AuditEvent): AuditDocument {
  if (e.kind === 'denied') {
    const { atMs, topic, replica, principal, action, method, app, count } = e;
    return { '@timestamp': iso(atMs), kind: 'denied', topic, replica, principal, action, method, ...(app !== undefined && { app }), denied: count };
  }
  const base = { '@timestamp': iso(e.atMs), kind: e.kind, topic: e.topic, replica: e.replica };
  if (e.kind === 'summary') {
    return {
      ...base,
      app: e.app,
      cluster: e.cluster,
      region: e.region,
      version: e.version,
      node_count: e.nodeCount,
      pinned_count: e.pinnedCount,
      error_count: e.errorCount,
      folded_polls: e.foldedPolls,
      period_ms: e.periodMs,
    };
  }
  const node = {
    ...base,
    app: e.identity.app,
    cluster: e.identity.cluster,
    region: e.identity.region,
    node_id: e.identity.nodeId,
    labels: e.identity.labels,
    version: e.version,
    version_order: versionOrderKey(e.version),
    seen_at: iso(evidenceMs(e)),
  };
  return e.kind === 'hold' ? { ...node, previous: e.previous, moved: e.moved, pinned: e.pinned, ...(e.principal !== undefined && { principal: e.principal }) } : node;
}

/**
 * The core event a document stands for, or undefined when it is not one (a document of an
 * earlier mapping, such as a per-poll `kind: "poll"` one, or someone else's).
 */
export function fromAuditDocument(doc: unknown): AuditEvent | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Partial<Record<string, unknown>>;
  const text = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const count = (k: string) => (typeof d[k] === 'number' && Number.isFinite(d[k]) ? (d[k] as number) : undefined);
  const time = (k: string) => {
    const ms = Date.parse(text(k) ?? '');
    return Number.isFinite(ms) ? ms : undefined;
  };
  const atMs = time('@timestamp');
  const topic = text('topic');
  const replica = text('replica');
  if (d['kind'] === 'denied') {
    const [principal, action, method, app, denied] = [text('principal'), text('action'), text('method'), text('app'), count('denied')];
    const e = { kind: 'denied', atMs, topic, replica, principal, action, method, ...(app !== undefined && { app }), count: denied };
    return isDeniedEvent(e) && (ACTIONS as readonly string[]).includes(e.action) ? e : undefined;
  }
  const app = text('app');
  const cluster = text('cluster');
  const region = text('region');
  const version = text('version');
  if (atMs === undefined || topic === undefined || replica === undefined || app === undefined || cluster === undefined || region === undefined || version === undefined) return undefined;
  if (d['kind'] === 'summary') {
    const nodeCount = count('node_count');
    const pinnedCount = count('pinned_count');
    const errorCount = count('error_count');
    const foldedPolls = count('folded_polls');
    const periodMs = count('period_ms');
    if (nodeCount === undefined || pinnedCount === undefined || errorCount === undefined || foldedPolls === undefined || periodMs === undefined) return undefined;
    return { kind: 'summary', atMs, topic, replica, app, cluster, region, version, nodeCount, pinnedCount, errorCount, foldedPolls, periodMs };
  }
  const nodeId = text('node_id');
  const labels = d['labels'] ?? {};
  if (nodeId === undefined || typeof labels !== 'object' || labels === null || !Object.values(labels).every((v) => typeof v === 'string')) return undefined;
  const identity = { app, cluster, region, nodeId, labels: labels as Readonly<Record<string, string>> };
  if (d['kind'] === 'gone') {
    const seenMs = time('seen_at');
    return seenMs === undefined ? undefined : { kind: 'gone', atMs, topic, identity, replica, version, seenMs };
  }
  if (d['kind'] === 'hold') {
    const previous = text('previous');
    const principal = text('principal');
    const { moved, pinned } = d;
    if (previous === undefined || typeof moved !== 'boolean' || typeof pinned !== 'boolean' || (d['principal'] !== undefined && principal === undefined)) return undefined;
    return { kind: 'hold', atMs, topic, identity, replica, version, previous, moved, pinned, ...(principal !== undefined && { principal }) };
  }
  return undefined;
}

const PREFIX = /^[a-z0-9][a-z0-9._-]{0,200}$/;

export function validateIndexPrefix(prefix: string, field = 'indexPrefix'): string {
  if (!PREFIX.test(prefix)) throw new InvalidArgumentError(field, 'must be 1-201 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit', prefix);
  return prefix;
}

/** `<prefix>-YYYY.MM.DD` of the UTC day of `atMs`. */
export function dailyIndexName(prefix: string, atMs: number): string {
  const d = new Date(atMs);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${prefix}-${d.getUTCFullYear()}.${p2(d.getUTCMonth() + 1)}.${p2(d.getUTCDate())}`;
}

/** The start (ms, UTC) of the day an audit index holds, or undefined for a name that is not `<prefix>-YYYY.MM.DD`. */
export function dayOfIndex(prefix: string, index: string): number | undefined {
  if (!index.startsWith(`${prefix}-`)) return undefined;
  const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(index.slice(prefix.length + 1));
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return dailyIndexName(prefix, ms) === index ? ms : undefined;
}

export interface AuditTemplateOptions {
  /** @default "imprint-audit" */
  readonly indexPrefix?: string;
  /** @default 1 */
  readonly shards?: number;
  /** Replicas of each audit index. @default 0 (a single-node cluster's indices are green; give 1 or more on a cluster of several nodes) */
  readonly replicas?: number;
  /** @default "5s" */
  readonly refreshInterval?: string;
  /** Days an index is kept: the ILM policy's delete phase (elasticsearch-lifecycle.ts). @default 30 */
  readonly retentionDays?: number;
}

/** Names of the templates for a prefix: the index template and the two component templates it is composed of. */
export function auditTemplateNames(prefix = DEFAULT_INDEX_PREFIX): { index: string; mappings: string; settings: string; policy: string } {
  return { index: prefix, mappings: `${prefix}-mappings`, settings: `${prefix}-settings`, policy: prefix };
}

/** Version stamped on the templates; bump it when AUDIT_MAPPING changes (2: hold, gone and summary events; 3: denied events, and a hold's principal). */
export const AUDIT_TEMPLATE_VERSION = 3;

/**
 * Installs (or overwrites: idempotent) the composable index template for `<prefix>-*`: a
 * component template with AUDIT_MAPPING, one with the index settings, and the index template
 * composed of both. New daily indices get them. The indices of today and yesterday (UTC),
 * which the sink may still write to, get AUDIT_MAPPING's fields added when they were created
 * by an earlier template (an upgrade in the middle of a day), so what is written there after
 * the upgrade is searchable at once; an index whose fields conflict keeps its mapping. Older
 * indices keep theirs: their documents are of the earlier kinds, which queries here skip.
 */
export async function installAuditTemplate(client: Client, opts: AuditTemplateOptions = {}, req: { requestTimeout?: number; signal?: AbortSignal } = {}): Promise<{ ilm: boolean }> {
  const prefix = validateIndexPrefix(opts.indexPrefix ?? DEFAULT_INDEX_PREFIX);
  const names = auditTemplateNames(prefix);
  const meta = { managed_by: 'imprint', description: 'Imprint audit events: who holds what (hold, gone, summary), who was refused what (denied)' };
  const reqOpts = { maxRetries: 0, ...req };
  // The retention policy first: the settings name it where the cluster has ILM.
  const ilm = await installAuditLifecycle(client, names.policy, opts.retentionDays ?? 30, reqOpts);
  await client.cluster.putComponentTemplate(
    { name: names.mappings, version: AUDIT_TEMPLATE_VERSION, _meta: meta, template: { mappings: AUDIT_MAPPING } },
    reqOpts,
  );
  await client.cluster.putComponentTemplate(
    {
      name: names.settings,
      version: AUDIT_TEMPLATE_VERSION,
      _meta: meta,
      template: {
        settings: {
          number_of_shards: opts.shards ?? 1,
          number_of_replicas: opts.replicas ?? 0,
          refresh_interval: opts.refreshInterval ?? '5s',
          ...(ilm && { 'index.lifecycle.name': names.policy }),
        },
      },
    },
    reqOpts,
  );
  await client.indices.putIndexTemplate(
    {
      name: names.index,
      index_patterns: [`${prefix}-*`],
      composed_of: [names.mappings, names.settings],
      priority: 200,
      version: AUDIT_TEMPLATE_VERSION,
      _meta: meta,
    },
    reqOpts,
  );
  const now = Date.now();
  for (const index of [dailyIndexName(prefix, now - DAY_MS), dailyIndexName(prefix, now)]) {
    try {
      await client.indices.putMapping({ index, ignore_unavailable: true, allow_no_indices: true, ...AUDIT_MAPPING }, reqOpts);
    } catch (err) {
      // 400: a field of the existing index has another type; it keeps its mapping.
      if (!(err instanceof errors.ResponseError && err.statusCode === 400)) throw err;
    }
  }
  // Indices made before the policy (an upgrade from the janitor's purge) are managed by it too.
  if (ilm) await client.indices.putSettings({ index: `${prefix}-*`, allow_no_indices: true, settings: { 'index.lifecycle.name': names.policy } }, reqOpts);
  return { ilm };
}

// ---------------------------------------------------------------------------------------
// Errors

/** Elasticsearch could not be reached or answered with an error (query, purge, template). */
export class AuditElasticsearchError extends UnavailableError {
  readonly statusCode?: number;
  constructor(what: string, cause: unknown) {
    super(`audit: ${what} failed: ${describeError(cause)}`, { cause });
    if (cause instanceof errors.ResponseError) this.statusCode = cause.statusCode;
  }
}

function describeError(err: unknown): string {
  if (err instanceof errors.ResponseError) {
    const body: unknown = err.body;
    const reason =
      typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error !== null && 'reason' in body.error
        ? String(body.error.reason)
        : err.message;
    return `HTTP ${err.statusCode ?? '?'}: ${reason}`;
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// ---------------------------------------------------------------------------------------
// Retention

export interface PurgeOptions {
  /** @default "imprint-audit" */
  readonly indexPrefix?: string;
  /** Daily indices whose whole day is more than this many days before `nowMs` are deleted. */
  readonly retentionDays: number;
  readonly nowMs: number;
}

/**
 * Deletes the daily audit indices older than the retention: an index goes once its last
 * event is more than `retentionDays` days old (its day ended before now - retentionDays).
 * Deletes by exact names (works with `action.destructive_requires_name`). Returns what it deleted.
 */
export async function purgeAuditIndices(client: Client, opts: PurgeOptions): Promise<string[]> {
  const prefix = validateIndexPrefix(opts.indexPrefix ?? DEFAULT_INDEX_PREFIX);
  if (!(Number.isInteger(opts.retentionDays) && opts.retentionDays >= 1)) throw new InvalidArgumentError('retentionDays', 'must be an integer >= 1', opts.retentionDays);
  if (!Number.isFinite(opts.nowMs)) throw new InvalidArgumentError('nowMs', 'must be a finite number', opts.nowMs);
  const cutoff = opts.nowMs - opts.retentionDays * DAY_MS;
  let names: string[];
  try {
    const rows = await client.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index', expand_wildcards: ['open', 'closed'] });
    names = rows.map((r) => r.index).filter((n): n is string => typeof n === 'string');
  } catch (err) {
    throw new AuditElasticsearchError('listing audit indices', err);
  }
  const old = names.filter((n) => {
    const day = dayOfIndex(prefix, n);
    return day !== undefined && day + DAY_MS <= cutoff;
  }).sort();
  for (let i = 0; i < old.length; i += 50) {
    const chunk = old.slice(i, i + 50);
    try {
      await client.indices.delete({ index: chunk, ignore_unavailable: true });
    } catch (err) {
      throw new AuditElasticsearchError(`deleting audit indices ${chunk.join(',')}`, err);
    }
  }
  return old;
}


// ---------------------------------------------------------------------------------------
// Consumers view and moves

export interface ElasticsearchReadOptions {
  /** @default "imprint-audit" */
  readonly indexPrefix?: string;
  /** Buckets per composite-aggregation page, hits per search page (1 to 10000). @default 1000 */
  readonly pageSize?: number;
  readonly requestTimeoutMs?: number;
}

interface Hit {
  readonly _source?: unknown;
  readonly sort?: estypes.SortResults;
}

interface TopHits {
  readonly hits: { readonly hits: readonly Hit[] };
}

interface CompositeAggs {
  readonly page: { readonly after_key?: Record<string, estypes.FieldValue>; readonly buckets: ReadonlyArray<{ readonly latest: TopHits }> };
}

/** What every read here needs: the indices, the page size, the request options. */
interface Reader {
  readonly client: Client;
  readonly index: string;
  readonly pageSize: number;
  readonly req: { maxRetries: number; requestTimeout?: number };
  /** What the errors say was being read. */
  readonly what: string;
}

function reader(client: Client, o: ElasticsearchReadOptions, what: string): Reader {
  const prefix = validateIndexPrefix(o.indexPrefix ?? DEFAULT_INDEX_PREFIX);
  const pageSize = o.pageSize ?? 1000;
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 10_000)) throw new InvalidArgumentError('pageSize', 'must be an integer from 1 to 10000', pageSize);
  return { client, index: `${prefix}-*`, pageSize, req: { maxRetries: 0, ...(o.requestTimeoutMs !== undefined && { requestTimeout: o.requestTimeoutMs }) }, what };
}

async function search<A>(r: Reader, body: Omit<estypes.SearchRequest, 'index'>): Promise<estypes.SearchResponse<unknown, A>> {
  try {
    return await r.client.search<unknown, A>({ index: r.index, track_total_hits: false, ...body }, r.req);
  } catch (err) {
    throw new AuditElasticsearchError(r.what, err);
  }
}

/**
 * The latest event (by `sort`) of each group of `fields` among the documents `query`
 * matches: a composite aggregation, page by page, with a top_hits of one per bucket.
 */
async function latestPerGroup(r: Reader, query: estypes.QueryDslQueryContainer, fields: readonly string[], sort: estypes.SortCombinations[]): Promise<HoldingEvent[]> {
  const events: HoldingEvent[] = [];
  let after: Record<string, estypes.FieldValue> | undefined;
  for (;;) {
    const res = await search<CompositeAggs>(r, {
      size: 0,
      query,
      aggs: {
        page: {
          composite: { size: r.pageSize, sources: fields.map((field) => ({ [field]: { terms: { field } } })), ...(after && { after }) },
          aggs: { latest: { top_hits: { size: 1, sort } } },
        },
      },
    });
    const page = res.aggregations?.page;
    if (!page) break;
    for (const b of page.buckets) {
      const e = fromAuditDocument(b.latest.hits.hits[0]?._source);
      if (e && e.kind !== 'denied') events.push(e);
    }
    if (page.buckets.length < r.pageSize || !page.after_key) break;
    after = page.after_key;
  }
  return events;
}

/** `[sinceMs, untilMs)` of an integer-ms date field. */
function window(field: string, sinceMs: number | undefined, untilMs: number | undefined): estypes.QueryDslQueryContainer[] {
  if (sinceMs === undefined && untilMs === undefined) return [];
  return [
    {
      range: {
        [field]: {
          format: 'epoch_millis',
          ...(sinceMs !== undefined && { gte: String(Math.ceil(sinceMs)) }),
          ...(untilMs !== undefined && { lt: String(Math.ceil(untilMs)) }),
        },
      },
    },
  ];
}

/**
 * Who consumes `topic`, from the audit indices, reduced by Elasticsearch to what core's
 * consumersView needs, so the answer does not grow with the number of events; three
 * aggregations at once:
 *
 * 1. per node and replica, the replica's latest word: its latest hold or gone event before
 *    `untilMs` (no lower bound: a node may hold a version since long before the window), on
 *    the same millisecond the higher version, as core's rule;
 * 2. per node, its latest hold with `moved` before `untilMs` (its "since");
 * 3. per (replica, app, cluster, region, version), the latest summary in [sinceMs, untilMs);
 *
 * then core's consumersView over those, the same function the file sink's answer comes from
 * (it picks, per node, the replica that saw it last).
 */
export async function consumersFromElasticsearch(client: Client, topic: string, query: ConsumersQuery, opts: ElasticsearchReadOptions = {}): Promise<TopicConsumers> {
  validateConsumersQuery(query);
  const r = reader(client, opts, `reading the consumers of topic "${topic}"`);
  const until = window('@timestamp', undefined, query.untilMs);
  const node = ['app', 'cluster', 'region', 'node_id'];
  const newest: estypes.SortCombinations = { '@timestamp': { order: 'desc' } };
  const parts = await Promise.all([
    latestPerGroup(r, { bool: { filter: [{ terms: { kind: ['hold', 'gone'] } }, { term: { topic } }, ...until] } }, [...node, 'replica'], [
      newest,
      { version_order: { order: 'desc', unmapped_type: 'keyword' } },
      // Only makes the pick repeatable (a replica does not say two things of one node in one millisecond).
      { kind: { order: 'desc' } },
    ]),
    // Two replicas' moves of one millisecond: the lower replica name, as core picks.
    latestPerGroup(r, { bool: { filter: [{ term: { kind: 'hold' } }, { term: { moved: true } }, { term: { topic } }, ...until] } }, node, [newest, { replica: { order: 'asc' } }]),
    latestPerGroup(r, { bool: { filter: [{ term: { kind: 'summary' } }, { term: { topic } }, ...window('@timestamp', query.sinceMs, query.untilMs)] } }, ['replica', 'app', 'cluster', 'region', 'version'], [newest]),
  ]);
  return consumersView(topic, query, parts.flat());
}

/**
 * The moves of `topic`'s nodes in [sinceMs, untilMs) (optionally of one node id), newest
 * first: the hold events with `moved`, read newest first page by page until core's movesOf
 * can decide the page (more than `limit` distinct moves, and every event as old as the last
 * one listed read), then movesOf over them (it merges the same move reported by two replicas).
 */
export async function movesFromElasticsearch(client: Client, topic: string, query: MovesQuery, opts: ElasticsearchReadOptions = {}): Promise<MovesPage> {
  validateMovesQuery(query);
  const r = reader(client, opts, `reading the moves of topic "${topic}"`);
  const filter: estypes.QueryDslQueryContainer[] = [
    { term: { kind: 'hold' } },
    { term: { moved: true } },
    { term: { topic } },
    ...window('@timestamp', query.sinceMs, query.untilMs),
    ...(query.nodeId !== undefined ? [{ term: { node_id: query.nodeId } }] : []),
  ];
  // Newest first; the rest makes the order total (documents equal in all of it are one move from
  // one replica, twice), so search_after loses nothing between pages.
  const sort: estypes.SortCombinations[] = [{ '@timestamp': { order: 'desc' } }, ...['app', 'cluster', 'region', 'node_id', 'replica', 'previous', 'version'].map((f) => ({ [f]: { order: 'asc' as const } }))];
  const events: HoldingEvent[] = [];
  let after: estypes.SortResults | undefined;
  for (;;) {
    const res = await search<never>(r, { size: r.pageSize, query: { bool: { filter } }, sort, ...(after && { search_after: after }) });
    const hits: readonly Hit[] = res.hits.hits;
    for (const h of hits) {
      const e = fromAuditDocument(h._source);
      if (e && e.kind !== 'denied') events.push(e);
    }
    const last = hits.at(-1);
    if (hits.length < r.pageSize || !last?.sort) break;
    after = last.sort;
    const page = movesOf(topic, query, events);
    const oldestListed = page.moves.at(-1)?.atMs;
    const lastRead = events.at(-1)?.atMs;
    if (page.truncated && oldestListed !== undefined && lastRead !== undefined && lastRead < oldestListed) break;
  }
  return movesOf(topic, query, events);
}

/**
 * The calls refused on `topic` in [sinceMs, untilMs), newest first: the denied documents in
 * core's order (time, then principal, action, method, replica), one more than `limit` to know
 * whether there are more, then core's denialsOf over them.
 */
export async function denialsFromElasticsearch(client: Client, topic: string, query: DenialsQuery, opts: ElasticsearchReadOptions = {}): Promise<DenialsPage> {
  validateDenialsQuery(query);
  const r = reader(client, opts, `reading the denials of topic "${topic}"`);
  const sort: estypes.SortCombinations[] = [{ '@timestamp': { order: 'desc' } }, ...['principal', 'action', 'method', 'replica'].map((f) => ({ [f]: { order: 'asc' as const } }))];
  const res = await search<never>(r, {
    size: (query.limit ?? 100) + 1,
    query: { bool: { filter: [{ term: { kind: 'denied' } }, { term: { topic } }, ...window('@timestamp', query.sinceMs, query.untilMs)] } },
    sort,
  });
  const events: DeniedEvent[] = [];
  for (const h of res.hits.hits as readonly Hit[]) {
    const e = fromAuditDocument(h._source);
    if (e?.kind === 'denied') events.push(e);
  }
  return denialsOf(topic, query, events);
}

// ---------------------------------------------------------------------------------------
// The sink

export interface ElasticsearchAuditSinkOptions extends AuditTemplateOptions {
  /** A client to use (close() leaves it open). Give this or `node`. */
  readonly client?: Client;
  /** URL of Elasticsearch (e.g. http://127.0.0.1:9200); the sink creates and closes its client. */
  readonly node?: string;
  /** With `node`: an API key or a username and password (xpack.security). @default none */
  readonly auth?: EsAuth;
  /** With `node`: PEM of the CA that signed Elasticsearch's HTTP certificate (https). @default the system's CAs */
  readonly ca?: Buffer | string;
  /** Most events held in memory (queue + the batch being sent); more are dropped. @default 20000 */
  readonly maxBuffered?: number;
  /** Events per bulk request; a full batch is sent at once. @default 1000 */
  readonly batchSize?: number;
  /** A partial batch is sent after at most this long. @default 1000 */
  readonly flushIntervalMs?: number;
  /** Per bulk request. @default 10000 */
  readonly requestTimeoutMs?: number;
  /**
   * Retry backoff (doubling, ±20 % jitter) between these, for an Elasticsearch that answers
   * with errors (429, 5xx). @default 250 .. 30000
   */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * While Elasticsearch cannot be reached (connection refused or reset, no answer within
   * requestTimeoutMs), the backoff stops at this. A try starts with the index template (a small
   * request, put again after every such outage), so a cluster that is back is noticed within
   * about this long (a hung one: within requestTimeoutMs more). @default 1000
   */
  readonly probeIntervalMs?: number;
  /** flush() gives up waiting (events stay buffered) after this long. @default 30000 */
  readonly flushTimeoutMs?: number;
  /** close() waits this long for the buffer to drain; what is left is counted as dropped. @default 5000 */
  readonly closeTimeoutMs?: number;
  /** A warning line with the drops of the interval, when there were some. @default 60000 */
  readonly dropLogIntervalMs?: number;
  /** Metrics (`imprint_audit_*`) go here when given. */
  readonly registry?: Registry;
  readonly log?: Logger;
}

export interface ElasticsearchAuditStats extends AuditStats {
  readonly buffered: number;
  /** Acknowledged by Elasticsearch (created, or already there after a retry). */
  readonly written: number;
  readonly failed: number;
  /** Dropped, by reason (they add up to `dropped`). */
  readonly droppedBy: Readonly<Record<DropReason, number>>;
  /** Bulk requests that failed as a whole (each was retried). */
  readonly bulkFailures: number;
  /** Whether the last request to Elasticsearch failed (cleared by the next success). */
  readonly unavailable: boolean;
}

/**
 * Why events were dropped. Refused by record(): `buffer_full`, `after_close`. Accepted, then
 * lost (`failed`): `rejected` (Elasticsearch refused the document, or it had no valid time),
 * `closed` (still buffered when close() gave up).
 */
export type DropReason = 'buffer_full' | 'after_close' | 'rejected' | 'closed';

interface Pending {
  /** Position in the order of acceptance (0 = the first event recorded). */
  readonly n: number;
  readonly id: string;
  readonly index: string;
  readonly doc: AuditDocument;
}

/** A fixed-capacity FIFO of events (no shifting, no growth). */
class Ring<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  push(x: T): void {
    this.items[(this.head + this.size) % this.capacity] = x;
    this.size++;
  }
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.size > 0) {
      out.push(this.items[this.head] as T);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
    return out;
  }
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}

interface Metrics extends AuditEventCounters<DropReason> {
  bulkOk: Counter.Internal;
  bulkError: Counter.Internal;
  bulkSeconds: Histogram.Internal<string>;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!(Number.isInteger(x) && x >= 1)) throw new InvalidArgumentError(name, 'must be an integer >= 1', v);
  return x;
}

/**
 * An AuditSink writing to Elasticsearch. Starts installing the template at once (in the
 * background; `ready()` waits for it); events recorded before it is installed wait in the
 * buffer, so no index is ever created without the mapping.
 */
export class ElasticsearchAuditSink implements AuditSink {
  readonly name = 'elasticsearch';
  readonly client: Client;
  readonly indexPrefix: string;
  readonly maxBuffered: number;
  readonly batchSize: number;
  readonly retentionDays: number;
  private readonly ownsClient: boolean;
  private readonly templateOpts: AuditTemplateOptions;
  private readonly log: Logger;
  private readonly flushIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly probeIntervalMs: number;
  private readonly flushTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly bootId = randomBytes(6).toString('base64url');
  private readonly abort = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly metrics: Metrics | undefined;

  private readonly ring: Ring<AuditEvent>;
  /** The batch being sent (or waiting for a retry): the oldest events, in order. */
  private batch: Pending[] = [];
  /** Events taken out of the ring so far (the ring's head is event number `taken`). */
  private taken = 0;

  private recorded = 0;
  private written = 0;
  private readonly droppedBy: Record<DropReason, number> = { buffer_full: 0, after_close: 0, rejected: 0, closed: 0 };
  private bulkFailures = 0;
  private retention: 'ilm' | 'sink' | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private waiters: Array<{ target: number; resolve: () => void }> = [];

  private templateReady = false;
  private readyWaiters: Array<() => void> = [];
  private draining = false;
  private drainDone: Promise<void> = Promise.resolve();
  private kickScheduled = false;
  private wantPartial = false;
  private closing = false;
  private stopped = false;
  private closePromise: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private backoffMs: number;

  private unavailableSince: number | undefined;
  /** Whether the last failure was a request that got no answer (then retries come every probeIntervalMs at most). */
  private unreachable = false;
  /** Whether any request ever succeeded (for the log lines: "unavailable" needs a failure, "available" a success). */
  private contacted = false;
  private lastError: string | undefined;
  private loggedDropped = 0;
  private loggedDroppedBy: Record<DropReason, number> = { buffer_full: 0, after_close: 0, rejected: 0, closed: 0 };

  constructor(opts: ElasticsearchAuditSinkOptions) {
    if (!opts.client === !opts.node) throw new InvalidArgumentError('client', 'give either an Elasticsearch client or a node URL (exactly one)');
    if (opts.client && (opts.auth || opts.ca)) throw new InvalidArgumentError(opts.auth ? 'auth' : 'ca', 'must not be given with client (configure the client you hand in)');
    this.indexPrefix = validateIndexPrefix(opts.indexPrefix ?? DEFAULT_INDEX_PREFIX);
    this.maxBuffered = positiveInt('maxBuffered', opts.maxBuffered, 20_000);
    this.batchSize = positiveInt('batchSize', opts.batchSize, 1000);
    if (this.batchSize > this.maxBuffered) throw new InvalidArgumentError('batchSize', `must not exceed maxBuffered (${this.maxBuffered})`, this.batchSize);
    this.flushIntervalMs = positiveInt('flushIntervalMs', opts.flushIntervalMs, 1000);
    this.requestTimeoutMs = positiveInt('requestTimeoutMs', opts.requestTimeoutMs, 10_000);
    this.initialBackoffMs = positiveInt('initialBackoffMs', opts.initialBackoffMs, 250);
    this.maxBackoffMs = positiveInt('maxBackoffMs', opts.maxBackoffMs, 30_000);
    this.probeIntervalMs = positiveInt('probeIntervalMs', opts.probeIntervalMs, 1000);
    this.flushTimeoutMs = positiveInt('flushTimeoutMs', opts.flushTimeoutMs, 30_000);
    this.closeTimeoutMs = positiveInt('closeTimeoutMs', opts.closeTimeoutMs, 5000);
    this.retentionDays = positiveInt('retentionDays', opts.retentionDays, 30);
    const dropLogIntervalMs = positiveInt('dropLogIntervalMs', opts.dropLogIntervalMs, 60_000);
    this.templateOpts = {
      indexPrefix: this.indexPrefix,
      ...(opts.shards !== undefined && { shards: opts.shards }),
      ...(opts.replicas !== undefined && { replicas: opts.replicas }),
      ...(opts.refreshInterval !== undefined && { refreshInterval: opts.refreshInterval }),
      retentionDays: this.retentionDays,
    };
    this.backoffMs = this.initialBackoffMs;
    this.log = opts.log ?? silentLogger;
    this.ring = new Ring<AuditEvent>(this.maxBuffered);
    this.ownsClient = !opts.client;
    // Our own retries (with the buffer bound) replace the client's.
    this.client = opts.client ?? new Client({ node: opts.node as string, maxRetries: 0, requestTimeout: this.requestTimeoutMs, ...(opts.auth && { auth: opts.auth }), ...(opts.ca && { tls: { ca: opts.ca } }) });
    this.metrics = opts.registry && this.createMetrics(opts.registry);

    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.flushIntervalMs, () => {
      this.wantPartial = true;
      this.kick();
    });
    every(dropLogIntervalMs, () => this.logDrops());
    this.kick();
  }

  // ---- the request path ----

  record(event: AuditEvent): boolean {
    try {
      if (this.closing) {
        this.drop('after_close');
        return false;
      }
      if (this.ring.size + this.batch.length >= this.maxBuffered) {
        this.drop('buffer_full');
        return false;
      }
      this.ring.push(event);
      this.recorded++;
      this.metrics?.recorded.inc();
      if (this.ring.size >= this.batchSize) this.kick();
      return true;
    } catch {
      // Unreachable in practice (no I/O, no allocation beyond the push); still never throws.
      this.droppedBy.buffer_full++;
      return false;
    }
  }

  private drop(reason: DropReason, n = 1): void {
    this.droppedBy[reason] += n;
    this.metrics?.dropped[reason].inc(n);
  }

  // ---- inspection ----

  stats(): ElasticsearchAuditStats {
    const failed = this.droppedBy.rejected + this.droppedBy.closed;
    return {
      recorded: this.recorded,
      dropped: this.droppedBy.buffer_full + this.droppedBy.after_close + failed,
      buffered: this.ring.size + this.batch.length,
      written: this.written,
      failed,
      droppedBy: { ...this.droppedBy },
      bulkFailures: this.bulkFailures,
      unavailable: this.unavailableSince !== undefined,
    };
  }

  /** Resolves once the index template is installed (retried in the background until then). */
  ready(): Promise<void> {
    if (this.templateReady) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  // ---- flush and close ----

  /**
   * Waits until every event recorded before the call is written or dropped, or until
   * `flushTimeoutMs` passed (then they stay buffered and are retried; a warning is logged).
   */
  async flush(): Promise<void> {
    await this.flushWithin(this.flushTimeoutMs);
  }

  /** Every event numbered below this one is written or dropped (the batch is in order, the ring behind it). */
  private firstUnsettled(): number {
    return this.batch[0]?.n ?? this.taken;
  }

  private flushWithin(timeoutMs: number): Promise<boolean> {
    const target = this.recorded;
    if (this.firstUnsettled() >= target) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.log.warn('audit: flush timed out; events stay buffered', { sink: this.name, timeoutMs, buffered: this.ring.size + this.batch.length, lastError: this.lastError });
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
      this.wantPartial = true;
      this.wake?.(); // retry now rather than after the current backoff
      this.kick();
    });
  }

  /** Flushes for up to `closeTimeoutMs`, then stops; what is still buffered is counted as dropped. */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    await this.flushWithin(this.closeTimeoutMs);
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.drainDone;
    const left = this.ring.size + this.batch.length;
    if (left > 0) {
      this.drop('closed', left);
      this.ring.clear();
      this.batch = [];
      this.taken = this.recorded;
      this.settle();
    }
    this.logDrops();
    for (const r of this.readyWaiters.splice(0)) r();
    if (this.ownsClient) await this.client.close();
  }

  // ---- consumers and retention ----

  /** Who consumes `topic`, from the audit indices (consumersFromElasticsearch). */
  consumers(topic: string, query: ConsumersQuery): Promise<TopicConsumers> {
    return consumersFromElasticsearch(this.client, topic, query, { indexPrefix: this.indexPrefix, requestTimeoutMs: this.requestTimeoutMs });
  }

  /** The moves of `topic`'s nodes, newest first, from the audit indices (movesFromElasticsearch). */
  moves(topic: string, query: MovesQuery): Promise<MovesPage> {
    return movesFromElasticsearch(this.client, topic, query, { indexPrefix: this.indexPrefix, requestTimeoutMs: this.requestTimeoutMs });
  }

  /** The calls refused on `topic`, newest first, from the audit indices (denialsFromElasticsearch). */
  denials(topic: string, query: DenialsQuery): Promise<DenialsPage> {
    return denialsFromElasticsearch(this.client, topic, query, { indexPrefix: this.indexPrefix, requestTimeoutMs: this.requestTimeoutMs });
  }

  /**
   * Who deletes indices past `retentionDays`, once the template is installed: the cluster's ILM
   * policy, or (a cluster without ILM) this sink, once a day (purgeOldIndices).
   */
  get retentionBy(): 'ilm' | 'sink' | undefined {
    return this.retention;
  }

  /** Deletes the daily indices older than `retentionDays`. Returns the names deleted. */
  purgeOldIndices(nowMs: number): Promise<string[]> {
    return purgeAuditIndices(this.client, { indexPrefix: this.indexPrefix, retentionDays: this.retentionDays, nowMs });
  }

  private startOwnPurge(): void {
    this.log.warn('Elasticsearch has no ILM: this sink deletes audit indices past the retention itself, once a day', { indexPrefix: this.indexPrefix, retentionDays: this.retentionDays });
    const purge = () => {
      this.purgeOldIndices(Date.now()).then(
        (deleted) => {
          if (deleted.length > 0) this.log.info('audit indices past the retention deleted', { deleted });
        },
        (err: unknown) => this.log.warn('deleting audit indices past the retention failed; tried again in a day', { err }),
      );
    };
    this.purgeTimer = setInterval(purge, DAY_MS);
    this.purgeTimer.unref();
    this.timers.push(this.purgeTimer);
    purge();
  }

  // ---- the background loop ----

  /** Starts the loop on a later tick (never inside record()'s call). */
  private kick(): void {
    if (this.draining || this.kickScheduled || this.stopped) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      if (!this.draining && !this.stopped) this.drainDone = this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (!this.stopped) {
        if (!this.templateReady) {
          if (!(await this.installTemplate())) {
            await this.sleepBackoff();
            continue;
          }
        }
        if (this.batch.length === 0) {
          if (this.ring.size === 0) {
            this.wantPartial = false;
            break;
          }
          if (this.ring.size < this.batchSize && !this.wantPartial) break;
          this.takeBatch();
          if (this.batch.length === 0) continue;
        }
        if (!(await this.sendBatch())) await this.sleepBackoff();
      }
    } finally {
      this.draining = false;
    }
    // Events that arrived while the last request was in flight.
    if (!this.stopped && (this.ring.size >= this.batchSize || (this.wantPartial && this.ring.size > 0))) this.kick();
  }

  /** Takes the next batch out of the ring, as documents with their ids (one id per event: retries are idempotent). */
  private takeBatch(): void {
    const batch: Pending[] = [];
    let invalid = 0;
    for (const e of this.ring.take(this.batchSize)) {
      const n = this.taken++;
      try {
        batch.push({ n, id: `${this.bootId}-${n.toString(36)}`, index: dailyIndexName(this.indexPrefix, e.atMs), doc: toAuditDocument(e) });
      } catch {
        invalid++; // atMs is not a time (toISOString throws): it can never be indexed
      }
    }
    this.batch = batch;
    if (invalid > 0) this.reject(invalid, 'the event time is not a valid date');
  }

  private async installTemplate(): Promise<boolean> {
    try {
      const { ilm } = await installAuditTemplate(this.client, this.templateOpts, { requestTimeout: this.requestTimeoutMs, signal: this.abort.signal });
      this.retention = ilm ? 'ilm' : 'sink';
      if (!ilm && !this.purgeTimer) this.startOwnPurge();
    } catch (err) {
      if (!this.stopped) this.noteFailure('installing the index template', err);
      return false;
    }
    this.templateReady = true;
    this.contacted = true;
    for (const r of this.readyWaiters.splice(0)) r();
    return true;
  }

  /** Sends the current batch. True: it is settled; false: some or all of it waits for a retry. */
  private async sendBatch(): Promise<boolean> {
    const batch = this.batch;
    const operations: Array<estypes.BulkOperationContainer | AuditDocument> = [];
    for (const p of batch) operations.push({ create: { _index: p.index, _id: p.id } }, p.doc);
    const t0 = performance.now();
    let res: estypes.BulkResponse;
    try {
      res = await this.client.bulk({ operations }, { requestTimeout: this.requestTimeoutMs, maxRetries: 0, signal: this.abort.signal });
    } catch (err) {
      this.bulkFailures++;
      this.metrics?.bulkError.inc();
      if (this.stopped) return false;
      if (err instanceof errors.ResponseError && (err.statusCode === 400 || err.statusCode === 413)) {
        // The request itself is refused; sending it again cannot help.
        this.batch = [];
        this.reject(batch.length, describeError(err));
        return true;
      }
      // Unreachable or overloaded: retry. A cluster that was unreachable may come back empty
      // (a new node), so the template goes in again before the next bulk.
      if (!(err instanceof errors.ResponseError)) this.templateReady = false;
      this.noteFailure('bulk', err);
      return false;
    }
    this.metrics?.bulkOk.inc();
    this.metrics?.bulkSeconds.observe((performance.now() - t0) / 1000);
    const retry: Pending[] = [];
    let ok = 0;
    let rejected = 0;
    let firstReason: string | undefined;
    batch.forEach((p, i) => {
      const item = res.items[i];
      const r = item?.create ?? item?.index;
      const status = r?.status ?? 0;
      // 409: created by an earlier attempt whose answer was lost (ids are ours: retries are idempotent).
      if ((status >= 200 && status < 300) || status === 409) ok++;
      else if (status === 0 || status === 429 || status >= 500) retry.push(p);
      else {
        rejected++;
        firstReason ??= `HTTP ${status}: ${r?.error?.type ?? ''} ${r?.error?.reason ?? ''}`.trim();
      }
    });
    this.written += ok;
    this.metrics?.written.inc(ok);
    this.batch = retry;
    if (rejected > 0) this.reject(rejected, firstReason ?? 'rejected');
    this.settle();
    if (retry.length > 0) {
      this.noteFailure('bulk', new Error(`${retry.length} of ${batch.length} events refused for now (429/5xx)`), true);
      return false;
    }
    this.noteSuccess();
    return true;
  }

  private reject(n: number, reason: string): void {
    this.drop('rejected', n);
    this.settle();
    this.log.error('audit: elasticsearch rejected events; they are dropped', { sink: this.name, events: n, reason: reason.slice(0, 500) });
  }

  /** Resolves the flush waiters whose events are all written or dropped. */
  private settle(): void {
    if (this.waiters.length === 0) return;
    const first = this.firstUnsettled();
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (first >= w.target ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /** `answered`: Elasticsearch answered (with an error); otherwise it could not be reached. */
  private noteFailure(what: string, err: unknown, answered = err instanceof errors.ResponseError): void {
    this.lastError = `${what}: ${describeError(err)}`;
    this.unreachable = !answered;
    if (this.unavailableSince === undefined) {
      this.unavailableSince = Date.now();
      this.log.warn('audit: elasticsearch unavailable; buffering events, dropping what exceeds the buffer', {
        sink: this.name,
        error: this.lastError,
        buffered: this.ring.size + this.batch.length,
        capacity: this.maxBuffered,
      });
    }
  }

  private noteSuccess(): void {
    this.backoffMs = this.initialBackoffMs;
    this.unreachable = false;
    this.contacted = true;
    if (this.unavailableSince !== undefined) {
      this.log.info('audit: elasticsearch available again', { sink: this.name, unavailableMs: Date.now() - this.unavailableSince, buffered: this.ring.size + this.batch.length });
      this.unavailableSince = undefined;
      this.lastError = undefined;
    }
  }

  private sleepBackoff(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // Doubling, up to maxBackoffMs while Elasticsearch answers with errors (an overloaded
    // cluster is not pressed harder), up to probeIntervalMs while it cannot be reached (a try
    // costs it nothing, and a cluster that comes back, still starting and answering 503, does
    // not wait out a backoff grown during the outage).
    const cap = this.unreachable ? Math.min(this.probeIntervalMs, this.maxBackoffMs) : this.maxBackoffMs;
    const ms = Math.round(Math.min(this.backoffMs, cap) * (0.8 + Math.random() * 0.4));
    this.backoffMs = Math.min(cap, this.backoffMs * 2);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.wake = done;
    });
  }

  private logDrops(): void {
    const dropped = this.droppedBy.buffer_full + this.droppedBy.after_close + this.droppedBy.rejected + this.droppedBy.closed;
    if (dropped === this.loggedDropped) return;
    const delta = (r: DropReason) => this.droppedBy[r] - this.loggedDroppedBy[r];
    this.log.warn('audit: events dropped', {
      sink: this.name,
      dropped: dropped - this.loggedDropped,
      bufferFull: delta('buffer_full'),
      afterClose: delta('after_close'),
      rejected: delta('rejected'),
      closed: delta('closed'),
      droppedTotal: dropped,
      buffered: this.ring.size + this.batch.length,
      capacity: this.maxBuffered,
      elasticsearch: this.unavailableSince !== undefined ? 'unavailable' : this.contacted ? 'available' : 'not-yet-reached',
      lastError: this.lastError,
    });
    this.loggedDropped = dropped;
    this.loggedDroppedBy = { ...this.droppedBy };
  }

  private createMetrics(registry: Registry): Metrics {
    const labels = { sink: this.name };
    const events = auditEventCounters(registry, this.name, ['buffer_full', 'rejected', 'closed', 'after_close'] as const);
    const bulk = new Counter({ name: 'imprint_audit_bulk_requests_total', help: 'Bulk requests by result (error: retried)', labelNames: ['sink', 'result'], registers: [registry] });
    const seconds = new Histogram({
      name: 'imprint_audit_bulk_duration_seconds',
      help: 'Duration of successful bulk requests',
      labelNames: ['sink'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    // The gauges' collect() runs with `this` = the gauge.
    const sink = this;
    new Gauge({
      name: 'imprint_audit_buffered_events',
      help: 'Audit events waiting in memory (queue and the batch being sent)',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        this.set(labels, sink.ring.size + sink.batch.length);
      },
    });
    new Gauge({
      name: 'imprint_audit_buffer_capacity_events',
      help: 'The most audit events held in memory; beyond it events are dropped',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        this.set(labels, sink.maxBuffered);
      },
    });
    return {
      ...events,
      bulkOk: zeroed(bulk.labels({ ...labels, result: 'ok' })),
      bulkError: zeroed(bulk.labels({ ...labels, result: 'error' })),
      bulkSeconds: seconds.labels(labels),
    };
  }
}
