/**
 * Topic purge: removes the topics DeleteTopic deleted, once their grace period has passed.
 * For each, in an order that a janitor killed half-way finishes on its next run:
 *
 *   1. the payload objects of every version, in every region (only the topic's own keys:
 *      core's isTopicKey; others are left alone and logged, as the retention purge does);
 *   2. then, once every object is gone, the records, scopes, pins, publish ids and last the
 *      topic itself (JanitorStore.purgeTopic), which frees the name.
 *
 * An object whose deletion fails keeps the whole topic for the next run (its records still
 * name what is left to delete). The history stays: who created, changed and deleted the topic.
 */
import type { BlobStore } from '../client/blob-store/blob-store.js';
import { isTopicKey, type BlobLocation } from '../core/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { JanitorStore } from '../server/store/metadata-store.js';
import { allVersions, deleteObjects, locationId, locationsOf } from './purge.js';

/** How long a deleted topic waits before it is purged, unless told otherwise: 7 days. */
export const DEFAULT_DELETE_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

export interface TopicPurgeOptions {
  readonly store: JanitorStore;
  /** One per region; the topic's objects are deleted from each. */
  readonly blobStores: readonly BlobStore[];
  /** How long after its deletion a topic is purged (0: at the next run). @default DEFAULT_DELETE_GRACE_MS */
  readonly graceMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface TopicPurgeResult {
  /** Topics purged by this run (their names are free). */
  readonly purged: readonly string[];
  /** Deleted topics still within their grace period. */
  readonly waiting: number;
  /** Objects that could not be deleted: their topic is tried again on the next run. */
  readonly failures: readonly { readonly topic: string; readonly location: BlobLocation; readonly error: string }[];
  /** Objects a purged topic's records named outside its own prefix: left alone. */
  readonly kept: number;
}

export async function purgeDeletedTopics(o: TopicPurgeOptions): Promise<TopicPurgeResult> {
  const log = o.log ?? silentLogger;
  const graceMs = o.graceMs ?? DEFAULT_DELETE_GRACE_MS;
  const nowMs = (o.clock ?? Date.now)();
  const purged: string[] = [];
  const failures: TopicPurgeResult['failures'][number][] = [];
  let waiting = 0;
  let kept = 0;
  for (const topic of await o.store.listTopics()) {
    if (topic.deletedAtMs === undefined) continue;
    if (nowMs < topic.deletedAtMs + graceMs) {
      waiting++;
      continue;
    }
    // 1. Its own objects in every region (each once, however many versions name it).
    const ours = new Map<string, BlobLocation>();
    for (const record of await allVersions(o.store, topic.name)) {
      for (const location of locationsOf(record)) {
        if (isTopicKey(topic.name, location.key)) ours.set(locationId(location), location);
        else {
          kept++;
          log.warn('topic purge leaves an object outside the topic prefix alone', { topic: topic.name, version: record.version, region: location.region, key: location.key });
        }
      }
    }
    const failed = await deleteObjects(o.blobStores, [...ours.values()]);
    if (failed.length > 0) {
      failures.push(...failed.map((f) => ({ topic: topic.name, ...f })));
      log.warn('topic purge keeps a deleted topic whose objects could not all be deleted; will retry next run', { topic: topic.name, failed: failed.length });
      continue;
    }
    // 2. Records, scopes, pins, publish ids, and last the topic.
    if (await o.store.purgeTopic(topic.name)) {
      purged.push(topic.name);
      log.info('deleted topic purged; its name is free', { topic: topic.name, objects: ours.size, deletedAt: new Date(topic.deletedAtMs).toISOString() });
    }
  }
  log.info('topic purge done', { purged: purged.length, waiting, failures: failures.length, kept });
  return { purged, waiting, failures, kept };
}
