/**
 * Every metric the code registers, from the real registries: a serving instance in each role
 * with every part that has metrics (poll table, change feed, limiter, Watch streams, Poller,
 * holdings, the file and the Elasticsearch audit sinks), the janitor, the client library.
 * README.md "Metrics" is checked against it (test/unit/metrics-table.test.ts), and so is every
 * metric an alert rule or a dashboard panel names.
 */
import path from 'node:path';
import { Registry } from 'prom-client';
import { LocalBlobStore } from '../client/index.js';
import { clientMetrics } from '../client/metrics.js';
import { Janitor, janitorMetrics } from '../janitor/index.js';
import { ElasticsearchAuditSink } from '../server/audit/elasticsearch.js';
import { ServerTls, SqliteMetadataStore, startImprintServer, startMetricsServer } from '../server/index.js';
import { silentLogger } from '../log/index.js';
import { makeCa } from '../scripts/certs.js';
import { tempDir } from './helpers.js';

export type MetricProcess = 'serve' | 'janitor' | 'client';

export interface CatalogEntry {
  /** counter, gauge, histogram, summary */
  readonly type: string;
  readonly help: string;
  /** As registered (a histogram's `le` is not one of them). */
  readonly labels: string[];
  readonly process: MetricProcess;
}

/** A registered metric's name, type, help and label names (prom-client keeps the names on the metric object). */
function entries(registry: Registry, process: MetricProcess): [string, CatalogEntry][] {
  return registry.getMetricsAsArray().map((m) => {
    const metric = m as unknown as { name: string; help: string; type: string; labelNames?: readonly string[] };
    return [metric.name, { type: String(metric.type), help: metric.help, labels: [...(metric.labelNames ?? [])].sort(), process }];
  });
}

/** Each process's metrics, name -> entry (prom-client's default process metrics included where the process registers them). */
export async function metricsByProcess(): Promise<Record<MetricProcess, Map<string, CatalogEntry>>> {
  const out: Record<MetricProcess, Map<string, CatalogEntry>> = { serve: new Map(), janitor: new Map(), client: new Map() };
  const add = (registry: Registry, process: MetricProcess) => {
    for (const [name, e] of entries(registry, process)) {
      const seen = out[process].get(name);
      if (seen && (seen.type !== e.type || seen.labels.join() !== e.labels.join())) {
        throw new Error(`${name} is registered twice in ${process} with different types or labels: ${JSON.stringify(seen)} and ${JSON.stringify(e)}`);
      }
      out[process].set(name, e);
    }
  };

  // serve: the consume role (table, feed, limiter, Watch, Poller, holdings, file sink) and the all role (feed that only tells, Watch), all over TLS (its certificate's metric).
  const dataDir = tempDir('imprint-catalog-');
  const cert = await (await makeCa(tempDir('imprint-catalog-ca-'), 'catalog')).issue('server', { dns: ['localhost'] });
  const tls = { certFile: cert.certFile, keyFile: cert.keyFile };
  for (const role of ['consume', 'all', 'publish'] as const) {
    const server = await startImprintServer({ dataDir, port: 0, role, metricsPort: 0, log: silentLogger, tls });
    try {
      if (!server.metrics) throw new Error(`role ${role} made no metrics`);
      add(server.metrics.registry, 'serve');
    } finally {
      await server.stop();
    }
  }
  // The Elasticsearch sink registers its metrics when made; it is never started against a server here.
  const esRegistry = new Registry();
  const es = new ElasticsearchAuditSink({ node: 'http://127.0.0.1:9', registry: esRegistry, log: silentLogger, closeTimeoutMs: 100 });
  add(esRegistry, 'serve');
  await es.close();

  // janitor: every job it runs.
  const store = SqliteMetadataStore.open({ file: path.join(dataDir, 'janitor.db') });
  const janitor = new Janitor({ store, blobStores: [new LocalBlobStore({ root: tempDir(), region: 'r' })] });
  const jm = janitorMetrics(janitor);
  // Its metrics listener over TLS, as `imprint janitor --metrics-port` with --tls-cert serves it.
  const janitorTls = new ServerTls(tls, silentLogger);
  const listener = await startMetricsServer(jm.registry, 0, '127.0.0.1', undefined, janitorTls);
  add(jm.registry, 'janitor');
  await listener.close();
  jm.close();
  await store.close();

  // client library
  const clientRegistry = new Registry();
  clientMetrics(clientRegistry);
  add(clientRegistry, 'client');
  return out;
}

/**
 * Every metric by name. A name more than one process registers (prom-client's default
 * `process_*` and `nodejs_*`, in serve and janitor) is listed once, under the first of serve,
 * janitor, client.
 */
export async function metricCatalog(): Promise<Map<string, CatalogEntry>> {
  const by = await metricsByProcess();
  const out = new Map<string, CatalogEntry>();
  for (const p of ['serve', 'janitor', 'client'] as const) for (const [name, e] of by[p]) if (!out.has(name)) out.set(name, e);
  return out;
}

/** prom-client's default process metrics (one row in the README's tables). */
export const isDefaultMetric = (name: string): boolean => name.startsWith('process_') || name.startsWith('nodejs_');
