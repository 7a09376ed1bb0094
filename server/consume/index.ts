/**
 * server/consume: what a consume-role instance adds. Polls answered from an in-memory table
 * refreshed from the store (PollTable, ConsumeService), per-application adaptive concurrency
 * limits (ConcurrencyLimiter, throttledUnary), and Prometheus metrics on an HTTP port.
 */
export { PollTable, PollTableOptionError, answerPoll, answerPollNow, type PollTableOptions, type PollTableStats, type RecordVerdict, type RefreshResult, type TopicEntry } from './poll-table.js';
export { ConsumeService, type ConsumeServiceDeps, type Poller } from './consume-service.js';
export { ConcurrencyLimiter, limiterWithDefaults, OTHER_APPS, type AppLimitState, type Lease, type LimiterOptions, type RejectReason, type Rejection } from './limiter.js';
export { appFromCall, batchPollWeight, throttledUnary, TOPICS_PER_REQUEST, UNKNOWN_APP, type AppOf, type ThrottleOptions } from './throttle.js';
export { consumeMetrics, observedUnary, outcomeOf, startMetricsServer, OTHER_APP_LABEL, type ConsumeMetrics, type ConsumeMetricsOptions, type MetricsServer } from './metrics.js';
export { guardConsumerHandlers, type GuardOptions } from './handlers.js';
export { pollHandlers } from '../grpc-server.js';
export { listenNoDelay, type Listener } from './listen.js';
