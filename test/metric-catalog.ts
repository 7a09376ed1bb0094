/**
 * Every Prometheus metric the code registers, read from the real registries: a consume and a
 * publish instance started as `imprint serve` starts them (SQLite in a temporary data dir,
 * metrics on), the Elasticsearch audit sink's (not started: its metrics are registered when it
 * is made), and the client library's. The janitor serves no metrics yet.
 *
 * Interim (issue 18, ops/): the lead replaces it with the catalog of the metrics helper, same
 * signature.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { clientMetrics } from '../client/metrics.js';
import { ElasticsearchAuditSink } from '../server/audit/elasticsearch.js';
import { silentLogger, startImprintServer } from '../server/index.js';

export interface MetricInfo {
  type: string;
  help: string;
  labels: string[];
  process: 'serve' | 'janitor' | 'client';
}

/** The label names prom-client keeps on each metric (not in its type declarations). */
function labelNamesOf(metric: object): string[] {
  const names: unknown = (metric as { labelNames?: unknown }).labelNames;
  return Array.isArray(names) ? names.map(String) : [];
}

function addRegistry(out: Map<string, MetricInfo>, registry: Registry, process: MetricInfo['process']): void {
  for (const m of registry.getMetricsAsArray()) {
    if (out.has(m.name)) continue;
    out.set(m.name, { type: String(m.type), help: m.help, labels: labelNamesOf(m), process });
  }
}

export async function metricCatalog(): Promise<Map<string, { type: string; help: string; labels: string[]; process: 'serve' | 'janitor' | 'client' }>> {
  const out = new Map<string, MetricInfo>();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-metric-catalog-'));
  try {
    for (const role of ['consume', 'publish'] as const) {
      const server = await startImprintServer({ dataDir, port: 0, role, metricsPort: 0, log: silentLogger });
      try {
        if (server.metrics) addRegistry(out, server.metrics.registry, 'serve');
      } finally {
        await server.stop({ drain: false });
      }
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  // The audit sink serve uses with --es-url: its metrics are made with it; nothing is sent.
  const esRegistry = new Registry();
  const sink = new ElasticsearchAuditSink({ node: 'http://127.0.0.1:9', registry: esRegistry, log: silentLogger });
  await sink.close();
  addRegistry(out, esRegistry, 'serve');
  const clientRegistry = new Registry();
  clientMetrics(clientRegistry);
  addRegistry(out, clientRegistry, 'client');
  return out;
}
