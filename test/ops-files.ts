/**
 * Readers of the files of ops/ for tests: the alert rules of ops/prometheus/alerts.yml, the
 * PromQL of every panel and variable of ops/grafana/imprint.json, and the metric names a
 * PromQL expression reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ALERTS_FILE = path.join(REPO, 'ops', 'prometheus', 'alerts.yml');
export const ALERT_TESTS_FILE = path.join(REPO, 'ops', 'prometheus', 'alerts.test.yml');
export const DASHBOARD_FILE = path.join(REPO, 'ops', 'grafana', 'imprint.json');

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Rec;
  readonly annotations: Rec;
}

/** The alerting rules of a Prometheus rules file, in order. */
export function alertRules(text: string): AlertRule[] {
  const doc: unknown = parse(text);
  const groups = isRec(doc) && Array.isArray(doc['groups']) ? doc['groups'] : [];
  const out: AlertRule[] = [];
  for (const g of groups) {
    const rules = isRec(g) && Array.isArray(g['rules']) ? g['rules'] : [];
    for (const r of rules) {
      if (!isRec(r) || typeof r['alert'] !== 'string') continue;
      out.push({ alert: r['alert'], expr: String(r['expr']), labels: isRec(r['labels']) ? r['labels'] : {}, annotations: isRec(r['annotations']) ? r['annotations'] : {} });
    }
  }
  return out;
}

export interface DashboardQuery {
  /** The panel's title, or `variable NAME`. */
  readonly where: string;
  readonly expr: string;
}

/** Every PromQL query of a Grafana dashboard: panels' targets (rows' panels too) and query variables. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: unknown) => {
    if (!Array.isArray(panels)) return;
    for (const p of panels) {
      if (!isRec(p)) continue;
      const targets = Array.isArray(p['targets']) ? p['targets'] : [];
      for (const t of targets) if (isRec(t) && typeof t['expr'] === 'string') out.push({ where: String(p['title']), expr: t['expr'] });
      walk(p['panels']);
    }
  };
  if (!isRec(dashboard)) return out;
  walk(dashboard['panels']);
  const templating = dashboard['templating'];
  const vars = isRec(templating) && Array.isArray(templating['list']) ? templating['list'] : [];
  for (const v of vars) {
    if (!isRec(v) || v['type'] !== 'query') continue;
    const q = isRec(v['query']) ? v['query']['query'] : v['query'];
    if (typeof q !== 'string') continue;
    // Grafana's label_values(METRIC, LABEL) reads METRIC; label_values(LABEL) reads no metric.
    if (/^\s*label_values\s*\(\s*[A-Za-z_]\w*\s*\)\s*$/.test(q)) continue;
    const expr = /^\s*label_values\s*\((.+),\s*[A-Za-z_]\w*\s*\)\s*$/.exec(q)?.[1] ?? q;
    out.push({ where: `variable ${String(v['name'])}`, expr });
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects (`up`, functions, keywords, label names in
 * grouping clauses and matchers, strings, durations and Grafana's $variables left out).
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping clauses
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables
    .replace(/\boffset\s+-?\w+/g, ' ');
  const names = new Set<string>();
  const re = /(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g;
  for (let m = re.exec(bare); m; m = re.exec(bare)) {
    const name = m[1] ?? '';
    if (m[2] || KEYWORDS.has(name.toLowerCase()) || /^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** The histogram or summary a series name ending in _bucket, _sum or _count may belong to. */
export function histogramOf(name: string): string | undefined {
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  return m?.[1];
}

export function readAlerts(): AlertRule[] {
  return alertRules(fs.readFileSync(ALERTS_FILE, 'utf8'));
}

export function readDashboard(): unknown {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as unknown;
}
