/**
 * Two regions = two real MinIO servers, behind a real embedded Imprint server. A publish
 * lands in both byte for byte; with region 1's server stopped for real, fetchPayload and
 * subscribers (old and new) are served by region 2, and a publish fails without leaving an
 * object behind. A corrupted object (same length, other bytes) is caught by the sha256 check.
 *
 * Region 1 of the outage scenario is a MinIO this file starts itself (so it can stop it);
 * region 2 and the corruption tests use the s3 project's shared servers.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../client/blob-store/s3.js';
import {
  Publisher,
  Subscriber,
  UploadError,
  fetchPayload,
  type RejectedEvent,
  type Subscription,
  type UpdatedEvent,
} from '../../client/index.js';
import { DataIntegrityError, UnavailableError, type BlobLocation, type VersionRecord } from '../../core/index.js';
import { backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { identity, startTestServer, type TestServer } from '../helpers.js';
import { dropBucket, twoRegions, listKeys, s3Endpoints, storeOn } from './s3-util.js';

const MiB = 1024 * 1024;

/** The object's bytes through a plain GetObject (not through the store). */
async function rawGet(store: S3BlobStore, loc: BlobLocation): Promise<Buffer> {
  const out = await store.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

function locationsOf(record: VersionRecord): readonly BlobLocation[] {
  if (record.pointer.kind !== 'blob') throw new Error(`v${record.version} is not a blob payload`);
  return record.pointer.locations;
}

function locationIn(record: VersionRecord, region: string): BlobLocation {
  const loc = locationsOf(record).find((l) => l.region === region);
  if (!loc) throw new Error(`v${record.version} has no location in ${region}`);
  return loc;
}

function nextUpdate<T>(sub: Subscription<T>, version: bigint, timeoutMs = 20_000): Promise<UpdatedEvent<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no update to v${version} within ${timeoutMs} ms`)), timeoutMs);
    const on = (e: UpdatedEvent<T>): void => {
      if (e.version !== version) return;
      clearTimeout(timer);
      sub.off('updated', on);
      resolve(e);
    };
    sub.on('updated', on);
  });
}

const fastRetry = { retries: 2, minTimeoutMs: 50, maxTimeoutMs: 200 };

describe('two regions, and region 1 goes down', () => {
  let t: TestServer;
  let region1Server: RunningBackend;
  let east: S3BlobStore; // us-east-1: this file's own MinIO, stopped half-way
  let west: S3BlobStore; // eu-west-1: the project's second MinIO
  const subscribers: Subscriber[] = [];
  const topic = 'regional-model';
  const v1Bytes = randomBytes(12 * MiB + 7);
  const v2Bytes = randomBytes(3 * MiB);
  let v1: VersionRecord;
  let early: Subscription<Buffer>;
  const earlyRejected: RejectedEvent[] = [];

  const subscriber = (): Subscriber => {
    const s = new Subscriber({
      client: t.client,
      identity: identity({ app: 'scorer', cluster: 'c1', region: 'us-east-1', nodeId: `n${subscribers.length}` }),
      blobStores: [east, west], // closest first
      intervalMs: 100,
      jitter: 0,
      retry: fastRetry,
    });
    subscribers.push(s);
    return s;
  };

  beforeAll(async () => {
    region1Server = await backends.s3.start(createContext({ log: () => {} }));
    east = storeOn(region1Server.endpoint, 'us-east-1');
    west = storeOn(s3Endpoints()[1], 'eu-west-1');
    await east.ensureBucket();
    await west.ensureBucket();
    t = await startTestServer({ blobStores: [east, west] });
    await t.client.createTopic({ name: topic });
  });
  afterAll(async () => {
    await Promise.all(subscribers.map((s) => s.close()));
    await t.stop();
    east.close();
    await dropBucket(west);
    await region1Server.stop();
  });

  // The tests below run in order: each continues the scenario of the one before.

  it('a publish lands in both regions byte for byte, and a subscriber loads it', async () => {
    const publisher = new Publisher({ client: t.client, blobStores: [east, west] });
    v1 = await publisher.publish(topic, Readable.from([v1Bytes.subarray(0, 5 * MiB), v1Bytes.subarray(5 * MiB)]), { metadata: { build: '1' } });
    expect(v1.pointer).toMatchObject({ kind: 'blob', size: v1Bytes.length });
    const locs = locationsOf(v1);
    const key = locs[0]?.key ?? '';
    expect(key.startsWith(`${topic}/`)).toBe(true);
    expect(locs).toEqual([
      { kind: 's3', region: 'us-east-1', bucket: east.bucket, key },
      { kind: 's3', region: 'eu-west-1', bucket: west.bucket, key },
    ]);
    expect((await rawGet(east, locationIn(v1, 'us-east-1'))).equals(v1Bytes)).toBe(true);
    expect((await rawGet(west, locationIn(v1, 'eu-west-1'))).equals(v1Bytes)).toBe(true);

    early = subscriber().subscribe(topic, { decode: (bytes) => bytes });
    early.on('rejected', (e: RejectedEvent) => earlyRejected.push(e));
    await early.ready();
    expect(early.version).toBe(v1.version);
    expect(early.current?.equals(v1Bytes)).toBe(true);
  });

  it('with region 1 stopped, fetchPayload and old and new subscribers are served by region 2', async () => {
    // v2 is uploaded to both regions while both are up, but no consumer matches it yet.
    const publisher = new Publisher({ client: t.client, blobStores: [east, west] });
    const v2 = await publisher.publish(topic, v2Bytes, { scopes: [{ app: 'nobody-yet' }] });
    expect(locationsOf(v2).map((l) => l.region)).toEqual(['us-east-1', 'eu-west-1']);

    await region1Server.stop();
    await expect(east.get(locationIn(v1, 'us-east-1'))).rejects.toBeInstanceOf(UnavailableError);

    // The client library reads region 1 first, finds it down, and takes region 2.
    expect((await fetchPayload(v1, [east, west])).equals(v1Bytes)).toBe(true);

    // A subscriber started during the outage loads v1 from region 2.
    const late = subscriber().subscribe(topic, { decode: (bytes) => bytes });
    await late.ready();
    expect(late.version).toBe(v1.version);
    expect(late.current?.equals(v1Bytes)).toBe(true);

    // The subscriber that was running all along moves to v2 once it is meant for it.
    const updated = nextUpdate(early, v2.version);
    await publisher.addScopes(topic, v2.version, [{}]);
    const e = await updated;
    expect(e.previous).toBe(v1.version);
    expect(early.current?.equals(v2Bytes)).toBe(true);
    // No step of the swap failed: trying region 1 first is not a rejection.
    expect(earlyRejected).toEqual([]);
  });

  it('a publish while region 1 is down fails and leaves no object in region 2', async () => {
    const before = await listKeys(west, `${topic}/`);
    expect(before).toHaveLength(2); // v1 and v2
    const publisher = new Publisher({ client: t.client, blobStores: [east, west] });
    const failed = publisher.publish(topic, randomBytes(20 * MiB));
    await expect(failed).rejects.toBeInstanceOf(UploadError);
    await expect(failed).rejects.toThrow(/s3 region us-east-1 .* is unavailable/);
    expect(await listKeys(west, `${topic}/`)).toEqual(before);
    expect((await t.client.describeTopic(topic)).topic.latestVersion).toBe(2n);
  });
});

describe('a corrupted object', () => {
  let t: TestServer;
  let east: S3BlobStore; // us-east-1: the project's first MinIO
  let west: S3BlobStore; // eu-west-1: the project's second MinIO
  let subscriber: Subscriber | undefined;
  const topic = 'corrupted-model';
  const bytes = randomBytes(3 * MiB);
  let record: VersionRecord;

  beforeAll(async () => {
    [east, west] = await twoRegions();
    t = await startTestServer({ blobStores: [east, west] });
    await t.client.createTopic({ name: topic });
    record = await new Publisher({ client: t.client, blobStores: [east, west] }).publish(topic, bytes);
    // Same length, one byte different: S3 takes it (with a correct CRC32 of the new bytes).
    const tampered = Buffer.from(bytes);
    tampered[1000] = (tampered[1000] ?? 0) ^ 0xff;
    const loc = locationIn(record, 'us-east-1');
    await east.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: tampered }));
    expect((await rawGet(east, loc)).equals(tampered)).toBe(true);
  });
  afterAll(async () => {
    await subscriber?.close();
    await t.stop();
    await dropBucket(east);
    await dropBucket(west);
  });

  it('is rejected by its sha256 when it is the only copy', async () => {
    const only = fetchPayload(record, [east]);
    await expect(only).rejects.toBeInstanceOf(DataIntegrityError);
    await expect(only).rejects.toThrow(/does not match its sha256/);
  });

  it('is passed over for the intact copy in the next region', async () => {
    expect((await fetchPayload(record, [east, west])).equals(bytes)).toBe(true);
  });

  it('is never swapped in by a subscriber: it reports a verify rejection and keeps its default', async () => {
    subscriber = new Subscriber({
      client: t.client,
      identity: identity({ app: 'scorer', region: 'us-east-1', nodeId: 'n-corrupt' }),
      blobStores: [east],
      intervalMs: 60_000,
      retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 },
      olderVersionsToTry: 0,
    });
    const sub = subscriber.subscribe(topic, { decode: (b) => b.toString('hex', 0, 4), defaultValue: 'default' });
    const rejected = await new Promise<RejectedEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no rejected event within 10 s')), 10_000);
      sub.once('rejected', (e: RejectedEvent) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
    expect(rejected).toMatchObject({ topic, version: record.version, step: 'verify' });
    expect(rejected.reason).toMatch(/sha256/);
    expect(sub.current).toBe('default');
    expect(sub.version).toBe(0n);
  });

  it('in every region, is a DataIntegrityError naming each sha256 mismatch', async () => {
    const loc = locationIn(record, 'eu-west-1');
    const tampered = Buffer.from(bytes);
    tampered[0] = (tampered[0] ?? 0) ^ 0x01;
    await west.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: tampered }));
    const both = fetchPayload(record, [east, west]);
    await expect(both).rejects.toBeInstanceOf(DataIntegrityError);
    await expect(both).rejects.toThrow(/us-east-1: .*does not match its sha256.*; eu-west-1: .*does not match its sha256/);
  });
});
