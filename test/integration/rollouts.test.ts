/**
 * Rollouts through gRPC on a real server (SQLite), with plain grpc-js clients: the topic's
 * policy on create and update; a publish starting a rollout that reaches only its first step's
 * consumers (Poll, BatchPoll, Watch); a step applied through the store (as the driver applies
 * it, with core's advanceMove) reaching the watchers in its scope and no others; cancel moving
 * watchers and pollers back (rolled_back); the operator verbs and their refusals; consumer
 * outcomes from polls, Watch and Report landing in the store once per change; the consume
 * role's table following rollouts; a consumer-only principal refused the verbs.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceMove, webhookPassedMove, type Rollout, type RolloutMove } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { SqliteMetadataStore, startImprintServer, type ImprintServer, type MetadataStore } from '../../server/index.js';
import { authenticate, caller, clientsFor, closeClients, eventually, type Answer } from '../access-calls.js';
import { CountingStore } from '../counting-store.js';
import { MemoryAuditSink, directPointer, tempDir, until } from '../helpers.js';

const wire = (text: string) => {
  const p = directPointer(text);
  return { size: p.size, sha256: p.sha256, direct: Buffer.from(text) };
};

/** canary cluster, then us-east-1, then everyone; bakes long enough that nothing moves on its own (no driver runs here). */
const POLICY = {
  steps: [
    { scopes: [{ match: { cluster: 'canary' } }], bakeMs: 3_600_000, gates: [] },
    { scopes: [{ match: { region: 'us-east-1' } }], bakeMs: 3_600_000 },
    { scopes: [], bakeMs: 3_600_000 },
  ],
};

const CANARY = { app: 'scorer', nodeId: 'c1', cluster: 'canary', region: 'us-west-2' };
const EAST = { app: 'scorer', nodeId: 'e1', cluster: 'main', region: 'us-east-1' };
const WEST = { app: 'scorer', nodeId: 'w1', cluster: 'main', region: 'us-west-2' };

type Rpc = ReturnType<typeof caller>;

function ok(a: Answer, what: string): Record<string, unknown> {
  expect(a.code, `${what}: ${a.details}`).toBe(grpc.status.OK);
  return a.res;
}

/** The version a Poll answered ("none" for no update), with " rolled back" / " pinned". */
async function polled(rpc: Rpc, topic: string, identity: object, lastSeen: bigint | number = 0, who?: string): Promise<string> {
  const res = ok(await rpc('ConsumerService', 'Poll', { topic, identity, lastSeenVersion: String(lastSeen) }, who), 'Poll');
  return updateText(res['update'] as WireUpdate | null);
}

interface WireUpdate {
  record: { version: string } | null;
  pinned: boolean;
  rolledBack: boolean;
}

function updateText(u: WireUpdate | null | undefined): string {
  if (!u?.record) return 'none';
  return `v${u.record.version}${u.rolledBack ? ' rolled back' : ''}${u.pinned ? ' pinned' : ''}`;
}

/** A raw Watch stream: the results it got, as text. */
function watch(port: number, topic: string, identity: object, lastSeen = 0n): { results: string[]; close(): void } {
  const clients = clientsFor(port);
  const consumer = clients.ConsumerService as unknown as { Watch(req: object): grpc.ClientReadableStream<{ result?: { update: WireUpdate | null; errorCode: string } }> };
  const results: string[] = [];
  const call = consumer.Watch({ identity, topics: [{ topic, lastSeenVersion: String(lastSeen) }] });
  call.on('data', (m) => {
    if (m.result) results.push(m.result.errorCode || updateText(m.result.update));
  });
  call.on('error', () => {});
  return {
    results,
    close() {
      call.cancel();
      closeClients(clients);
    },
  };
}

/** A topic with v1 for everyone, then the policy, then v2 published: a rollout of v2 at its first step. */
async function rolloutOf(rpc: Rpc, topic: string, who?: string): Promise<Record<string, unknown>> {
  ok(await rpc('PublisherService', 'CreateTopic', { name: topic, owner: 'ml' }, who), 'CreateTopic');
  ok(await rpc('PublisherService', 'Publish', { topic, pointer: wire('v1') }, who), 'Publish v1');
  ok(await rpc('PublisherService', 'UpdateTopic', { name: topic, rolloutPolicy: POLICY }, who), 'UpdateTopic');
  return ok(await rpc('PublisherService', 'Publish', { topic, pointer: wire('v2') }, who), 'Publish v2');
}

