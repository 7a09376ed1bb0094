/**
 * Servers on one real Cassandra (IMPRINT_CASSANDRA, started by the project's globalSetup)
 * following its change feed, each with its own driver session as separate processes would
 * have: publish, add scopes, pin and unpin made through a publish-role server reach Poll on
 * two consume-role servers through the feed (default refresh-ms: the 5-minute safety net never
 * runs during the test), and each one's change hub speaks; two all-role servers hear each
 * other's changes. A keyspace of its own; names carry a run prefix.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ImprintClient } from '../../client/imprint-client.js';
import { silentLogger } from '../../log/index.js';
import { CassandraMetadataStore, cassandraWithDefaults, startImprintServer, type ImprintServer, type PollChanges, type Role } from '../../server/index.js';
import { MemoryAuditSink, directPointer, identity, tempDir } from '../helpers.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

const KEYSPACE = 'imprint_feed_tail';
const soon = { timeout: 20_000, interval: 20 };
const run = `t${randomUUID().slice(0, 8)}-`;

function listen(changes: PollChanges | undefined): string[] {
  if (!changes) throw new Error('this server answers polls, so it has a change hub');
  const heard: string[] = [];
  changes.subscribe((t) => heard.push(t));
  return heard;
}

interface Instance {
  readonly server: ImprintServer;
  readonly client: ImprintClient;
  readonly store: CassandraMetadataStore;
}

async function start(role: Role): Promise<Instance> {
  const store = await CassandraMetadataStore.open(
    cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: KEYSPACE, replication: '{"class":"SimpleStrategy","replication_factor":1}' }),
  );
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, role, metadataStore: store, auditSink: new MemoryAuditSink(), log: silentLogger });
  return { server, store, client: new ImprintClient({ address: `127.0.0.1:${server.port}`, deadlineMs: 10_000 }) };
}

async function stop(...instances: (Instance | undefined)[]): Promise<void> {
  for (const i of instances) {
    if (!i) continue;
    i.client.close();
    await i.server.stop();
    await i.store.close();
  }
}

describe('consume-role servers on Cassandra follow the change feed', () => {
  let pub: Instance | undefined;
  let consumers: Instance[] = [];

  beforeAll(async () => {
    pub = await start('publish');
    consumers = [await start('consume'), await start('consume')];
  }, 120_000);
  afterAll(async () => {
    await stop(pub, ...consumers);
  });

  it('publish, add scopes, pin and unpin reach Poll on both consume instances, each with a word after its table holds it', async () => {
    if (!pub) throw new Error('not started');
    const p = pub.client;
    const topic = `${run}model`;
    const eu = identity({ app: 'scorer', region: 'eu-west-1' });
    const us = identity({ app: 'scorer', region: 'us-east-1' });
    const heard = consumers.map((c) => listen(c.server.changes));
    // Each word, with what Poll answered at that moment on the instance that gave it.
    const answers: string[][] = consumers.map(() => []);
    const polled = async (c: Instance, who = eu) => {
      const a = await c.client.poll(topic, who, 0n);
      return `v${a.record?.version ?? '-'}${a.pinned ? ' pinned' : ''}`;
    };
    consumers.forEach((c, i) => c.server.changes?.subscribe((t) => void (t === topic && polled(c).then((a) => answers[i]?.push(a)))));
    const everywhere = async (expected: string, who = eu) => {
      for (const c of consumers) await vi.waitFor(async () => expect(await polled(c, who)).toBe(expected), soon);
    };

    await p.createTopic({ name: topic, owner: 'trust' });
    await p.publishPointer(topic, directPointer('v1'));
    await everywhere('v1');
    await p.publishPointer(topic, directPointer('v2'), { scopes: [{ region: 'eu-west-1' }] });
    await everywhere('v2');
    await everywhere('v1', us);
    await p.addScopes(topic, 2n, [{ region: 'us-east-1' }]);
    await everywhere('v2', us);
    await p.pin(topic, 1n, { reason: 'bad v2' });
    await everywhere('v1 pinned');
    await p.unpin(topic);
    await everywhere('v2');

    // Cassandra may give an entry more than once (a hint, its confirmation): a word comes for
    // each change that changed the table, and none tells of a state the table did not hold.
    for (const [i, c] of consumers.entries()) {
      await vi.waitFor(() => expect(answers[i]?.at(-1)).toBe('v2'), soon);
      expect(answers[i]).toContain('v1 pinned');
      expect(heard[i]?.filter((t) => t === topic).length).toBeGreaterThanOrEqual(4);
      expect(c.server.table?.feed.stats().rereads).toEqual({ start: 1, interval: 0, 'cursor-too-old': 0, failure: 0 });
    }
  }, 120_000);
});

describe('two all-role servers on one Cassandra', () => {
  let a: Instance | undefined;
  let b: Instance | undefined;
  beforeAll(async () => {
    a = await start('all');
    b = await start('all');
  }, 120_000);
  afterAll(async () => {
    await stop(a, b);
  });

  it("each hears the other's changes", async () => {
    if (!a || !b) throw new Error('not started');
    const heardA = listen(a.server.changes);
    const heardB = listen(b.server.changes);
    const topic = `${run}shared`;
    await a.client.createTopic({ name: topic, owner: 'o' });
    await a.client.publishPointer(topic, directPointer('s1'));
    await vi.waitFor(() => expect(heardB).toContain(topic), soon);
    const n = heardA.filter((t) => t === topic).length;
    await b.client.pin(topic, 1n, { reason: 'hold' });
    await vi.waitFor(() => expect(heardA.filter((t) => t === topic).length).toBeGreaterThan(n), soon);
  }, 120_000);
});
