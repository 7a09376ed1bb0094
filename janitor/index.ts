/** janitor: periodic tasks: the fallback snapshot writer (retention purge to come). */
export { writeSnapshot, collectSnapshot, type SnapshotWriterOptions, type SnapshotResult } from './snapshot.js';
