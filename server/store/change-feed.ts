/**
 * The change feed: what changed in the store, across all topics, after a cursor. A consume
 * instance tails it to keep its table current with work that grows with the changes, not
 * with the topics: it reads a page, re-reads the poll state of each topic the page names, and
 * goes on from the page's cursor. Both stores implement it (it is part of MetadataStore) and
 * run the same conformance suite.
 *
 * An entry names the topic and the kind of change, never the new state: a reader re-reads the
 * topic (`pollState`). Cassandra cannot put an entry in the conditional write of its change,
 * so some of its entries are hints written before the change was decided; and its entries come
 * in writer-clock order, not commit order. Re-reading makes both harmless.
 *
 * What every implementation guarantees to a reader that passes back each page's cursor:
 * - At least once: every change committed after the cursor was taken is followed by an entry
 *   naming its topic that a reader gets at a moment the change is readable. (Cassandra bounds
 *   this by time: see the top of cassandra.ts.)
 * - A resumed cursor (after a restart of the reader or of the store, or a gap) misses nothing,
 *   as long as the page says it is not `tooOld`.
 * - `tooOld`: the feed cannot vouch for what came after the cursor (older than the feed keeps,
 *   or from another database or keyspace). The page has no entries and a cursor at the feed's
 *   end: re-read every topic, then tail from there.
 * Order and repetition differ per store (stated on each): SQLite gives each committed change
 * exactly once in commit order; Cassandra may repeat entries, give hints of changes that never
 * happened, and order concurrent writers' entries by their clocks.
 */
import { InvalidArgumentError, type ChangeKind, type Version } from '../../core/index.js';

/**
 * Where a reader is in the feed: opaque text, only ever one a store returned (it may be kept
 * across restarts). Each store's cursors are its own.
 */
export type FeedCursor = string;

/**
 * The kinds of history, and `delete-version` (Cassandra only, from the janitor's purge: a
 * conditional write on the topic's partition, so it is announced like the others).
 */
export type FeedKind = ChangeKind | 'delete-version';

export interface FeedEntry {
  readonly topic: string;
  readonly kind: FeedKind;
  /** The version published, scoped, pinned, unpinned or deleted (for a hint: the one tried); 0n for topic changes. */
  readonly version: Version;
  /** When the change was made, by its writer's clock (ms). */
  readonly atMs: number;
  /**
   * True: the entry may be readable before its change is (written before the change was
   * decided, or beside it in a batch across partitions), and may name a change that never
   * happened; the feed gives it again once it has settled. False: written with the change
   * (SQLite) or after it was acknowledged.
   */
  readonly hint: boolean;
}

export interface FeedPage {
  /** Oldest first, as far as the store can order them. */
  readonly entries: readonly FeedEntry[];
  /** Pass it to the next read. */
  readonly cursor: FeedCursor;
  /** More entries were ready than the page's limit: read again now. */
  readonly more: boolean;
  /** The cursor is not one this feed can continue from: no entries; re-read every topic, then go on from `cursor`. */
  readonly tooOld: boolean;
}

export interface ChangeFeed {
  /**
   * A cursor at the feed's end now. A reader takes it BEFORE it reads every topic, then tails
   * from it: what changed during that read comes again through the feed.
   */
  feedHead(): Promise<FeedCursor>;
  /**
   * Entries after `after`, at most `limit` (1 to MAX_FEED_PAGE; Cassandra may add the few
   * entries that share the last one's time).
   * @throws InvalidArgumentError naming `after` for text that is not a cursor of this store, `limit` for a limit out of range.
   */
  readFeed(after: FeedCursor, opts: { limit: number }): Promise<FeedPage>;
}

/** The largest page a reader may ask for. */
export const MAX_FEED_PAGE = 10_000;

/** Checks a page limit (one rule for both stores). */
export function checkFeedLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_PAGE) throw new InvalidArgumentError('limit', `must be a whole number from 1 to ${MAX_FEED_PAGE}`, limit);
}

/** Text that is not a cursor of this store. */
export function badCursor(after: string, store: string): InvalidArgumentError {
  const shown = after.length > 80 ? `${after.slice(0, 80)}...` : after;
  return new InvalidArgumentError('after', `must be a change-feed cursor the ${store} store returned (feedHead or a page's cursor)`, shown);
}
