/** The embedded server through its gRPC contract: bad input, invariants 1-4 and 8, restarts. */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { ImprintError, MAX_DIRECT_BYTES, recordProblem, sha256Hex, type DataPointer } from '../../core/index.js';
import { readAuditFile, type SqliteMetadataStore } from '../../server/index.js';
import { directPointer, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';

/** The gRPC status code name a call failed with. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ImprintError);
    return (err as ImprintError).code;
  }
  throw new Error('expected the call to fail');
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the call to fail');
}

describe('embedded server over gRPC', () => {
  let t: TestServer;
  let c: ImprintClient;
  beforeAll(async () => {
    t = await startTestServer();
    c = t.client;
    await c.createTopic({ name: 'model', owner: 'trust', retention: { keepVersions: 10 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  describe('bad input gets a clear error and changes nothing (invariant 8)', () => {
    let before: bigint;
    beforeAll(async () => {
      await c.publishPointer('model', directPointer('baseline'));
      before = (await c.getTopic('model')).latestVersion;
    });
    afterEach(async () => {
      // No version number consumed, no row written.
      expect((await c.getTopic('model')).latestVersion).toBe(before);
      expect((await c.describeTopic('model')).versionCount).toBe(Number(before));
    });

    it('unknown topic: NOT_FOUND naming it; publish to it: FAILED_PRECONDITION', async () => {
      expect(await codeOf(c.poll('no-such-topic', identity(), 0n))).toBe('NOT_FOUND');
      expect(await messageOf(c.getTopic('no-such-topic'))).toContain('"no-such-topic"');
      expect(await codeOf(c.publishPointer('no-such-topic', directPointer('x')))).toBe('FAILED_PRECONDITION');
      expect(await messageOf(c.publishPointer('no-such-topic', directPointer('x')))).toMatch(/topic "no-such-topic".*does not exist/);
      expect(await c.listTopics().then((ts) => ts.map((x) => x.name))).not.toContain('no-such-topic');
    });

    it.each([
      ['invalid topic name', () => c.createTopic({ name: 'Bad Name' }), 'name'],
      ['retention of 0 versions', () => c.createTopic({ name: 'zero', retention: { keepVersions: 0 } }), 'retention.keep_versions'],
      ['retention of 0 days', () => c.updateTopic('model', { retention: { keepDays: 0 } }), 'retention.keep_days'],
      ['empty payload', () => c.publishPointer('model', { kind: 'direct', size: 0, sha256: sha256Hex(Buffer.alloc(0)), bytes: Buffer.alloc(0) }), 'pointer'],
      [
        'direct payload over 1 MiB',
        () => {
          const big = Buffer.alloc(MAX_DIRECT_BYTES + 1, 7);
          return c.publishPointer('model', { kind: 'direct', size: big.length, sha256: sha256Hex(big), bytes: big });
        },
        'pointer.direct',
      ],
      ['sha256 that does not match the bytes', () => c.publishPointer('model', { ...directPointer('abc'), sha256: sha256Hex(Buffer.from('abd')) }), 'pointer.sha256'],
      ['size that does not match the bytes', () => c.publishPointer('model', { ...directPointer('abc'), size: 4 }), 'pointer.size'],
      ['malformed sha256', () => c.publishPointer('model', { ...directPointer('abc'), sha256: 'xyz' }), 'pointer.sha256'],
      ['blob pointer without locations', () => c.publishPointer('model', { kind: 'blob', size: 10, sha256: 'a'.repeat(64), locations: [] }), 'pointer.blob.locations'],
      ['malformed scope value', () => c.publishPointer('model', directPointer('x'), { scopes: [{ region: '' }] }), 'scopes[0].region'],
      ['metadata key', () => c.publishPointer('model', directPointer('x'), { metadata: { 'bad key': 'v' } }), 'metadata'],
      ['publish id with a space', () => c.publishPointer('model', directPointer('x'), { publishId: 'build 1' }), 'publish_id'],
      ['publish id over 128 characters', () => c.publishPointer('model', directPointer('x'), { publishId: 'b'.repeat(129) }), 'publish_id'],
      ['pin to version 0', () => c.pin('model', 0n), 'version'],
    ] as const)('%s: INVALID_ARGUMENT naming %s', async (_name, call, field) => {
      const p = (call as () => Promise<unknown>)();
      const msg = await messageOf(p);
      expect(await codeOf((call as () => Promise<unknown>)())).toBe('INVALID_ARGUMENT');
      expect(msg.startsWith(field)).toBe(true);
      expect(msg).toMatch(/must/);
    });

    it('pin to a version that does not exist: NOT_FOUND naming it, no pin written', async () => {
      expect(await messageOf(c.pin('model', 999n))).toBe('version 999 of topic "model" does not exist');
      expect(await c.listPins('model')).toEqual([]);
    });

    it('a topic with retention 0 is not created', async () => {
      await codeOf(c.createTopic({ name: 'zero', retention: { keepVersions: 0 } }));
      expect(await codeOf(c.getTopic('zero'))).toBe('NOT_FOUND');
    });
  });

  describe('polls: latest for the consumer, pins, never older unless pinned (invariant 3)', () => {
    beforeAll(async () => {
      await c.createTopic({ name: 'scored' });
      await c.publishPointer('scored', directPointer('v1 all')); // v1 {}
      await c.publishPointer('scored', directPointer('v2 eu'), { scopes: [{ region: 'eu' }] }); // v2
      await c.publishPointer('scored', directPointer('v3 all')); // v3 {}
      await c.publishPointer('scored', directPointer('v4 canary'), { scopes: [{ cluster: 'canary' }] }); // v4
    });
    afterEach(async () => {
      for (const p of await c.listPins('scored')) await c.unpin('scored', p.scope);
    });

    it('gives each consumer the highest version whose scopes match it', async () => {
      const latest = async (id: Parameters<typeof identity>[0]) => (await c.poll('scored', identity(id), 0n)).record?.version;
      expect(await latest({})).toBe(3n);
      expect(await latest({ region: 'eu' })).toBe(3n);
      expect(await latest({ cluster: 'canary' })).toBe(4n);
      expect(await latest({ region: 'eu', cluster: 'canary' })).toBe(4n);
    });

    it('answers "no update" to a consumer that holds the latest or something newer', async () => {
      expect((await c.poll('scored', identity(), 3n)).record).toBeUndefined();
      expect((await c.poll('scored', identity(), 4n)).record).toBeUndefined();
      const r = await c.poll('scored', identity(), 1n);
      expect(r.record?.version).toBe(3n);
      expect(r.pinned).toBe(false);
    });

    it('a pin moves consumers back and says so; the most specific pin wins', async () => {
      await c.pin('scored', 1n, { reason: 'v3 is bad' });
      const back = await c.poll('scored', identity(), 3n);
      expect(back.record?.version).toBe(1n);
      expect(back.pinned).toBe(true);
      expect(Buffer.from(back.record?.pointer.kind === 'direct' ? back.record.pointer.bytes : []).toString()).toBe('v1 all');
      await c.pin('scored', 2n, { scope: { region: 'eu' } });
      expect((await c.poll('scored', identity({ region: 'eu' }), 3n)).record?.version).toBe(2n);
      expect((await c.poll('scored', identity({ region: 'us' }), 3n)).record?.version).toBe(1n);
      // Already on the pinned version: nothing to do.
      expect((await c.poll('scored', identity(), 1n)).record).toBeUndefined();
    });

    it('after unpin, consumers go forward to the latest, never to an older unpinned version', async () => {
      await c.pin('scored', 1n);
      await c.unpin('scored');
      const r = await c.poll('scored', identity(), 1n);
      expect(r.record?.version).toBe(3n);
      expect(r.pinned).toBe(false);
      expect((await c.poll('scored', identity(), 4n)).record).toBeUndefined();
    });

    it('BatchPoll answers per topic in request order, with per-topic errors', async () => {
      const res = await c.batchPoll(identity({ region: 'eu' }), [
        { topic: 'scored', lastSeen: 0n },
        { topic: 'missing-topic', lastSeen: 0n },
        { topic: 'model', lastSeen: 1000n },
      ]);
      expect(res.map((r) => r.topic)).toEqual(['scored', 'missing-topic', 'model']);
      expect(res[0]?.record?.version).toBe(3n);
      expect(res[1]?.error?.code).toBe('NOT_FOUND');
      expect(res[2]?.record).toBeUndefined();
      expect(res[2]?.error).toBeUndefined();
    });

    it('latest-at answers what a consumer would have had at a past time', async () => {
      const versions = (await c.listVersions('scored')).versions;
      const v2 = versions.find((v) => v.version === 2n);
      expect(v2).toBeDefined();
      const at = (v2 as { publishedAtMs: number }).publishedAtMs;
      expect((await c.latestAt('scored', identity({ region: 'eu' }), at))?.version).toBe(2n);
      expect((await c.latestAt('scored', identity({ region: 'us' }), at))?.version).toBe(1n);
      expect(await c.latestAt('scored', identity(), 0)).toBeUndefined();
    });

    it('DescribeTopic says who consumes the topic and which version each node holds', async () => {
      await c.poll('scored', identity({ app: 'ranker', cluster: 'r1', nodeId: 'a' }), 0n); // gets v3
      await c.poll('scored', identity({ app: 'ranker', cluster: 'r1', nodeId: 'b' }), 0n);
      await c.poll('scored', identity({ app: 'ranker', cluster: 'canary', nodeId: 'c' }), 0n); // gets v4
      await c.poll('scored', identity({ app: 'ranker', cluster: 'r1', nodeId: 'b' }), 3n); // keeps v3
      const d = await c.describeTopic('scored');
      expect('error' in d.consumers).toBe(false);
      if ('error' in d.consumers) return;
      const groups = d.consumers.groups.filter((g) => g.app === 'ranker').map((g) => [g.cluster, g.nodeCount, g.versions.map((v) => [v.version, v.nodeCount])]);
      expect(groups.sort()).toEqual([
        ['canary', 1, [['4', 1]]],
        ['r1', 2, [['3', 2]]],
      ]);
      // A window that starts after the polls sees nobody.
      const later = await c.describeTopic('scored', { sinceMs: Date.now() + 60_000 });
      expect('error' in later.consumers ? -1 : later.consumers.groups.length).toBe(0);
    });

    it('records what a node holds in the audit file when it changes, not every poll', async () => {
      await c.poll('scored', identity({ app: 'audit-check', nodeId: 'n1' }), 0n);
      await c.poll('scored', identity({ app: 'audit-check', nodeId: 'n1' }), 3n);
      await c.poll('scored', identity({ app: 'audit-check', nodeId: 'n1' }), 3n);
      await t.server.audit.flush();
      const holds = readAuditFile(t.server.options.auditFile).filter((e) => e.kind === 'hold' && e.identity.app === 'audit-check');
      expect(holds).toHaveLength(1);
      expect(holds[0]).toMatchObject({ topic: 'scored', version: '3', previous: '0', moved: true, pinned: false, replica: t.server.holdings?.replica });
    });
  });

  describe('publish ids and the change history', () => {
    it('a publish retried with its publish_id answers the version it made, replayed; other content with it is ALREADY_EXISTS', async () => {
      await c.createTopic({ name: 'idem' });
      const first = await c.publishPointer('idem', directPointer('one'), { publishId: 'ci-981', scopes: [{ region: 'eu' }] });
      const again = await c.publishPointer('idem', directPointer('one'), { publishId: 'ci-981', scopes: [{ region: 'eu' }] });
      expect(first.replayed).toBe(false);
      expect(again).toEqual({ ...first, replayed: true });
      expect(await codeOf(c.publishPointer('idem', directPointer('two'), { publishId: 'ci-981' }))).toBe('ALREADY_EXISTS');
      expect((await c.getTopic('idem')).latestVersion).toBe(1n);
    });

    it('ListHistory: every change, newest first, with who and from which address; DescribeTopic carries the newest 10', async () => {
      const h = new ImprintClient({ address: t.address });
      try {
        await h.createTopic({ name: 'hist', owner: 'trust-team', retention: { keepVersions: 5 } });
        await h.updateTopic('hist', { description: 'ip reputation' });
        await h.publishPointer('hist', directPointer('v1'), { publishId: 'build-1' });
        await h.addScopes('hist', 1n, [{ app: 'scorer' }]);
        await h.pin('hist', 1n, { reason: 'known good', createdBy: 'alice' });
        await h.unpin('hist');
        const { changes, nextPageToken } = await h.listHistory('hist');
        expect(nextPageToken).toBe('');
        expect(changes.map((x) => [x.kind, x.version, x.by.principal])).toEqual([
          ['unpin', 1n, ''],
          ['pin', 1n, 'alice'],
          ['add-scopes', 1n, ''],
          ['publish', 1n, ''],
          ['update-topic', 0n, ''],
          ['create-topic', 0n, 'trust-team'],
        ]);
        expect(changes[1]).toMatchObject({ topic: 'hist', reason: 'known good', scopes: [{}] });
        expect(changes[3]).toMatchObject({ publishId: 'build-1', scopes: [{}] });
        expect(changes[5]?.details).toEqual({ owner: 'trust-team', description: '', keep_versions: '5', keep_days: '' });
        // The caller's address as the server saw it: loopback, the client's own port.
        for (const x of changes) expect(x.by).toMatchObject({ authenticated: false, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
        // Pages of 4 and 2.
        const p1 = await h.listHistory('hist', { pageSize: 4 });
        const p2 = await h.listHistory('hist', { pageSize: 4, pageToken: p1.nextPageToken });
        expect(p1.changes).toHaveLength(4);
        expect([...p1.changes, ...p2.changes]).toEqual(changes);
        expect(p2.nextPageToken).toBe('');
        // DescribeTopic: the newest 10.
        for (let i = 0; i < 6; i++) await h.publishPointer('hist', directPointer(`more ${i}`));
        const d = await h.describeTopic('hist');
        expect(d.recentChanges).toHaveLength(10);
        expect(d.recentChanges.map((x) => x.kind)).toEqual([...Array(6).fill('publish'), 'unpin', 'pin', 'add-scopes', 'publish']);
      } finally {
        h.close();
      }
    });

    it('ListHistory refuses a bad page size or token naming the field, and an unknown topic', async () => {
      expect(await messageOf(c.listHistory('model', { pageSize: 1001 }))).toBe('page_size must be a whole number between 0 and 1000 (0: 100) (got 1001)');
      expect(await messageOf(c.listHistory('model', { pageToken: 'abc' }))).toBe('page_token must be empty or a token from a previous response (a whole number between 1 and 9223372036854775807) (got "abc")');
      expect(await messageOf(c.listHistory('model', { pageToken: '9223372036854775808' }))).toBe(
        'page_token must be a whole number between 1 and 9223372036854775807 (a token from a previous response) (got 9223372036854775808)',
      );
      expect(await codeOf(c.listHistory('no-such-topic'))).toBe('NOT_FOUND');
    });

    it("changes are not audit events: the audit file holds what nodes hold, nothing of the publishes and pins", async () => {
      await t.server.audit.flush();
      const events = readAuditFile(t.server.options.auditFile);
      expect(events.length).toBeGreaterThan(0);
      expect(new Set(events.map((e) => e.kind))).toEqual(new Set(['hold']));
    });
  });

  it('ListVersions pages newest first until the end', async () => {
    await c.createTopic({ name: 'paged' });
    for (let i = 0; i < 5; i++) await c.publishPointer('paged', directPointer(`p${i}`));
    const p1 = await c.listVersions('paged', { pageSize: 2 });
    const p2 = await c.listVersions('paged', { pageSize: 2, pageToken: p1.nextPageToken });
    const p3 = await c.listVersions('paged', { pageSize: 2, pageToken: p2.nextPageToken });
    expect([...p1.versions, ...p2.versions, ...p3.versions].map((v) => v.version)).toEqual([5n, 4n, 3n, 2n, 1n]);
    expect(p3.nextPageToken).toBe('');
    expect(await codeOf(c.listVersions('paged', { pageSize: 5000 }))).toBe('INVALID_ARGUMENT');
  });

  it('8 concurrent publishers x 200 publishes over gRPC give 1600 distinct, increasing versions (invariant 2)', async () => {
    await c.createTopic({ name: 'contended' });
    const clients = Array.from({ length: 8 }, () => new ImprintClient({ address: t.address }));
    try {
      const seen = await Promise.all(
        clients.map(async (pc, w) => {
          const mine: bigint[] = [];
          for (let i = 0; i < 200; i++) mine.push((await pc.publishPointer('contended', directPointer(`${w}/${i}`))).version);
          return mine;
        }),
      );
      for (const mine of seen) for (let i = 1; i < mine.length; i++) expect(mine[i] as bigint).toBeGreaterThan(mine[i - 1] as bigint);
      const all = new Set(seen.flat());
      expect(all.size).toBe(1600);
      expect((await c.getTopic('contended')).latestVersion).toBe(1600n);
    } finally {
      for (const pc of clients) pc.close();
    }
  }, 120_000);

  it('serves the standard health service', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const Health = (grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: typeof grpc.Client } } } }).grpc.health.v1.Health;
    const hc = new Health(t.address, grpc.credentials.createInsecure()) as grpc.Client & {
      Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
    };
    const status = await new Promise<string | undefined>((resolve, reject) => hc.Check({ service: 'imprint.v1.ConsumerService' }, (err, res) => (err ? reject(err) : resolve(res?.status))));
    hc.close();
    expect(status).toBe('SERVING');
  });
});

describe('consistency checks (invariant 4)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  const tamper = (topic: string, version: bigint) =>
    (t.server.store as SqliteMetadataStore).database.prepare(`UPDATE versions SET metadata = '{"tampered":"yes"}' WHERE topic = ? AND version = ?`).run(topic, version);

  it('a consumer with data gets "no update"; one with none gets the newest version that passes', async () => {
    const c = t.client;
    await c.createTopic({ name: 'guarded' });
    await c.publishPointer('guarded', directPointer('one'));
    await c.publishPointer('guarded', directPointer('two'));
    await c.publishPointer('guarded', directPointer('three'));
    tamper('guarded', 3n);
    expect((await c.poll('guarded', identity(), 1n)).record).toBeUndefined();
    const fresh = await c.poll('guarded', identity(), 0n);
    expect(fresh.record?.version).toBe(2n);
    expect(recordProblem(fresh.record as NonNullable<typeof fresh.record>)).toBeUndefined();
    tamper('guarded', 2n);
    expect((await c.poll('guarded', identity(), 0n)).record?.version).toBe(1n);
    expect(await codeOf(c.getVersion('guarded', 3n))).toBe('DATA_INTEGRITY');
    expect(t.server.poller?.integrityFailures).toBe(4); // v3; v3; v3 and v2
    expect(t.server.service.integrityFailures).toBe(1); // GetVersion of v3
  });

  it('a direct payload whose bytes were altered in the store is not served', async () => {
    const c = t.client;
    await c.createTopic({ name: 'bytes' });
    await c.publishPointer('bytes', directPointer('good'));
    await c.publishPointer('bytes', directPointer('soon bad'));
    (t.server.store as SqliteMetadataStore).database.prepare(`UPDATE versions SET direct = ? WHERE topic = 'bytes' AND version = 2`).run(Buffer.from('soon BAD'));
    expect((await c.poll('bytes', identity(), 0n)).record?.version).toBe(1n);
  });
});

describe('restart', () => {
  it('everything is still there after a stop and a start on the same data dir (invariant 1)', async () => {
    const first = await startTestServer();
    const c = first.client;
    await c.createTopic({ name: 'durable', owner: 'o', description: 'kept', retention: { keepDays: 3 } });
    const blob: DataPointer = { kind: 'blob', size: 10_000_000, sha256: 'b'.repeat(64), locations: [{ kind: 'file', region: 'local', bucket: 'local', key: 'durable/x' }] };
    // The object the pointer names, in the server's blob directory (the server checks it exists, with that size).
    const object = path.join(first.dataDir, 'blobs', 'durable', 'x');
    fs.mkdirSync(path.dirname(object), { recursive: true });
    fs.writeFileSync(object, '');
    fs.truncateSync(object, 10_000_000);
    const { replayed: _a, ...a } = await c.publishPointer('durable', directPointer('alpha'), { metadata: { build: '7' } });
    const { replayed: _b, ...b } = await c.publishPointer('durable', blob, { scopes: [{ region: 'eu' }] });
    await c.pin('durable', 1n, { reason: 'lkg', createdBy: 'ops' });
    const topicBefore = await c.getTopic('durable');
    await first.stop();

    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const d = second.client;
      expect(await d.getTopic('durable')).toEqual(topicBefore);
      expect(await d.getVersion('durable', 1n)).toEqual(a);
      expect(await d.getVersion('durable', 2n)).toEqual(b);
      expect((await d.listPins('durable')).map((p) => [p.version, p.reason, p.createdBy])).toEqual([[1n, 'lkg', 'ops']]);
      expect((await d.publishPointer('durable', directPointer('gamma'))).version).toBe(3n);
    } finally {
      await second.stop();
    }
  });

  it('a corrupt database in the data dir is an error at start-up, never an empty store', async () => {
    const first = await startTestServer();
    const dataDir = first.dataDir;
    await first.stop();
    fs.writeFileSync(path.join(dataDir, 'imprint.db'), Buffer.alloc(64 * 1024, 0x5a));
    fs.rmSync(path.join(dataDir, 'imprint.db-wal'), { force: true });
    await expect(startTestServer({ dataDir })).rejects.toThrow(/cannot open the metadata store/);
  });

  it('a data dir that is a file is an error at start-up', async () => {
    const notADir = path.join(tempDir(), 'imprint-data');
    fs.writeFileSync(notADir, 'oops');
    await expect(startTestServer({ dataDir: notADir })).rejects.toThrow(/data dir .*imprint-data is not a writable directory/);
  });
});
