/**
 * server/poll: how polls are answered, whatever the transport. One audited Poller over a
 * PollSource port (core/poll.ts, where the decision is): store-backed (StorePollSource, the all
 * role) or table-backed (PollTable, the consume role's in-memory table, kept current by a
 * FeedFollower of the store's change feed), and the PollChangeHub that says when a topic's
 * poll state may have changed. Watch streams (watch.ts) ask the same Poller again when it says
 * a watched topic changed.
 */
export { Poller, type PollObserver, type PollerDeps } from './poller.js';
export { StorePollSource } from './store-source.js';
export { PollChangeHub, type PollChanges } from './changes.js';
export { Watchers, WatchStream, watchWithDefaults, WATCH_DEFAULTS, WATCH_RETRY_AFTER_MS, COALESCE_MS, type WatchOptions, type WatchSink, type WatchOutcome, type WatchCursor, type WatchStats, type WatchersDeps } from './watch.js';
export { FeedFollower, FeedFollowerOptionError, noticeFollower, REREAD_REASONS, type FeedFollowerOptions, type FeedFollowerStats, type RereadReason, type RereadResult } from './feed-follower.js';
export { ConsumerOutcomes, OutcomesOptionError, OUTCOMES_DEFAULTS, type OutcomesOptions, type OutcomesStats } from './outcomes.js';
export { PollTable, PollTableOptionError, type PollTableOptions, type PollTableStats, type RefreshResult, type TopicEntry } from './poll-table.js';
export type { PollAnswer, PollSource, PollView, RecordVerdict } from '../../core/index.js';
