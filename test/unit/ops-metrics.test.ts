/**
 * Every metric an alert rule (ops/prometheus/alerts.yml) or a dashboard panel
 * (ops/grafana/imprint.json) reads is one the code registers: the names are taken from each
 * expression (series of a histogram by its name) and looked up in the catalog of the real
 * registries (test/metric-catalog.ts). `up` is Prometheus' own. A failure lists exactly the
 * names missing and where they are read.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { metricCatalog } from '../metric-catalog.js';
import { dashboardQueries, histogramOf, metricNames, readAlerts, readDashboard } from '../ops-files.js';

type Catalog = Awaited<ReturnType<typeof metricCatalog>>;

/** Prometheus makes these for every target. */
const PROMETHEUS_OWN = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

function known(catalog: Catalog, name: string): boolean {
  if (PROMETHEUS_OWN.has(name) || catalog.has(name)) return true;
  const h = histogramOf(name);
  const type = h === undefined ? undefined : catalog.get(h)?.type;
  return type === 'histogram' || type === 'summary';
}

/** Each name not in the catalog, with where it is read: "name (where, where)". */
function missing(catalog: Catalog, queries: readonly { where: string; expr: string }[]): string[] {
  const where = new Map<string, string[]>();
  for (const q of queries) for (const n of metricNames(q.expr)) if (!known(catalog, n)) where.set(n, [...(where.get(n) ?? []), q.where]);
  return [...where.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([n, w]) => `${n} (${[...new Set(w)].join(', ')})`);
}

describe('metrics the ops templates read', () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await metricCatalog();
  });

  it('reads metric names out of PromQL', () => {
    expect(metricNames('sum by (job, instance) (increase(imprint_feed_reads_total{outcome="failed"}[5m])) > 0 and on (job) foo == 0').sort()).toEqual(['foo', 'imprint_feed_reads_total']);
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))')).toEqual(['x_bucket']);
    expect(metricNames('count_values by (topic) ("version", v{topic=~"$topic"})')).toEqual(['v']);
    expect(metricNames('time() - max by (job) (a) > 2 * max by (job) (b)').sort()).toEqual(['a', 'b']);
    expect(metricNames('scalar(max(p)) - p > 60')).toEqual(['p']);
    expect(dashboardQueries({ templating: { list: [{ type: 'query', name: 't', query: { query: 'label_values(imprint_client_version, topic)' } }, { type: 'query', name: 'u', query: 'label_values(app)' }] } })).toEqual([{ where: 'variable t', expr: 'imprint_client_version' }]);
  });

  it('the catalog knows the metrics of every process on main', () => {
    for (const name of ['imprint_consume_requests_total', 'imprint_requests_total', 'imprint_audit_events_dropped_total', 'imprint_audit_holdings', 'imprint_client_fallback_active', 'process_cpu_seconds_total']) expect(catalog.has(name), name).toBe(true);
    expect(catalog.get('imprint_feed_lag_seconds')?.type).toBe('histogram');
  });

  it('every metric an alert rule reads exists in the code', () => {
    const rules = readAlerts();
    expect(rules.length).toBeGreaterThan(0);
    expect(missing(catalog, rules.map((r) => ({ where: r.alert, expr: r.expr })))).toEqual([]);
  });

  it('every metric a dashboard panel or variable reads exists in the code', () => {
    const queries = dashboardQueries(readDashboard());
    expect(queries.length).toBeGreaterThan(0);
    expect(missing(catalog, queries)).toEqual([]);
  });

  it('catches a name the code does not register', () => {
    expect(missing(catalog, [{ where: 'X', expr: 'rate(imprint_consume_requests_totl[5m]) + imprint_feed_lag_seconds_bucket + imprint_client_version_bucket' }])).toEqual(['imprint_client_version_bucket (X)', 'imprint_consume_requests_totl (X)']);
  });
});