/** An all-role server on a fresh SQLite store (`wrap` may wrap it, e.g. to count its calls), a gRPC caller, and what stops them. */
async function rolloutServer<S extends MetadataStore>(wrap: (s: SqliteMetadataStore) => S) {
  const dir = tempDir();
  const inner = SqliteMetadataStore.open({ file: `${dir}/imprint.db` });
  const store = wrap(inner);
  const server = await startImprintServer({ dataDir: dir, port: 0, log: silentLogger, metadataStore: store, auditSink: new MemoryAuditSink() });
  const clients = clientsFor(server.port);
  const stop = async (): Promise<void> => {
    closeClients(clients);
    await server.stop({ drain: false });
    await inner.close();
  };
  return { inner, store, server, rpc: caller(clients), stop };
}

describe('rollouts through gRPC (all role, SQLite)', () => {
  let store: SqliteMetadataStore;
  let server: ImprintServer;
  let rpc: Rpc;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ store, server, rpc, stop } = await rolloutServer((s) => s));
  });
  afterAll(() => stop?.());

  /** Applies the rollout's next step as the driver does: core's move, the store's compare-and-set. */
  async function step(topic: string): Promise<Rollout> {
    const [r] = await store.listRollouts(topic, { limit: 1 });
    if (!r) throw new Error(`no rollout of ${topic}`);
    const move = advanceMove(r, Date.now());
    const written = await store.changeRollout({ next: move.next, expectedRevision: r.revision, action: move.action, reason: '' }, Date.now());
    if (!written) throw new Error('the rollout moved meanwhile');
    return written;
  }

  it('a topic takes its policy on create and update, checked by core with the wire field names, and gives it back on every Topic', async () => {
    const created = ok(await rpc('PublisherService', 'CreateTopic', { name: 'policy-topic', owner: 'ml', rolloutPolicy: POLICY }), 'CreateTopic');
    const policy = (created['topic'] as { rolloutPolicy: { steps: { percent: number; bakeMs: string }[]; minHoldingPercent: number; webhookTimeoutMs: string } }).rolloutPolicy;
    expect(policy.steps.map((s) => [s.percent, s.bakeMs])).toEqual([
      [100, '3600000'],
      [100, '3600000'],
      [100, '3600000'],
    ]);
    expect([policy.minHoldingPercent, policy.webhookTimeoutMs]).toEqual([90, '5000']);
    const got = ok(await rpc('ConsumerService', 'GetTopic', { name: 'policy-topic' }), 'GetTopic');
    expect((got['topic'] as { rolloutPolicy: unknown }).rolloutPolicy).toEqual(policy);

    const bad = await rpc('PublisherService', 'UpdateTopic', { name: 'policy-topic', rolloutPolicy: { steps: [{ bakeMs: 0 }, { percent: 101, bakeMs: 0 }] } });
    expect([grpc.status[bad.code], bad.details]).toEqual(['INVALID_ARGUMENT', 'rollout_policy.steps[1].percent must be a whole number from 1 to 100 (got 101)']);
    const noUrl = await rpc('PublisherService', 'CreateTopic', { name: 'policy-topic-2', owner: 'ml', rolloutPolicy: { steps: [{ bakeMs: 0, gates: ['ROLLOUT_GATE_WEBHOOK'] }] } });
    expect([grpc.status[noUrl.code], noUrl.details]).toEqual(['INVALID_ARGUMENT', 'rollout_policy.webhook_url is required when a step has a webhook gate']);
    expect((await rpc('ConsumerService', 'GetTopic', { name: 'policy-topic-2' })).code).toBe(grpc.status.NOT_FOUND);

    // A policy with no steps removes it.
    const removed = ok(await rpc('PublisherService', 'UpdateTopic', { name: 'policy-topic', rolloutPolicy: { steps: [] } }), 'UpdateTopic');
    expect((removed['topic'] as { rolloutPolicy: unknown }).rolloutPolicy).toBeNull();
  });

  it('a publish starts a rollout that reaches only its first step (Poll and BatchPoll); explicit scopes or no_rollout reach everyone at once', async () => {
    const published = await rolloutOf(rpc, 'reach');
    expect(published['rollout']).toMatchObject({ topic: 'reach', version: '2', state: 'ROLLOUT_STATE_RUNNING', step: 0 });
    expect([await polled(rpc, 'reach', CANARY), await polled(rpc, 'reach', EAST), await polled(rpc, 'reach', WEST)]).toEqual(['v2', 'v1', 'v1']);
    const batch = ok(await rpc('ConsumerService', 'BatchPoll', { identity: EAST, topics: [{ topic: 'reach', lastSeenVersion: '1' }] }), 'BatchPoll');
    expect((batch['results'] as { update: WireUpdate | null }[]).map((r) => updateText(r.update))).toEqual(['none']);
    const canaryBatch = ok(await rpc('ConsumerService', 'BatchPoll', { identity: CANARY, topics: [{ topic: 'reach', lastSeenVersion: '1' }] }), 'BatchPoll');
    expect((canaryBatch['results'] as { update: WireUpdate | null }[]).map((r) => updateText(r.update))).toEqual(['v2']);

    // no_rollout: v3 at once for everyone; the running rollout is superseded.
    const bypass = ok(await rpc('PublisherService', 'Publish', { topic: 'reach', pointer: wire('v3'), noRollout: true }), 'Publish');
    expect(bypass['rollout']).toBeNull();
    expect(await polled(rpc, 'reach', WEST)).toBe('v3');
    const superseded = ok(await rpc('OperatorService', 'GetRollout', { topic: 'reach', version: '2' }), 'GetRollout');
    expect(superseded['rollout']).toMatchObject({ state: 'ROLLOUT_STATE_SUPERSEDED', reason: 'version 3 was published' });
    // Explicit scopes: no rollout either.
    const scoped = ok(await rpc('PublisherService', 'Publish', { topic: 'reach', pointer: wire('v4'), scopes: [{ match: { region: 'us-west-2' } }] }), 'Publish');
    expect(scoped['rollout']).toBeNull();
    expect([await polled(rpc, 'reach', WEST, 3), await polled(rpc, 'reach', EAST, 3)]).toEqual(['v4', 'none']);
  });

  it('with Watch, a step reaches the watchers in its scope and no others; cancel moves watchers and pollers back (rolled_back)', async () => {
    await rolloutOf(rpc, 'watched');
    const canary = watch(server.port, 'watched', CANARY, 1n);
    const east = watch(server.port, 'watched', EAST, 1n);
    const west = watch(server.port, 'watched', WEST, 1n);
    try {
      await until('the first answers', () => canary.results.length === 1 && east.results.length === 1 && west.results.length === 1);
      expect([canary.results, east.results, west.results]).toEqual([['v2'], ['none'], ['none']]);
      // Step 1 (us-east-1), applied by the store as the driver applies it: its feed entry is the word.
      await step('watched');
      await until('the east watcher gets v2', () => east.results.length === 2);
      expect(east.results).toEqual(['none', 'v2']);
      expect(await polled(rpc, 'watched', EAST, 1)).toBe('v2');
      // Cancel: the version is withdrawn; whoever holds it moves back.
      const cancelled = ok(await rpc('OperatorService', 'CancelRollout', { topic: 'watched', reason: 'bad scores' }), 'CancelRollout');
      expect(cancelled['rollout']).toMatchObject({ state: 'ROLLOUT_STATE_CANCELLED', reason: 'bad scores', rejected: false });
      await until('the canary and east watchers move back', () => canary.results.length === 2 && east.results.length === 3);
      expect([canary.results, east.results]).toEqual([
        ['v2', 'v1 rolled back'],
        ['none', 'v2', 'v1 rolled back'],
      ]);
      // The west watcher was never reached: neither the step nor the cancel sent it anything.
      expect(west.results).toEqual(['none']);
      // A poller holding v2 is moved back too, on Poll and BatchPoll.
      expect(await polled(rpc, 'watched', CANARY, 2)).toBe('v1 rolled back');
      const batch = ok(await rpc('ConsumerService', 'BatchPoll', { identity: EAST, topics: [{ topic: 'watched', lastSeenVersion: '2' }] }), 'BatchPoll');
      expect((batch['results'] as { update: WireUpdate | null }[]).map((r) => updateText(r.update))).toEqual(['v1 rolled back']);
      expect(await polled(rpc, 'watched', WEST, 1)).toBe('none');
    } finally {
      canary.close();
      east.close();
      west.close();
    }
  });

  it('pause, resume, promote and promote --full through the RPCs; each refusal names what is wrong and changes nothing', async () => {
    await rolloutOf(rpc, 'verbs');
    const state = async () => {
      const r = ok(await rpc('OperatorService', 'GetRollout', { topic: 'verbs' }), 'GetRollout')['rollout'] as { state: string; step: number; bakeLeftMs: string; reason: string };
      return `${r.state} ${r.step}`;
    };
    const paused = ok(await rpc('OperatorService', 'PauseRollout', { topic: 'verbs', reason: 'holiday' }), 'PauseRollout')['rollout'] as { state: string; bakeLeftMs: string; reason: string };
    expect(paused.state).toBe('ROLLOUT_STATE_PAUSED');
    expect(paused.reason).toBe('holiday');
    expect(Number(paused.bakeLeftMs)).toBeGreaterThan(3_000_000);
    const again = await rpc('OperatorService', 'PauseRollout', { topic: 'verbs', reason: '' });
    expect([grpc.status[again.code], again.details]).toEqual(['FAILED_PRECONDITION', 'cannot pause the rollout of version 2 of topic "verbs": it is paused; resume it to go on']);
    // Paused: it still serves the reached consumers.
    expect(await polled(rpc, 'verbs', CANARY)).toBe('v2');
    ok(await rpc('OperatorService', 'ResumeRollout', { topic: 'verbs' }), 'ResumeRollout');
    expect(await state()).toBe('ROLLOUT_STATE_RUNNING 0');
    ok(await rpc('OperatorService', 'PromoteRollout', { topic: 'verbs' }), 'PromoteRollout');
    expect(await state()).toBe('ROLLOUT_STATE_RUNNING 1');
    expect([await polled(rpc, 'verbs', EAST, 1), await polled(rpc, 'verbs', WEST, 1)]).toEqual(['v2', 'none']);
    const full = ok(await rpc('OperatorService', 'PromoteRollout', { topic: 'verbs', full: true }), 'PromoteRollout')['rollout'] as { state: string };
    expect(full.state).toBe('ROLLOUT_STATE_COMPLETED');
    expect(await polled(rpc, 'verbs', WEST, 1)).toBe('v2');

    // No running or paused rollout: named, with the newest rollout's state.
    for (const method of ['PauseRollout', 'ResumeRollout', 'CancelRollout', 'PromoteRollout']) {
      const refused = await rpc('OperatorService', method, { topic: 'verbs' });
      expect([grpc.status[refused.code], refused.details]).toEqual([
        'FAILED_PRECONDITION',
        `cannot ${method.replace('Rollout', '').toLowerCase()} a rollout of topic "verbs": it has no running or paused rollout (its newest rollout (version 2) is completed)`,
      ]);
    }
    const none = await rpc('OperatorService', 'CancelRollout', { topic: 'policy-less' });
    expect(grpc.status[none.code]).toBe('NOT_FOUND');
    ok(await rpc('PublisherService', 'CreateTopic', { name: 'never-rolled', owner: 'ml' }), 'CreateTopic');
    const never = await rpc('OperatorService', 'PauseRollout', { topic: 'never-rolled' });
    expect([grpc.status[never.code], never.details]).toEqual(['FAILED_PRECONDITION', 'cannot pause a rollout of topic "never-rolled": it has no running or paused rollout (it has had none)']);
    const missing = await rpc('OperatorService', 'GetRollout', { topic: 'never-rolled' });
    expect([grpc.status[missing.code], missing.details]).toEqual(['NOT_FOUND', 'a rollout of topic "never-rolled" does not exist']);

    // A reason over 1024 characters: INVALID_ARGUMENT naming reason, and nothing changes.
    await rolloutOf(rpc, 'verbs-2');
    const long = await rpc('OperatorService', 'CancelRollout', { topic: 'verbs-2', reason: 'x'.repeat(1025) });
    expect(grpc.status[long.code]).toBe('INVALID_ARGUMENT');
    expect(long.details).toMatch(/^reason /);
    expect((ok(await rpc('OperatorService', 'GetRollout', { topic: 'verbs-2' }), 'GetRollout')['rollout'] as { state: string }).state).toBe('ROLLOUT_STATE_RUNNING');
  });

  it('GetRollout (0: the newest) with progress, ListRollouts paged newest first, DescribeTopic with the newest rollout', async () => {
    await rolloutOf(rpc, 'listed');
    ok(await rpc('PublisherService', 'Publish', { topic: 'listed', pointer: wire('v3') }), 'Publish v3');
    ok(await rpc('PublisherService', 'Publish', { topic: 'listed', pointer: wire('v4') }), 'Publish v4');
    const page1 = ok(await rpc('OperatorService', 'ListRollouts', { topic: 'listed', pageSize: 2 }), 'ListRollouts');
    expect((page1['rollouts'] as { version: string; state: string }[]).map((r) => `${r.version} ${r.state}`)).toEqual(['4 ROLLOUT_STATE_RUNNING', '3 ROLLOUT_STATE_SUPERSEDED']);
    const page2 = ok(await rpc('OperatorService', 'ListRollouts', { topic: 'listed', pageSize: 2, pageToken: page1['nextPageToken'] }), 'ListRollouts');
    expect((page2['rollouts'] as { version: string }[]).map((r) => r.version)).toEqual(['2']);
    expect(page2['nextPageToken']).toBe('');
    const got = ok(await rpc('OperatorService', 'GetRollout', { topic: 'listed', version: '0' }), 'GetRollout');
    expect(got['rollout']).toMatchObject({ version: '4' });
    expect(got['progress']).toEqual({ reached: 0, holding: 0, rejections: 0 });
    const described = ok(await rpc('OperatorService', 'DescribeTopic', { name: 'listed' }), 'DescribeTopic');
    expect(described['rollout']).toMatchObject({ version: '4', state: 'ROLLOUT_STATE_RUNNING' });
  });

  it('outcomes from Poll, BatchPoll cursors, Watch cursors and Report land in the store once per change, and GetRollout counts them', async () => {
    await rolloutOf(rpc, 'gated');
    const outcomes = server.outcomes;
    if (!outcomes) throw new Error('the all role takes outcomes');
    // The canary holds v2 (a BatchPoll cursor); the east node still v1 (a Poll); a watcher says v1.
    ok(await rpc('ConsumerService', 'BatchPoll', { identity: CANARY, topics: [{ topic: 'gated', lastSeenVersion: '2' }] }), 'BatchPoll');
    ok(await rpc('ConsumerService', 'Poll', { topic: 'gated', identity: EAST, lastSeenVersion: '1' }), 'Poll');
    const west = watch(server.port, 'gated', WEST, 1n);
    try {
      await until('the watcher', () => west.results.length === 1);
    } finally {
      west.close();
    }
    await outcomes.flush();
    const holds = async () => (await store.listOutcomes('gated', 2n)).map((o) => `${o.identity.nodeId}:${o.holds}${o.rejection ? ` rejected v${o.rejection.version} ${o.rejection.stage} ${o.rejection.reason}` : ''}`).sort();
    expect(await holds()).toEqual(['c1:2', 'e1:1', 'w1:1']);
    // The same words again write nothing.
    const recorded = outcomes.stats().recorded;
    ok(await rpc('ConsumerService', 'BatchPoll', { identity: CANARY, topics: [{ topic: 'gated', lastSeenVersion: '2' }] }), 'BatchPoll');
    ok(await rpc('ConsumerService', 'Poll', { topic: 'gated', identity: EAST, lastSeenVersion: '1' }), 'Poll');
    await outcomes.flush();
    expect(outcomes.stats().recorded).toBe(recorded);
    // A new word (a rejection, by Report) is written once; the rejection stays with the node.
    ok(await rpc('ConsumerService', 'Report', { identity: CANARY, topics: [{ topic: 'gated', lastSeenVersion: '1', rejected: { version: '2', stage: 'REJECT_STAGE_VALIDATE', reason: 'score drift' } }] }), 'Report');
    await outcomes.flush();
    expect(outcomes.stats().recorded).toBe(recorded + 1);
    ok(await rpc('ConsumerService', 'Poll', { topic: 'gated', identity: CANARY, lastSeenVersion: '1' }), 'Poll');
    await outcomes.flush();
    expect(outcomes.stats().recorded).toBe(recorded + 1);
    expect(await holds()).toEqual(['c1:1 rejected v2 validate score drift', 'e1:1', 'w1:1']);
    const got = ok(await rpc('OperatorService', 'GetRollout', { topic: 'gated' }), 'GetRollout');
    expect(got['progress']).toEqual({ reached: 1, holding: 0, rejections: 1 });

    // Bad reports are refused whole, naming the field.
    const bad = await rpc('ConsumerService', 'Report', { identity: CANARY, topics: [{ topic: 'gated', rejected: { version: '2', stage: 'REJECT_STAGE_FETCH', reason: 'x'.repeat(1025) } }] });
    expect([grpc.status[bad.code], bad.details]).toEqual(['INVALID_ARGUMENT', 'topics[0].rejected.reason must be at most 1024 characters (got 1025)']);
    const noStage = await rpc('ConsumerService', 'Poll', { topic: 'gated', identity: CANARY, rejected: { version: '2' } });
    expect([grpc.status[noStage.code], noStage.details]).toEqual(['INVALID_ARGUMENT', 'rejected.stage must be one of REJECT_STAGE_FETCH, REJECT_STAGE_VERIFY, REJECT_STAGE_DECODE, REJECT_STAGE_VALIDATE (got "REJECT_STAGE_UNSPECIFIED")']);
    const noApp = await rpc('ConsumerService', 'Report', { identity: { nodeId: 'x' }, topics: [{ topic: 'gated' }] });
    expect(grpc.status[noApp.code]).toBe('INVALID_ARGUMENT');
    const twice = await rpc('ConsumerService', 'Report', { identity: CANARY, topics: [{ topic: 'gated' }, { topic: 'gated' }] });
    expect([grpc.status[twice.code], twice.details]).toEqual(['INVALID_ARGUMENT', 'topics[1].topic must not repeat topics[0].topic (got "gated")']);

    // A topic without a rollout: nothing is kept.
    ok(await rpc('PublisherService', 'CreateTopic', { name: 'plain', owner: 'ml' }), 'CreateTopic');
    ok(await rpc('PublisherService', 'Publish', { topic: 'plain', pointer: wire('p1') }), 'Publish');
    ok(await rpc('ConsumerService', 'Poll', { topic: 'plain', identity: EAST, lastSeenVersion: '0' }), 'Poll');
    await outcomes.flush();
    expect(await store.listOutcomes('plain', 1n)).toEqual([]);
  });
});

