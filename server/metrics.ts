/**
 * The server's Prometheus metrics (every role serves them on --metrics-port; the table's and
 * the limiter's are the consume role's) and the HTTP endpoint that serves them (GET /metrics,
 * and GET /healthz for a process that hands in a health answer: the janitor). The gRPC
 * transport counts each request into them (server/grpc/guard.ts). README.md "Metrics" lists
 * every metric with its labels and what to do when it moves (test/unit/metrics-table.test.ts
 * keeps the two equal).
 *
 * Application names come from callers, so the `app` label takes at most `maxAppLabels`
 * distinct values; later ones are counted as "(other)".
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';
import type { SignatureRejectedError } from '../core/index.js';
import type { ConcurrencyLimiter } from './limiter.js';
import type { PublishStatusSource } from './publish-status.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ServerTls } from './tls.js';
import { AUTH_FAILURE_REASONS, type AuthFailureReason } from './auth/failures.js';
import { zeroed } from './audit/audit-sink.js';
import { REREAD_REASONS, type ConsumerOutcomes, type FeedFollower, type OutcomesStats, type PollTable, type Watchers } from './poll/index.js';

export interface ConsumeMetricsOptions {
  /** @default a new Registry */
  readonly registry?: Registry;
  /** Table age, size, refreshes and store reads come from it. @default none */
  readonly table?: PollTable;
  /** Feed reads, full re-reads, lag and position come from it. @default none */
  readonly feed?: FeedFollower;
  /** Per-application limits come from it. @default none */
  readonly limiter?: ConcurrencyLimiter;
  /** Records that failed their consistency check when a poll needed them come from it. @default none */
  readonly poller?: { readonly integrityFailures: number };
  /** Watch streams' counts come from them. @default none */
  readonly watchers?: Pick<Watchers, 'stats'>;
  /** Consumer outcomes written for the rollout gates, dropped and failed come from it. @default none */
  readonly outcomes?: Pick<ConsumerOutcomes, 'stats'>;
  /** Every topic's publish status, for imprint_topic_publish_overdue. @default none (not exported) */
  readonly publishStatus?: PublishStatusSource;
  /** Publishes refused for their signature come from it (the service's counts, by reason). @default none */
  readonly publishes?: { readonly signatureRejections: Readonly<Record<SignatureRejectedError['reason'], number>> };
  /** Distinct `app` label values at most. @default 200 */
  readonly maxAppLabels?: number;
}

export interface ConsumeMetrics {
  readonly registry: Registry;
  /** Counted on every request: series bound once per method (bound-metrics.ts). */
  readonly requests: BoundCounter<'method' | 'outcome'>;
  readonly latency: BoundHistogram<'method'>;
  /** Publisher and Operator requests by service, method and outcome, and their latency. */
  readonly changeRequests: BoundCounter<'service' | 'method' | 'outcome'>;
  readonly changeLatency: BoundHistogram<'service' | 'method'>;
  readonly tableAge: Gauge;
  readonly throttled: Counter<'app'>;
  /** Calls refused UNAUTHENTICATED (or that could not be authenticated), one series per reason (server/auth AUTH_FAILURE_REASONS). */
  readonly authFailures: Record<AuthFailureReason, Counter.Internal>;
  /** The `app` label value for an application name (bounded cardinality). */
  appLabel(app: string): string;
  /** Stops measuring the event loop. */
  close(): void;
}

export const OTHER_APP_LABEL = '(other)';

