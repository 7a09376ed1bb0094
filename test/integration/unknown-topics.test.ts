/**
 * Issue 12 item 4: polls for unknown topics cost a bounded number of store reads on a consume
 * instance. Its poll table remembers a topic it found missing across refreshes; a topic
 * created later is found by the next refresh, which lists every topic.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImprintClient } from '../../client/index.js';
import { SqliteMetadataStore, type PollTable } from '../../server/index.js';
import { CountingStore } from '../counting-store.js';
import { MemoryAuditSink, directPointer, startTestServer, tempDir, type TestServer } from '../helpers.js';

const scorer = { app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n1', labels: {} };

describe('polls for unknown topics on a consume instance', () => {
  let sqlite: SqliteMetadataStore;
  let store: CountingStore;
  let table: PollTable;
  let consume: TestServer;
  let client: ImprintClient;
  beforeAll(async () => {
    const dir = tempDir();
    sqlite = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
    await sqlite.createTopic({ name: 'known', owner: 'o', description: '', retention: {} }, Date.now());
    store = new CountingStore(sqlite);
    // Refreshed only when the test asks (the feed is not read during the test).
    consume = await startTestServer({ role: 'consume', metadataStore: store, auditSink: new MemoryAuditSink(), refreshMs: 600_000, tailMs: 600_000 });
    if (!consume.server.table) throw new Error('a consume-role server has a poll table');
    table = consume.server.table;
    client = consume.client;
  });
  afterAll(async () => {
    await consume.stop();
    await sqlite.close();
  });

  it('a flood of BatchPolls naming 100 unknown topics, across 5 table refreshes, reads each from the store once; one created later is found by the next refresh', async () => {
    const unknown = Array.from({ length: 100 }, (_, i) => `ghost-${i}`);
    const cursors = ['known', ...unknown].map((topic) => ({ topic, lastSeen: 0n }));
    for (let refresh = 0; refresh < 5; refresh++) {
      for (let i = 0; i < 20; i++) {
        const results = await client.batchPoll(scorer, cursors);
        expect(results.filter((r) => r.error?.code === 'NOT_FOUND').length).toBe(100);
      }
      expect((await table.refresh()).ok).toBe(true);
    }
    // 10,000 polls of unknown topics: one store read each, not one per poll or per refresh.
    expect(unknown.map((t) => store.count('pollState', t))).toEqual(unknown.map(() => 1));
    expect(table.stats().absent).toBe(100);
    // Created now: the next refresh lists it, whatever the table remembered.
    await sqlite.createTopic({ name: 'ghost-7', owner: 'o', description: '', retention: {} }, Date.now());
    await sqlite.publish({ topic: 'ghost-7', metadata: {}, pointer: directPointer('boo'), scopes: [{}] }, Date.now());
    expect((await client.batchPoll(scorer, [{ topic: 'ghost-7', lastSeen: 0n }]))[0]?.error?.code).toBe('NOT_FOUND');
    await table.refresh();
    expect((await client.batchPoll(scorer, [{ topic: 'ghost-7', lastSeen: 0n }]))[0]?.record?.version).toBe(1n);
    expect(table.stats().absent).toBe(99);
  });
});
