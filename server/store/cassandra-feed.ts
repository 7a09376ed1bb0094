/**
 * The Cassandra store's change feed, apart from its I/O: the options, where an entry goes
 * (time bucket and shard), its time in ticks, the cursor, and how a read walks the buckets.
 * The design (why hints, why two scans) is at the top of cassandra.ts; the store runs the CQL.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Version } from '../../core/index.js';
import { badCursor, type FeedCursor, type FeedEntry, type FeedKind } from './change-feed.js';

/** How the feed is read and kept. Every server of a keyspace should use the same values. */
export interface CassandraFeedOptions {
  /**
   * How far back, ms, each read looks again for entries that landed after the reader passed
   * their time (a writer's clock behind the reader's, a slow write); what lands later still
   * comes, once settled. Costs each read the entries of this window. @default 2000
   */
  readonly lookbackMs?: number;
  /**
   * An entry that may come before its change (a hint) is given again once it is this old, ms:
   * the longest a change may take to become readable after its hint, clock skew between
   * servers included. @default 60000
   */
  readonly settleMs?: number;
  /** How long entries are kept (a TTL), ms; a cursor older than that is too old. @default 21600000 (6 hours) */
  readonly retentionMs?: number;
}

export type ResolvedFeedOptions = Required<CassandraFeedOptions>;

/** Fills in and checks the feed options; errors name the field. */
export function feedWithDefaults(o: CassandraFeedOptions = {}): ResolvedFeedOptions {
  const r: ResolvedFeedOptions = {
    lookbackMs: o.lookbackMs ?? 2_000,
    settleMs: o.settleMs ?? 60_000,
    retentionMs: o.retentionMs ?? 6 * 3_600_000,
  };
  const ms = (field: keyof ResolvedFeedOptions, min: number, max: number, rule = `must be a whole number of milliseconds from ${min} to ${max}`) => {
    const v = r[field];
    if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgumentError(`cassandra.feed.${field}`, rule, v);
  };
  ms('lookbackMs', 1, 600_000);
  ms('settleMs', r.lookbackMs + 1, 3_600_000, `must be a whole number of milliseconds above lookbackMs (${r.lookbackMs}) and at most 3600000`);
  ms('retentionMs', 2 * r.settleMs, 7 * 24 * 3_600_000, `must be a whole number of milliseconds from twice settleMs (${2 * r.settleMs}) to 604800000 (7 days)`);
  return r;
}

/** Entries of one bucket share a partition per shard: a bucket is this long, ms. Part of the schema: every server must agree. */
export const FEED_BUCKET_MS = 60_000;
/** Partitions per bucket, so that no one partition (one replica set) takes every change of the cluster. Part of the schema. */
export const FEED_SHARDS = 4;
/** An entry's time is in ticks: its writer's ms × 1000 plus a counter, so one writer's entries never share a time. */
const TICKS_PER_MS = 1000n;

export const FEED_SHARD_LIST: readonly number[] = Array.from({ length: FEED_SHARDS }, (_, i) => i);

/** The shard of a topic's entries (FNV-1a of its name). */
export function shardOf(topic: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) {
    h ^= topic.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % FEED_SHARDS;
}

export function bucketOf(at: bigint): bigint {
  return at / TICKS_PER_MS / BigInt(FEED_BUCKET_MS);
}

export function ticksOf(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * TICKS_PER_MS;
}

/** A random id for an entry (63 bits: a Cassandra bigint). */
export function entryId(): bigint {
  return randomBytes(8).readBigInt64BE() & 0x7fff_ffff_ffff_ffffn;
}

/** One writer's entry times: its clock in ticks, strictly increasing even within a ms or when the clock steps back. */
export class FeedClock {
  private last = 0n;
  constructor(private readonly clock: () => number) {}
  next(): bigint {
    const t = ticksOf(this.clock());
    this.last = t > this.last ? t : this.last + 1n;
    return this.last;
  }
}

/** A stored entry, as a scan returns it. */
export interface FeedRow {
  readonly at: bigint;
  readonly id: bigint;
  readonly topic: string;
  readonly kind: FeedKind;
  readonly version: Version;
  readonly hint: boolean;
}

export function toEntry(r: FeedRow): FeedEntry {
  return { topic: r.topic, kind: r.kind, version: r.version, atMs: Number(r.at / TICKS_PER_MS), hint: r.hint };
}

/**
 * Where a reader is. `settled`: every hint with a time up to it has been given again (the
 * settle scan goes on after it). `fresh`: the fresh scan goes on after it; `seen` are the
 * entries after `fresh` it has given already (so the look back gives each once).
 */
export interface CassandraCursor {
  readonly feedId: string;
  readonly fresh: bigint;
  readonly settled: bigint;
  readonly seen: ReadonlySet<bigint>;
}

const CURSOR = /^cassandra:([0-9a-f-]{36}):([0-9]{1,19}):([0-9]{1,19}):([0-9a-z,]*)$/;

export function encodeCursor(c: CassandraCursor): FeedCursor {
  return `cassandra:${c.feedId}:${c.fresh}:${c.settled}:${[...c.seen].map((id) => id.toString(36)).join(',')}`;
}

