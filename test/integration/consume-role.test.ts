/**
 * A consume-role server (startImprintServer with role "consume", handed a counting store:
 * Poll and BatchPoll answered by the Poller from the poll table, every Consumer method behind
 * the per-application limiter and the metrics): the table swapped whole, requests pooled, a
 * noisy application throttled, metrics served, TCP_NODELAY. That its answers are the all
 * role's is test/poll-scenarios.ts's (test/integration/poll-scenarios.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ImprintClient } from '../../client/imprint-client.js';
import { appMetadataInterceptor, retryAfterMsOf } from '../../client/retry-hint.js';
import { ImprintError, type ConsumerIdentity } from '../../core/index.js';
import { identityToWire } from '../../proto/convert.js';
import type { ConsumerServiceClient } from '../../proto/gen/imprint/v1/ConsumerService.js';
import type { PollResponse__Output } from '../../proto/gen/imprint/v1/PollResponse.js';
import { loadImprintProto } from '../../proto/loader.js';
import { RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import { SqliteMetadataStore, type LimiterOptions } from '../../server/index.js';
import { CountingStore } from '../counting-store.js';
import { MemoryAuditSink, directPointer, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { outcome } from '../poll-scenarios.js';

/** A consume-role server over `store`, refreshing only when a test asks (refresh(); the feed is not read during a test), with metrics on a free port. */
function startConsume(store: CountingStore, limiter: LimiterOptions): Promise<TestServer> {
  return startTestServer({ role: 'consume', metadataStore: store, auditSink: new MemoryAuditSink(), limiter, refreshMs: 600_000, tailMs: 600_000, metricsPort: 0 });
}

/** A raw Consumer client that names its application in the request metadata. */
function rawConsumer(address: string, app: string): ConsumerServiceClient {
  const { proto } = loadImprintProto();
  return new proto.imprint.v1.ConsumerService(address, grpc.credentials.createInsecure(), { interceptors: [appMetadataInterceptor(app)] });
}

function rawPoll(c: ConsumerServiceClient, topic: string, id: ConsumerIdentity, lastSeen: bigint): Promise<PollResponse__Output> {
  return new Promise((resolve, reject) =>
    c.Poll({ topic, identity: identityToWire(id), lastSeenVersion: lastSeen.toString() }, (err, res) => (err || !res ? reject(err) : resolve(res))),
  );
}

async function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

