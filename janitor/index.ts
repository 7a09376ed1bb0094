/** janitor: periodic tasks: the fallback snapshot writer, the retention purge, with leases. */
export { writeSnapshot, collectSnapshot, type SnapshotWriterOptions, type SnapshotResult } from './snapshot.js';
export { purgeRetention, type PurgeOptions, type PurgeResult, type PurgeFailure, type KeptObject } from './purge.js';
export { Janitor, type JanitorOptions, type JobName, type JobOutcome } from './runner.js';
export { findSnapshot, restoreSnapshot, type FoundSnapshot, type RestoreOptions, type RestoreResult, type RestoreSummary, type TopicOutcome } from './restore.js';
