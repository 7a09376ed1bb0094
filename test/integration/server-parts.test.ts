/**
 * startImprintServer handed ready-made parts (a MetadataStore, an AuditSink), as benches and
 * tests use it instead of wiring a server by hand: it serves them in every role, leaves them
 * open when it stops, and refuses the options that would name another store or sink. And the
 * Poller's count of records that failed their check is a metric on every role that polls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import { SqliteMetadataStore, withDefaults } from '../../server/index.js';
import { MemoryAuditSink, directPointer, identity, startTestServer, tempDir } from '../helpers.js';

/** A MemoryAuditSink that knows whether it was closed. */
class ClosableAuditSink extends MemoryAuditSink {
  closed = false;
  override async close(): Promise<void> {
    this.closed = true;
  }
}

describe('a server handed its store and audit sink', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  beforeAll(async () => {
    dir = tempDir();
    store = SqliteMetadataStore.open({ file: path.join(dir, 'parts.db') });
    await store.createTopic({ name: 'handed', owner: 'o', description: '', retention: {} }, 1);
    await store.publish({ topic: 'handed', metadata: {}, pointer: directPointer('one'), scopes: [{}] }, 2);
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(['all', 'consume', 'publish'] as const)('role %s serves them, and leaves them open when it stops', async (role) => {
    const audit = new ClosableAuditSink();
    const t = await startTestServer({ role, metadataStore: store, auditSink: audit });
    try {
      expect(t.server.store).toBe(store);
      expect(t.server.audit).toBe(audit);
      // The topic is the handed store's (the data dir's own database would have none).
      expect((await t.client.getTopic('handed')).latestVersion).toBe(1n);
      if (role !== 'publish') {
        expect((await t.client.poll('handed', identity(), 0n)).record?.version).toBe(1n);
        expect(audit.events.map((e) => (e.kind === 'hold' ? [e.topic, e.previous, e.version] : [e.kind]))).toEqual([['handed', '0', '1']]);
      }
      expect(fs.existsSync(path.join(t.dataDir, 'imprint.db'))).toBe(false);
    } finally {
      await t.stop();
    }
    expect(audit.closed).toBe(false);
    expect((await store.getTopic('handed'))?.latestVersion).toBe(1n);
  });

  it.each([
    [{ store: 'cassandra' as const }, 'store must not be given with metadataStore'],
    [{ cassandra: { contactPoints: '127.0.0.1' } }, 'cassandra must not be given with metadataStore'],
  ])('refuses %j beside metadataStore', (other, message) => {
    const e = (() => {
      try {
        withDefaults({ metadataStore: store, ...other });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as Error).message).toContain(message);
  });

  it.each([
    [{ audit: 'elasticsearch' as const, esUrl: 'http://127.0.0.1:9200' }, 'audit must not be given with auditSink'],
    [{ esUrl: 'http://127.0.0.1:9200' }, 'esUrl must not be given with auditSink'],
    [{ esReplicas: 1 }, 'esReplicas must not be given with auditSink'],
  ])('refuses %j beside auditSink', (other, message) => {
    expect(() => withDefaults({ auditSink: new MemoryAuditSink(), ...other })).toThrow(InvalidArgumentError);
    expect(() => withDefaults({ auditSink: new MemoryAuditSink(), ...other })).toThrow(message);
  });

  it('Elasticsearch audit indices: 0 replicas unless told, at most 10', () => {
    const es = { audit: 'elasticsearch' as const, esUrl: 'http://127.0.0.1:9200' };
    expect(withDefaults(es).esReplicas).toBe(0);
    expect(withDefaults({ ...es, esReplicas: 2 }).esReplicas).toBe(2);
    expect(() => withDefaults({ ...es, esReplicas: 11 })).toThrow('es-replicas must be a whole number from 0 to 10');
  });
});

describe('records that failed their check, counted on every role that polls', () => {
  it.each(['all', 'consume'] as const)('role %s: imprint_consume_integrity_failures_total', async (role) => {
    const dir = tempDir();
    const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
    await store.createTopic({ name: 'guarded', owner: 'o', description: '', retention: {} }, 1);
    for (const text of ['g1', 'g2']) await store.publish({ topic: 'guarded', metadata: {}, pointer: directPointer(text), scopes: [{}] }, 2);
    store.database.prepare(`UPDATE versions SET metadata = '{"tampered":"yes"}' WHERE topic = 'guarded' AND version = 2`).run();
    const t = await startTestServer({ role, metadataStore: store, auditSink: new MemoryAuditSink(), metricsPort: 0 });
    try {
      expect((await t.client.poll('guarded', identity(), 0n)).record?.version).toBe(1n);
      expect((await t.client.poll('guarded', identity(), 1n)).record).toBeUndefined();
      const text = await (await fetch(`http://127.0.0.1:${t.server.metricsServer?.port}/metrics`)).text();
      expect(text).toMatch(/^imprint_consume_integrity_failures_total 2$/m);
      expect(t.server.poller?.integrityFailures).toBe(2);
    } finally {
      await t.stop();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('publisher and operator requests, counted by outcome and timed', () => {
  it.each(['all', 'publish'] as const)('role %s: imprint_requests_total and imprint_request_duration_seconds', async (role) => {
    const t = await startTestServer({ role, auditSink: new MemoryAuditSink(), metricsPort: 0 });
    try {
      await t.client.createTopic({ name: 'counted' });
      await t.client.publishPointer('counted', directPointer('v1'));
      await t.client.publishPointer('counted', directPointer('v2'));
      await expect(t.client.publishPointer('missing', directPointer('x'))).rejects.toThrow(/does not exist/);
      await t.client.addScopes('counted', 1n, [{ region: 'eu' }]);
      await t.client.pin('counted', 1n, { reason: 'test' });
      await t.client.unpin('counted');
      const text = await (await fetch(`http://127.0.0.1:${t.server.metricsServer?.port}/metrics`)).text();
      expect(text).toMatch(/^imprint_requests_total\{service="PublisherService",method="Publish",outcome="ok"\} 2$/m);
      expect(text).toMatch(/^imprint_requests_total\{service="PublisherService",method="Publish",outcome="FAILED_PRECONDITION"\} 1$/m);
      expect(text).toMatch(/^imprint_requests_total\{service="PublisherService",method="CreateTopic",outcome="ok"\} 1$/m);
      expect(text).toMatch(/^imprint_requests_total\{service="OperatorService",method="Pin",outcome="ok"\} 1$/m);
      expect(text).toMatch(/^imprint_requests_total\{service="OperatorService",method="Unpin",outcome="ok"\} 1$/m);
      expect(text).toMatch(/^imprint_requests_total\{service="PublisherService",method="AddScopes",outcome="ok"\} 1$/m);
      expect(text).toMatch(/^imprint_request_duration_seconds_count\{service="PublisherService",method="Publish"\} 3$/m);
      for (const [service, method] of [['PublisherService', 'AddScopes'], ['OperatorService', 'Pin'], ['OperatorService', 'Unpin']]) {
        expect(text).toMatch(new RegExp(`^imprint_request_duration_seconds_count\\{service="${service}",method="${method}"\\} 1$`, 'm'));
      }
    } finally {
      await t.stop();
    }
  });
});
