/**
 * The rollout driver killed mid-rollout on Cassandra (IMPRINT_CASSANDRA, started by the
 * project's globalSetup): a real `imprint serve --role publish` over the keyspace drives a
 * four-step rollout and is killed with SIGKILL right after it applied step 1; a second serve
 * (another instance) takes the lease over once it expires and goes on exactly where the rollout
 * was: no step applied twice (the history has each once), the next step after the bake counted
 * from when the killed instance applied step 1.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { validateRolloutPolicy, type Rollout } from '../../core/index.js';
import { CassandraMetadataStore, cassandraWithDefaults } from '../../server/index.js';
import { startServe, stepsLogged, type ServeProcess } from '../cli-process.js';
import { directPointer, eventually, tempDir } from '../helpers.js';

const endpoint = process.env.IMPRINT_CASSANDRA;
if (!endpoint) throw new Error('IMPRINT_CASSANDRA is not set: run with `npx vitest run --project cassandra` (its globalSetup starts Cassandra)');

const KEYSPACE = 'imprint_rollout_kill';
const BAKE = 2000;
const serveArgs = ['--role', 'publish', '--rollout-tick-ms', '50', '--store', 'cassandra', '--cassandra-contact-points', endpoint, '--cassandra-local-dc', 'datacenter1', '--cassandra-keyspace', KEYSPACE, '--cassandra-replication', '{"class":"SimpleStrategy","replication_factor":1}'];

describe('the rollout driver killed on Cassandra', () => {
  const serves: ServeProcess[] = [];
  let store: CassandraMetadataStore | undefined;
  afterAll(async () => {
    for (const s of serves) await s.kill();
    await store?.close();
  });

  it('a second instance resumes exactly where the killed one left the rollout, no step applied twice', async () => {
    store = await CassandraMetadataStore.open(cassandraWithDefaults({ contactPoints: endpoint, localDataCenter: 'datacenter1', keyspace: KEYSPACE, replication: '{"class":"SimpleStrategy","replication_factor":1}' }));
    const s = store;
    const topic = `kill-${randomUUID().slice(0, 8)}`;
    const policy = validateRolloutPolicy({ steps: [0, 1, 2, 3].map(() => ({ bakeMs: BAKE })) });
    await s.createTopic({ name: topic, owner: 'team', description: '', retention: {}, rolloutPolicy: policy }, Date.now());
    await s.publish({ topic, metadata: {}, pointer: directPointer('v1'), scopes: [{}] }, Date.now());
    const now = async (): Promise<Rollout> => {
      const r = await s.getRollout(topic, 2n);
      if (!r) throw new Error('no rollout');
      return r;
    };

    // 1. One instance drives it, and is killed right after it applied step 1.
    const a = await startServe(tempDir('imprint-rollout-kill-a-'), serveArgs);
    serves.push(a);
    const started = await s.publish({ topic, metadata: {}, pointer: directPointer('v2'), scopes: [], rollout: policy }, Date.now());
    // Applied in the store and logged: the log line is written after the commit, and reaches
    // us through a pipe, so the store alone can be ahead of the output we read.
    const atStep1 = await eventually('step 1, applied and logged', async () => {
      const r = await now();
      return r.step === 1 && stepsLogged(a.output()).includes(1) ? r : undefined;
    });
    await a.kill();
    expect(stepsLogged(a.output())).toEqual([1]);
    expect((await now()).revision).toBe(atStep1.revision);

    // 2. Another instance goes on from there once the dead holder's lease has expired.
    const b = await startServe(tempDir('imprint-rollout-kill-b-'), serveArgs);
    serves.push(b);
    const done = await eventually('completion', async () => ((await now()).state === 'completed' ? now() : undefined));
    const history = (await s.listHistory(topic, { limit: 100 })).filter((c) => c.kind === 'rollout' && c.version === 2n).reverse();
    expect(history.map((c) => `${c.details['action']} ${c.details['step']}`)).toEqual(['start 0', 'step 1', 'step 2', 'step 3', 'complete 3']);
    const step2 = history[2];
    expect(step2 && step2.atMs - atStep1.stepStartedAtMs).toBeGreaterThanOrEqual(BAKE);
    expect(stepsLogged(b.output())).toEqual([2, 3]);
    expect(done.startedAtMs).toBe(started.rollout?.startedAtMs);
    // The version is the latest for everyone now.
    expect((await s.pollState(topic))?.heads.map((h) => h.version)).toContain(2n);
  }, 180_000);
});
