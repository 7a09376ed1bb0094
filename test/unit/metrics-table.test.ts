/**
 * README.md "## Metrics" against the real registries (test/metric-catalog.ts): every metric
 * registered has its row with the same labels and type, and every row names a registered
 * metric, per process, so neither drifts.
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isDefaultMetric, metricCatalog, metricsByProcess, type CatalogEntry, type MetricProcess } from '../metric-catalog.js';

interface Row {
  readonly name: string;
  readonly labels: string[];
  readonly type: string;
  readonly what: string;
}

const DEFAULT_ROW = 'process_*, nodejs_*';

/** The README's Metrics tables, by the process their heading names. */
function readmeTables(): Record<MetricProcess, Row[]> {
  const readme = fs.readFileSync('README.md', 'utf8');
  const start = readme.indexOf('\n## Metrics\n');
  if (start < 0) throw new Error('README.md has no "## Metrics" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const out: Record<MetricProcess, Row[]> = { serve: [], janitor: [], client: [] };
  let current: MetricProcess | undefined;
  for (const line of section.split('\n')) {
    if (line.startsWith('### ')) {
      current = line.includes('janitor') ? 'janitor' : line.includes('client') ? 'client' : line.includes('serve') ? 'serve' : undefined;
      if (!current) throw new Error(`a Metrics heading names no process (serve, janitor, client): ${line}`);
      continue;
    }
    if (!line.startsWith('| `')) continue;
    if (!current) throw new Error(`a metrics row before any process heading: ${line}`);
    const cells = line.split(' | ');
    const [first, labels, type, ...what] = cells;
    const name = /^\| `([^`]+)`$/.exec(first ?? '')?.[1];
    if (!name || labels === undefined || type === undefined || what.length === 0) throw new Error(`not a row "| \`name\` | labels | type | what |": ${line}`);
    out[current].push({ name, labels: labels === '—' ? [] : labels.split(',').map((l) => l.trim()).sort(), type, what: what.join(' | ').replace(/ \|$/, '').trim() });
  }
  return out;
}

describe('README metrics table', () => {
  let registered: Record<MetricProcess, Map<string, CatalogEntry>>;
  let tables: Record<MetricProcess, Row[]>;
  beforeAll(async () => {
    registered = await metricsByProcess();
    tables = readmeTables();
  }, 60_000);

  it.each(['serve', 'janitor', 'client'] as const)('%s: the table and the registries name the same metrics with the same labels and types', (process) => {
    const rows = tables[process];
    expect(rows.length, `README has no ${process} table`).toBeGreaterThan(0);
    const names = rows.map((r) => r.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i), 'rows listed twice').toEqual([]);
    for (const r of rows) expect(r.what.length, `${r.name}: say what it means and what to do`).toBeGreaterThan(20);

    const reg = registered[process];
    const own = [...reg.keys()].filter((n) => !isDefaultMetric(n)).sort();
    const listed = rows.filter((r) => r.name !== DEFAULT_ROW).map((r) => r.name).sort();
    expect({ registeredButNotInTheTable: own.filter((n) => !listed.includes(n)), inTheTableButNotRegistered: listed.filter((n) => !own.includes(n)) }).toEqual({
      registeredButNotInTheTable: [],
      inTheTableButNotRegistered: [],
    });
    for (const r of rows.filter((x) => x.name !== DEFAULT_ROW)) {
      const e = reg.get(r.name);
      expect({ metric: r.name, labels: r.labels, type: r.type }).toEqual({ metric: r.name, labels: e?.labels, type: e?.type });
    }
    // prom-client's default process metrics: one row, where the process registers them.
    expect(rows.some((r) => r.name === DEFAULT_ROW)).toBe([...reg.keys()].some(isDefaultMetric));
  });

  it('the catalog lists each metric once with its process, the default process metrics under serve', async () => {
    const catalog = await metricCatalog();
    expect(catalog.get('imprint_janitor_job_runs_total')).toMatchObject({ process: 'janitor', type: 'counter', labels: ['job', 'outcome'] });
    expect(catalog.get('imprint_client_version')).toMatchObject({ process: 'client', type: 'gauge', labels: ['topic'] });
    expect(catalog.get('imprint_consume_table_refreshed_timestamp_seconds')).toMatchObject({ process: 'serve', type: 'gauge', labels: [] });
    expect(catalog.get('process_cpu_seconds_total')).toMatchObject({ process: 'serve', type: 'counter' });
    expect(catalog.get('imprint_audit_events_dropped_total')?.labels).toEqual(['reason', 'sink']);
  }, 60_000);
});