describe('consume role over gRPC', () => {
  let dir: string;
  let sqlite: SqliteMetadataStore;
  let store: CountingStore;
  let now = 1_700_000_000_000;
  const tick = () => ++now;
  const publish = (topic: string, text: string) => sqlite.publish({ topic, metadata: {}, pointer: directPointer(text), scopes: [{}] }, tick());
  const createTopic = (name: string) => sqlite.createTopic({ name, owner: 'o', description: '', retention: {} }, tick());

  beforeAll(async () => {
    dir = tempDir();
    sqlite = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
    store = new CountingStore(sqlite);
    await createTopic('plain');
    await publish('plain', 'p1');
    await publish('plain', 'p2');
    await createTopic('scoped');
    await publish('scoped', 's1');
  });
  afterAll(async () => {
    await sqlite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('table swap, pooling and throttling', () => {
    let consume: TestServer;
    const table = () => {
      if (!consume.server.table) throw new Error('a consume-role server has a poll table');
      return consume.server.table;
    };
    const limiter = () => {
      if (!consume.server.limiter) throw new Error('a consume-role server has a limiter');
      return consume.server.limiter;
    };
    beforeAll(async () => {
      for (const t of ['swap-a', 'swap-b']) {
        await createTopic(t);
        await publish(t, `${t}1`);
      }
      consume = await startConsume(store, { globalLimit: 40, initialLimit: 30, minLimit: 30, maxLimit: 30, activeWindowMs: 600_000 });
    });
    afterAll(async () => {
      await consume.stop();
    });

    it('swaps the table whole: a BatchPoll during a refresh sees the old heads and pins of every topic', async () => {
      const c = consume.client;
      const anyone = identity({ app: 'swapper' });
      const cursors = [{ topic: 'swap-a', lastSeen: 0n }, { topic: 'swap-b', lastSeen: 3n }];
      const view = async () => (await c.batchPoll(anyone, cursors)).map((r) => `${r.topic} v${r.record?.version ?? '-'}${r.pinned ? ' pinned' : ''}`);
      expect(await view()).toEqual(['swap-a v1', 'swap-b v-']);
      await publish('swap-a', 'a2');
      await publish('swap-b', 'b2');
      await publish('swap-b', 'b3');
      await sqlite.pin({ topic: 'swap-b', scope: {}, version: 2n, createdAtMs: tick(), reason: 'r', createdBy: 'op' });
      const gate = store.gate('pollState', 'swap-b');
      const refreshing = table().refresh();
      await gate.reached;
      await vi.waitFor(() => expect(store.count('pollState', 'swap-a')).toBe(2)); // swap-a is read into the new table
      expect(await view()).toEqual(['swap-a v1', 'swap-b v-']);
      gate.release();
      expect((await refreshing).ok).toBe(true);
      expect(await view()).toEqual(['swap-a v2', 'swap-b v2 pinned']);
    });

    it('pools requests: 20 concurrent Polls of a topic missing from the table make 1 store read, and 20 needing a new record make 1', async () => {
      await createTopic('pool');
      await publish('pool', 'p1');
      const c = consume.client;
      const who = identity({ app: 'pooler' });
      const gate = store.gate('pollState', 'pool');
      const misses = table().stats().misses;
      const polls = Array.from({ length: 20 }, () => c.poll('pool', who, 0n));
      await vi.waitFor(() => expect(table().stats().misses - misses).toBe(20));
      gate.release();
      expect((await Promise.all(polls)).map((a) => a.record?.version)).toEqual(Array.from({ length: 20 }, () => 1n));
      expect(store.count('pollState', 'pool')).toBe(1);
      expect(store.count('getVersion', 'pool')).toBe(1);

      await publish('pool', 'p2');
      await table().refresh();
      const recordGate = store.gate('getVersion', 'pool');
      const recordMisses = table().stats().recordCache.misses;
      const updates = Array.from({ length: 20 }, () => c.poll('pool', who, 1n));
      await vi.waitFor(() => expect(table().stats().recordCache.misses - recordMisses).toBe(20));
      recordGate.release();
      expect((await Promise.all(updates)).map((a) => a.record?.version)).toEqual(Array.from({ length: 20 }, () => 2n));
      expect(store.count('getVersion', 'pool')).toBe(2);
    });

    it('throttles a noisy application with RESOURCE_EXHAUSTED and a retry hint while a quiet one is still served', async () => {
      const quiet = identity({ app: 'quiet' });
      expect((await consume.client.poll('plain', quiet, 0n)).record?.version).toBe(2n); // the quiet app is active
      // The noisy app fills its fair share with polls that wait on a store read: 40 / 4 active
      // applications (swapper and pooler from the tests above, quiet, noisy).
      await createTopic('slow');
      const gate = store.gate('pollState', 'slow');
      const noisy = rawConsumer(consume.address, 'noisy');
      const share = Math.floor(40 / 4);
      const held: Promise<unknown>[] = [];
      const noisyId = identity({ app: 'ignored-the-metadata-wins' });
      for (let i = 0; i < share; i++) held.push(rawPoll(noisy, 'slow', noisyId, 0n));
      await vi.waitFor(() => expect(limiter().state('noisy')?.inflight).toBe(share));
      // Over its share: refused at once, with the hint in the trailing metadata and the message.
      const err = await grpcError(rawPoll(noisy, 'plain', noisyId, 0n));
      expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      const hint = Number(err.metadata.get(RETRY_AFTER_METADATA_KEY)[0]);
      expect(hint).toBeGreaterThanOrEqual(limiter().options.minRetryAfterMs);
      expect(err.details).toMatch(new RegExp(`application "noisy" is over its fair share .*; retry after ${hint} ms`));
      expect(retryAfterMsOf(err)).toBe(hint);
      // Without metadata the application is identity.app; the typed client error carries the hint in its message.
      expect(await outcome(consume.client.poll('plain', identity({ app: 'noisy' }), 0n))).toEqual({ error: 'RESOURCE_EXHAUSTED' });
      const typed = await consume.client.poll('plain', identity({ app: 'noisy' }), 0n).catch((e: unknown) => e);
      expect(typed).toBeInstanceOf(ImprintError);
      expect(retryAfterMsOf(typed)).toBeGreaterThanOrEqual(limiter().options.minRetryAfterMs);
      // The quiet application is still served, one call after another.
      for (let i = 0; i < 5; i++) expect((await consume.client.poll('plain', quiet, 1n)).record?.version).toBe(2n);
      expect((await consume.client.batchPoll(quiet, [{ topic: 'plain', lastSeen: 0n }, { topic: 'scoped', lastSeen: 0n }])).map((r) => r.record?.version)).toEqual([2n, 1n]);
      // Released, the noisy application's polls complete and it is served again.
      gate.release();
      expect(await Promise.all(held)).toHaveLength(share);
      expect((await rawPoll(noisy, 'plain', noisyId, 0n)).update?.record?.version).toBe('2');
      expect(limiter().state('noisy')?.throttled).toBe(3);
      noisy.close();
    });

    it('serves its metrics over HTTP', async () => {
      const metricsPort = () => consume.server.metricsServer?.port;
      const res = await fetch(`http://127.0.0.1:${metricsPort()}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(/^imprint_consume_requests_total\{method="Poll",outcome="ok"\} \d+$/m);
      expect(text).toMatch(/^imprint_consume_requests_total\{method="BatchPoll",outcome="ok"\} \d+$/m);
      expect(text).toMatch(/^imprint_consume_requests_total\{method="Poll",outcome="RESOURCE_EXHAUSTED"\} 3$/m);
      expect(text).toMatch(/^imprint_consume_throttled_total\{app="noisy"\} 3$/m);
      expect(text).toMatch(/^imprint_consume_request_duration_seconds_bucket\{le="0.005",method="Poll"\} \d+$/m);
      expect(text).toMatch(/^imprint_consume_table_age_seconds \d+(\.\d+)?(e-\d+)?$/m);
      expect(text).toMatch(/^imprint_consume_table_refreshes_total\{outcome="ok"\} [1-9]\d*$/m);
      expect(text).toMatch(/^imprint_consume_store_reads_total\{kind="pollState"\} [1-9]\d*$/m);
      expect(text).toMatch(/^imprint_consume_app_concurrency_limit\{app="quiet"\} 30$/m);
      // The process's own, as every Node service has them.
      expect(text).toMatch(/^process_cpu_seconds_total \d+(\.\d+)?$/m);
      expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes [1-9]\d*$/m);
      expect((await fetch(`http://127.0.0.1:${metricsPort()}/other`)).status).toBe(404);
    });
  });

  it('serves through a TCP_NODELAY listener as through bindAsync, and closes', async () => {
    const consume = await startConsume(store, {});
    expect((await consume.client.poll('plain', identity(), 0n)).record?.version).toBe(2n);
    expect((await consume.client.getTopic('plain')).latestVersion).toBe(2n);
    await consume.stop();
    const after = new ImprintClient({ address: consume.address, deadlineMs: 2000 });
    expect(await outcome(after.poll('plain', identity(), 0n))).toEqual({ error: 'UNAVAILABLE' });
    after.close();
  });
});