describe('rollouts on the consume role (its table follows them)', () => {
  const dataDir = tempDir();
  let publish: ImprintServer;
  let consume: ImprintServer;
  let pubClients: ReturnType<typeof clientsFor>;
  let conClients: ReturnType<typeof clientsFor>;
  let pub: Rpc;
  let con: Rpc;

  beforeAll(async () => {
    publish = await startImprintServer({ dataDir, port: 0, role: 'publish', log: silentLogger });
    consume = await startImprintServer({ dataDir, port: 0, role: 'consume', log: silentLogger });
    pubClients = clientsFor(publish.port);
    conClients = clientsFor(consume.port);
    pub = caller(pubClients);
    con = caller(conClients);
  });
  afterAll(async () => {
    closeClients(pubClients);
    closeClients(conClients);
    await consume?.stop({ drain: false });
    await publish?.stop({ drain: false });
  });

  it('a step and a cancel reach its watchers and pollers within the feed latency; its outcomes land in the store; a publish-role instance refuses Report', async () => {
    await rolloutOf(pub, 'table-topic');
    await eventually('the consume instance serves the rollout', async () => (await polled(con, 'table-topic', CANARY)) === 'v2');
    expect(await polled(con, 'table-topic', EAST)).toBe('v1');
    const east = watch(consume.port, 'table-topic', EAST, 1n);
    const west = watch(consume.port, 'table-topic', WEST, 1n);
    try {
      await until('the first answers', () => east.results.length === 1 && west.results.length === 1);
      // Step 1, by the publish instance's store (as the driver would): the consume table re-reads the topic from the feed.
      const [r] = await publish.store.listRollouts('table-topic', { limit: 1 });
      if (!r) throw new Error('no rollout');
      const move = advanceMove(r, Date.now());
      await publish.store.changeRollout({ next: move.next, expectedRevision: r.revision, action: move.action, reason: '' }, Date.now());
      await until('the east watcher gets v2', () => east.results.length === 2);
      expect(await polled(con, 'table-topic', EAST, 1)).toBe('v2');
      ok(await pub('OperatorService', 'CancelRollout', { topic: 'table-topic', reason: 'stop' }), 'CancelRollout');
      await until('the east watcher moves back', () => east.results.length === 3);
      expect(east.results).toEqual(['none', 'v2', 'v1 rolled back']);
      expect(west.results).toEqual(['none']);
      expect(await polled(con, 'table-topic', CANARY, 2)).toBe('v1 rolled back');
    } finally {
      east.close();
      west.close();
    }
    // Outcomes on the consume role, during a new rollout.
    ok(await pub('PublisherService', 'Publish', { topic: 'table-topic', pointer: wire('v3') }), 'Publish v3');
    await eventually('the consume instance serves v3 to the canary', async () => (await polled(con, 'table-topic', CANARY)) === 'v3');
    ok(await con('ConsumerService', 'Report', { identity: CANARY, topics: [{ topic: 'table-topic', lastSeenVersion: '3' }] }), 'Report');
    await consume.outcomes?.flush();
    expect((await publish.store.listOutcomes('table-topic', 3n)).map((o) => `${o.identity.nodeId}:${o.holds}`)).toEqual(['c1:3']);
    const refused = await pub('ConsumerService', 'Report', { identity: CANARY, topics: [{ topic: 'table-topic', lastSeenVersion: '3' }] });
    expect(grpc.status[refused.code]).toBe('UNIMPLEMENTED');
  });
});

