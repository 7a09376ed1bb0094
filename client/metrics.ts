/** The client's Prometheus metrics, registered on the registry the application passes in. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ClientMetrics {
  readonly version: Gauge<'topic'>;
  readonly publishedAt: Gauge<'topic'>;
  readonly staleness: Gauge<'topic'>;
  readonly lastPollSuccess: Gauge;
  readonly failures: Counter<'topic' | 'step' | 'reason'>;
  readonly swapSeconds: Histogram<'topic'>;
  readonly fetchedBytes: Counter<'topic'>;
  readonly fallbackActive: Gauge;
  readonly watching: Gauge;
  readonly slowRegions: Counter<'region' | 'outcome'>;
  readonly contractViolated: Gauge<'topic'>;
  readonly rejections: Counter<'topic' | 'stage'>;
  /**
   * What imprint_client_contract_violated is collected from: each subscriber adds its
   * function (its topics with a max-staleness, and whether each is outside it now) and
   * removes it when it closes.
   */
  readonly contracts: Set<() => Iterable<{ readonly topic: string; readonly violated: boolean }>>;
}

const cache = new WeakMap<Registry, ClientMetrics>();

/** One set of metrics per registry (several subscribers may share one). */
export function clientMetrics(registry: Registry): ClientMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const publishedAt = new Gauge({ name: 'imprint_client_version_published_timestamp_seconds', help: 'When the held version was published', labelNames: ['topic'], registers: [registry] });
  const contracts: ClientMetrics['contracts'] = new Set();
  const m: ClientMetrics = {
    version: new Gauge({ name: 'imprint_client_version', help: 'The version held, per topic', labelNames: ['topic'], registers: [registry] }),
    publishedAt,
    staleness: new Gauge({
      name: 'imprint_client_staleness_seconds',
      help: 'Seconds since the held version was published',
      labelNames: ['topic'],
      registers: [registry],
      async collect() {
        const now = Date.now() / 1000;
        for (const v of (await publishedAt.get()).values) if (v.labels.topic !== undefined) this.set({ topic: String(v.labels.topic) }, now - v.value);
      },
    }),
    lastPollSuccess: new Gauge({ name: 'imprint_client_last_poll_success_timestamp_seconds', help: 'When a poll last succeeded', registers: [registry] }),
    failures: new Counter({ name: 'imprint_client_failures_total', help: 'Failures by step (poll, watch, report, fallback, signature, fetch, verify, decode, validate, notify) and reason', labelNames: ['topic', 'step', 'reason'], registers: [registry] }),
    swapSeconds: new Histogram({
      name: 'imprint_client_swap_duration_seconds',
      help: 'Fetch to swap, per new version',
      labelNames: ['topic'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    fetchedBytes: new Counter({ name: 'imprint_client_fetched_bytes_total', help: 'Payload bytes fetched', labelNames: ['topic'], registers: [registry] }),
    fallbackActive: new Gauge({ name: 'imprint_client_fallback_active', help: '1 while decisions come from the fallback snapshot (service unreachable)', registers: [registry] }),
    watching: new Gauge({ name: 'imprint_client_watching', help: '1 while a Watch stream keeps the subscriptions current, 0 while BatchPolls do', registers: [registry] }),
    slowRegions: new Counter({
      name: 'imprint_client_slow_regions_total',
      help: 'Blob reads a region was slow to answer: hedged (the next region started beside it) or abandoned (no first byte within the timeout)',
      labelNames: ['region', 'outcome'],
      registers: [registry],
    }),
    contractViolated: new Gauge({
      name: 'imprint_client_contract_violated',
      help: "1 while the subscriber is outside its topic's max-staleness (it has not confirmed it holds the latest version within it), 0 inside; only topics with a max-staleness",
      labelNames: ['topic'],
      registers: [registry],
      collect() {
        this.reset();
        for (const of of contracts) for (const c of of()) this.set({ topic: c.topic }, c.violated ? 1 : 0);
      },
    }),
    rejections: new Counter({
      name: 'imprint_client_rejections_total',
      help: 'Versions the subscriber could not load after its retries, by stage (fetch, verify, decode, validate): each is reported to the service, whose rollout gates count it',
      labelNames: ['topic', 'stage'],
      registers: [registry],
    }),
    contracts,
  };
  cache.set(registry, m);
  return m;
}
