/**
 * What a blob pointer points at, checked before a publish is recorded. Every location must be
 * in a blob store this server has (same kind, region and bucket), and the object must be
 * there with the pointer's size. All regions are asked at once (a stat: S3 HeadObject), each
 * within `timeoutMs`:
 *  - a region that answers "no such object" or another size refuses the publish
 *    (INVALID_ARGUMENT naming that location): a consumer reading there would fail;
 *  - a region that cannot answer (down, or silent past the timeout) is passed over when
 *    another region confirms the object, so one region's outage does not stop publishing;
 *  - when no region answers, the publish is UNAVAILABLE (nothing is written; retry later).
 * The key's prefix (the topic's own) is core's rule, checked before this (validateNewVersion).
 */
import { BlobNotFoundError, kindOf, storeFor, type BlobStore } from '../client/blob-store/blob-store.js';
import { InvalidArgumentError, UnavailableError, type BlobLocation, type DataPointer } from '../core/index.js';
import type { Logger } from '../log/index.js';

/** How long one region may take to answer a stat. */
export const DEFAULT_BLOB_CHECK_TIMEOUT_MS = 2000;

type BlobPointer = Extract<DataPointer, { kind: 'blob' }>;

/** A region's answer: the object is right, it is wrong (refuse), or the region did not say. */
type Answer = { readonly ok: true } | { readonly refuse: InvalidArgumentError } | { readonly unanswered: string };

const where = (loc: Pick<BlobLocation, 'kind' | 'region' | 'bucket'>): string => `${loc.kind} region ${loc.region}, bucket ${loc.bucket}`;

export async function checkBlobPointer(topic: string, pointer: BlobPointer, stores: readonly BlobStore[], timeoutMs: number, log: Logger): Promise<void> {
  // 1. Every location is in a store this server has.
  const located = pointer.locations.map((loc, i) => {
    const store = storeFor(stores, loc);
    if (!store) {
      const known = stores.map((s) => where({ kind: kindOf(s), region: s.region, bucket: s.bucket })).join('; ') || 'none';
      throw new InvalidArgumentError(`pointer.blob.locations[${i}]`, `must be in a blob store this server has (it has: ${known})`, where(loc));
    }
    return { loc, store, field: `pointer.blob.locations[${i}]` };
  });
  // 2. Ask every region at once, each within the timeout.
  const answers = await Promise.all(located.map(({ loc, store, field }) => ask(store, loc, pointer.size, field, timeoutMs)));
  // 3. A region that says the object is wrong refuses the publish.
  for (const a of answers) if ('refuse' in a) throw a.refuse;
  // 4. Regions that did not answer are passed over if one confirmed; if none did, nobody can tell.
  const unanswered = answers.flatMap((a, i) => ('unanswered' in a ? [`${located[i]?.loc.region}: ${a.unanswered}`] : []));
  if (unanswered.length === answers.length) {
    throw new UnavailableError(`cannot check the payload of a publish to "${topic}": no region answered (${unanswered.join('; ')}); nothing was published, retry later`);
  }
  if (unanswered.length > 0) log.warn('blob check: regions that did not answer were passed over; the others confirmed the object', { topic, unanswered: unanswered.join('; ') });
}

async function ask(store: BlobStore, loc: BlobLocation, size: number, field: string, timeoutMs: number): Promise<Answer> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Raced with the signal too, so a store that ignores it cannot hold the publish.
    const stat = await Promise.race([
      store.stat(loc, signal),
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    ]);
    if (stat.size !== size) return { refuse: new InvalidArgumentError(`${field}.key`, `must name an object of the pointer's size ${size} bytes (region ${loc.region} has ${stat.size})`, loc.key) };
    return { ok: true };
  } catch (err) {
    if (err instanceof BlobNotFoundError) return { refuse: new InvalidArgumentError(`${field}.key`, `must name an object that exists (region ${loc.region} has none)`, loc.key) };
    if (signal.aborted) return { unanswered: `no answer within ${timeoutMs} ms` };
    return { unanswered: err instanceof Error ? err.message : String(err) };
  }
}