describe('rollouts and access control', () => {
  let dir: string;
  let server: ImprintServer;
  let clients: ReturnType<typeof clientsFor>;
  let rpc: Rpc;

  beforeAll(async () => {
    dir = tempDir();
    // Consume restricted too, so that a principal without a grant may not.
    server = await startImprintServer({ dataDir: dir, port: 0, log: silentLogger, auditSink: new MemoryAuditSink(), authenticate, access: { consume: 'owners' } });
    clients = clientsFor(server.port);
    rpc = caller(clients);
  });
  afterAll(async () => {
    if (clients) closeClients(clients);
    await server?.stop({ drain: false });
  });

  it('a consumer-only principal may not pause, cancel or promote a rollout; an operator may; changing the policy is an owner\'s', async () => {
    await rolloutOf(rpc, 'acl-rollout', 'alice');
    for (const [role, grantee] of [
      ['ROLE_OPERATOR', 'op'],
      ['ROLE_CONSUMER', 'con'],
    ] as const) {
      ok(await rpc('OperatorService', 'GrantAccess', { topic: 'acl-rollout', grant: { role, grantee } }, 'alice'), 'GrantAccess');
    }
    for (const method of ['PauseRollout', 'CancelRollout', 'PromoteRollout']) {
      const denied = await rpc('OperatorService', method, { topic: 'acl-rollout', reason: 'no' }, 'con');
      expect(grpc.status[denied.code], `${method}: ${denied.details}`).toBe('PERMISSION_DENIED');
    }
    const policy = await rpc('PublisherService', 'UpdateTopic', { name: 'acl-rollout', rolloutPolicy: { steps: [] } }, 'op');
    expect(grpc.status[policy.code]).toBe('PERMISSION_DENIED');
    expect((ok(await rpc('OperatorService', 'GetRollout', { topic: 'acl-rollout' }, 'alice'), 'GetRollout')['rollout'] as { state: string }).state).toBe('ROLLOUT_STATE_RUNNING');
    ok(await rpc('OperatorService', 'PauseRollout', { topic: 'acl-rollout', reason: 'looking' }, 'op'), 'PauseRollout');
    ok(await rpc('OperatorService', 'CancelRollout', { topic: 'acl-rollout', reason: 'bad' }, 'op'), 'CancelRollout');
  });

  it("a Report counts only for topics its principal may consume", async () => {
    await rolloutOf(rpc, 'acl-report', 'alice');
    ok(await rpc('OperatorService', 'GrantAccess', { topic: 'acl-report', grant: { role: 'ROLE_CONSUMER', grantee: 'con' } }, 'alice'), 'GrantAccess');
    ok(await rpc('ConsumerService', 'Report', { identity: CANARY, topics: [{ topic: 'acl-report', lastSeenVersion: '2' }] }, 'con'), 'Report');
    // eve may not consume it: her report answers (it answers nothing) but does not count.
    ok(await rpc('ConsumerService', 'Report', { identity: EAST, topics: [{ topic: 'acl-report', lastSeenVersion: '2' }] }, 'eve'), 'Report');
    await server.outcomes?.flush();
    expect((await server.store.listOutcomes('acl-report', 2n)).map((o) => `${o.identity.nodeId}:${o.holds}`)).toEqual(['c1:2']);
  });
});