export function consumeMetrics(opts: ConsumeMetricsOptions = {}): ConsumeMetrics {
  const registry = opts.registry ?? new Registry();
  const registers = [registry];
  // The process's own: CPU, resident memory, heap by space, GC pauses, open handles, start time.
  collectDefaultMetrics({ register: registry });
  const { table, feed, limiter, poller, watchers, outcomes } = opts;
  const maxAppLabels = opts.maxAppLabels ?? 200;
  const apps = new Set<string>();
  const appLabel = (app: string): string => {
    if (apps.has(app)) return app;
    if (apps.size >= maxAppLabels) return OTHER_APP_LABEL;
    apps.add(app);
    return app;
  };

  const { publishStatus } = opts;
  if (publishStatus) {
    new Gauge({
      name: 'imprint_topic_publish_overdue',
      help: '1 while a topic is overdue (its latest publish is older than its expect-every), 0 while on time; only topics with an expect-every',
      labelNames: ['topic'],
      registers,
      async collect() {
        const statuses = await publishStatus.statuses();
        this.reset();
        for (const s of statuses) this.set({ topic: s.topic }, s.overdueSinceMs > 0 ? 1 : 0);
      },
    });
  }

  const tableAge = new Gauge({
    name: 'imprint_consume_table_age_seconds',
    help: 'Seconds since the poll table was last refreshed from the store (+Inf before the first refresh)',
    registers,
    collect() {
      if (table) this.set(table.age() / 1000);
    },
  });
  if (table) {
    // The time, not only the age: a rule can compare it with time() and survive a missed scrape.
    new Gauge({
      name: 'imprint_consume_table_refreshed_timestamp_seconds',
      help: 'When the poll table was last known current (a feed read applied, or a full re-read), Unix seconds (0 before the first)',
      registers,
      collect() {
        this.set((table.currentAt() ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'imprint_consume_table_topics',
      help: 'Topics in the poll table',
      registers,
      collect() {
        this.set(table.stats().topics);
      },
    });
    const refreshes = new Counter({ name: 'imprint_consume_table_refreshes_total', help: 'Poll table refreshes by outcome (ok, failed)', labelNames: ['outcome'], registers });
    refreshes.inc({ outcome: 'ok' }, 0);
    refreshes.inc({ outcome: 'failed' }, 0);
    table.on('refreshed', () => refreshes.inc({ outcome: 'ok' }));
    table.on('refresh-failed', () => refreshes.inc({ outcome: 'failed' }));
    // Counters that mirror the table's own counts: add what grew since the last scrape.
    let seen = table.stats();
    new Counter({
      name: 'imprint_consume_store_reads_total',
      help: 'Store reads made by the poll table, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        const now = table.stats();
        for (const kind of ['listTopics', 'pollState', 'getVersion', 'listVersions'] as const) this.inc({ kind }, now.storeReads[kind] - seen.storeReads[kind]);
        seen = { ...seen, storeReads: now.storeReads };
      },
    });
  }
  if (feed) {
    let seenFeed = feed.stats();
    new Counter({
      name: 'imprint_feed_reads_total',
      help: 'Change feed reads by outcome (ok, failed)',
      labelNames: ['outcome'],
      registers,
      collect() {
        const now = feed.stats();
        this.inc({ outcome: 'ok' }, now.feedReads.ok - seenFeed.feedReads.ok);
        this.inc({ outcome: 'failed' }, now.feedReads.failed - seenFeed.feedReads.failed);
        seenFeed = { ...seenFeed, feedReads: now.feedReads };
      },
    });
    let seenApplied = feed.stats().changesApplied;
    new Counter({
      name: 'imprint_feed_changes_applied_total',
      help: 'Topics the change feed named, made visible (consume role: re-read into the table; all role: told to Watch)',
      registers,
      collect() {
        const now = feed.stats().changesApplied;
        this.inc(now - seenApplied);
        seenApplied = now;
      },
    });
    const rereads = new Counter({ name: 'imprint_feed_rereads_total', help: 'Full re-reads of every topic, by reason (start, interval, cursor-too-old, failure) and outcome (ok, failed)', labelNames: ['reason', 'outcome'], registers });
    for (const reason of REREAD_REASONS) for (const outcome of ['ok', 'failed']) rereads.inc({ reason, outcome }, 0);
    feed.on('reread', (r: { reason: string; ok: boolean }) => rereads.inc({ reason: r.reason, outcome: r.ok ? 'ok' : 'failed' }));
    new Histogram({
      name: 'imprint_feed_lag_seconds',
      help: "From a change's commit (its writer's clock) to its topic applied from the change feed",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
      collect() {
        for (const lag of feed.takeLags()) this.observe(lag);
      },
    });
    new Gauge({
      name: 'imprint_feed_position_seconds',
      help: 'Writer time of the newest change feed entry applied, Unix seconds (0 before any)',
      registers,
      collect() {
        this.set((feed.stats().positionMs ?? 0) / 1000);
      },
    });
  }
  // Every role: how late the event loop runs what is ready (a slow machine shows here first).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new Gauge({
    name: 'imprint_event_loop_delay_seconds',
    help: 'Event-loop delay between two scrapes: quantile 0.5, 0.99 and 1 (the max)',
    labelNames: ['quantile'],
    registers,
    collect() {
      const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
      this.set({ quantile: '0.5' }, seconds(loopDelay.percentile(50)));
      this.set({ quantile: '0.99' }, seconds(loopDelay.percentile(99)));
      this.set({ quantile: '1' }, seconds(loopDelay.max));
      loopDelay.reset();
    },
  });
  if (poller) {
    let seenIntegrity = poller.integrityFailures;
    new Counter({
      name: 'imprint_consume_integrity_failures_total',
      help: 'Records a poll needed that failed their consistency check (never served)',
      registers,
      collect() {
        const now = poller.integrityFailures;
        this.inc(now - seenIntegrity);
        seenIntegrity = now;
      },
    });
  }
  if (opts.publishes) {
    const counts = opts.publishes.signatureRejections;
    const seen = { ...counts };
    new Counter({
      name: 'imprint_publish_signature_rejected_total',
      help: 'Publishes refused because the topic requires signatures, by reason (missing, untrusted-key, bad-signature); nothing was written',
      labelNames: ['reason'],
      registers,
      collect() {
        for (const reason of Object.keys(counts) as (keyof typeof counts)[]) {
          this.inc({ reason }, counts[reason] - seen[reason]);
          seen[reason] = counts[reason];
        }
      },
    });
  }
  if (watchers) {
    new Gauge({
      name: 'imprint_watch_streams',
      help: 'Watch streams open',
      registers,
      collect() {
        this.set(watchers.stats().streams);
      },
    });
    // Counters that mirror the streams' own counts: add what grew since the last scrape.
    let seenWatch = watchers.stats();
    const grew = (now: number, before: number) => Math.max(0, now - before);
    new Counter({
      name: 'imprint_watch_pushes_total',
      help: "Watch answers sent after a stream's first ones (a topic's answer changed)",
      registers,
      collect() {
        const now = watchers.stats();
        this.inc(grew(now.pushes, seenWatch.pushes));
        seenWatch = { ...seenWatch, pushes: now.pushes };
      },
    });
    new Counter({
      name: 'imprint_watch_heartbeats_total',
      help: 'Watch heartbeats sent',
      registers,
      collect() {
        const now = watchers.stats();
        this.inc(grew(now.heartbeats, seenWatch.heartbeats));
        seenWatch = { ...seenWatch, heartbeats: now.heartbeats };
      },
    });
    new Counter({
      name: 'imprint_watch_refused_total',
      help: "Watch streams refused RESOURCE_EXHAUSTED, by reason: the instance's bound or the application's",
      labelNames: ['reason'],
      registers,
      collect() {
        const now = watchers.stats();
        for (const reason of ['instance', 'app'] as const) this.inc({ reason }, grew(now.refused[reason], seenWatch.refused[reason]));
        seenWatch = { ...seenWatch, refused: now.refused };
      },
    });
  }
  if (outcomes) {
    // Counters that mirror the outcomes' own counts: each adds what grew since the last scrape.
    const mirror = (name: string, help: string, of: (s: OutcomesStats) => number) => {
      let last = of(outcomes.stats());
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = of(outcomes.stats());
          this.inc(Math.max(0, now - last));
          last = now;
        },
      });
    };
    mirror('imprint_rollout_outcomes_recorded_total', "Consumer outcomes (a node's holding or rejection during a rollout) written to the store for the rollout gates", (s) => s.recorded);
    mirror('imprint_rollout_outcomes_dropped_total', 'Consumer outcomes dropped because the buffer was full (the store slow or down)', (s) => s.dropped);
    mirror('imprint_rollout_outcomes_write_failures_total', 'Failed store reads or writes of consumer outcomes (tried again at the next flush)', (s) => s.failures);
  }
  if (limiter) {
    new Gauge({
      name: 'imprint_consume_app_concurrency_limit',
      help: "Each calling application's current adaptive concurrency limit",
      labelNames: ['app'],
      registers,
      collect() {
        this.reset();
        for (const s of limiter.states()) this.set({ app: appLabel(s.app) }, Math.floor(s.limit));
      },
    });
    new Gauge({
      name: 'imprint_consume_app_inflight',
      help: 'Requests in flight per calling application',
      labelNames: ['app'],
      registers,
      collect() {
        this.reset();
        for (const s of limiter.states()) this.inc({ app: appLabel(s.app) }, s.inflight);
      },
    });
  }
  return {
    registry,
    requests: new BoundCounter({ name: 'imprint_consume_requests_total', help: 'Consumer requests by method and outcome (ok, or the gRPC status name)', labelNames: ['method', 'outcome'], registers }),
    latency: new BoundHistogram({
      name: 'imprint_consume_request_duration_seconds',
      help: 'Consumer request latency in the handler, by method',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    changeRequests: new BoundCounter({
      name: 'imprint_requests_total',
      help: 'Publisher and Operator requests (publish, add scopes, pin, unpin, topic changes, reads) by service, method and outcome (ok, or the gRPC status name)',
      labelNames: ['service', 'method', 'outcome'],
      registers,
    }),
    changeLatency: new BoundHistogram({
      name: 'imprint_request_duration_seconds',
      help: 'Publisher and Operator request latency in the handler, by service and method',
      labelNames: ['service', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    tableAge,
    throttled: new Counter({ name: 'imprint_consume_throttled_total', help: 'Requests answered RESOURCE_EXHAUSTED, per calling application', labelNames: ['app'], registers }),
    authFailures: authFailureCounters(registers),
    appLabel,
    close: () => loopDelay.disable(),
  };
}

/** imprint_auth_failures_total, every reason's series at 0 from the start. */
function authFailureCounters(registers: Registry[]): Record<AuthFailureReason, Counter.Internal> {
  const failures = new Counter({
    name: 'imprint_auth_failures_total',
    help: 'Calls refused UNAUTHENTICATED by reason (missing, malformed, expired, not_yet_valid, wrong_audience, unknown_issuer, unknown_key, bad_signature, algorithm, claims, other), and unavailable: the keys could not be fetched',
    labelNames: ['reason'],
    registers,
  });
  return Object.fromEntries(AUTH_FAILURE_REASONS.map((reason) => [reason, zeroed(failures.labels({ reason }))])) as Record<AuthFailureReason, Counter.Internal>;
}

export interface MetricsServer {
  /** The port it listens on (the one picked when 0 was asked for). */
  readonly port: number;
  /** "https" when it serves TLS, else "http". */
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

/** A health answer served at GET /healthz: 200 when ok, 503 otherwise, `body` as JSON. */
export interface HealthAnswer {
  readonly ok: boolean;
  readonly body: unknown;
}

/**
 * Serves `registry` on GET /metrics at host:port (port 0: any free port), and `health`'s
 * answer on GET /healthz when given (a rejection is a 503 naming the error). Anything else is 404.
 * With `tls`: over HTTPS with the server's certificate (no client certificate asked for), and
 * `registry` gets imprint_tls_certificate_expiry_timestamp_seconds, the end of the certificate
 * served now (read at each scrape, so it follows every reload).
 */
export async function startMetricsServer(registry: Registry, port: number, host = '127.0.0.1', health?: () => Promise<HealthAnswer>, tls?: ServerTls): Promise<MetricsServer> {
  const handle: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://metrics');
    const answer: (() => Promise<{ status: number; type: string; text: string }>) | undefined =
      url.pathname === '/metrics'
        ? async () => ({ status: 200, type: registry.contentType, text: await registry.metrics() })
        : url.pathname === '/healthz' && health
          ? async () => {
              const h = await health().catch((err: unknown): HealthAnswer => ({ ok: false, body: { ok: false, error: err instanceof Error ? err.message : String(err) } }));
              return { status: h.ok ? 200 : 503, type: 'application/json', text: `${JSON.stringify(h.body)}\n` };
            }
          : undefined;
    if (!answer) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: metrics are at /metrics${health ? ', health at /healthz' : ''}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    answer().then(
      (a) => res.writeHead(a.status, { 'content-type': a.type }).end(req.method === 'HEAD' ? undefined : a.text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  };
  if (tls) {
    // A timestamp, not an age: a rule compares it with time(), and a missed scrape changes nothing.
    // Replaced, not added twice, when the same registry is served again.
    registry.removeSingleMetric('imprint_tls_certificate_expiry_timestamp_seconds');
    new Gauge({
      name: 'imprint_tls_certificate_expiry_timestamp_seconds',
      help: "When the certificate the server presents now expires (its notAfter), Unix seconds; only with TLS",
      registers: [registry],
      collect() {
        this.set(tls.current.validToMs / 1000);
      },
    });
  }
  // With TLS: HTTPS with the server's certificate, kept current as its files change.
  const server: http.Server = tls ? tls.serveHttps((options) => https.createServer(options, handle)) : http.createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    scheme: tls ? 'https' : 'http',
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
