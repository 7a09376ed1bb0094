/**
 * The Consumer service's guard: every method behind the per-application limiter (the consume
 * role) and counted in the metrics (every role with a metrics port).
 */
import * as grpc from '@grpc/grpc-js';
import type { ConsumerServiceHandlers } from '../../proto/gen/imprint/v1/ConsumerService.js';
import type { ConcurrencyLimiter } from '../limiter.js';
import type { ConsumeMetrics } from '../metrics.js';
import { batchPollWeight, shareOf, throttledUnary } from './throttle.js';

export interface GuardOptions {
  /** Per-application concurrency limits. @default none (no throttling) */
  readonly limiter?: ConcurrencyLimiter;
  /** Requests, latency and throttles. @default none */
  readonly metrics?: ConsumeMetrics;
}

/**
 * Every Consumer method of `handlers` behind the limiter (RESOURCE_EXHAUSTED with a retry
 * hint when the calling application, on a server with principals the principal, is over its
 * share; a BatchPoll weighs by its topics) and counted in the metrics (throttled answers
 * included, as outcome RESOURCE_EXHAUSTED).
 */
export function guardConsumerHandlers(handlers: ConsumerServiceHandlers, opts: GuardOptions): ConsumerServiceHandlers {
  const wrap = <Req, Res>(method: string, h: grpc.handleUnaryCall<Req, Res>, weightOf?: (req: Req) => number): grpc.handleUnaryCall<Req, Res> => {
    let out = h;
    if (opts.limiter) out = throttledUnary(opts.limiter, shareOf, out, { ...(opts.metrics && { metrics: opts.metrics }), ...(weightOf && { weightOf }) });
    if (opts.metrics) out = observedUnary(opts.metrics, method, out);
    return out;
  };
  return {
    ...handlers,
    Poll: wrap('Poll', handlers.Poll),
    BatchPoll: wrap('BatchPoll', handlers.BatchPoll, batchPollWeight),
    // A Report weighs as a BatchPoll of its topics.
    Report: wrap('Report', handlers.Report, batchPollWeight),
    GetVersion: wrap('GetVersion', handlers.GetVersion),
    ListVersions: wrap('ListVersions', handlers.ListVersions),
    GetLatestAt: wrap('GetLatestAt', handlers.GetLatestAt),
    GetTopic: wrap('GetTopic', handlers.GetTopic),
    ListTopics: wrap('ListTopics', handlers.ListTopics),
  };
}

/** The outcome label of an answer: "ok", or the gRPC status name. */
export function outcomeOf(err: Partial<grpc.StatusObject> | null): string {
  if (!err || err.code === grpc.status.OK) return 'ok';
  return grpc.status[err.code ?? grpc.status.UNKNOWN] ?? 'UNKNOWN';
}

/** Counts each answer of `handler` (`ok` and the latency bound once, server/bound-metrics.ts: prom-client's label checks per request would cost more than the handler; `other` for the rest) and observes its latency. */
function countedUnary<Req, Res>(
  handler: grpc.handleUnaryCall<Req, Res>,
  ok: { inc(): void },
  other: (outcome: string) => void,
  latency: { observe(seconds: number): void },
  clock: () => number,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const t0 = clock();
    handler(call, (err, value, trailer, flags) => {
      const outcome = outcomeOf(err);
      if (outcome === 'ok') ok.inc();
      else other(outcome);
      latency.observe((clock() - t0) / 1000);
      callback(err, value, trailer, flags);
    });
  };
}

/** Counts each answer of a Consumer method by outcome and observes its latency. */
export function observedUnary<Req, Res>(
  metrics: ConsumeMetrics,
  method: string,
  handler: grpc.handleUnaryCall<Req, Res>,
  clock: () => number = () => performance.now(),
): grpc.handleUnaryCall<Req, Res> {
  return countedUnary(handler, metrics.requests.bound({ method, outcome: 'ok' }), (outcome) => metrics.requests.inc({ method, outcome }), metrics.latency.labels({ method }), clock);
}

/**
 * Every method of a service of unary calls (Publisher, Operator) counted by outcome and timed,
 * under its service and method names.
 */
export function observedService<H extends object>(handlers: H, service: string, metrics: ConsumeMetrics, clock: () => number = () => performance.now()): H {
  const out: Record<string, unknown> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    // Each value is a grpc.handleUnaryCall of its own request and response types; wrapping keeps them.
    const h = handler as grpc.handleUnaryCall<unknown, unknown>;
    const { changeRequests: requests, changeLatency: latency } = metrics;
    out[method] = countedUnary(h, requests.bound({ service, method, outcome: 'ok' }), (outcome) => requests.inc({ service, method, outcome }), latency.labels({ service, method }), clock);
  }
  return out as H;
}
