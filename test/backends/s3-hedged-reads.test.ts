/**
 * A hung region costs the hedge delay, not minutes: region 1 is a MinIO this file starts and
 * SIGSTOPs (it accepts connections, never answers), region 2 the s3 project's second MinIO.
 * An 8 MiB download through the library and the CLI, a new subscriber, and the fallback
 * snapshot reader all get their bytes from region 2 within a few seconds (it was ~100 s:
 * the SDK's 30 s socket timeout × 3 attempts before the next region), say so with a
 * `slow-region` event, a metric or a line on stderr, and verify what they got. Read in ranged
 * parts, a region's parts are one attempt: hedged once, the same event. A region that stops
 * mid-transfer (after its first bytes) fails once its connections have been silent for the
 * store's socket timeout, and the next region delivers.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from '../../client/blob-store/s3.js';
import {
  PayloadUnavailableError,
  Publisher,
  SnapshotReader,
  Subscriber,
  downloadPayload,
  fetchPayload,
  type SlowRegionEvent,
  type SlowRegionSubscriberEvent,
} from '../../client/index.js';
import { sha256Hex, type VersionRecord } from '../../core/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { identity, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { dropBucket, s3Endpoints, storeOn, whileHung } from './s3-util.js';

const run = promisify(execFile);
const CLI = path.resolve('dist/cli/main.js');
const MiB = 1024 * 1024;
/** Generous: with the 1 s hedge delay the reads below take 1-2 s here; before, ~100 s. */
const BOUND_MS = 10_000;

