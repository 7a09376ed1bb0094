/**
 * Staleness contracts against real servers: the contract over gRPC (validated, changed, removed),
 * overdue topics in DescribeTopic, ListTopics and imprint_topic_publish_overdue (roles all and
 * consume), max-staleness in poll answers, and a real Subscriber's
 * imprint_client_contract_violated when the service is gone or a new version will not load.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, SnapshotReader, Subscriber, type RejectedEvent } from '../../client/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { sha256Hex } from '../../core/index.js';
import { SqliteMetadataStore } from '../../server/store/sqlite.js';
import { MemoryAuditSink, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function metric(port: number | undefined, name: string, topic: string): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new RegExp(`^${name}\\{topic="${topic}"\\} (\\S+)$`, 'm').exec(text)?.[1];
}

async function clientMetric(subscriber: Subscriber, topic: string): Promise<number | undefined> {
  const m = await subscriber.registry.getSingleMetric('imprint_client_contract_violated')?.get();
  return m?.values.find((v) => v.labels.topic === topic)?.value;
}

describe('staleness contracts', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function server(opts: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    const t = await startTestServer(opts);
    cleanups.push(() => t.stop().catch(() => {}));
    return t;
  }

  it('CreateTopic and UpdateTopic carry it; bad limits are refused naming the wire field and change nothing; 0 removes one', async () => {
    const t = await server();
    const c = await t.client.createTopic({ name: 'hourly', expectEveryMs: HOUR, maxStalenessMs: 2 * HOUR });
    expect(c).toMatchObject({ expectEveryMs: HOUR, maxStalenessMs: 2 * HOUR });
    await expect(t.client.createTopic({ name: 'bad', expectEveryMs: 2 * HOUR, maxStalenessMs: HOUR })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('max_staleness_ms must not be below expect_every_ms'),
    });
    await expect(t.client.createTopic({ name: 'bad', expectEveryMs: 1_000 })).rejects.toThrow(/expect_every_ms must be 0 \(none\) or a whole number of milliseconds from 60000/);
    expect((await t.client.listTopics()).map((x) => x.name)).toEqual(['hourly']);
    // Lowering max-staleness below the expect-every it keeps: refused, nothing changed.
    await expect(t.client.updateTopic('hourly', { maxStalenessMs: 30 * MINUTE })).rejects.toThrow(/max_staleness_ms must not be below expect_every_ms \(3600000\)/);
    expect(await t.client.getTopic('hourly')).toMatchObject({ expectEveryMs: HOUR, maxStalenessMs: 2 * HOUR });
    // One limit removed, the other kept; then the other changed alone.
    const cleared = await t.client.updateTopic('hourly', { expectEveryMs: 0 });
    expect(cleared.expectEveryMs).toBeUndefined();
    expect(cleared.maxStalenessMs).toBe(2 * HOUR);
    expect(await t.client.updateTopic('hourly', { maxStalenessMs: 30 * MINUTE })).toMatchObject({ maxStalenessMs: 30 * MINUTE });
    const history = await t.client.listHistory('hourly');
    expect(history.changes.map((ch) => ch.details)).toEqual([{ max_staleness_ms: '1800000' }, { expect_every_ms: '' }, expect.objectContaining({ expect_every_ms: '3600000', max_staleness_ms: '7200000' })]);
  });

  it('role all: DescribeTopic, ListTopics and imprint_topic_publish_overdue say a topic is overdue once its latest publish is older than expect-every', async () => {
    let now = Date.now();
    const t = await server({ clock: () => now, metricsPort: 0 });
    await t.client.createTopic({ name: 'hourly', expectEveryMs: HOUR });
    await t.client.createTopic({ name: 'plain' });
    const bytes = Buffer.from('v1');
    const published = await t.client.publishPointer('hourly', { kind: 'direct', size: 2, sha256: sha256Hex(bytes), bytes });
    const port = t.server.metricsServer?.port;

    expect((await t.client.describeTopic('hourly')).publishStatus).toEqual({ topic: 'hourly', lastPublishMs: published.publishedAtMs, overdueSinceMs: 0 });
    expect(await metric(port, 'imprint_topic_publish_overdue', 'hourly')).toBe('0');
    expect(await metric(port, 'imprint_topic_publish_overdue', 'plain')).toBeUndefined();

    now = published.publishedAtMs + HOUR + 1;
    const due = published.publishedAtMs + HOUR;
    expect((await t.client.describeTopic('hourly')).publishStatus).toEqual({ topic: 'hourly', lastPublishMs: published.publishedAtMs, overdueSinceMs: due });
    expect((await t.client.listTopicsWithStatus()).publishStatus).toEqual([{ topic: 'hourly', lastPublishMs: published.publishedAtMs, overdueSinceMs: due }]);
    expect(await metric(port, 'imprint_topic_publish_overdue', 'hourly')).toBe('1');

    // A new publish puts it back on time (the store is read again past 30 s).
    const again = await t.client.publishPointer('hourly', { kind: 'direct', size: 2, sha256: sha256Hex(bytes), bytes });
    now += 30_000;
    expect((await t.client.describeTopic('hourly')).publishStatus).toEqual({ topic: 'hourly', lastPublishMs: again.publishedAtMs, overdueSinceMs: 0 });
    expect(await metric(port, 'imprint_topic_publish_overdue', 'hourly')).toBe('0');
  });

  it('a deleted topic is never overdue: no publish status in ListTopics, on time in DescribeTopic, no series', async () => {
    let now = Date.now();
    const t = await server({ clock: () => now, metricsPort: 0 });
    await t.client.createTopic({ name: 'hourly', expectEveryMs: HOUR });
    const port = t.server.metricsServer?.port;
    now += 2 * HOUR;
    expect(await metric(port, 'imprint_topic_publish_overdue', 'hourly')).toBe('1');
    await t.client.deleteTopic('hourly');
    now += 30_000; // the store is read again
    expect(await t.client.listTopicsWithStatus({ includeDeleted: true })).toMatchObject({ topics: [{ name: 'hourly', expectEveryMs: HOUR }], publishStatus: [] });
    expect((await t.client.describeTopic('hourly')).publishStatus).toEqual({ topic: 'hourly', overdueSinceMs: 0 });
    expect(await metric(port, 'imprint_topic_publish_overdue', 'hourly')).toBeUndefined();
  });

  it('role consume: ListTopics and the metric from its table (no store scan per scrape); poll answers carry max_staleness_ms', async () => {
    let now = Date.now();
    const store = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
    cleanups.push(() => store.close());
    await store.createTopic({ name: 'hourly', owner: '', description: '', retention: {}, expectEveryMs: HOUR, maxStalenessMs: 2 * HOUR }, now);
    await store.createTopic({ name: 'never', owner: '', description: '', retention: {}, expectEveryMs: HOUR }, now);
    const bytes = Buffer.from('v1');
    await store.publish({ topic: 'hourly', metadata: {}, pointer: { kind: 'direct', size: 2, sha256: sha256Hex(bytes), bytes }, scopes: [{}] }, now);
    const t = await server({ role: 'consume', metadataStore: store, auditSink: new MemoryAuditSink(), refreshMs: 600_000, tailMs: 600_000, metricsPort: 0, clock: () => now });
    const port = t.server.metricsServer?.port;

    now += 2 * HOUR;
    for (let i = 0; i < 3; i++) {
      expect(await metric(port, 'imprint_topic_publish_overdue', 'hourly')).toBe('1');
      expect(await metric(port, 'imprint_topic_publish_overdue', 'never')).toBe('1');
    }
    expect((await t.client.listTopicsWithStatus()).publishStatus.map((p) => p.topic)).toEqual(['hourly', 'never']);
    expect(t.server.table?.stats().storeReads.listTopics).toBe(1);

    const poll = await t.client.poll('hourly', identity({ app: 'scorer' }), 0n);
    expect(poll).toMatchObject({ record: { version: 1n }, maxStalenessMs: 2 * HOUR });
    expect(await t.client.poll('hourly', identity({ app: 'scorer' }), 1n)).toEqual({ pinned: false, maxStalenessMs: 2 * HOUR });
    expect(await t.client.poll('never', identity({ app: 'scorer' }), 0n)).toEqual({ pinned: false });
  });

  it('watching: each heartbeat confirms a subscription that holds its latest version; one behind a version that failed stays unconfirmed', async () => {
    let now = Date.now();
    const blobRoot = tempDir();
    const blobs = new LocalBlobStore({ root: blobRoot });
    const t = await server({ blobStores: [blobs], watch: { heartbeatMs: 200 } });
    await t.client.createTopic({ name: 'model', maxStalenessMs: MINUTE });
    const publisher = new Publisher({ client: t.client, blobStores: [blobs] });
    await publisher.publish('model', Buffer.from('v1'));
    const client = new ImprintClient({ address: t.address, deadlineMs: 1_000 });
    const subscriber = new Subscriber({ client, identity: identity({ app: 'scorer' }), blobStores: [blobs], mode: 'watch', retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 }, clock: () => now });
    cleanups.push(async () => {
      await subscriber.close();
      client.close();
    });
    const model = subscriber.subscribe('model', { decode: (b) => b.toString() });
    await model.ready();
    const until = async (want: number) => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if ((await clientMetric(subscriber, 'model')) === want) return;
      throw new Error(`imprint_client_contract_violated never became ${want}`);
    };
    // Past max-staleness with no change: 1 until the next heartbeat confirms, then 0.
    now += MINUTE + 1;
    await until(0);
    // A version that fails to verify: heartbeats no longer confirm; past max-staleness it is 1 and stays.
    const v2 = await publisher.publish('model', Buffer.concat([Buffer.from('v2'), randomBytes(2 * 1024 * 1024)]));
    const key = v2.pointer.kind === 'blob' ? (v2.pointer.locations[0]?.key ?? '') : '';
    const fd = fs.openSync(path.join(blobRoot, key), 'r+');
    fs.writeSync(fd, Buffer.from('flipped'), 0, 7, 4096);
    fs.closeSync(fd);
    await new Promise<RejectedEvent>((resolve) => model.once('rejected', resolve));
    const heartbeats = () => t.server.watchers?.stats().heartbeats ?? 0;
    const seen = heartbeats();
    now += MINUTE + 1;
    await until(1);
    for (const deadline = Date.now() + 10_000; heartbeats() < seen + 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    expect(heartbeats()).toBeGreaterThanOrEqual(seen + 2);
    expect(await clientMetric(subscriber, 'model')).toBe(1);
    expect(model.version).toBe(1n);
  });

  it('the service gone: a subscriber learns max-staleness from the fallback snapshot, which confirms as of when it was written', async () => {
    const blobs = new LocalBlobStore({ root: tempDir(), region: 'us-east-1' });
    const t = await server({ blobStores: [blobs] });
    await t.client.createTopic({ name: 'model', maxStalenessMs: MINUTE });
    await new Publisher({ client: t.client, blobStores: [blobs] }).publish('model', Buffer.from('v1'));
    await writeSnapshot({ store: t.server.store, blobStores: [blobs] });
    const written = Date.now(); // the snapshot was written by now
    await t.stop();
    let now = written;
    const client = new ImprintClient({ address: t.address, deadlineMs: 500 });
    const subscriber = new Subscriber({
      client,
      identity: identity({ app: 'scorer' }),
      blobStores: [blobs],
      fallback: new SnapshotReader({ blobStores: [blobs] }),
      mode: 'poll',
      intervalMs: 600_000,
      startupBudgetMs: 5_000,
      retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 },
      clock: () => now,
    });
    cleanups.push(async () => {
      await subscriber.close();
      client.close();
    });
    const model = subscriber.subscribe('model', { decode: (b) => b.toString() });
    await model.ready();
    await subscriber.pollNow();
    expect(model.current).toBe('v1');
    expect(await clientMetric(subscriber, 'model')).toBe(0);
    // Read again later, the same snapshot confirms nothing newer than its writing.
    now = written + MINUTE + 1;
    await subscriber.pollNow();
    expect(await clientMetric(subscriber, 'model')).toBe(1);
  });

  describe('a subscriber outside its max-staleness', () => {
    async function setup() {
      let now = Date.now();
      const blobRoot = tempDir();
      const blobs = new LocalBlobStore({ root: blobRoot });
      const t = await server({ blobStores: [blobs] });
      await t.client.createTopic({ name: 'model', maxStalenessMs: MINUTE });
      await t.client.createTopic({ name: 'free' });
      const publisher = new Publisher({ client: t.client, blobStores: [blobs] });
      await publisher.publish('model', Buffer.from('v1'));
      await publisher.publish('free', Buffer.from('v1'));
      const client = new ImprintClient({ address: t.address, deadlineMs: 1_000 });
      const subscriber = new Subscriber({
        client,
        identity: identity({ app: 'scorer' }),
        blobStores: [blobs],
        mode: 'poll',
        intervalMs: 600_000,
        retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 },
        clock: () => now,
      });
      cleanups.push(async () => {
        await subscriber.close();
        client.close();
      });
      const model = subscriber.subscribe('model', { decode: (b) => b.toString() });
      subscriber.subscribe('free', { decode: (b) => b.toString() });
      await model.ready();
      await subscriber.pollNow(); // the first poll's end (it may still be running)
      return { t, blobRoot, publisher, subscriber, model, advance: (ms: number) => (now += ms) };
    }

    it('violated becomes 1 when the service is unreachable past max-staleness, and 0 once an answer confirms again; a topic without one has no series', async () => {
      const { t, subscriber, advance } = await setup();
      expect(await clientMetric(subscriber, 'model')).toBe(0);
      expect(await clientMetric(subscriber, 'free')).toBeUndefined();
      // Quiet but answered: a publisher that does not publish does not make its consumers violate.
      advance(MINUTE + 1);
      await subscriber.pollNow();
      expect(await clientMetric(subscriber, 'model')).toBe(0);
      // The service gone: within max-staleness still 0, past it 1.
      await t.server.stop();
      await subscriber.pollNow();
      advance(MINUTE);
      expect(await clientMetric(subscriber, 'model')).toBe(0);
      advance(1);
      await subscriber.pollNow();
      expect(await clientMetric(subscriber, 'model')).toBe(1);
    });

    it('violated becomes 1 when a newer version keeps failing to load past max-staleness, though every poll is answered', async () => {
      const { blobRoot, publisher, subscriber, model, advance } = await setup();
      const v2 = await publisher.publish('model', Buffer.concat([Buffer.from('v2'), randomBytes(2 * 1024 * 1024)]));
      const key = v2.pointer.kind === 'blob' ? (v2.pointer.locations[0]?.key ?? '') : '';
      const fd = fs.openSync(path.join(blobRoot, key), 'r+');
      fs.writeSync(fd, Buffer.from('flipped'), 0, 7, 4096);
      fs.closeSync(fd);
      const rejected = new Promise<RejectedEvent>((resolve) => model.once('rejected', resolve));
      await subscriber.pollNow();
      expect((await rejected).step).toBe('verify');
      expect(model.version).toBe(1n);
      expect(await clientMetric(subscriber, 'model')).toBe(0);
      advance(MINUTE + 1);
      await subscriber.pollNow();
      expect(model.version).toBe(1n);
      expect(await clientMetric(subscriber, 'model')).toBe(1);
    });
  });
});
