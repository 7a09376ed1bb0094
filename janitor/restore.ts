/**
 * Restoring a metadata store from the fallback snapshot (the runbook's "restore from the
 * fallback snapshot", `imprint snapshot restore`): the current snapshot is read from the first
 * region that has a whole one, and each of its topics the store does not have is written back
 * as it was (MetadataStore.restoreTopic, what core's planRestore decides). A topic the store
 * has is left alone. Objects are not copied: the records' pointers name objects already in the
 * blob stores; each is checked as a publish checks it (server/blob-check.ts) and reported
 * when missing.
 */
import type { BlobStore, KeyedBlobStore } from '../client/blob-store/blob-store.js';
import { DEFAULT_SNAPSHOT_PREFIX, readCurrentSnapshot } from '../client/fallback.js';
import { AlreadyExistsError, InvalidArgumentError, UnavailableError, planRestore, type Actor, type RestorePlan, type Snapshot, type SnapshotOrigin, type SnapshotPointer } from '../core/index.js';
import { DEFAULT_BLOB_CHECK_TIMEOUT_MS, checkBlobPointer } from '../server/blob-check.js';
import { silentLogger } from '../log/index.js';
import type { MetadataStore } from '../server/store/metadata-store.js';

/** A snapshot as read, and where from. */
export interface FoundSnapshot {
  readonly region: string;
  readonly pointer: SnapshotPointer;
  readonly snapshot: Snapshot;
  /** Bytes of the snapshot object. */
  readonly size: number;
}

/**
 * The current snapshot of the first region (in the order given, or only `region`) that has a
 * whole one; each region that has none is told to `onRegionFailed` (the text names the region
 * and the object), `more` saying whether another region is tried next.
 * @throws InvalidArgumentError (field "region") for a region none of the stores has;
 *   UnavailableError when no region has a whole snapshot.
 */
export async function findSnapshot(
  stores: readonly KeyedBlobStore[],
  opts: { readonly region?: string; readonly prefix?: string; readonly onRegionFailed?: (text: string, more: boolean) => void } = {},
): Promise<FoundSnapshot> {
  const asked = opts.region === undefined ? stores : stores.filter((s) => s.region === opts.region);
  if (asked.length === 0) throw new InvalidArgumentError('region', `must be one of the blob stores' regions (${stores.map((s) => s.region).join(', ')})`, opts.region);
  const failures: string[] = [];
  for (const [i, store] of asked.entries()) {
    try {
      return { region: store.region, ...(await readCurrentSnapshot(store, opts.prefix ?? DEFAULT_SNAPSHOT_PREFIX)) };
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      failures.push(text);
      opts.onRegionFailed?.(text, i < asked.length - 1);
    }
  }
  throw new UnavailableError(`no region has a readable fallback snapshot (${failures.join('; ')})`);
}

/** What a restore did, or would do, with one topic. */
export interface TopicOutcome {
  readonly topic: string;
  readonly outcome: 'restored' | 'would restore' | 'skipped' | 'failed';
  /** Records and pins restored (or that would be). */
  readonly records: number;
  readonly pins: number;
  /** The version the next publish gets (restored, would restore). */
  readonly nextVersion?: bigint;
  /** What the snapshot has of the topic that is not restored, and why. */
  readonly leftOut: readonly string[];
  /** Objects its records name that are not there with their size (or in none of the stores given). */
  readonly missing: readonly string[];
  /** Objects no region answered for. */
  readonly unchecked: readonly string[];
  readonly error?: string;
}

export interface RestoreSummary {
  /** Topics restored (in a dry run: that would be). */
  readonly restored: number;
  readonly skipped: number;
  readonly failed: number;
  readonly records: number;
  readonly pins: number;
  readonly missingObjects: number;
  readonly uncheckedObjects: number;
}

export interface RestoreOptions {
  readonly store: MetadataStore;
  /** The stores the records' objects are checked in (every region). */
  readonly blobStores: readonly BlobStore[];
  readonly found: FoundSnapshot;
  /** Say what would be restored and check the objects; write nothing. @default false */
  readonly dryRun?: boolean;
  /** Who restores, for the history entries. @default nobody named */
  readonly by?: Actor;
  /** How long a region may take to confirm an object. @default 2000 (the server's blob check) */
  readonly blobCheckTimeoutMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Asked once before anything is written (not in a dry run, not when nothing is to be written); false: nothing is written. @default yes */
  readonly confirm?: (toRestore: number, skipped: number) => Promise<boolean>;
  /** Told of each topic as it is done (progress). */
  readonly onTopic?: (outcome: TopicOutcome, index: number, of: number) => void;
}

