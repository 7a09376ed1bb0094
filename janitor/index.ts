/** janitor: periodic tasks: the fallback snapshot writer, the retention purge, the purge of deleted topics, with leases, and the rollout driver beside them; their metrics and health. */
export { writeSnapshot, collectSnapshot, type SnapshotWriterOptions, type SnapshotResult } from './snapshot.js';
export { purgeRetention, type PurgeOptions, type PurgeResult, type PurgeFailure, type KeptObject } from './purge.js';
export { purgeDeletedTopics, DEFAULT_DELETE_GRACE_MS, type TopicPurgeOptions, type TopicPurgeResult } from './topic-purge.js';
export { Janitor, type JanitorOptions, type JanitorHealth, type JobHealth, type JobName, type JobOutcome, type JobResultKind, type JobSchedule } from './runner.js';
export { healthzAnswer, janitorMetrics, type JanitorMetrics } from './metrics.js';
export { findSnapshot, restoreSnapshot, type FoundSnapshot, type RestoreOptions, type RestoreResult, type RestoreSummary, type TopicOutcome } from './restore.js';
