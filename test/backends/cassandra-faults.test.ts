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
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { ImprintError } from '../../core/index.js';
import { backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { freePort } from '../../scripts/backends/launcher.js';
import { createLogger, startImprintServer, type ImprintServer } from '../../server/index.js';
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

  beforeAll(async () => {
    port = await freePort();
    logLines = [];
    server = await startImprintServer({
      dataDir: tempDir(),
      port: 0,
      log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
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
    const address = `127.0.0.1:${server.port}`;
    client = new ImprintClient({ address, deadlineMs: DEADLINE_MS });
    hc = healthClient(address);
  });

  afterAll(async () => {
    hc?.close();
    client?.close();
    await server?.stop();
    await cassandra?.stop();
  });

  it('starts while Cassandra is down: logs it, health NOT_SERVING, calls UNAVAILABLE; connects when Cassandra comes up', async () => {
    await waitFor('a log line saying Cassandra is not reachable', async () => logLines.some((l) => /WARN.*cassandra is not reachable.*attempt=2/.test(l)), 10_000);
    expect(logLines.find((l) => l.includes('cassandra is not reachable'))).toContain(`127.0.0.1:${port}`);
    expect(await health(hc)).toBe('NOT_SERVING');
    expect(await health(hc, 'imprint.v1.Publisher')).toBe('NOT_SERVING');
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

    // Back on the same port, empty (a new node): the server reconnects, re-creates its keyspace, serves.
    cassandra = await backends.cassandra.start(ctx, { port });
    const ms = await waitFor('health SERVING again', async () => (await health(hc)) === 'SERVING', 30_000);
    ctx.log(`faults: the server saw Cassandra again ${ms} ms after it was ready`);
    await waitFor('calls work again', async () => (await outcome(client.createTopic({ name: 'model', owner: 'trust' }))).status === 'OK', 30_000);
    expect((await client.publishPointer('model', directPointer('after'))).version).toBe(1n);
    expect((await client.poll('model', identity(), 0n)).record?.version).toBe(1n);
    expect((await client.listTopics()).map((t) => t.name)).toEqual(['model']);
  }, 240_000);
});