/** @throws InvalidArgumentError naming `after` */
export function decodeCursor(after: FeedCursor): CassandraCursor {
  const m = CURSOR.exec(after);
  const [, feedId, fresh, settled, seen] = m ?? [];
  if (feedId === undefined || fresh === undefined || settled === undefined || seen === undefined) throw badCursor(after, 'cassandra');
  const ids = seen === '' ? [] : seen.split(',');
  if (ids.some((id) => !/^[0-9a-z]{1,13}$/.test(id))) throw badCursor(after, 'cassandra');
  return { feedId, fresh: BigInt(fresh), settled: BigInt(settled), seen: new Set(ids.map((id) => [...id].reduce((n, ch) => n * 36n + BigInt(parseInt(ch, 36)), 0n))) };
}

/**
 * The cursor of a reader starting now: the fresh scan starts one look back ago, with what is
 * there already taken as given (it came before the cursor), and the settle scan one settle
 * time ago (hints from before the cursor come again when they settle).
 */
export async function headAt(scan: BucketScan, feedId: string, nowMs: number, o: ResolvedFeedOptions): Promise<CassandraCursor> {
  const fresh = ticksOf(nowMs - o.lookbackMs);
  const { rows } = await collect(scan, fresh, END, bucketOf(ticksOf(nowMs + o.lookbackMs)), Number.POSITIVE_INFINITY);
  return { feedId, fresh, settled: ticksOf(nowMs - o.settleMs), seen: new Set(rows.map((r) => r.id)) };
}

/** Whether entries after the cursor may have expired (with settleMs to spare for the writers' clocks). */
export function isTooOld(c: CassandraCursor, nowMs: number, o: ResolvedFeedOptions): boolean {
  const oldest = c.fresh < c.settled ? c.fresh : c.settled;
  return oldest < ticksOf(nowMs - (o.retentionMs - o.settleMs));
}

/** No upper bound on a time. */
const END = 0x7fff_ffff_ffff_ffffn;

/** Rows of every shard of one bucket with `after < at <= upTo`, in (at, id) order. */
export type BucketScan = (bucket: bigint, after: bigint, upTo: bigint) => Promise<FeedRow[]>;

/**
 * Rows after `after` up to `upTo`, bucket by bucket (through `lastBucket`), oldest first,
 * until `budget` rows that `counts` have been read, plus the rows that share the last one's
 * time, so that a page ends between two times: `cut`, the last time taken, is where the next
 * read goes on (undefined when nothing was left).
 */
async function collect(
  scan: BucketScan,
  after: bigint,
  upTo: bigint,
  lastBucket: bigint,
  budget: number,
  counts: (row: FeedRow) => boolean = () => true,
): Promise<{ rows: FeedRow[]; cut?: bigint }> {
  const rows: FeedRow[] = [];
  let counted = 0;
  for (let b = bucketOf(after + 1n); b <= lastBucket; b++) {
    const got = await scan(b, after, upTo);
    for (let i = 0; i < got.length; i++) {
      const row = got[i] as FeedRow;
      rows.push(row);
      if (!counts(row) || ++counted < budget) continue;
      let j = i + 1;
      for (; j < got.length && (got[j] as FeedRow).at === row.at; j++) rows.push(got[j] as FeedRow);
      return j < got.length || b < lastBucket ? { rows, cut: row.at } : { rows };
    }
  }
  return { rows };
}

/**
 * One page: (1) the settle scan gives again each hint whose time passed `now - settleMs`
 * since the last read (a hint that landed too late for the fresh scan comes here first);
 * (2) the fresh scan gives every entry after the cursor's `fresh` not given yet, and moves
 * `fresh` to `now - lookbackMs`, remembering what it gave after that. A page holds at most
 * `limit` entries and those sharing the last one's time; the fresh scan waits while the
 * settle scan has a backlog.
 */
export async function readPage(scan: BucketScan, c: CassandraCursor, limit: number, nowMs: number, o: ResolvedFeedOptions): Promise<{ entries: FeedEntry[]; cursor: CassandraCursor; more: boolean }> {
  const now = ticksOf(nowMs);
  const entries: FeedEntry[] = [];
  // 1. Settle.
  let settled = c.settled;
  const settleTo = now - ticksOf(o.settleMs);
  if (settleTo > c.settled) {
    const r = await collect(scan, c.settled, settleTo, bucketOf(settleTo), limit);
    for (const row of r.rows) if (row.hint) entries.push(toEntry(row));
    settled = r.cut ?? settleTo;
    if (r.cut !== undefined || entries.length >= limit) return { entries, cursor: { ...c, settled }, more: true };
  }
  // 2. Fresh, with what the settle scan left of the page.
  const r = await collect(scan, c.fresh, END, bucketOf(now + ticksOf(o.lookbackMs)), limit - entries.length, (row) => !c.seen.has(row.id));
  const target = now - ticksOf(o.lookbackMs) > c.fresh ? now - ticksOf(o.lookbackMs) : c.fresh;
  const fresh = r.cut !== undefined && r.cut < target ? r.cut : target;
  for (const row of r.rows) if (!c.seen.has(row.id)) entries.push(toEntry(row));
  // Given after `fresh`: this page's, and when the page was cut, those given before that lie past the cut.
  const seen = new Set(r.rows.filter((row) => row.at > fresh).map((row) => row.id));
  if (r.cut !== undefined) {
    const read = new Set(r.rows.map((row) => row.id));
    for (const id of c.seen) if (!read.has(id)) seen.add(id);
  }
  return { entries, cursor: { feedId: c.feedId, fresh, settled, seen }, more: r.cut !== undefined };
}
