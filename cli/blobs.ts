/**
 * Blob stores from command-line options, shared by `serve`, `publish`, `download` and `janitor`:
 *   --blobs local (the global --blob-dir, default DATA_DIR/blobs)
 *   --blobs s3 --regions us-east-1,eu-west-1 --bucket 'imprint-{region}'
 *        [--s3-endpoints us-east-1=http://127.0.0.1:9000,eu-west-1=http://127.0.0.1:9001] [--s3-path-style]
 * Regions are in order of preference: the closest first. S3 credentials come from the AWS
 * SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles).
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { KeyedBlobStore } from '../client/blob-store/blob-store.js';
import { LocalBlobStore } from '../client/blob-store/local.js';
import { READ_DEFAULTS, readOptionsWithDefaults, type ReadOptions, type SlowRegionEvent } from '../client/hedge.js';
import { PART_DEFAULTS, partOptionsWithDefaults, type PartOptions } from '../client/parts.js';
import { InvalidArgumentError } from '../core/index.js';
import { addSwitch } from './switch.js';

export interface BlobCliOptions {
  blobs: string;
  regions?: string;
  bucket?: string;
  s3Endpoints?: string;
  s3PathStyle?: boolean;
}

/**
 * `lent`: the command may move payloads through the service's lent URLs (publish, download),
 * and does when --blobs is not given: it then needs no store of its own, no credentials.
 */
export function addBlobOptions(cmd: Command, opts: { lent?: boolean } = {}): Command {
  const blobs = opts.lent
    ? new Option('--blobs <kind>', "where payloads over 1 MiB go: lent (through the service's URLs: no credentials), or straight to local or s3").choices(['lent', 'local', 's3']).default('lent')
    : new Option('--blobs <kind>', 'where payloads over 1 MiB live').choices(['local', 's3']).default('local');
  cmd
    .addOption(blobs.env('IMPRINT_BLOBS'))
    .addOption(new Option('--regions <list>', 's3: regions, closest first (comma-separated)').env('IMPRINT_REGIONS'))
    .addOption(new Option('--bucket <name>', 's3: bucket per region; {region} is replaced by the region').env('IMPRINT_BUCKET').default('imprint-{region}'))
    .addOption(new Option('--s3-endpoints <list>', 's3: region=url pairs for S3-compatible servers (MinIO)').env('IMPRINT_S3_ENDPOINTS'));
  return addSwitch(cmd, '--s3-path-style', 's3: path-style URLs (needed by most S3-compatible servers)', 'IMPRINT_S3_PATH_STYLE');
}

/** The stores, closest region first. `localRoot`: the directory of the local store. */
export async function blobStoresFrom(o: BlobCliOptions, localRoot: string): Promise<KeyedBlobStore[]> {
  // None of our own: the service lends URLs (client/lent.ts).
  if (o.blobs === 'lent') return [];
  if (o.blobs === 'local') return [new LocalBlobStore({ root: path.resolve(localRoot) })];
  if (o.blobs !== 's3') throw new InvalidArgumentError('blobs', 'must be "lent", "local" or "s3"', o.blobs);
  const regions = (o.regions ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length === 0) throw new InvalidArgumentError('regions', 'must name at least one region with --blobs s3 (e.g. --regions us-east-1,eu-west-1)');
  const endpoints = new Map<string, string>();
  for (const pair of (o.s3Endpoints ?? '').split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError('s3-endpoints', 'must be region=url pairs separated by ","', pair);
    endpoints.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  for (const r of endpoints.keys()) if (!regions.includes(r)) throw new InvalidArgumentError('s3-endpoints', `names region "${r}", which is not in --regions`, r);
  // The SDK's 8-line warning that its releases after January 2027 need Node 22 says nothing
  // an operator of this command can act on; it is turned off the way the SDK documents
  // (aws/aws-sdk-js-v3#7983), unless the caller set the variable. Other warnings still print.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // Loaded only when asked for: the AWS SDK is heavy for the commands that do not need it.
  const { S3BlobStore } = await import('../client/blob-store/s3.js');
  const template = o.bucket ?? 'imprint-{region}';
  return regions.map((region) => {
    const endpoint = endpoints.get(region);
    return new S3BlobStore({
      region,
      bucket: template.replaceAll('{region}', region),
      ...(endpoint && { endpoint }),
      forcePathStyle: o.s3PathStyle ?? false,
    });
  });
}

export interface ReadCliOptions {
  hedgeDelayMs: string;
  firstByteTimeoutMs: string;
  partSize: string;
  partConcurrency: string;
}

/** How commands that download read a region that is slow to answer (client/hedge.ts), and in how many parts at once (client/parts.ts). */
export function addReadOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--hedge-delay-ms <ms>', 'start the next region as well when one has not answered within this').env('IMPRINT_HEDGE_DELAY_MS').default(String(READ_DEFAULTS.hedgeDelayMs)))
    .addOption(
      new Option('--first-byte-timeout-ms <ms>', 'abandon a region that has given no first byte within this, and try the next')
        .env('IMPRINT_FIRST_BYTE_TIMEOUT_MS')
        .default(String(READ_DEFAULTS.firstByteTimeoutMs)),
    )
    .addOption(new Option('--part-size <bytes>', 'read payloads larger than this in ranged parts of this many bytes').env('IMPRINT_PART_SIZE').default(String(PART_DEFAULTS.partSize)))
    .addOption(new Option('--part-concurrency <n>', 'ranged parts read at once from a region').env('IMPRINT_PART_CONCURRENCY').default(String(PART_DEFAULTS.partConcurrency)));
}

export function readOptionsFrom(o: ReadCliOptions): Required<ReadOptions> & Required<PartOptions> {
  const whole = (text: string, flag: string, unit: string): number => {
    if (!/^[0-9]{1,10}$/.test(text)) throw new InvalidArgumentError(flag, `must be a whole number${unit}`, text);
    return Number(text);
  };
  return {
    ...readOptionsWithDefaults(
      { hedgeDelayMs: whole(o.hedgeDelayMs, 'hedge-delay-ms', ' of milliseconds'), firstByteTimeoutMs: whole(o.firstByteTimeoutMs, 'first-byte-timeout-ms', ' of milliseconds') },
      { hedgeDelayMs: 'hedge-delay-ms', firstByteTimeoutMs: 'first-byte-timeout-ms' },
    ),
    ...partOptionsWithDefaults(
      { partSize: whole(o.partSize, 'part-size', ' of bytes'), partConcurrency: whole(o.partConcurrency, 'part-concurrency', '') },
      { partSize: 'part-size', partConcurrency: 'part-concurrency' },
    ),
  };
}

/** What a slow region means to a person at a terminal. */
export function slowRegionText(e: SlowRegionEvent): string {
  return e.outcome === 'hedged'
    ? `region ${e.region} has not answered ${e.what} within ${e.afterMs} ms: reading the next region as well`
    : `region ${e.region} gave no first byte of ${e.what} within ${e.afterMs} ms: abandoned`;
}
