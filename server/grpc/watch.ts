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
import type { ConsumerIdentity } from '../../core/index.js';
import type { WatchRequest__Output } from '../../proto/gen/imprint/v1/WatchRequest.js';
import type { WatchResponse } from '../../proto/gen/imprint/v1/WatchResponse.js';
import { batchPollWithDefaults, type BatchPollOptions } from '../config.js';
import type { Logger } from '../../log/index.js';
import type { WatchOutcome, WatchSink, WatchStream, Watchers } from '../poll/index.js';
import { answeredResult, batchPollFromWire, failedResult, fitToBudget, type BatchPollCursor } from './batch-poll.js';
import { toServiceError } from './errors.js';
import { startRequestLog, type RequestLogger } from './request-log.js';
import { shareOf } from './throttle.js';
import { principalOf } from '../auth/principal.js';
import type { ConsumerOutcomes } from '../poll/outcomes.js';

export function watchHandler(watchers: Watchers, log: Logger, limits: BatchPollOptions = {}, outcomes?: ConsumerOutcomes): grpc.handleServerStreamingCall<WatchRequest__Output, WatchResponse> {
  const { maxTopics, maxResponseBytes } = batchPollWithDefaults(limits);
  return (call) => {
    const rlog = startRequestLog(call, 'Watch', log);
    rlog.keepFields();
    const sink = new CallSink(call, rlog, maxResponseBytes, outcomes);
    let stream: WatchStream;
    try {
      // 1. The request, checked whole before any work.
      const { identity, cursors } = batchPollFromWire(call.request, maxTopics);
      sink.heard(identity, cursors);
      // 2. The stream, within the instance's and the application's (the principal's) bounds.
      stream = watchers.open(shareOf(call), identity, cursors, sink, principalOf(call));
    } catch (err) {
      sink.end(err);
      return;
    }
    // 3. The call's events, to the stream.
    const stop = () => stream.cancelled();
    call.on('drain', () => stream.drained());
    call.on('cancelled', stop);
    call.on('close', stop);
  };
}

/**
 * Where a stream's messages go: its call. An object with methods, not closures: a stream holds
 * its sink for hours, 10k of them on an instance.
 */
class CallSink implements WatchSink {
  private readonly t0 = performance.now();
  /**
   * Who watches and what it said it holds (and rejected), for the rollout gates: told with each
   * topic's first answer (not for a topic it may not consume, or that does not exist); let go
   * once every topic was heard.
   */
  private said: { identity: ConsumerIdentity; cursors: Map<string, BatchPollCursor> } | undefined;

  constructor(
    private readonly call: grpc.ServerWritableStream<WatchRequest__Output, WatchResponse>,
    private readonly rlog: RequestLogger,
    private readonly maxResponseBytes: number,
    private readonly outcomes: ConsumerOutcomes | undefined,
  ) {}

  heard(identity: ConsumerIdentity, cursors: readonly BatchPollCursor[]): void {
    if (this.outcomes && cursors.length > 0) this.said = { identity, cursors: new Map(cursors.map((c) => [c.topic, c])) };
  }

  result(topic: string, outcome: WatchOutcome): boolean {
    const said = this.said;
    const c = said?.cursors.get(topic);
    if (said && c) {
      said.cursors.delete(topic);
      // Every topic heard: let go (a stream lives for hours).
      if (said.cursors.size === 0) this.said = undefined;
      if ('answer' in outcome) this.outcomes?.heard(topic, said.identity, c.lastSeen, c.rejected);
    }
    const result = 'answer' in outcome ? answeredResult(topic, outcome.answer) : failedResult(topic, outcome.error, 'Watch', this.rlog);
    return this.call.write({ result: fitToBudget([result], this.maxResponseBytes)[0] ?? result });
  }

  heartbeat(atMs: number): boolean {
    return this.call.write({ heartbeat: { sentAtMs: atMs } });
  }

  /** Ends the call with `err` as its status (the server is stopping, or the request was refused). */
  end(err: unknown): void {
    const status = toServiceError(err, 'Watch', this.rlog);
    this.rlog.answered(status, performance.now() - this.t0);
    this.call.emit('error', status);
  }
}
