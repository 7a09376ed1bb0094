/**
 * The consume role's guard: every Consumer method behind the per-application limiter and the
 * metrics. (Poll and BatchPoll over the poll table are server/grpc-server.ts's pollHandlers.)
 */
import * as grpc from '@grpc/grpc-js';
import type { ConsumerServiceHandlers } from '../../proto/gen/imprint/v1/ConsumerService.js';
import type { ConcurrencyLimiter } from './limiter.js';
import { observedUnary, type ConsumeMetrics } from './metrics.js';
import { appFromCall, batchPollWeight, throttledUnary } from './throttle.js';

export interface GuardOptions {
  /** Per-application concurrency limits. @default none (no throttling) */
  readonly limiter?: ConcurrencyLimiter;
  /** Requests, latency and throttles. @default none */
  readonly metrics?: ConsumeMetrics;
}

/**
 * Every Consumer method of `handlers` behind the limiter (RESOURCE_EXHAUSTED with a retry
 * hint when the calling application is over its share; a BatchPoll weighs by its topics) and counted in the metrics (throttled
 * answers included, as outcome RESOURCE_EXHAUSTED).
 */
export function guardConsumerHandlers(handlers: ConsumerServiceHandlers, opts: GuardOptions): ConsumerServiceHandlers {
  const wrap = <Req, Res>(method: string, h: grpc.handleUnaryCall<Req, Res>, weightOf?: (req: Req) => number): grpc.handleUnaryCall<Req, Res> => {
    let out = h;
    if (opts.limiter) out = throttledUnary(opts.limiter, appFromCall, out, { ...(opts.metrics && { metrics: opts.metrics }), ...(weightOf && { weightOf }) });
    if (opts.metrics) out = observedUnary(opts.metrics, method, out);
    return out;
  };
  return {
    ...handlers,
    Poll: wrap('Poll', handlers.Poll),
    BatchPoll: wrap('BatchPoll', handlers.BatchPoll, batchPollWeight),
    GetVersion: wrap('GetVersion', handlers.GetVersion),
    ListVersions: wrap('ListVersions', handlers.ListVersions),
    GetLatestAt: wrap('GetLatestAt', handlers.GetLatestAt),
    GetTopic: wrap('GetTopic', handlers.GetTopic),
    ListTopics: wrap('ListTopics', handlers.ListTopics),
  };
}
