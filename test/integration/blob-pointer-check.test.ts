/**
 * The service checks what a publish's blob pointer points at (local stores in two regions,
 * behind a real embedded server): a crafted record naming a missing object, another size,
 * another topic's object, a snapshot, a "..", or a store the server does not have is refused
 * INVALID_ARGUMENT naming the location, and nothing is written. test/backends/s3-pointer-check
 * runs the same against real MinIO, with a region down.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore, Publisher } from '../../client/index.js';
import { sha256Hex, type BlobLocation, type DataPointer } from '../../core/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { failure, startTestServer, tempDir, type TestServer } from '../helpers.js';

describe('the service checks what a blob pointer points at', () => {
  let t: TestServer;
  let east: LocalBlobStore;
  let west: LocalBlobStore;
  const bytes = randomBytes(300_000);
  const sha256 = sha256Hex(bytes);
  /** The object `key` in both regions, as a pointer of `size`. */
  const pointer = (key: string, size = bytes.length): DataPointer => ({ kind: 'blob', size, sha256, locations: [east.locationOf(key), west.locationOf(key)] });
  const putBoth = async (key: string): Promise<void> => {
    await east.put(key, Readable.from([bytes]));
    await west.put(key, Readable.from([bytes]));
  };

  beforeAll(async () => {
    east = new LocalBlobStore({ root: tempDir(), region: 'us-east-1' });
    west = new LocalBlobStore({ root: tempDir(), region: 'eu-west-1' });
    t = await startTestServer({ blobStores: [east, west] });
    await t.client.createTopic({ name: 'model' });
    await t.client.createTopic({ name: 'other' });
    await putBoth('model/good');
    await putBoth('other/theirs');
    await t.client.publishPointer('other', pointer('other/theirs'));
    await writeSnapshot({ store: t.server.store, blobStores: [east, west] });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('accepts a pointer to objects that exist under the topic, with their size, in every region', async () => {
    const r = await t.client.publishPointer('model', pointer('model/good'));
    expect(r.version).toBe(1n);
  });

  const snapshotPointerSize = (): number => fs.statSync(path.join(east.root, 'imprint-snapshots', 'LATEST')).size;
  const refused: [string, () => DataPointer, string, RegExp][] = [
    ['a missing object', () => pointer('model/missing'), 'pointer.blob.locations[0].key', /must name an object that exists \(region us-east-1 has none\)/],
    ['another size', () => pointer('model/good', bytes.length + 1), 'pointer.blob.locations[0].key', /must name an object of the pointer's size 300001 bytes \(region us-east-1 has 300000\)/],
    ["another topic's object", () => pointer('other/theirs'), 'pointer.blob.locations[0].key', /must be a key under the topic's own prefix "model\/"/],
    ["the fallback snapshot's pointer", () => pointer('imprint-snapshots/LATEST', snapshotPointerSize()), 'pointer.blob.locations[0].key', /must be a key under the topic's own prefix "model\/"/],
    ['a ".." segment out of the topic', () => pointer('model/../other/theirs'), 'pointer.blob.locations[0].key', /no "\.\." segment/],
    ['a "." segment', () => pointer('model/./good'), 'pointer.blob.locations[0].key', /no empty, "\." or "\.\." segments/],
    ['an empty segment', () => pointer('model//good'), 'pointer.blob.locations[0].key', /no empty, "\." or "\.\." segments/],
    ['the topic prefix alone', () => pointer('model/'), 'pointer.blob.locations[0].key', /topic's own prefix/],
    ['a directory of the topic', () => ({ ...pointer('model/good'), locations: [east.locationOf('model')] }), 'pointer.blob.locations[0].key', /topic's own prefix/],
    [
      'an object missing in the second region only',
      () => ({ ...pointer('model/good'), locations: [east.locationOf('model/good'), west.locationOf('model/only-east')] }),
      'pointer.blob.locations[1].key',
      /must name an object that exists \(region eu-west-1 has none\)/,
    ],
    [
      'a region the server has no store for',
      () => ({ ...pointer('model/good'), locations: [east.locationOf('model/good'), { kind: 's3', region: 'ap-south-1', bucket: 'imprint-ap-south-1', key: 'model/good' }] }),
      'pointer.blob.locations[1]',
      /must be in a blob store this server has \(it has: file region us-east-1, bucket local; file region eu-west-1, bucket local\)/,
    ],
    [
      'a bucket the server has no store for',
      () => ({ ...pointer('model/good'), locations: [{ ...east.locationOf('model/good'), bucket: 'elsewhere' }] }),
      'pointer.blob.locations[0]',
      /must be in a blob store this server has/,
    ],
  ];
  it.each(refused)('refuses %s, naming the location, and writes nothing', async (_what, make, field, rule) => {
    const before = await t.client.describeTopic('model');
    const err = await failure(t.client.publishPointer('model', make()));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(`${field} `)).toBe(true);
    expect(err.message).toMatch(rule);
    const after = await t.client.describeTopic('model');
    expect(after.topic.latestVersion).toBe(before.topic.latestVersion);
    expect(after.versionCount).toBe(before.versionCount);
    // Nothing of the others' was touched.
    expect(fs.readFileSync(path.join(west.root, 'other', 'theirs')).equals(bytes)).toBe(true);
    expect(fs.existsSync(path.join(east.root, 'imprint-snapshots', 'LATEST'))).toBe(true);
  });

  it('no topic can be named as the snapshots, so none owns their prefix', async () => {
    const err = await failure(t.client.createTopic({ name: 'imprint-snapshots' }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/^name is reserved \(the fallback snapshots live under that prefix\)/);
  });

  it('a publisher writes under the topic prefix, and its publishes pass the check', async () => {
    const r = await new Publisher({ client: t.client, blobStores: [east, west] }).publish('model', randomBytes(2 * 1024 * 1024));
    expect(r.pointer.kind === 'blob' && r.pointer.locations.map((l: BlobLocation) => [l.region, l.key.startsWith('model/')])).toEqual([
      ['us-east-1', true],
      ['eu-west-1', true],
    ]);
  });
});
