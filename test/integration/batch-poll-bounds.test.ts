/**
 * Issue 12 item 4: a BatchPoll costs a bounded amount of work and memory. Too many topics or
 * a topic named twice is refused before any store read; the answer stays within its byte
 * budget, under the 4 MiB a grpc-js client accepts by default, by leaving direct bytes out
 * (the Subscriber then reads those records with GetVersion and verifies them) and, past
 * that, by leaving results for another request (which ImprintClient.batchPoll makes).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, Subscriber } from '../../client/index.js';
import { MAX_DIRECT_BYTES, sha256Hex } from '../../core/index.js';
import { loadImprintProto } from '../../proto/loader.js';
import type { BatchPollResponse__Output } from '../../proto/gen/imprint/v1/BatchPollResponse.js';
import { silentLogger } from '../../log/index.js';
import { SqliteMetadataStore, startImprintServer, type ImprintServer } from '../../server/index.js';
import { CountingStore } from '../counting-store.js';
import { MemoryAuditSink, directPointer, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { RawStubs } from '../wire-numbers.js';

/** grpc-js's own default receive limit (what Python's grpcio has too): clients here keep it. */
const DEFAULT_RECEIVE_LIMIT = 4 * 1024 * 1024;
const scorer = { app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n1', labels: {} };

/** A 1 MiB payload, different per topic. */
const megabyte = (i: number) => Buffer.alloc(MAX_DIRECT_BYTES, i + 1);

/** The raw BatchPoll answer through a grpc-js client with default options, and its encoded size. */
function rawBatchPoll(address: string, topics: readonly string[]): Promise<{ res: BatchPollResponse__Output; bytes: number }> {
  const { proto, def } = loadImprintProto();
  const client = new proto.imprint.v1.ConsumerService(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.BatchPoll({ identity: scorer, topics: topics.map((topic) => ({ topic, lastSeenVersion: '0' })) }, (err, res) => {
      client.close();
      if (err || !res) return reject(err ?? new Error('no answer'));
      const serialize = (def['imprint.v1.BatchPollResponse'] as unknown as { serialize(x: unknown): Buffer }).serialize;
      resolve({ res, bytes: serialize(res).length });
    });
  });
}

describe('a BatchPoll that asks too much is refused before any work', () => {
  let sqlite: SqliteMetadataStore;
  let store: CountingStore;
  let audit: MemoryAuditSink;
  let servers: TestServer[];
  let stubs: RawStubs[];
  beforeAll(async () => {
    const dir = tempDir();
    sqlite = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
    await sqlite.createTopic({ name: 'big', owner: 'o', description: '', retention: {} }, Date.now());
    await sqlite.publish({ topic: 'big', metadata: {}, pointer: directPointer(megabyte(0)), scopes: [{}] }, Date.now());
    store = new CountingStore(sqlite);
    audit = new MemoryAuditSink();
    // The default bounds, and a server that takes 2000 topics (so the 1000 are refused as duplicates).
    servers = [await startTestServer({ metadataStore: store, auditSink: audit }), await startTestServer({ metadataStore: store, auditSink: audit, batchPoll: { maxTopics: 2000 } })];
    stubs = servers.map((s) => new RawStubs(s.address));
  });
  afterAll(async () => {
    for (const s of stubs) s.close();
    for (const s of servers) await s.stop();
    await sqlite.close();
  });

  const reads = () => store.count('pollState') + store.count('getVersion') + store.count('getTopic');

  it.each([
    ['1000 times the topic of a 1 MiB record', 0, Array.from({ length: 1000 }, () => 'big'), 'topics must name at most 500 topics (got 1000)'],
    ['the same, to a server that takes 2000 topics', 1, Array.from({ length: 1000 }, () => 'big'), 'topics[1].topic must not repeat topics[0].topic (got "big")'],
    ['a topic named twice', 0, ['big', 'other', 'big'], 'topics[2].topic must not repeat topics[0].topic (got "big")'],
    ['a bad topic name', 0, ['big', 'Bad Name'], 'topics[1].topic must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit (got "Bad Name")'],
  ] as const)('%s: INVALID_ARGUMENT, no store read, nothing audited', async (_what, server, topics, message) => {
    const before = reads();
    const got = await stubs[server]?.call('ConsumerService', 'BatchPoll', { identity: scorer, topics: topics.map((topic) => ({ topic, lastSeenVersion: '0' })) });
    expect({ code: got && grpc.status[got.code], details: got?.details }).toEqual({ code: 'INVALID_ARGUMENT', details: message });
    expect(reads()).toBe(before);
    expect(audit.events).toEqual([]);
  });
});

