/**
 * Writes the fallback snapshot to every region: the snapshot under a new key first, then the
 * pointer object replaced, so a reader sees the previous snapshot or the new one, whole. The
 * snapshot two generations back is deleted (the previous one stays for readers mid-fetch).
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { SNAPSHOT_FORMAT, encodeSnapshot, recordProblem, validateSnapshotPrefix, type Snapshot, type SnapshotPointer, type SnapshotTopic, type VersionRecord } from '../core/index.js';
import type { KeyedBlobStore } from '../client/blob-store/blob-store.js';
import { DEFAULT_SNAPSHOT_PREFIX, parsePointer, pointerKey, readAllBytes } from '../client/fallback.js';
import type { MetadataStore } from '../server/store/metadata-store.js';
import { silentLogger, type Logger } from '../log/index.js';

export interface SnapshotWriterOptions {
  readonly store: MetadataStore;
  /** One store per region; the snapshot goes to each. */
  readonly blobStores: readonly KeyedBlobStore[];
  /** Another prefix must start with a segment no topic can be named (e.g. "_snapshots"). @default "imprint-snapshots" */
  readonly prefix?: string;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
}

export interface SnapshotResult {
  readonly key: string;
  readonly sha256: string;
  readonly size: number;
  readonly topics: number;
  readonly regions: readonly string[];
  readonly failed: readonly { region: string; error: string }[];
}

/** Every topic's heads, pins and the records they name; a record failing its digest is left out. */
export async function collectSnapshot(store: MetadataStore, nowMs: number, log: Logger = silentLogger): Promise<Snapshot> {
  const topics: SnapshotTopic[] = [];
  for (const t of await store.listTopics()) {
    const state = await store.pollState(t.name);
    if (!state) continue;
    const wanted = [...new Set([...state.heads.map((h) => h.version), ...state.pins.map((p) => p.version)])];
    const records: VersionRecord[] = [];
    for (const v of wanted) {
      const r = await store.getVersion(t.name, v);
      const problem = r ? recordProblem(r) : 'missing';
      if (r && !problem) records.push(r);
      else log.warn('snapshot leaves out a record that fails its check', { topic: t.name, version: v, problem });
    }
    topics.push({ topic: state.topic, heads: state.heads, pins: state.pins, records });
  }
  return { writtenAtMs: nowMs, topics };
}

export async function writeSnapshot(o: SnapshotWriterOptions): Promise<SnapshotResult> {
  const prefix = validateSnapshotPrefix(o.prefix ?? DEFAULT_SNAPSHOT_PREFIX);
  const log = o.log ?? silentLogger;
  const now = (o.clock ?? Date.now)();
  // 1. Read everything, 2. encode once, 3. write to each region.
  const snapshot = await collectSnapshot(o.store, now, log);
  const { bytes, sha256 } = encodeSnapshot(snapshot);
  const key = `${prefix}/${new Date(now).toISOString().replace(/[:.]/g, '')}-${randomUUID()}.snapshot`;
  const results = await Promise.allSettled(o.blobStores.map((s) => writeToRegion(s, prefix, key, bytes, sha256, now)));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ region: o.blobStores[i]?.region ?? '?', error: String(r.reason instanceof Error ? r.reason.message : r.reason) }] : []));
  const regions = results.flatMap((r, i) => (r.status === 'fulfilled' ? [o.blobStores[i]?.region ?? '?'] : []));
  for (const f of failed) log.error('snapshot not written to a region', f);
  log.info('snapshot written', { key, topics: snapshot.topics.length, bytes: bytes.length, regions: regions.join(',') });
  return { key, sha256, size: bytes.length, topics: snapshot.topics.length, regions, failed };
}

async function writeToRegion(store: KeyedBlobStore, prefix: string, key: string, bytes: Buffer, sha256: string, now: number): Promise<void> {
  const old = await readPointer(store, prefix);
  await store.put(key, Readable.from([bytes]), { size: bytes.length });
  const pointer: SnapshotPointer = { format: SNAPSHOT_FORMAT, key, sha256, size: bytes.length, writtenAtMs: now, ...(old && { previousKey: old.key }) };
  const pointerBytes = Buffer.from(JSON.stringify(pointer));
  await store.put(pointerKey(prefix), Readable.from([pointerBytes]), { size: pointerBytes.length });
  if (old?.previousKey) await store.delete(store.locationOf(old.previousKey));
}

async function readPointer(store: KeyedBlobStore, prefix: string): Promise<SnapshotPointer | undefined> {
  try {
    return parsePointer(await readAllBytes(await store.get(store.locationOf(pointerKey(prefix)))));
  } catch {
    return undefined;
  }
}
