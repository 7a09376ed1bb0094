/**
 * Cassandra faults through the real server and its gRPC contract. This file runs its own
 * Cassandra (it has to stop it) on a port it picks, never the shared one of the project:
 *
 * 1. The server starts while nothing listens on that port: it binds, says so in its log,
 *    answers health NOT_SERVING and every other call UNAVAILABLE, quickly; then Cassandra
 *    starts on that port and the server connects by itself (health SERVING, calls work).
 * 2. Cassandra is stopped under the running server: calls fail UNAVAILABLE (never hang past
 *    the driver's timeout), health goes NOT_SERVING; a new, empty Cassandra starts on the same
 *    port and the server recovers without a restart (keyspace re-created, publishes work).
 * 3. Cassandra hangs (SIGSTOP: its connections stay open, so the driver never sees it go
 *    down): after a few requests in a row got no answer, health turns NOT_SERVING; after
 *    SIGCONT it is SERVING again. The consume instance stays SERVING on its table throughout.
 * 4. Cassandra hangs (SIGSTOP) under a publish until the client's deadline has long passed,
 *    then goes on (SIGCONT) and applies what it was sent (the publish's change-feed hint, which
 *    goes before its conditional write; a conditional write that Cassandra applies after the
 *    client gave up is in cassandra-store.test.ts): the Publisher, retrying with its publish
 *    id, ends with exactly one version, whose payload is there.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, fetchPayload } from '../../client/index.js';
import { ImprintError, MAX_DIRECT_BYTES } from '../../core/index.js';
import type { CassandraMetadataStore } from '../../server/store/cassandra.js';
import { backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { freePort } from '../../scripts/backends/launcher.js';
import { createLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer, type ServerOptions } from '../../server/index.js';
import { directPointer, identity, tempDir } from '../helpers.js';

const ctx = createContext();
/** gRPC deadline of the test client: far above the store's 8 s request timeout, so a hang shows as DEADLINE_EXCEEDED. */
const DEADLINE_MS = 20_000;

type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';
type HealthClient = grpc.Client & { Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: HealthStatus }) => void): void };

function healthClient(address: string): HealthClient {
  const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
  const Health = (grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: typeof grpc.Client } } } }).grpc.health.v1.Health;
  return new Health(address, grpc.credentials.createInsecure()) as HealthClient;
}

function health(hc: HealthClient, service = ''): Promise<HealthStatus | undefined> {
  return new Promise((resolve, reject) => hc.Check({ service }, (err, res) => (err ? reject(err) : resolve(res?.status))));
}

/** The server's log, shown when a wait fails. */
let logLines: string[] = [];

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms; the server's log ended with:\n${logLines.slice(-40).join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The call's outcome: 'ok', or the gRPC status name the server answered, and how long it took. */
async function outcome(p: Promise<unknown>): Promise<{ status: string; ms: number; message: string }> {
  const t0 = Date.now();
  try {
    await p;
    return { status: 'OK', ms: Date.now() - t0, message: '' };
  } catch (err) {
    expect(err).toBeInstanceOf(ImprintError);
    const cause = (err as ImprintError).cause as Partial<grpc.ServiceError> | undefined;
    return { status: grpc.status[cause?.code ?? grpc.status.UNKNOWN], ms: Date.now() - t0, message: (err as Error).message };
  }
}