describe.each(['all', 'consume'] as const)('BatchPoll answers within 4 MiB, %s role', (role) => {
  const dataDir = tempDir();
  const topics = Array.from({ length: 10 }, (_, i) => `mib-${i}`);
  /** Topics whose records carry 64 metadata values of 2048 characters (128 KiB) besides 1 MiB of payload. */
  const heavy = Array.from({ length: 24 }, (_, i) => `heavy-${i}`);
  const heavyMetadata = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`k${k}`, String(k % 10).repeat(2048)]));
  let server: ImprintServer;
  let address: string;
  beforeAll(async () => {
    // Written through an all-role server, then served by the role under test (a consume
    // instance's table holds them from its first refresh).
    const seed = await startImprintServer({ dataDir, port: 0, log: silentLogger });
    const c = new ImprintClient({ address: `127.0.0.1:${seed.port}` });
    for (const [i, t] of topics.entries()) {
      await c.createTopic({ name: t });
      await c.publishPointer(t, directPointer(megabyte(i)));
    }
    for (const [i, t] of heavy.entries()) {
      await c.createTopic({ name: t });
      await c.publishPointer(t, directPointer(megabyte(i)), { metadata: heavyMetadata });
    }
    c.close();
    await seed.stop();
    server = await startImprintServer({ dataDir, port: 0, log: silentLogger, role });
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('10 topics of 1 MiB records: under 4 MiB to a default grpc-js client; the records beyond the budget come flagged, with size and sha256 but no bytes', async () => {
    const { res, bytes } = await rawBatchPoll(address, topics);
    expect(bytes).toBeLessThanOrEqual(server.options.batchPoll.maxResponseBytes);
    expect(bytes).toBeLessThan(DEFAULT_RECEIVE_LIMIT);
    expect(res.results.map((r) => r.topic)).toEqual(topics);
    const whole = res.results.filter((r) => !r.update?.directOmitted);
    const omitted = res.results.filter((r) => r.update?.directOmitted);
    expect(whole.length).toBe(3); // 3 x 1 MiB fit in 4 MiB - 64 KiB; a fourth does not
    expect(omitted.length).toBe(7);
    for (const r of whole) expect(r.update?.record?.pointer?.direct?.length).toBe(MAX_DIRECT_BYTES);
    for (const r of omitted) {
      const i = topics.indexOf(r.topic);
      expect(r.update?.record?.pointer).toEqual({ size: String(MAX_DIRECT_BYTES), sha256: sha256Hex(megabyte(i)) });
    }
  });

  it('the Subscriber, through a client with the default 4 MiB limit, loads every one of them, each verified', async () => {
    const client = new ImprintClient({ address, app: 'scorer', channelOptions: { 'grpc.max_receive_message_length': DEFAULT_RECEIVE_LIMIT } });
    const subscriber = new Subscriber({ client, identity: scorer, intervalMs: 60_000 });
    try {
      const rejected: unknown[] = [];
      subscriber.on('rejected', (e) => rejected.push(e));
      const subs = topics.map((t) => subscriber.subscribe(t, { decode: (bytes) => sha256Hex(bytes) }));
      await Promise.all(subs.map((s) => s.ready()));
      expect(subs.map((s) => s.current)).toEqual(topics.map((_, i) => sha256Hex(megabyte(i))));
      expect(subs.map((s) => s.version)).toEqual(topics.map(() => 1n));
      expect(rejected).toEqual([]);
    } finally {
      await subscriber.close();
      client.close();
    }
  });

  it('records too heavy to fit even without their bytes are left for another request; ImprintClient.batchPoll asks again until every topic is answered', async () => {
    const { res, bytes } = await rawBatchPoll(address, heavy);
    expect(bytes).toBeLessThanOrEqual(server.options.batchPoll.maxResponseBytes);
    const left = res.results.filter((r) => r.errorCode === 'RESOURCE_EXHAUSTED');
    expect(left.length).toBeGreaterThan(0);
    expect(res.results[0]?.errorCode).toBe('');
    expect(left[0]?.errorMessage).toBe('not answered: the response reached its size budget; ask again for this topic');

    const client = new ImprintClient({ address, app: 'scorer', channelOptions: { 'grpc.max_receive_message_length': DEFAULT_RECEIVE_LIMIT } });
    try {
      const results = await client.batchPoll(scorer, heavy.map((topic) => ({ topic, lastSeen: 0n })));
      expect(results.map((r) => [r.topic, r.record?.version, r.error])).toEqual(heavy.map((t) => [t, 1n, undefined]));
      expect(results.every((r) => r.record?.metadata.k63 === '3'.repeat(2048))).toBe(true);
      const omitted = results.filter((r) => r.directOmitted);
      expect(omitted.length).toBeGreaterThan(0);
      // An omitted record says what its payload is but carries none: read it with GetVersion.
      for (const r of omitted) {
        expect(r.record?.pointer).toMatchObject({ kind: 'direct', size: MAX_DIRECT_BYTES, bytes: new Uint8Array(0) });
        const whole = await client.getVersion(r.topic, 1n);
        expect(whole.digest).toBe(r.record?.digest);
        expect(whole.pointer.kind === 'direct' && sha256Hex(whole.pointer.bytes)).toBe(r.record?.pointer.sha256);
      }
    } finally {
      client.close();
    }
  });
});
