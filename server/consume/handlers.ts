/**
 * Consumer handlers for the consume role: Poll and BatchPoll over any Poller (the
 * ConsumeService, or ImprintService), translated exactly as server/grpc-server.ts does, and a
 * guard that puts every Consumer method behind the per-application limiter and the metrics.
 */
import * as grpc from '@grpc/grpc-js';
import { identityFromWire, recordToWire, versionFromWire } from '../../proto/convert.js';
import type { ConsumerHandlers } from '../../proto/gen/imprint/v1/Consumer.js';
import type { Update } from '../../proto/gen/imprint/v1/Update.js';
import { toServiceError } from '../grpc-errors.js';
import type { Logger } from '../log.js';
import type { PollAnswer } from '../service.js';
import type { Poller } from './consume-service.js';
import type { ConcurrencyLimiter } from './limiter.js';
import { observedUnary, type ConsumeMetrics } from './metrics.js';
import { appFromCall, throttledUnary } from './throttle.js';

function unary<Req, Res>(method: string, log: Logger, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, method, log)),
    );
  };
}

function toUpdate(a: PollAnswer): Update | null {
  return a.record ? { record: recordToWire(a.record), pinned: a.pinned } : null;
}

/** Poll and BatchPoll answered by `poller`; the same wire translation and per-topic errors as grpc-server.ts. */
export function pollHandlers(poller: Poller, log: Logger): Pick<ConsumerHandlers, 'Poll' | 'BatchPoll'> {
  return {
    Poll: unary('Poll', log, async (req) => ({
      update: toUpdate(await poller.poll(req.topic, identityFromWire(req.identity), versionFromWire(req.lastSeenVersion, 'last_seen_version', true))),
    })),
    BatchPoll: unary('BatchPoll', log, async (req) => {
      const identity = identityFromWire(req.identity);
      const results = await Promise.all(
        req.topics.map(async (t) => {
          try {
            const answer = await poller.poll(t.topic, identity, versionFromWire(t.lastSeenVersion, `topics[${t.topic}].last_seen_version`, true));
            return { topic: t.topic, update: toUpdate(answer), errorCode: '', errorMessage: '' };
          } catch (err) {
            const status = toServiceError(err, 'BatchPoll', log);
            return { topic: t.topic, update: null, errorCode: grpc.status[status.code ?? grpc.status.INTERNAL], errorMessage: status.details ?? '' };
          }
        }),
      );
      return { results };
    }),
  };
}

export interface GuardOptions {
  /** Per-application concurrency limits. @default none (no throttling) */
  readonly limiter?: ConcurrencyLimiter;
  /** Requests, latency and throttles. @default none */
  readonly metrics?: ConsumeMetrics;
}

/**
 * Every Consumer method of `handlers` behind the limiter (RESOURCE_EXHAUSTED with a retry
 * hint when the calling application is over its share) and counted in the metrics (throttled
 * answers included, as outcome RESOURCE_EXHAUSTED).
 */
export function guardConsumerHandlers(handlers: ConsumerHandlers, opts: GuardOptions): ConsumerHandlers {
  const wrap = <Req, Res>(method: string, h: grpc.handleUnaryCall<Req, Res>): grpc.handleUnaryCall<Req, Res> => {
    let out = h;
    if (opts.limiter) out = throttledUnary(opts.limiter, appFromCall, out, { ...(opts.metrics && { metrics: opts.metrics }) });
    if (opts.metrics) out = observedUnary(opts.metrics, method, out);
    return out;
  };
  return {
    ...handlers,
    Poll: wrap('Poll', handlers.Poll),
    BatchPoll: wrap('BatchPoll', handlers.BatchPoll),
    GetVersion: wrap('GetVersion', handlers.GetVersion),
    ListVersions: wrap('ListVersions', handlers.ListVersions),
    GetLatestAt: wrap('GetLatestAt', handlers.GetLatestAt),
    GetTopic: wrap('GetTopic', handlers.GetTopic),
    ListTopics: wrap('ListTopics', handlers.ListTopics),
  };
}