describe('a verb racing the rollout driver', () => {
  let inner: SqliteMetadataStore;
  let store: CountingStore;
  let rpc: Rpc;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ inner, store, rpc, stop } = await rolloutServer((s) => new CountingStore(s)));
  });
  afterAll(() => stop?.());

  /** What a driver does between the verb's read and its write: a change of its own (the revision moves on). */
  async function driverMoves(topic: string, move: (r: Rollout) => RolloutMove): Promise<void> {
    const [r] = await inner.listRollouts(topic, { limit: 1 });
    if (!r) throw new Error('no rollout');
    const m = move(r);
    expect(await inner.changeRollout({ next: m.next, expectedRevision: r.revision, action: m.action, reason: '' }, Date.now())).toBeDefined();
  }

  it('decides again on the rollout as the driver left it', async () => {
    await rolloutOf(rpc, 'race');
    const gate = store.gate('changeRollout', 'race');
    const pausing = rpc('OperatorService', 'PauseRollout', { topic: 'race', reason: 'wait' });
    await gate.reached;
    await driverMoves('race', (r) => advanceMove(r, Date.now()));
    gate.release();
    const paused = ok(await pausing, 'PauseRollout')['rollout'] as { state: string; step: number };
    expect([paused.state, paused.step]).toEqual(['ROLLOUT_STATE_PAUSED', 1]);
    expect(store.count('changeRollout', 'race')).toBe(2);
  });

  it('answers UNAVAILABLE, changing nothing of its own, when the rollout kept moving', async () => {
    await rolloutOf(rpc, 'race-2');
    let gate = store.gate('changeRollout', 'race-2');
    const cancelling = rpc('OperatorService', 'CancelRollout', { topic: 'race-2', reason: 'stop' });
    for (let attempt = 1; attempt <= 5; attempt++) {
      await gate.reached;
      await driverMoves('race-2', (r) => webhookPassedMove(r, Date.now()));
      const held = gate;
      if (attempt < 5) gate = store.gate('changeRollout', 'race-2');
      held.release();
    }
    const refused = await cancelling;
    expect([grpc.status[refused.code], refused.details]).toEqual([
      'UNAVAILABLE',
      'cannot cancel the rollout of topic "race-2": it kept changing while this was decided (5 attempts; the rollout driver is moving it); try again',
    ]);
    expect((ok(await rpc('OperatorService', 'GetRollout', { topic: 'race-2' }), 'GetRollout')['rollout'] as { state: string }).state).toBe('ROLLOUT_STATE_RUNNING');
  });
});
