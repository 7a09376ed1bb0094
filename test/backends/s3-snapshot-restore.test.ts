/**
 * `imprint snapshot show` and `imprint snapshot restore` on S3 in two regions (two real MinIO
 * servers): one region's snapshot object altered, the other region's is used; restore checks
 * the records' objects in every region and reports a missing one.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, Publisher, Subscriber } from '../../client/index.js';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import { parsePointer, pointerKey, readAllBytes, DEFAULT_SNAPSHOT_PREFIX } from '../../client/fallback.js';
import type { VersionRecord } from '../../core/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY } from '../../scripts/backends/index.js';
import { runCli } from '../cli-process.js';
import { identity, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { dropBucket, s3Endpoints, storeOn, uniqueBucket } from './s3-util.js';

const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const env = { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY };

describe('imprint snapshot on S3 in two regions', () => {
  let stores: S3BlobStore[];
  let s3Flags: string[];
  const servers: TestServer[] = [];
  let big: Buffer;
  let v2: VersionRecord;
  let snapshotKey: string;

  beforeAll(async () => {
    const endpoints = s3Endpoints();
    const bucket = `${uniqueBucket()}-{region}`;
    stores = REGIONS.map((region, i) => storeOn(endpoints[i] as string, region, bucket.replace('{region}', region)));
    for (const s of stores) await s.ensureBucket();
    s3Flags = ['--blobs', 's3', '--regions', REGIONS.join(','), '--bucket', bucket, '--s3-endpoints', REGIONS.map((r, i) => `${r}=${endpoints[i]}`).join(','), '--s3-path-style'];
    // A topic published to both regions, pinned, and snapshotted to both.
    const t = await startTestServer({ blobStores: stores });
    servers.push(t);
    await t.client.createTopic({ name: 'model', owner: 'trust-team' });
    const publisher = new Publisher({ client: t.client, blobStores: stores });
    await publisher.publish('model', Buffer.from('small v1'));
    big = randomBytes(3 * 1024 * 1024);
    const { replayed: _replayed, ...published } = await publisher.publish('model', big);
    v2 = published;
    await t.client.pin('model', 1n, { scope: { region: 'eu-west-1' }, reason: 'v2 is bad in eu', createdBy: 'alice' });
    const written = await writeSnapshot({ store: t.server.store, blobStores: stores });
    expect(written.regions).toEqual([...REGIONS]);
    snapshotKey = written.key;
    await t.stop();
    // The closest region's snapshot object is altered (one byte of its body).
    const [us] = stores;
    if (!us) throw new Error('no store');
    const pointer = parsePointer(await readAllBytes(await us.get(us.locationOf(pointerKey(DEFAULT_SNAPSHOT_PREFIX)))));
    const bytes = await readAllBytes(await us.get(us.locationOf(pointer.key)));
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0xff;
    await us.put(pointer.key, Readable.from([bytes]), { size: bytes.length });
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    for (const s of stores ?? []) await dropBucket(s);
  });

  it('show: the altered snapshot is refused naming its region and key, and the next region is read', async () => {
    const show = await runCli(['snapshot', 'show', ...s3Flags], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stderr).toContain(`no readable snapshot in region us-east-1, ${snapshotKey}: snapshot body does not match its sha256; trying the next region`);
    expect(show.stdout).toContain(`snapshot  ${snapshotKey}`);
    expect(show.stdout).toMatch(/^region {4}eu-west-1 \(sha256 checked\)$/m);
    expect(show.stdout).toMatch(/^ {2}pin {5}region=eu-west-1 +-> v1 .* by alice {2}\(v2 is bad in eu\)$/m);
    // Only the altered region: nothing to show.
    const only = await runCli(['snapshot', 'show', '--region', 'us-east-1', ...s3Flags], env);
    expect(only.code).toBe(1);
    expect(only.stderr).toContain(`no readable snapshot in region us-east-1, ${snapshotKey}: snapshot body does not match its sha256\n`);
    expect(only.stderr).toContain('imprint: no region has a readable fallback snapshot');
    const unknown = await runCli(['snapshot', 'show', '--region', 'ap-south-1', ...s3Flags], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('region must be one of the blob stores\' regions (us-east-1, eu-west-1)');
  }, 60_000);

  it('restore from the other region: the objects checked in both; a server on it serves the same bytes, pin applying', async () => {
    const dataDir = tempDir();
    const restored = await runCli(['--data-dir', dataDir, 'snapshot', 'restore', '--yes', '--by', 'bob', ...s3Flags], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('region eu-west-1');
    expect(restored.stdout).toContain('[1/1] model: restored 2 records, 1 pins; the next publish gets v3');
    expect(restored.stdout).toContain('0 objects missing, 0 not checked');
    const t = await startTestServer({ dataDir: path.resolve(dataDir), blobStores: stores });
    servers.push(t);
    expect(await t.client.getVersion('model', 2n)).toEqual(v2);
    const client = new ImprintClient({ address: t.address });
    const s = new Subscriber({ client, identity: identity({ app: 'scorer', region: 'us-east-1' }), blobStores: stores, intervalMs: 100 });
    try {
      const sub = s.subscribe('model', { decode: (b) => Buffer.from(b) });
      await sub.ready();
      expect(sub.version).toBe(2n);
      expect(sub.current?.equals(big)).toBe(true);
    } finally {
      await s.close();
      client.close();
    }
    expect((await t.client.poll('model', identity({ app: 'scorer', region: 'eu-west-1' }), 0n)).pinned).toBe(true);
  }, 60_000);

  it('restore reports an object missing in one region (and still restores the record): exit 1', async () => {
    const [, eu] = stores;
    const loc = v2.pointer.kind === 'blob' ? v2.pointer.locations.find((l) => l.region === 'eu-west-1') : undefined;
    if (!eu || !loc) throw new Error('expected v2 in eu-west-1');
    await eu.delete(loc);
    const dataDir = tempDir();
    const dry = await runCli(['--data-dir', dataDir, 'snapshot', 'restore', '--dry-run', ...s3Flags], env);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/^ {4}object missing: v2: pointer\.blob\.locations\[1\]\.key must name an object that exists \(region eu-west-1 has none\)/m);
    expect(dry.stdout).toContain('1 objects missing');
    const restored = await runCli(['--data-dir', dataDir, '--json', 'snapshot', 'restore', '--yes', ...s3Flags], env);
    expect(restored.code).toBe(1);
    const result = JSON.parse(restored.stdout) as { topics: { outcome: string; missing: string[] }[]; summary: { missingObjects: number } };
    expect(result.topics.map((x) => [x.outcome, x.missing.length])).toEqual([['restored', 1]]);
    expect(result.summary.missingObjects).toBe(1);
  }, 60_000);
});