describe('one region hung (SIGSTOP)', () => {
  let hungServer: RunningBackend;
  let east: S3BlobStore; // us-east-1, the closest: this file's own MinIO, SIGSTOPped in each test
  let west: S3BlobStore; // eu-west-1: the project's second MinIO
  let t: TestServer;
  const bytes = randomBytes(8 * MiB);
  let record: VersionRecord;
  /** One bucket per region, named as the CLI's --bucket template makes them. */
  const bucketTemplate = `hedge-${randomUUID().slice(0, 8)}-{region}`;

  beforeAll(async () => {
    hungServer = await backends.s3.start(createContext({ log: () => {} }));
    east = storeOn(hungServer.endpoint, 'us-east-1', bucketTemplate.replace('{region}', 'us-east-1'));
    west = storeOn(s3Endpoints()[1], 'eu-west-1', bucketTemplate.replace('{region}', 'eu-west-1'));
    await east.ensureBucket();
    await west.ensureBucket();
    t = await startTestServer({ blobStores: [east, west] });
    await t.client.createTopic({ name: 'model' });
    record = await new Publisher({ client: t.client, blobStores: [east, west] }).publish('model', bytes);
    await writeSnapshot({ store: t.server.store, blobStores: [east, west] });
    // Warm the closest region's connection pool, as a running consumer's would be.
    expect((await fetchPayload(record, [east])).equals(bytes)).toBe(true);
  });
  afterAll(async () => {
    await t.stop();
    east.close();
    await dropBucket(west);
    await hungServer.stop();
  });

  it('an 8 MiB download completes from the next region within the hedge delay and the transfer, verified', async () => {
    const events: SlowRegionEvent[] = [];
    const file = path.join(tempDir(), 'model.bin');
    const elapsed = await whileHung(hungServer, async () => {
      const t0 = performance.now();
      await downloadPayload(record, [east, west], file, { onSlowRegion: (e) => events.push(e) });
      return performance.now() - t0;
    });
    expect(elapsed).toBeLessThan(BOUND_MS);
    expect(sha256Hex(fs.readFileSync(file))).toBe(record.pointer.sha256);
    expect(events).toEqual([{ region: 'us-east-1', outcome: 'hedged', afterMs: 1000, what: 'model v1' }]);
    // The losing region's partial file is gone; only the download is there.
    expect(fs.readdirSync(path.dirname(file))).toEqual(['model.bin']);
  });

  it('read in parts, a region hung before its first byte is hedged the same way: one attempt, one event, a verified copy', async () => {
    const events: SlowRegionEvent[] = [];
    const got = await whileHung(hungServer, () => fetchPayload(record, [east, west], { partSize: MiB, partConcurrency: 4, onSlowRegion: (e) => events.push(e) }));
    expect(got.equals(bytes)).toBe(true);
    expect(events).toEqual([{ region: 'us-east-1', outcome: 'hedged', afterMs: 1000, what: 'model v1' }]);
  });

  it('a region hung mid-transfer fails when its connections have been silent for the socket timeout; the next region delivers a verified copy', async () => {
    // East on the hung server with a 2 s socket timeout and no retries (the defaults: 30 s, 3 attempts).
    const quick = storeOn(hungServer.endpoint, 'us-east-1', east.bucket, { socketTimeoutMs: 2000, maxAttempts: 1 });
    // 48 MiB in 4 MiB parts: more than the kernel's socket buffers hold once the server stops.
    const big = randomBytes(48 * MiB);
    await t.client.createTopic({ name: 'big-model' });
    const published = await new Publisher({ client: t.client, blobStores: [quick, west] }).publish('big-model', big);
    const events: SlowRegionEvent[] = [];
    let stoppedAt = -1;
    try {
      const t0 = performance.now();
      const got = await fetchPayload(published, [quick, west], {
        partSize: 4 * MiB,
        partConcurrency: 4,
        onSlowRegion: (e) => events.push(e),
        onProgress: ({ bytes: received }) => {
          if (stoppedAt >= 0) return;
          // East's first bytes are in: stop its server mid-transfer.
          stoppedAt = received;
          process.kill(hungServer.pid, 'SIGSTOP');
        },
      });
      expect(performance.now() - t0).toBeLessThan(BOUND_MS);
      expect(got.equals(big)).toBe(true);
    } finally {
      if (stoppedAt >= 0) process.kill(hungServer.pid, 'SIGCONT');
      quick.close();
    }
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(big.length);
    // It had answered, so it was neither hedged nor abandoned: it failed, and the next region was read.
    expect(events).toEqual([]);
  });

  it('a new subscriber becomes ready within the same bound, and reports the slow region', async () => {
    const subscriber = new Subscriber({
      client: t.client,
      identity: identity({ app: 'scorer', region: 'us-east-1', nodeId: 'hedged' }),
      blobStores: [east, west],
      intervalMs: 60_000,
    });
    const events: SlowRegionSubscriberEvent[] = [];
    subscriber.on('slow-region', (e: SlowRegionSubscriberEvent) => events.push(e));
    try {
      const elapsed = await whileHung(hungServer, async () => {
        const t0 = performance.now();
        const sub = subscriber.subscribe('model', { decode: (b) => b });
        await sub.ready();
        expect(sub.version).toBe(record.version);
        expect(sub.current?.equals(bytes)).toBe(true);
        return performance.now() - t0;
      });
    expect(elapsed).toBeLessThan(BOUND_MS);
      expect(events).toEqual([{ topic: 'model', region: 'us-east-1', outcome: 'hedged', afterMs: 1000, what: 'model v1' }]);
      const metric = await subscriber.registry.getSingleMetric('imprint_client_slow_regions_total')?.get();
      expect(metric?.values).toEqual([{ labels: { region: 'us-east-1', outcome: 'hedged' }, value: 1 }]);
    } finally {
      await subscriber.close();
    }
  });

  it('the fallback snapshot is read from the next region too', async () => {
    const events: SlowRegionEvent[] = [];
    const reader = new SnapshotReader({ blobStores: [east, west] });
    const snapshot = await whileHung(hungServer, () => reader.read({ onSlowRegion: (e) => events.push(e) }));
    expect(snapshot.topics.map((x) => x.topic.name)).toEqual(['model']);
    expect(events.map((e) => [e.region, e.outcome, e.what])).toEqual([['us-east-1', 'hedged', 'the fallback snapshot']]);
  });

  it('the only region hung is abandoned after the first-byte timeout', async () => {
    const events: SlowRegionEvent[] = [];
    const failed = await whileHung(hungServer, () => fetchPayload(record, [east], { firstByteTimeoutMs: 1500, onSlowRegion: (e) => events.push(e) }).catch((err: unknown) => err));
    expect(failed).toBeInstanceOf(PayloadUnavailableError);
    expect((failed as Error).message).toBe('cannot fetch model v1 from any region (us-east-1: region us-east-1 gave no first byte within 1500 ms; abandoned)');
    expect(events.map((e) => [e.region, e.outcome])).toEqual([
      ['us-east-1', 'hedged'],
      ['us-east-1', 'abandoned'],
    ]);
  });

  it('imprint download takes the hedge delay from IMPRINT_HEDGE_DELAY_MS and says which region it passed over', async () => {
    const file = path.join(tempDir(), 'cli.bin');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', IMPRINT_HEDGE_DELAY_MS: '500' };
    const args = [
      ...['--address', t.address, 'download', 'model', '1', '-o', file],
      ...['--blobs', 's3', '--regions', 'us-east-1,eu-west-1', '--bucket', bucketTemplate, '--s3-path-style'],
      ...['--s3-endpoints', `us-east-1=${hungServer.endpoint},eu-west-1=${s3Endpoints()[1]}`],
    ];
    const { out, elapsed } = await whileHung(hungServer, async () => {
      const t0 = performance.now();
      const r = await run(process.execPath, [CLI, ...args], { env });
      return { out: r, elapsed: performance.now() - t0 };
    });
    expect(out.stdout).toMatch(/^wrote .*cli\.bin: 8\.0 MiB in .*, sha256 verified$/m);
    expect(out.stderr).toContain('imprint: region us-east-1 has not answered model v1 within 500 ms: reading the next region as well');
    expect(sha256Hex(fs.readFileSync(file))).toBe(record.pointer.sha256);
    // Node's start and the AWS SDK's load come on top of the read here.
    expect(elapsed).toBeLessThan(BOUND_MS);
  });

  it('imprint download refuses a bad --first-byte-timeout-ms, naming the flag', async () => {
    const r = await run(process.execPath, [CLI, '--address', t.address, 'download', 'model', '1', '--first-byte-timeout-ms', '0']).catch((e: unknown) => e as { code: number; stderr: string });
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('imprint: invalid argument: first-byte-timeout-ms must be a whole number of milliseconds from 1 to 600000 (got 0)') });
  });
});
