/** The fallback snapshot: the janitor writes it, and subscribers live on it while the service is down. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, SnapshotReader, Subscriber, type UpdatedEvent } from '../../client/index.js';
import { writeSnapshot } from '../../janitor/index.js';
import { runCli, startServe } from '../cli-process.js';
import { identity, startTestServer, tempDir } from '../helpers.js';

function once<E>(emitter: { once(n: string, f: (e: E) => void): unknown }, name: string): Promise<E> {
  return new Promise((resolve) => emitter.once(name, resolve));
}

describe('fallback snapshot', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('service stopped for good: running subscribers keep their value; new ones start from the snapshot', async () => {
    const regions = [new LocalBlobStore({ root: tempDir(), region: 'us-east-1' }), new LocalBlobStore({ root: tempDir(), region: 'eu-west-1' })];
    const t = await startTestServer({ blobStores: regions });
    const publisher = new Publisher({ client: t.client, blobStores: regions });
    await t.client.createTopic({ name: 'model' });
    await publisher.publish('model', Buffer.from('small v1'));
    const big = randomBytes(3 * 1024 * 1024);
    await publisher.publish('model', big, { metadata: { build: '2' } });
    await publisher.publish('model', Buffer.from('eu only v3'), { scopes: [{ region: 'eu-west-1' }] });

    const subscriberFor = (region: string, address: string) => {
      const client = new ImprintClient({ address, deadlineMs: 500 });
      const s = new Subscriber({
        client,
        identity: identity({ app: 'scorer', region }),
        blobStores: region === 'eu-west-1' ? [regions[1] as LocalBlobStore, regions[0] as LocalBlobStore] : regions,
        fallback: new SnapshotReader({ blobStores: regions }),
        intervalMs: 100,
        startupBudgetMs: 5_000,
        retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 },
      });
      cleanups.push(async () => {
        await s.close();
        client.close();
      });
      return s;
    };

    const running = subscriberFor('us-east-1', t.address);
    const runningSub = running.subscribe('model', { decode: (b) => Buffer.from(b) });
    await runningSub.ready();
    expect(runningSub.version).toBe(2n);

    const written = await writeSnapshot({ store: t.server.store, blobStores: regions });
    expect(written.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(written.failed).toEqual([]);
    await t.stop();

    // The running one: keeps its value, and says it is on the fallback.
    const used = await once<{ snapshotWrittenAtMs: number }>(running, 'fallback-used');
    expect(used.snapshotWrittenAtMs).toBeGreaterThan(0);
    expect(runningSub.version).toBe(2n);
    expect(runningSub.current?.equals(big)).toBe(true);
    expect((await running.registry.getSingleMetric('imprint_client_fallback_active')?.get())?.values[0]?.value).toBe(1);

    // New subscribers, started with the service gone: the latest for their scope, from the snapshot.
    const fresh = subscriberFor('us-east-1', t.address).subscribe('model', { decode: (b) => Buffer.from(b) });
    await fresh.ready();
    expect(fresh.version).toBe(2n);
    expect(fresh.current?.equals(big)).toBe(true);
    const freshEu = subscriberFor('eu-west-1', t.address).subscribe('model', { decode: (b) => b.toString() });
    await freshEu.ready();
    expect(freshEu.version).toBe(3n);
    expect(freshEu.current).toBe('eu only v3');
  }, 30_000);

  it('service hung (SIGSTOP: it accepts connections, never answers): a new subscriber is ready with the snapshot value within its start-up budget', async () => {
    const dataDir = tempDir();
    const served = await startServe(dataDir);
    const { proc, address } = served;
    cleanups.push(async () => {
      proc.kill('SIGCONT');
      await served.stop();
    });
    const blobs = new LocalBlobStore({ root: path.join(dataDir, 'blobs') });
    const client = new ImprintClient({ address });
    cleanups.push(() => client.close());
    await client.createTopic({ name: 'model' });
    const publisher = new Publisher({ client, blobStores: [blobs] });
    await publisher.publish('model', Buffer.from('v1'));
    const v2 = randomBytes(2 * 1024 * 1024);
    await publisher.publish('model', v2);
    // The janitor writes the snapshot to the local blob store, as `imprint janitor --once` does.
    const janitor = await runCli(['--data-dir', dataDir, 'janitor', '--once']);
    expect(janitor.code).toBe(0);
    expect(janitor.stdout).toMatch(/^snapshot: 1 topics, \d+ bytes to local$/m);

    proc.kill('SIGSTOP');
    try {
      // The defaults of a subscriber and its client (a call's deadline 10 s, 3 retries), a 5 s budget.
      const hungClient = new ImprintClient({ address });
      const s = new Subscriber({ client: hungClient, identity: identity({ app: 'scorer' }), blobStores: [blobs], fallback: new SnapshotReader({ blobStores: [blobs] }), startupBudgetMs: 5_000 });
      cleanups.push(async () => {
        await s.close();
        hungClient.close();
      });
      const fallbackUsed = once<{ snapshotWrittenAtMs: number }>(s, 'fallback-used');
      const t0 = performance.now();
      const sub = s.subscribe('model', { decode: (b) => Buffer.from(b), defaultValue: Buffer.from('built-in default') });
      await sub.ready();
      const readyMs = performance.now() - t0;
      expect(sub.version).toBe(2n);
      expect(sub.current?.equals(v2)).toBe(true);
      expect(readyMs).toBeLessThan(5_000);
      expect((await fallbackUsed).snapshotWrittenAtMs).toBeGreaterThan(0);
    } finally {
      proc.kill('SIGCONT');
    }
  }, 30_000);

  it('a pin in the snapshot moves fallback consumers back', async () => {
    const t = await startTestServer();
    const region = new LocalBlobStore({ root: tempDir() });
    const publisher = new Publisher({ client: t.client, blobStores: [region] });
    await t.client.createTopic({ name: 'pinned' });
    await publisher.publish('pinned', Buffer.from('one'));
    await publisher.publish('pinned', Buffer.from('two'));
    await t.client.pin('pinned', 1n, { reason: 'bad two' });
    await writeSnapshot({ store: t.server.store, blobStores: [region] });
    const address = t.address;
    await t.stop();
    const client = new ImprintClient({ address, deadlineMs: 300 });
    const s = new Subscriber({ client, identity: identity({ app: 'x' }), blobStores: [region], fallback: new SnapshotReader({ blobStores: [region] }), intervalMs: 100, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 } });
    cleanups.push(async () => {
      await s.close();
      client.close();
    });
    const sub = s.subscribe('pinned', { decode: (b) => b.toString() });
    const updated = once<UpdatedEvent<string>>(sub, 'updated');
    await sub.ready();
    expect((await updated).pinned).toBe(true);
    expect(sub.current).toBe('one');
  });

  it('a reader polling while snapshots are rewritten never sees a partial one', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.stop());
    const region = new LocalBlobStore({ root: tempDir() });
    for (let i = 0; i < 40; i++) {
      await t.client.createTopic({ name: `t${i}`, description: 'x'.repeat(500) });
      await t.client.publishPointer(`t${i}`, { kind: 'direct', size: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', bytes: Buffer.from('abc') });
    }
    await writeSnapshot({ store: t.server.store, blobStores: [region] });
    let writing = true;
    const writer = (async () => {
      let n = 0;
      while (writing) {
        await writeSnapshot({ store: t.server.store, blobStores: [region] });
        n++;
      }
      return n;
    })();
    let reads = 0;
    const errors: string[] = [];
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline) {
      try {
        const snap = await new SnapshotReader({ blobStores: [region] }).read(); // a fresh reader: no cache
        if (snap.topics.length !== 40) errors.push(`saw ${snap.topics.length} topics`);
        reads++;
      } catch (err) {
        errors.push(String(err));
      }
    }
    writing = false;
    const writes = await writer;
    expect(errors).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    expect(writes).toBeGreaterThan(5);
    // Old generations are removed: the current snapshot and the one before it stay.
    expect(fs.readdirSync(path.join(region.root, 'imprint-snapshots')).filter((f) => f.endsWith('.snapshot')).length).toBeLessThanOrEqual(3);
  });
});
