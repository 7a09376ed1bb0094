/**
 * `startImprintServer` in its three roles, as `imprint serve --role` runs it: a publish
 * instance and consume instances on one data dir (SQLite in WAL mode takes several
 * processes, and here several servers in one). Consume answers polls from its poll table
 * (stale until the table is refreshed), refuses Publisher and Operator calls, throttles per
 * application and serves metrics; publish refuses Consumer calls.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkHealth } from '../../client/health.js';
import { ImprintClient } from '../../client/imprint-client.js';
import { ImprintError } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { readAuditFile, startImprintServer, withDefaults, type ImprintServer } from '../../server/index.js';
import { directPointer, identity, tempDir } from '../helpers.js';

async function errorOf(p: Promise<unknown>): Promise<ImprintError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ImprintError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('serve --role', () => {
  const dataDir = tempDir();
  let publish: ImprintServer;
  /** Refreshes only when told (600 s): shows what is answered from the table. */
  let consume: ImprintServer;
  let pub: ImprintClient;
  let con: ImprintClient;
  const startedAt = Date.now();

  beforeAll(async () => {
    publish = await startImprintServer({ dataDir, port: 0, role: 'publish', log: silentLogger });
    pub = new ImprintClient({ address: `127.0.0.1:${publish.port}` });
    await pub.createTopic({ name: 'model', owner: 'trust' });
    await pub.publishPointer('model', directPointer('v1'));
    consume = await startImprintServer({ dataDir, port: 0, role: 'consume', refreshMs: 600_000, tailMs: 600_000, metricsPort: 0, log: silentLogger });
    con = new ImprintClient({ address: `127.0.0.1:${consume.port}`, deadlineMs: 3000 });
  });
  afterAll(async () => {
    pub.close();
    con.close();
    await consume.stop();
    await publish.stop();
  });

  it('defaults to all, and checks role and refresh-ms', () => {
    expect(withDefaults({}).role).toBe('all');
    expect(withDefaults({}).refreshMs).toBe(300_000);
    expect(withDefaults({}).tailMs).toBe(100);
    expect(() => withDefaults({ role: 'reader' as never })).toThrow(/role must be one of publish, consume, all/);
    expect(() => withDefaults({ refreshMs: 50 })).toThrow(/refresh-ms must be a whole number of milliseconds from 100 to 600000/);
    expect(() => withDefaults({ port: 7000, metricsPort: 7000 })).toThrow(/metrics-port must differ from the gRPC port/);
  });

  it('serves and reports only the services of its role', async () => {
    expect(publish.grpc.services).toEqual(['imprint.v1.PublisherService', 'imprint.v1.OperatorService']);
    expect(consume.grpc.services).toEqual(['imprint.v1.ConsumerService']);
    const at = (s: ImprintServer) => `127.0.0.1:${s.port}`;
    expect(await checkHealth(at(consume))).toBe('SERVING');
    expect(await checkHealth(at(consume), 'imprint.v1.ConsumerService')).toBe('SERVING');
    expect(await checkHealth(at(consume), 'imprint.v1.PublisherService')).toBe('SERVICE_UNKNOWN');
    expect(await checkHealth(at(publish), 'imprint.v1.OperatorService')).toBe('SERVING');
    expect(await checkHealth(at(publish), 'imprint.v1.ConsumerService')).toBe('SERVICE_UNKNOWN');
  });

  it('a publish instance refuses polls but answers reads, a consume instance refuses writes and pins, and neither changes anything', async () => {
    expect((await errorOf(pub.poll('model', identity(), 0n))).message).toMatch(/does not serve this call \(UNIMPLEMENTED.*point the address at an instance of the right role/);
    expect((await errorOf(con.createTopic({ name: 'other', owner: 'x' }))).message).toMatch(/does not serve this call \(UNIMPLEMENTED.*point the address at an instance of the right role/);
    expect((await errorOf(con.pin('model', 1n, { reason: 'r', createdBy: 'me' }))).message).toMatch(/does not serve this call \(UNIMPLEMENTED.*point the address at an instance of the right role/);
    expect((await errorOf(pub.batchPoll(identity(), [{ topic: 'model', lastSeen: 0n }]))).message).toMatch(/publish-role instance: polls go to a consume-role/);
    expect((await pub.listPins('model')).length).toBe(0);
    expect((await pub.listVersions('model')).versions.map((v) => v.version)).toContain(1n);
    expect((await con.listTopics()).map((t) => t.name)).toEqual(['model']);
  });

  it('answers polls from its table, not the store: a publish shows after the next refresh', async () => {
    const table = consume.table;
    if (!table) throw new Error('a consume instance has a poll table');
    const before = table.stats();
    for (let i = 0; i < 20; i++) expect((await con.poll('model', identity({ app: 'scorer' }), 0n)).record?.version).toBe(1n);
    const after = table.stats();
    expect(after.storeReads.pollState).toBe(before.storeReads.pollState);
    expect(after.hits - before.hits).toBe(20);

    await pub.publishPointer('model', directPointer('v2'));
    // Still the table's answer: the refresh has not run.
    expect((await con.poll('model', identity({ app: 'scorer' }), 1n)).record).toBeUndefined();
    const refreshed = await table.refresh();
    expect(refreshed.ok).toBe(true);
    expect((await con.poll('model', identity({ app: 'scorer' }), 1n)).record?.version).toBe(2n);
  });

  it('refreshes on its own every refresh-ms (the feed not read meanwhile)', async () => {
    const quick = await startImprintServer({ dataDir, port: 0, role: 'consume', refreshMs: 100, tailMs: 600_000, log: silentLogger });
    const client = new ImprintClient({ address: `127.0.0.1:${quick.port}` });
    try {
      const latest = async () => (await client.poll('model', identity(), 0n)).record?.version;
      const start = await latest();
      await pub.publishPointer('model', directPointer('v-next'));
      await vi.waitFor(async () => expect(await latest()).toBe((start ?? 0n) + 1n), { timeout: 5000, interval: 50 });
      expect(quick.table?.stats().refreshes).toBeGreaterThan(1);
    } finally {
      client.close();
      await quick.stop();
    }
  });

  it('audits the nodes it answers (a hold event on first sight), as every role does', async () => {
    await con.poll('model', identity({ app: 'audited', nodeId: 'n1' }), 0n);
    await consume.audit.flush?.();
    const events = readAuditFile(consume.options.auditFile);
    expect(events.some((e) => e.kind === 'hold' && e.identity.app === 'audited' && e.identity.nodeId === 'n1')).toBe(true);
  });

  it('serves Prometheus metrics: requests by method and outcome, table age and size, per-app limits', async () => {
    await con.batchPoll(identity({ app: 'scorer' }), [{ topic: 'model', lastSeen: 0n }]);
    const port = consume.metricsServer?.port;
    expect(port).toBeGreaterThan(0);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^imprint_consume_requests_total\{method="Poll",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^imprint_consume_requests_total\{method="BatchPoll",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^imprint_consume_requests_total\{method="ListTopics",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^imprint_consume_table_topics 1$/m);
    expect(text).toMatch(/^imprint_consume_table_age_seconds \d/m);
    // When it was current, as a time: since this process started and not in the future.
    const refreshedAt = Number(/^imprint_consume_table_refreshed_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    expect(refreshedAt).toBeGreaterThanOrEqual(startedAt / 1000);
    expect(refreshedAt).toBeLessThanOrEqual(Date.now() / 1000);
    expect(text).toMatch(/^imprint_consume_app_concurrency_limit\{app="scorer"\} \d+$/m);
  });

  it('names the calling application to the limiter from the poll identity', async () => {
    await con.poll('model', identity({ app: 'fraud-scorer' }), 0n);
    expect(consume.limiter?.state('fraud-scorer')).toMatchObject({ app: 'fraud-scorer', inflight: 0 });
  });

  it('clients of an address list spread over the consume replicas, each keeps to one, and moves on past one that is down', async () => {
    const second = await startImprintServer({ dataDir, port: 0, role: 'consume', refreshMs: 600_000, log: silentLogger });
    const addresses = `127.0.0.1:${consume.port}, 127.0.0.1:${second.port}`;
    const hits = () => [consume.table?.stats().hits ?? 0, second.table?.stats().hits ?? 0] as const;
    const clients: ImprintClient[] = [];
    try {
      // 1. Twenty clients, each starting at the address its `random` picks: ten on each.
      const [a0, b0] = hits();
      for (let i = 0; i < 20; i++) {
        const c = new ImprintClient({ address: addresses, deadlineMs: 3000, random: () => i / 20 });
        clients.push(c);
        await c.poll('model', identity({ app: 'spread' }), 0n);
      }
      const [a1, b1] = hits();
      expect([a1 - a0, b1 - b0]).toEqual([10, 10]);

      // 2. One client keeps to its replica.
      const client = new ImprintClient({ address: addresses, deadlineMs: 3000, random: () => 0.99 });
      clients.push(client);
      expect(client.addresses).toEqual([`127.0.0.1:${consume.port}`, `127.0.0.1:${second.port}`]);
      for (let i = 0; i < 10; i++) await client.poll('model', identity({ app: 'spread' }), 0n);
      const [a2, b2] = hits();
      expect([a2 - a1, b2 - b1]).toEqual([0, 10]);

      // 3. Its replica goes away: every poll is still answered, by the other, which it keeps to.
      await second.stop();
      for (let i = 0; i < 6; i++) expect((await client.poll('model', identity({ app: 'spread' }), 0n)).record).toBeDefined();
      expect((consume.table?.stats().hits ?? 0) - a2).toBe(6);
    } finally {
      for (const c of clients) c.close();
      await second.stop();
    }
  });

  it('refuses a malformed address list before connecting', () => {
    expect(() => new ImprintClient({ address: '127.0.0.1:1,nohost' })).toThrow(/address must be host:port entries \(port 1-65535\) separated by "," \(got "nohost"\)/);
    expect(() => new ImprintClient({ address: ' , ' })).toThrow(/address must be host:port/);
    expect(() => new ImprintClient({ address: 'h:70000' })).toThrow(/port 1-65535/);
  });

  it('does not send a write to a second address when the first did not answer', async () => {
    const client = new ImprintClient({ address: `127.0.0.1:1,127.0.0.1:${publish.port}`, deadlineMs: 3000, random: () => 0 });
    try {
      const err = await errorOf(client.createTopic({ name: 'once', owner: 'x' }));
      expect(err.code).toBe('UNAVAILABLE');
      expect((await pub.listTopics()).map((t) => t.name)).not.toContain('once');
      // The failed address is left: the next call goes to the other one and works.
      expect((await client.createTopic({ name: 'once', owner: 'x' })).name).toBe('once');
    } finally {
      client.close();
    }
  });

  it('a publish or all instance has no table and no limiter', () => {
    expect(publish.table).toBeUndefined();
    expect(publish.limiter).toBeUndefined();
  });
});
