/** janitor: periodic tasks: the fallback snapshot writer, the retention purge, the purge of deleted topics, with leases. */
export { writeSnapshot, collectSnapshot, type SnapshotWriterOptions, type SnapshotResult } from './snapshot.js';
export { purgeRetention, type PurgeOptions, type PurgeResult, type PurgeFailure, type KeptObject } from './purge.js';
export { purgeDeletedTopics, DEFAULT_DELETE_GRACE_MS, type TopicPurgeOptions, type TopicPurgeResult } from './topic-purge.js';
export { Janitor, type JanitorOptions, type JobName, type JobOutcome } from './runner.js';