export interface RestoreResult {
  readonly origin: SnapshotOrigin;
  /** False when `confirm` said no (then nothing was written and `topics` is empty). */
  readonly confirmed: boolean;
  readonly topics: readonly TopicOutcome[];
  readonly summary: RestoreSummary;
}

export async function restoreSnapshot(o: RestoreOptions): Promise<RestoreResult> {
  const clock = o.clock ?? Date.now;
  const timeoutMs = o.blobCheckTimeoutMs ?? DEFAULT_BLOB_CHECK_TIMEOUT_MS;
  const origin: SnapshotOrigin = { key: o.found.pointer.key, writtenAtMs: o.found.snapshot.writtenAtMs };
  // 1. What to write of each topic, and which topics the store has already (left alone).
  const plans = o.found.snapshot.topics.map(planRestore);
  const have = new Set<string>();
  for (const p of plans) if (await o.store.getTopic(p.topic.name)) have.add(p.topic.name);
  // 2. Asked before writing.
  const toRestore = plans.length - have.size;
  if (!o.dryRun && toRestore > 0 && o.confirm && !(await o.confirm(toRestore, have.size))) return { origin, confirmed: false, topics: [], summary: summarize([], false) };
  // 3. Each topic: its objects checked, then written (not in a dry run).
  const topics: TopicOutcome[] = [];
  for (const [i, plan] of plans.entries()) {
    const outcome = have.has(plan.topic.name) ? skipped(plan) : await restoreOne(o, plan, origin, timeoutMs, clock);
    topics.push(outcome);
    o.onTopic?.(outcome, i + 1, plans.length);
  }
  return { origin, confirmed: true, topics, summary: summarize(topics, o.dryRun === true) };
}

const skipped = (plan: RestorePlan): TopicOutcome => ({ topic: plan.topic.name, outcome: 'skipped', records: 0, pins: 0, leftOut: [], missing: [], unchecked: [] });

async function restoreOne(o: RestoreOptions, plan: RestorePlan, origin: SnapshotOrigin, timeoutMs: number, clock: () => number): Promise<TopicOutcome> {
  const objects = await checkObjects(plan, o.blobStores, timeoutMs);
  const done = { topic: plan.topic.name, records: plan.records.length, pins: plan.pins.length, nextVersion: plan.topic.latestVersion + 1n, leftOut: plan.leftOut, ...objects };
  if (o.dryRun) return { ...done, outcome: 'would restore' };
  try {
    await o.store.restoreTopic(plan, origin, clock(), o.by);
    return { ...done, outcome: 'restored' };
  } catch (err) {
    // Made meanwhile by someone else: left alone, like one that was there.
    if (err instanceof AlreadyExistsError) return skipped(plan);
    const { nextVersion: _none, ...failed } = done;
    return { ...failed, outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
  }
}

/** Each blob object a plan's records name, checked as a publish's is (server/blob-check.ts). */
async function checkObjects(plan: RestorePlan, stores: readonly BlobStore[], timeoutMs: number): Promise<{ missing: string[]; unchecked: string[] }> {
  const missing: string[] = [];
  const unchecked: string[] = [];
  for (const r of plan.records) {
    if (r.pointer.kind !== 'blob') continue;
    try {
      await checkBlobPointer(r.topic, r.pointer, stores, timeoutMs, silentLogger);
    } catch (err) {
      // Refused (not there, another size, in no store given) is missing; no answer is unchecked.
      (err instanceof InvalidArgumentError ? missing : unchecked).push(`v${r.version}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { missing, unchecked };
}

function summarize(topics: readonly TopicOutcome[], dryRun: boolean): RestoreSummary {
  const count = (k: TopicOutcome['outcome']) => topics.filter((x) => x.outcome === k).length;
  const done = topics.filter((x) => x.outcome === (dryRun ? 'would restore' : 'restored'));
  return {
    restored: done.length,
    skipped: count('skipped'),
    failed: count('failed'),
    records: done.reduce((n, x) => n + x.records, 0),
    pins: done.reduce((n, x) => n + x.pins, 0),
    missingObjects: topics.reduce((n, x) => n + x.missing.length, 0),
    uncheckedObjects: topics.reduce((n, x) => n + x.unchecked.length, 0),
  };
}
