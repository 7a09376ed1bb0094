/**
 * Watch over gRPC: the request checked exactly as a BatchPoll's (batch-poll.ts), a stream
 * opened in the server's Watchers (server/poll/watch.ts, where what is sent when is decided),
 * and its messages written to the call: each topic's answer as a BatchPoll result, fitted to
 * BatchPoll's size budget on its own (direct bytes left out beyond it), and heartbeats. The
 * call's buffer is the stream's backpressure (in the fast lane the HTTP/2 stream's, Node's
 * default high-water mark; through grpc-js, 16 messages): a write that fills it holds the
 * stream's sends until the call drains.
 */
import * as grpc from '@grpc/grpc-js';
import type { ImprintError } from '../../core/index.js';
import type { WatchRequest__Output } from '../../proto/gen/imprint/v1/WatchRequest.js';
import type { WatchResponse } from '../../proto/gen/imprint/v1/WatchResponse.js';
import { batchPollWithDefaults, type BatchPollOptions } from '../config.js';
import type { Logger } from '../../log/index.js';
import type { WatchStream, Watchers } from '../poll/index.js';
import { answeredResult, batchPollFromWire, failedResult, fitToBudget, type BatchPollCursor } from './batch-poll.js';
import { toServiceError } from './errors.js';
import { startRequestLog } from './request-log.js';
import { shareOf } from './throttle.js';
import { principalOf } from '../auth/principal.js';
import type { ConsumerOutcomes } from '../poll/outcomes.js';

export function watchHandler(watchers: Watchers, log: Logger, limits: BatchPollOptions = {}, outcomes?: ConsumerOutcomes): grpc.handleServerStreamingCall<WatchRequest__Output, WatchResponse> {
  const { maxTopics, maxResponseBytes } = batchPollWithDefaults(limits);
  return (call) => {
    const rlog = startRequestLog(call, 'Watch', log);
    rlog.keepFields();
    const t0 = performance.now();
    const fail = (err: unknown) => {
      const status = toServiceError(err, 'Watch', rlog);
      rlog.answered(status, performance.now() - t0);
      call.emit('error', status);
    };
    let stream: WatchStream;
    try {
      // 1. The request, checked whole before any work.
      const { identity, cursors } = batchPollFromWire(call.request, maxTopics);
      // What the watcher said it holds (and rejected), for the rollout gates: told with each
      // topic's first answer (not for a topic it may not consume, or that does not exist).
      let said: Map<string, BatchPollCursor> | undefined = new Map(cursors.map((c) => [c.topic, c]));
      // 2. The stream, within the instance's and the application's (the principal's) bounds.
      stream = watchers.open(shareOf(call), identity, cursors, {
        result(topic, outcome) {
          const c = said?.get(topic);
          if (c) {
            said?.delete(topic);
            // Every topic heard: the map goes (a stream lives for hours).
            if (said?.size === 0) said = undefined;
            if ('answer' in outcome) outcomes?.heard(topic, identity, c.lastSeen, c.rejected);
          }
          const result = 'answer' in outcome ? answeredResult(topic, outcome.answer) : failedResult(topic, outcome.error, 'Watch', rlog);
          return call.write({ result: fitToBudget([result], maxResponseBytes)[0] ?? result });
        },
        heartbeat(atMs) {
          return call.write({ heartbeat: { sentAtMs: atMs } });
        },
        end(err: ImprintError) {
          fail(err);
        },
      }, principalOf(call));
    } catch (err) {
      fail(err);
      return;
    }
    // 3. The call's events, to the stream.
    call.on('drain', () => stream.drained());
    call.on('cancelled', () => stream.cancelled());
    call.on('close', () => stream.cancelled());
  };
}