describe('the server on Cassandra, through faults', () => {
  let port: number;
  let server: ImprintServer;
  let client: ImprintClient;
  let hc: HealthClient;
  let cassandra: RunningBackend | undefined;
  /** A consume instance on the same Cassandra: polls from its table, through the faults. */
  let consume: ImprintServer;
  let consumeClient: ImprintClient;
  let consumeHc: HealthClient;

  beforeAll(async () => {
    port = await freePort();
    logLines = [];
    /** A server on the Cassandra at `port` (not started yet), logging into logLines with `tag`. */
    const onCassandra = (tag: string): ServerOptions => ({
      dataDir: tempDir(),
      port: 0,
      log: createLogger({ level: 'debug', format: 'pretty', destination: { write: (line) => logLines.push(`${tag}${line}`) } }),
      store: 'cassandra',
      cassandra: {
        contactPoints: `127.0.0.1:${port}`,
        localDataCenter: 'datacenter1',
        keyspace: 'imprint_faults',
        replication: '{"class":"SimpleStrategy","replication_factor":1}',
        reconnectBaseMs: 250,
        reconnectMaxMs: 1000,
      },
    });
    server = await startImprintServer(onCassandra(''));
    const address = `127.0.0.1:${server.port}`;
    client = new ImprintClient({ address, deadlineMs: DEADLINE_MS });
    hc = healthClient(address);
    consume = await startImprintServer({ ...onCassandra('[consume] '), role: 'consume', refreshMs: 300 });
    consumeClient = new ImprintClient({ address: `127.0.0.1:${consume.port}`, deadlineMs: DEADLINE_MS });
    consumeHc = healthClient(`127.0.0.1:${consume.port}`);
  });

  afterAll(async () => {
    consumeHc?.close();
    consumeClient?.close();
    await consume?.stop();
    hc?.close();
    client?.close();
    await server?.stop();
    await cassandra?.stop();
  });

  it('starts while Cassandra is down: logs it, health NOT_SERVING, calls UNAVAILABLE; connects when Cassandra comes up', async () => {
    await waitFor('a log line saying Cassandra is not reachable', async () => logLines.some((l) => /WARN.*cassandra is not reachable.*attempt=2/.test(l)), 10_000);
    expect(logLines.find((l) => l.includes('cassandra is not reachable'))).toContain(`127.0.0.1:${port}`);
    expect(await health(hc)).toBe('NOT_SERVING');
    expect(await health(hc, 'imprint.v1.PublisherService')).toBe('NOT_SERVING');
    expect(await health(consumeHc)).toBe('NOT_SERVING');
    expect((await outcome(consumeClient.poll('early', identity(), 0n))).status).toBe('UNAVAILABLE');
    for (const call of [
      client.createTopic({ name: 'early' }),
      client.poll('early', identity(), 0n),
      client.publishPointer('early', directPointer('x')),
      client.listTopics(),
    ]) {
      const r = await outcome(call);
      expect(r.status).toBe('UNAVAILABLE');
      expect(r.message).toMatch(/Cassandra at 127\.0\.0\.1:\d+ .*is not connected/);
      expect(r.ms).toBeLessThan(2000);
    }

    cassandra = await backends.cassandra.start(ctx, { port });
    const ms = await waitFor('health SERVING after Cassandra started', async () => (await health(hc)) === 'SERVING', 30_000);
    ctx.log(`faults: the server connected ${ms} ms after Cassandra was ready`);
    expect(logLines.some((l) => /INFO.*cassandra connected/.test(l))).toBe(true);
    await client.createTopic({ name: 'model', owner: 'trust' });
    expect((await client.publishPointer('model', directPointer('v1'))).version).toBe(1n);
    expect((await client.poll('model', identity(), 0n)).record?.version).toBe(1n);
    // The consume instance: NOT_SERVING until its table has been read once, then polls from it.
    await waitFor('the consume instance SERVING after its first table', async () => (await health(consumeHc)) === 'SERVING', 30_000);
    await waitFor('the consume instance sees v1', async () => (await consumeClient.poll('model', identity(), 0n)).record?.version === 1n, 10_000);
  }, 240_000);

  it('answers UNAVAILABLE (without hanging) while Cassandra is stopped, and recovers without a restart when it is back', async () => {
    expect(cassandra).toBeDefined();
    const running = cassandra as RunningBackend;
    // Polls keep coming while Cassandra shuts down: each one is answered, OK or UNAVAILABLE, never left hanging.
    const during: Array<{ status: string; ms: number }> = [];
    let stopping = true;
    const poller = (async () => {
      while (stopping) {
        during.push(await outcome(client.poll('model', identity(), 0n)));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await running.stop();
    cassandra = undefined;
    stopping = false;
    await poller;
    expect(during.length).toBeGreaterThan(0);
    const count = (st: string) => during.filter((r) => r.status === st).length;
    ctx.log(`faults: ${during.length} polls while Cassandra stopped: ${count('OK')} OK, ${count('UNAVAILABLE')} UNAVAILABLE, slowest ${Math.max(...during.map((r) => r.ms))} ms`);
    for (const r of during) {
      expect(['OK', 'UNAVAILABLE']).toContain(r.status);
      expect(r.ms).toBeLessThan(9_000);
    }

    // Down: every kind of call fails fast with UNAVAILABLE naming Cassandra; health follows.
    for (const call of [
      client.poll('model', identity(), 0n),
      client.publishPointer('model', directPointer('v2')),
      client.getVersion('model', 1n),
      client.createTopic({ name: 'while-down' }),
      client.pin('model', 1n),
    ]) {
      const r = await outcome(call);
      ctx.log(`faults: while down: ${r.status} in ${r.ms} ms: ${r.message}`);
      expect(r.status).toBe('UNAVAILABLE');
      expect(r.message).toMatch(/Cassandra at 127\.0\.0\.1:\d+/);
      expect(r.ms).toBeLessThan(9_000);
    }
    await waitFor('health NOT_SERVING while Cassandra is down', async () => (await health(hc)) === 'NOT_SERVING', 15_000);
    // The consume instance keeps answering polls from its last table, and says it serves.
    await waitFor('the consume table has failed to refresh', async () => (consume.table?.stats().refreshFailures ?? 0) > 0, 15_000);
    for (let i = 0; i < 5; i++) {
      const r = await consumeClient.poll('model', identity({ app: 'scorer' }), 0n);
      expect(r.record?.version).toBe(1n);
    }
    expect((await consumeClient.poll('model', identity(), 1n)).record).toBeUndefined();
    expect(await health(consumeHc, 'imprint.v1.ConsumerService')).toBe('SERVING');
    expect(logLines.some((l) => l.startsWith('[consume]') && l.includes('poll table refresh failed; serving the previous table'))).toBe(true);

    // Back on the same port, empty (a new node): the server reconnects, re-creates its keyspace, serves.
    const recoveries = () => logLines.filter((l) => l.startsWith('[consume]') && l.includes('poll table refresh works again')).length;
    const recoveriesBefore = recoveries(); // test 1 logged one already
    cassandra = await backends.cassandra.start(ctx, { port });
    const ms = await waitFor('health SERVING again', async () => (await health(hc)) === 'SERVING', 30_000);
    ctx.log(`faults: the server saw Cassandra again ${ms} ms after it was ready`);
    await waitFor('calls work again', async () => (await outcome(client.createTopic({ name: 'model', owner: 'trust' }))).status === 'OK', 30_000);
    expect((await client.publishPointer('model', directPointer('after'))).version).toBe(1n);
    expect((await client.poll('model', identity(), 0n)).record?.version).toBe(1n);
    expect((await client.listTopics()).map((t) => t.name)).toEqual(['model']);
    // The consume instance follows the new store: its table refreshes, the new v1 is served.
    await waitFor('the consume instance refreshes from the new Cassandra', async () => recoveries() > recoveriesBefore, 30_000);
    // Within a refresh (300 ms) of the publish: the new store's v1, not the old one's.
    await waitFor('the consume instance serves the new v1', async () => (await consumeClient.poll('model', identity(), 0n)).record?.version === 1n, 10_000);
    const fresh = await consumeClient.poll('model', identity(), 0n);
    expect(fresh.record?.pointer.kind === 'direct' && Buffer.from(fresh.record.pointer.bytes).toString()).toBe('after');
  }, 240_000);

  it('hung (SIGSTOP): health turns NOT_SERVING after a few requests got no answer, and SERVING again after SIGCONT', async () => {
    expect(cassandra).toBeDefined();
    const group = -(cassandra as RunningBackend).pid; // the launcher starts it in a process group of its own
    expect(await health(hc)).toBe('SERVING');
    const requestTimeoutMs = server.options.cassandra?.requestTimeoutMs ?? NaN;
    const timeouts = server.options.cassandra?.timeoutsBeforeUnavailable ?? NaN;
    // Polls keep coming, a few at a time, as traffic does; each waits out the request timeout.
    let polling = true;
    const inFlight = new Set<Promise<unknown>>();
    const poller = (async () => {
      while (polling) {
        if (inFlight.size < 4) {
          const p = outcome(client.poll('model', identity(), 0n)).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const stoppedAt = Date.now();
    process.kill(group, 'SIGSTOP');
    try {
      // The first timeouts come one request timeout after the stop; a few in a row suffice.
      const ms = await waitFor('health NOT_SERVING while Cassandra hangs', async () => (await health(hc)) === 'NOT_SERVING', requestTimeoutMs * 2 + 10_000);
      ctx.log(`faults: hung Cassandra: health NOT_SERVING ${ms} ms after SIGSTOP (request timeout ${requestTimeoutMs} ms, ${timeouts} timeouts in a row)`);
      expect(await health(hc, 'imprint.v1.PublisherService')).toBe('NOT_SERVING');
      expect(logLines.some((l) => l.includes('cassandra does not answer'))).toBe(true);
      // The consume instance answers from its table, and says it serves.
      expect((await consumeClient.poll('model', identity(), 0n)).record?.version).toBe(1n);
      expect(await health(consumeHc, 'imprint.v1.ConsumerService')).toBe('SERVING');
    } finally {
      process.kill(group, 'SIGCONT');
      ctx.log(`faults: Cassandra was hung for ${Date.now() - stoppedAt} ms`);
    }
    const back = await waitFor('health SERVING after SIGCONT', async () => (await health(hc)) === 'SERVING', requestTimeoutMs + 20_000);
    ctx.log(`faults: health SERVING ${back} ms after SIGCONT`);
    polling = false;
    await poller;
    await Promise.all(inFlight);
    expect((await client.poll('model', identity(), 0n)).record?.version).toBe(1n);
  }, 240_000);

  it('a publish under a Cassandra that hangs past the client\'s deadline (SIGSTOP, then SIGCONT) ends as one version with its payload', async () => {
    expect(cassandra).toBeDefined();
    const running = cassandra as RunningBackend;
    const store = server.store as CassandraMetadataStore;
    await client.createTopic({ name: 'late' });
    // A first version: the server then knows the topic's counter and goes straight to the conditional write.
    await client.publishPointer('late', directPointer('v1'), { publishId: 'late-0' });
    // The blob directory the server has (it may check that a pointer's objects are there).
    const blobs = new LocalBlobStore({ root: server.options.blobDir });
    // A publisher whose calls give up after 2 s, retrying with its publish id for up to 90 s.
    const hasty = new ImprintClient({ address: `127.0.0.1:${server.port}`, deadlineMs: 2_000, maxReconnectBackoffMs: 500 });
    try {
      const publisher = new Publisher({ client: hasty, blobStores: [blobs], retryBudgetMs: 90_000, retryMinMs: 500, retryMaxMs: 2_000 });
      const payload = randomBytes(MAX_DIRECT_BYTES + 1);
      let outcome: Promise<unknown> | undefined;
      process.kill(running.pid, 'SIGSTOP');
      try {
        outcome = publisher.publish('late', payload, { publishId: 'late-1', metadata: { build: 'late-1' } }).then(
          (r) => r,
          (err: unknown) => err,
        );
        // The server's writes (each attempt's feed hint first) went out and got no answer within
        // the driver's timeout (8 s), three in a row, so the store counts as unavailable: by then
        // the publisher's 2 s deadline has long passed, with Cassandra holding the writes.
        await waitFor('the server to give up on its writes', async () => !store.isAvailable, 60_000);
      } finally {
        process.kill(running.pid, 'SIGCONT');
      }
      const result = await outcome;
      ctx.log(`faults: late publish: ${result instanceof Error ? `failed: ${result.message}` : `v${(result as { version: bigint }).version}, replayed=${String((result as { replayed: boolean }).replayed)}`}`);
      // Cassandra committed what it held: exactly one version of the publish, and its payload is there.
      await waitFor('the late publish in the store', async () => (await client.listVersions('late')).versions.length >= 2, 30_000);
      const versions = (await client.listVersions('late')).versions;
      expect(versions.map((v) => [v.version, v.metadata.build])).toEqual([
        [2n, 'late-1'],
        [1n, undefined],
      ]);
      expect((await fetchPayload(versions[0] as (typeof versions)[number], [blobs])).equals(payload)).toBe(true);
      expect(result).toMatchObject({ version: 2n });
    } finally {
      hasty.close();
    }
  }, 240_000);
});
