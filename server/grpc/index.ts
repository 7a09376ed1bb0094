/**
 * server/grpc: the gRPC transport over the service code. Handlers translate wire messages to
 * ImprintService and Poller calls (handlers.ts), typed errors become statuses in one function
 * (errors.ts), Watch streams are written to their calls (watch.ts), the Consumer service sits behind the per-application limiter and the metrics
 * (guard.ts, throttle.ts), BatchPoll is bounded on the wire (batch-poll.ts), and the server
 * adds health and reflection and may listen with TCP_NODELAY (server.ts, reflection.ts,
 * listen.ts); Poll, BatchPoll and Watch are served in the fast lane, off the HTTP/2 streams
 * (fast-lane.ts). Another transport sits beside this folder and calls the same service code.
 * Outside server/, reach it through server/index.ts.
 */
export { startGrpcServer, serviceHandlers, SERVICE_NAMES, type ConnectionOf, type GrpcServerHandle, type GrpcServerOptions, type HandlerStackOptions, type ServiceHandlers, type ServiceName } from './server.js';
export { consumerHandlers, operatorHandlers, pollHandlers, publisherHandlers, refusedPolls, unary } from './handlers.js';
export { watchHandler } from './watch.js';
export { STATUS_OF, toServiceError } from './errors.js';
export { guardConsumerHandlers, observedUnary, outcomeOf, type GuardOptions } from './guard.js';
export { appFromCall, shareOf, batchPollWeight, throttledUnary, TOPICS_PER_REQUEST, UNKNOWN_APP, type AppOf, type ThrottleOptions } from './throttle.js';
export { answeredResult, batchPollFromWire, decodeBatchPollRequest, encodeBatchPollResponse, failedResult, fitToBudget, toUpdate, DEFERRED_CODE, DEFERRED_MESSAGE, type BatchPollCursor } from './batch-poll.js';
export { addFastLane, fastLaneStats, type FastLaneMethod, type FastLaneOptions } from './fast-lane.js';
export { loggedService, loggedUnary, requestIdOf, requestLog, startRequestLog, RequestLogger } from './request-log.js';
export { appCheckedService, authenticatedService } from './authenticate.js';
export { listenNoDelay, type Listener } from './listen.js';
export { addReflection, contractFileDescriptors } from './reflection.js';
