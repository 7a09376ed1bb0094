/**
 * gRPC plumbing for per-application concurrency limits: a unary handler wrapped so that a
 * caller over its limit is answered RESOURCE_EXHAUSTED at once, with how long to wait in the
 * trailing metadata (`x-imprint-retry-after-ms`) and in the message; admitted calls hold a
 * lease until they answer, and their latency feeds the limiter.
 */
import * as grpc from '@grpc/grpc-js';
import { isIdentityValue } from '../../core/index.js';
import { APP_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import type { BatchPollRequest__Output } from '../../proto/gen/imprint/v1/BatchPollRequest.js';
import { principalOf } from '../auth/principal.js';
import type { ConcurrencyLimiter } from '../limiter.js';
import type { ConsumeMetrics } from '../metrics.js';

/** The application a call counts against. */
export type AppOf<Req> = (call: grpc.ServerUnaryCall<Req, unknown>) => string;

/** Callers that name no application (no metadata, no identity.app) share this one. */
export const UNKNOWN_APP = '(unknown)';

/**
 * The calling application: request metadata `x-imprint-app`, else the request's
 * `identity.app` (Poll, BatchPoll, GetLatestAt), else "(unknown)". Names that are not a valid
 * identity value (spaces, ",", "=", over 256 characters) are ignored.
 */
export function appFromCall(call: { readonly metadata: grpc.Metadata; readonly request: unknown }): string {
  const fromMetadata = call.metadata.get(APP_METADATA_KEY)[0];
  if (typeof fromMetadata === 'string' && isIdentityValue(fromMetadata)) return fromMetadata;
  const req = call.request;
  if (typeof req === 'object' && req !== null && 'identity' in req) {
    const identity: unknown = req.identity;
    if (typeof identity === 'object' && identity !== null && 'app' in identity && typeof identity.app === 'string' && isIdentityValue(identity.app)) return identity.app;
  }
  return UNKNOWN_APP;
}

/**
 * What a call's limiter share (and Watch stream count) is keyed by: its authenticated
 * principal's name on a server with principals (two principals claiming the same app do not
 * share a share, and none can spend another's), else the application it names (appFromCall).
 */
export function shareOf(call: { readonly metadata: grpc.Metadata; readonly request: unknown }): string {
  return principalOf(call)?.name ?? appFromCall(call);
}

/** Statuses that say the work itself broke (overload shows as these); the limiter backs off on them. */
const FAILURE_CODES: ReadonlySet<number> = new Set([grpc.status.INTERNAL, grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNKNOWN]);

/** Topics of a BatchPoll that weigh as much as one request against the limiter. */
export const TOPICS_PER_REQUEST = 8;

/**
 * What a BatchPoll weighs against its application's limit: one unit per TOPICS_PER_REQUEST
 * topics it names, rounded up (a Poll or any other call weighs one). Measured: a BatchPoll of
 * 200 topics costs the server about what 30 single Polls cost.
 */
export function batchPollWeight(req: Pick<BatchPollRequest__Output, 'topics'>): number {
  return Math.max(1, Math.ceil(req.topics.length / TOPICS_PER_REQUEST));
}

export interface ThrottleOptions<Req = unknown> {
  /** Counts throttles per application. @default none */
  readonly metrics?: ConsumeMetrics;
  /** What a call weighs in limiter units (BatchPoll: batchPollWeight). @default 1 */
  readonly weightOf?: (request: Req) => number;
  /** Milliseconds, monotonic; measures each call's latency. @default performance.now */
  readonly clock?: () => number;
}

/** `handler`, admitted through `limiter` per application (see appFromCall). */
export function throttledUnary<Req, Res>(
  limiter: ConcurrencyLimiter,
  appOf: AppOf<Req>,
  handler: grpc.handleUnaryCall<Req, Res>,
  opts: ThrottleOptions<Req> = {},
): grpc.handleUnaryCall<Req, Res> {
  const clock = opts.clock ?? (() => performance.now());
  const weightOf = opts.weightOf ?? (() => 1);
  return (call, callback) => {
    // A caller that already gave up (deadline passed while the call queued) costs no more work.
    if (call.cancelled) {
      callback({ code: grpc.status.CANCELLED, details: 'the call was cancelled before it was handled' });
      return;
    }
    const app = appOf(call);
    const admission = limiter.tryAcquire(app, weightOf(call.request));
    if (!admission.admitted) {
      opts.metrics?.throttled.inc({ app: opts.metrics.appLabel(admission.app) });
      const trailer = new grpc.Metadata();
      trailer.set(RETRY_AFTER_METADATA_KEY, String(admission.retryAfterMs));
      callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: admission.message, metadata: trailer });
      return;
    }
    const t0 = clock();
    let answered = false;
    const done: grpc.sendUnaryData<Res> = (err, value, trailer, flags) => {
      if (!answered) {
        answered = true;
        admission.release(clock() - t0, !(err && err.code !== undefined && FAILURE_CODES.has(err.code)));
      }
      callback(err, value, trailer, flags);
    };
    try {
      handler(call, done);
    } catch (err) {
      // A handler that throws instead of answering must not keep its slot forever.
      done({ code: grpc.status.INTERNAL, details: `internal error: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
}
