/**
 * Retention purge: deletes the versions a topic's retention no longer keeps (core decides:
 * never the latest of any scope, a pinned one, the target of a running or paused rollout, or
 * one within retention), their blob objects in
 * every region first, then the metadata row. An object whose deletion fails keeps its row, is
 * reported, and is tried again on the next run.
 *
 * Only the topic's own objects are deleted (keys under its prefix, core's isTopicKey), and
 * none that a version it keeps still names. A record naming anything else (another topic's
 * object, a snapshot: possible for records written before the service checked keys) loses its
 * row but not the object, and is logged.
 */
import { storeFor, type BlobStore } from '../client/blob-store/blob-store.js';
import { isTopicKey, retentionDecision, type BlobLocation, type Version, type VersionRecord } from '../core/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { JanitorStore } from '../server/store/metadata-store.js';

export interface PurgeOptions {
  readonly store: JanitorStore;
  /** One per region; objects of purged versions are deleted from each. */
  readonly blobStores: readonly BlobStore[];
  /** Versions that must stay whatever retention says, besides the targets of running and paused rollouts (always kept). @default none */
  readonly protectedVersions?: (topic: string) => readonly Version[];
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface PurgeFailure {
  readonly topic: string;
  readonly version: Version;
  readonly location?: BlobLocation;
  readonly error: string;
}

/** An object of a purged version that was not deleted, and why. */
export interface KeptObject {
  readonly topic: string;
  readonly version: Version;
  readonly location: BlobLocation;
  readonly reason: 'outside-topic-prefix' | 'named-by-kept-version';
}

export interface PurgeResult {
  readonly topics: number;
  readonly purged: readonly { topic: string; version: Version }[];
  readonly failures: readonly PurgeFailure[];
  readonly kept: readonly KeptObject[];
}

const PAGE = 500;

/** Every version of the topic, newest first, read a page at a time. */
export async function allVersions(store: JanitorStore, topic: string): Promise<VersionRecord[]> {
  const out: VersionRecord[] = [];
  let below: Version | undefined;
  for (;;) {
    const page = await store.listVersions(topic, { ...(below !== undefined && { below }), limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    below = page[page.length - 1]?.version;
  }
}

export async function purgeRetention(o: PurgeOptions): Promise<PurgeResult> {
  const log = o.log ?? silentLogger;
  const nowMs = (o.clock ?? Date.now)();
  const purged: { topic: string; version: Version }[] = [];
  const failures: PurgeFailure[] = [];
  const kept: KeptObject[] = [];
  const topics = await o.store.listTopics();
  // What running and paused rollouts target stays (DESIGN invariant 6), read once per run.
  const rolling = await o.store.activeRollouts();
  for (const topic of topics) {
    // A deleted topic is the topic purge's (topic-purge.ts), whole.
    if (topic.deletedAtMs !== undefined) continue;
    // 1. Decide, from every version, the pins and the protected versions.
    const versions = await allVersions(o.store, topic.name);
    const pins = await o.store.listPins(topic.name);
    const protectedVersions = [...rolling.filter((r) => r.topic === topic.name).map((r) => r.version), ...(o.protectedVersions?.(topic.name) ?? [])];
    const { purge } = retentionDecision({ retention: topic.retention, versions, pins, protectedVersions, nowMs });
    const byVersion = new Map(versions.map((v) => [v.version, v]));
    const purging = new Set(purge);
    const stillNamed = new Set(versions.filter((v) => !purging.has(v.version)).flatMap((v) => locationsOf(v).map(locationId)));
    // 2. Oldest first: the topic's own objects in every region, then the row.
    for (const version of [...purge].reverse()) {
      const record = byVersion.get(version);
      if (!record) continue;
      const ours: BlobLocation[] = [];
      for (const location of locationsOf(record)) {
        const reason = !isTopicKey(topic.name, location.key) ? 'outside-topic-prefix' : stillNamed.has(locationId(location)) ? 'named-by-kept-version' : undefined;
        if (reason === undefined) {
          ours.push(location);
          continue;
        }
        kept.push({ topic: topic.name, version, location, reason });
        log.warn('purge leaves an object of a purged version alone', { topic: topic.name, version, reason, region: location.region, key: location.key });
      }
      const failed = await deleteObjects(o.blobStores, ours);
      if (failed.length > 0) {
        for (const f of failed) failures.push({ topic: topic.name, version, ...f });
        log.warn('purge keeps a version whose objects could not all be deleted; will retry next run', { topic: topic.name, version, failed: failed.length });
        continue;
      }
      await o.store.deleteVersion(topic.name, version);
      purged.push({ topic: topic.name, version });
    }
  }
  log.info('retention purge done', { topics: topics.length, purged: purged.length, failures: failures.length, kept: kept.length });
  return { topics: topics.length, purged, failures, kept };
}

export const locationsOf = (r: VersionRecord): readonly BlobLocation[] => (r.pointer.kind === 'blob' ? r.pointer.locations : []);
export const locationId = (l: BlobLocation): string => JSON.stringify([l.kind, l.region, l.bucket, l.key]);

/** Deletes each object from the blob store of its region; the ones that could not be deleted, and why. */
export async function deleteObjects(stores: readonly BlobStore[], locations: readonly BlobLocation[]): Promise<{ location: BlobLocation; error: string }[]> {
  const failed: { location: BlobLocation; error: string }[] = [];
  for (const loc of locations) {
    const store = storeFor(stores, loc);
    if (!store) {
      failed.push({ location: loc, error: `no blob store configured for ${loc.kind} region ${loc.region}, bucket ${loc.bucket}` });
      continue;
    }
    try {
      await store.delete(loc);
    } catch (err) {
      failed.push({ location: loc, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return failed;
}
