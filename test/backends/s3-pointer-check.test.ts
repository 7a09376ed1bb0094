/**
 * The service checks a publish's blob pointer against real MinIO (HeadObject in each region):
 * crafted records naming a missing object, another size, another topic's object, a snapshot
 * or a ".." are refused with nothing written; with one region hung (its MinIO SIGSTOPped) a
 * publish is still checked by the other region, and with the only region hung it is
 * UNAVAILABLE, with nothing written.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import { Publisher } from '../../client/index.js';
import { sha256Hex, type DataPointer } from '../../core/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { failure, startTestServer, type TestServer } from '../helpers.js';
import { dropBucket, twoRegions, s3Endpoints, storeOn, whileHung } from './s3-util.js';

const bytes = randomBytes(200_000);
const sha256 = sha256Hex(bytes);

describe('publish checks its blob pointer in S3', () => {
  let t: TestServer;
  let east: S3BlobStore;
  let west: S3BlobStore;
  const pointer = (key: string, size = bytes.length): DataPointer => ({ kind: 'blob', size, sha256, locations: [east.locationOf(key), west.locationOf(key)] });

  beforeAll(async () => {
    [east, west] = await twoRegions();
    for (const s of [east, west]) {
      await s.put('model/good', Readable.from([bytes]));
      await s.put('other/theirs', Readable.from([bytes]));
    }
    t = await startTestServer({ blobStores: [east, west] });
    await t.client.createTopic({ name: 'model' });
    await t.client.createTopic({ name: 'other' });
    await writeSnapshot({ store: t.server.store, blobStores: [east, west] });
  });
  afterAll(async () => {
    await t.stop();
    await dropBucket(east);
    await dropBucket(west);
  });

  it.each<[string, () => DataPointer, RegExp]>([
    ['a missing object', () => pointer('model/missing'), /^pointer\.blob\.locations\[0\]\.key must name an object that exists \(region us-east-1 has none\)/],
    ['another size', () => pointer('model/good', bytes.length - 1), /^pointer\.blob\.locations\[0\]\.key must name an object of the pointer's size 199999 bytes \(region us-east-1 has 200000\)/],
    ["another topic's object", () => pointer('other/theirs'), /^pointer\.blob\.locations\[0\]\.key must be a key under the topic's own prefix "model\/"/],
    ['the fallback snapshot pointer', () => pointer('imprint-snapshots/LATEST'), /^pointer\.blob\.locations\[0\]\.key must be a key under the topic's own prefix "model\/"/],
    ['a ".." key', () => pointer('model/../other/theirs'), /^pointer\.blob\.locations\[0\]\.key must be 1-1024 characters with no "\.\." segment/],
  ])('refuses %s with nothing written', async (_what, make, rule) => {
    const err = await failure(t.client.publishPointer('model', make()));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(rule);
    expect((await t.client.describeTopic('model')).versionCount).toBe(0);
  });

  it('accepts the object as it is in both regions, and a publisher\'s upload', async () => {
    expect((await t.client.publishPointer('model', pointer('model/good'))).version).toBe(1n);
    const r = await new Publisher({ client: t.client, blobStores: [east, west] }).publish('model', randomBytes(6 * 1024 * 1024));
    expect(r.version).toBe(2n);
  });
});

describe('publish while a region is hung', () => {
  let hungServer: RunningBackend;
  let hung: S3BlobStore; // us-east-1: this file's own MinIO, SIGSTOPped in the tests
  let west: S3BlobStore; // eu-west-1: the project's second MinIO
  const checkTimeoutMs = 1000;
  const stops: (() => Promise<void>)[] = [];

  const server = async (blobStores: S3BlobStore[]): Promise<TestServer> => {
    const t = await startTestServer({ blobStores, blobCheckTimeoutMs: checkTimeoutMs });
    stops.push(() => t.stop());
    return t;
  };

  beforeAll(async () => {
    hungServer = await backends.s3.start(createContext({ log: () => {} }));
    hung = storeOn(hungServer.endpoint, 'us-east-1');
    west = storeOn(s3Endpoints()[1], 'eu-west-1');
    for (const s of [hung, west]) {
      await s.ensureBucket();
      await s.put('model/v', Readable.from([bytes]));
    }
  });
  afterAll(async () => {
    for (const s of stops.splice(0)) await s();
    hung.close();
    await dropBucket(west);
    await hungServer.stop();
  });

  const blob = (stores: S3BlobStore[], size = bytes.length): DataPointer => ({ kind: 'blob', size, sha256, locations: stores.map((s) => s.locationOf('model/v')) });

  it('is checked by the region that answers, within the check timeout', async () => {
    const t = await server([hung, west]);
    await t.client.createTopic({ name: 'model' });
    await whileHung(hungServer, async () => {
      const t0 = performance.now();
      const r = await t.client.publishPointer('model', blob([hung, west]));
      expect(r.version).toBe(1n);
      // One check timeout (1 s) for the hung region, then the record: well under the old minutes.
      expect(performance.now() - t0).toBeLessThan(8_000);
      // A wrong object is still refused by the region that answers.
      const err = await failure(t.client.publishPointer('model', blob([hung, west], bytes.length + 1)));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/^pointer\.blob\.locations\[1\]\.key must name an object of the pointer's size/);
    });
    expect((await t.client.describeTopic('model')).versionCount).toBe(1);
  });

  it('is UNAVAILABLE, with nothing written, when no region answers', async () => {
    const t = await server([hung]);
    await t.client.createTopic({ name: 'model' });
    await whileHung(hungServer, async () => {
      const err = await failure(t.client.publishPointer('model', blob([hung])));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toMatch(/cannot check the payload of a publish to "model": no region answered \(us-east-1: no answer within 1000 ms\); nothing was published/);
    });
    expect((await t.client.describeTopic('model')).versionCount).toBe(0);
    // Answering again, it takes the same publish.
    expect((await t.client.publishPointer('model', blob([hung]))).version).toBe(1n);
  });
});
