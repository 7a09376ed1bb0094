/**
 * The rollouts part of the MetadataStore contract (metadata-store.ts, "Rollouts", and the
 * rollout methods' doc comments), run unchanged against SQLite and Cassandra. Changes are
 * computed with core's moves (advanceMove, cancelMove...), as the driver and the operator
 * verbs compute them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NotFoundError,
  TopicDeletedError,
  advanceMove,
  cancelMove,
  completeMove,
  formatRolloutPolicy,
  nodeKey,
  pauseMove,
  planRestore,
  resumeMove,
  scopeKey,
  sha256Hex,
  validateRolloutPolicy,
  webhookPassedMove,
  type Actor,
  type ConsumerOutcome,
  type NewVersion,
  type Rollout,
  type RolloutMove,
  type RolloutPolicy,
  type Version,
} from '../../core/index.js';
import { purgeRetention } from '../../janitor/index.js';
import type { JanitorStore } from '../../server/store/metadata-store.js';
import { acted, drain } from './metadata-store.js';

export interface RolloutStoreHarness {
  readonly store: JanitorStore;
  cleanup(): Promise<void>;
}

const DAY = 86_400_000;
const ops: Actor = { principal: 'ops@example.com', authenticated: true, peer: '10.0.0.7:53412' };

/** Canary cluster, then one region, then everyone. */
const policy: RolloutPolicy = validateRolloutPolicy({
  steps: [
    { scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 600_000, gates: ['consumers'] },
    { scopes: [{ region: 'us-east-1' }], percent: 100, bakeMs: 1_800_000, gates: [] },
    { scopes: [{}], percent: 25, bakeMs: 900_000, gates: [] },
  ],
});

function newVersion(topic: string, text: string, over: Partial<NewVersion> = {}): NewVersion {
  const bytes = Buffer.from(text);
  return { topic, metadata: { build: text }, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{}], ...over };
}

const identity = (nodeId: string, region = 'us-east-1') => ({ app: 'scorer', cluster: 'main', region, nodeId, labels: { tier: 'gold' } });

export function rolloutStoreConformance(name: string, make: () => Promise<RolloutStoreHarness>): void {
  describe(`MetadataStore rollouts conformance: ${name}`, () => {
    let h: RolloutStoreHarness;
    let store: JanitorStore;
    let topic: string;
    let n = 0;
    beforeEach(async () => {
      h = await make();
      store = h.store;
      topic = `r-${Date.now().toString(36)}-${n++}`;
      await store.createTopic({ name: topic, owner: 'team', description: '', retention: {}, rolloutPolicy: policy }, 1_000);
    });
    afterEach(async () => {
      await h.cleanup();
    });

    /** The store applies a move computed from `r`'s revision. */
    const apply = (r: Rollout, m: RolloutMove, nowMs: number, by?: Actor) => store.changeRollout({ next: m.next, expectedRevision: r.revision, action: m.action, reason: m.reason }, nowMs, by);
    const mustApply = async (r: Rollout, m: RolloutMove, nowMs: number, by?: Actor): Promise<Rollout> => {
      const w = await apply(r, m, nowMs, by);
      expect(w).toBeDefined();
      return w as Rollout;
    };
    const rolloutEntries = async (t = topic) =>
      (await store.listHistory(t, { limit: 100 }))
        .filter((c) => c.kind === 'rollout')
        .map((c) => ({ version: c.version, action: c.details['action'], step: c.details['step'], state: c.details['state'], reason: c.reason, by: c.by.principal, atMs: c.atMs }));
    const heads = async (t = topic) => (await store.scopeHeads(t)).map((x) => [scopeKey(x.scope), x.version]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
    const start = async (text: string, nowMs: number, over: Partial<NewVersion> = {}) => {
      const p = await store.publish(newVersion(topic, text, { rollout: policy, ...over }), nowMs, ops);
      expect(p.rollout).toBeDefined();
      return { record: p.record, rollout: p.rollout as Rollout };
    };

    it('a publish with a rollout writes the record with no scopes and no head move, and starts the rollout at step 0 (revision 1) with its history and feed entry', async () => {
      await store.publish(newVersion(topic, 'one'), 2_000);
      const head = await store.feedHead();
      const p = await store.publish(newVersion(topic, 'two', { rollout: policy }), 3_000, ops);
      expect(p.replayed).toBe(false);
      expect(p.record).toMatchObject({ version: 2n, scopes: [] });
      expect((await store.getVersion(topic, 2n))?.scopes).toEqual([]);
      expect(await heads()).toEqual([['', 1n]]);
      const expected: Rollout = {
        topic,
        version: 2n,
        policy,
        state: 'running',
        step: 0,
        stepStartedAtMs: 3_000,
        startedAtMs: 3_000,
        updatedAtMs: 3_000,
        reason: '',
        rejected: false,
        webhookPassedStep: -1,
        revision: 1,
      };
      expect(p.rollout).toEqual(expected);
      expect(await store.getRollout(topic, 2n)).toEqual(expected);
      const state = await store.pollState(topic);
      expect(state?.rollout).toEqual(expected);
      expect(state?.withdrawn).toEqual([]);
      expect(state?.heads.map((x) => [scopeKey(x.scope), x.version])).toEqual([['', 1n]]);
      expect(await rolloutEntries()).toEqual([{ version: 2n, action: 'start', step: '0', state: 'running', reason: '', by: 'ops@example.com', atMs: 3_000 }]);
      expect((await store.listHistory(topic, { limit: 10 })).filter((c) => c.kind === 'publish').map((c) => c.version)).toEqual([2n, 1n]);
      const { entries } = await drain(store, head);
      const mine = entries.filter((e) => e.topic === topic && !e.hint).map(acted);
      expect(mine).toContain('publish 2');
      expect(mine).toContain('rollout 2');
      // A version without a rollout has none.
      expect(await store.getRollout(topic, 1n)).toBeUndefined();
    });

    it('a replay of the publish id returns the rollout the first publish started, as it is now, and writes nothing', async () => {
      const v = newVersion(topic, 'one', { rollout: policy, publishId: 'nightly-7' });
      const first = await store.publish(v, 2_000, ops);
      const again = await store.publish(v, 2_500, ops);
      expect(again).toMatchObject({ replayed: true, record: { version: 1n } });
      expect(again.rollout).toEqual(first.rollout);
      const paused = await mustApply(first.rollout as Rollout, pauseMove(first.rollout as Rollout, 3_000, 'looking'), 3_000);
      expect((await store.publish(v, 3_500, ops)).rollout).toEqual(paused);
      expect((await rolloutEntries()).map((e) => e.action)).toEqual(['pause', 'start']);
      expect(await store.countVersions(topic)).toBe(1);
    });

    it('a publish supersedes a running rollout (with a rollout of its own) and a paused one (without): state, end, reason and history', async () => {
      const one = await start('one', 2_000);
      const two = await start('two', 3_000);
      const superseded = await store.getRollout(topic, 1n);
      expect(superseded).toEqual({ ...one.rollout, state: 'superseded', updatedAtMs: 3_000, endedAtMs: 3_000, reason: 'version 2 was published', revision: 2 });
      expect((await store.pollState(topic))?.rollout).toEqual(two.rollout);
      const paused = await mustApply(two.rollout, pauseMove(two.rollout, 3_500, 'wait'), 3_500);
      expect((await store.pollState(topic))?.rollout).toEqual(paused);
      // A plain publish (an explicit scope, or no rollout) supersedes too, and has no rollout.
      const three = await store.publish(newVersion(topic, 'three', { scopes: [{ region: 'eu' }] }), 4_000, ops);
      expect(three.rollout).toBeUndefined();
      expect(three.record.scopes).toEqual([{ region: 'eu' }]);
      const { bakeLeftMs: _left, ...pausedRest } = paused;
      expect(await store.getRollout(topic, 2n)).toMatchObject({ ...pausedRest, state: 'superseded', updatedAtMs: 4_000, endedAtMs: 4_000, reason: 'version 3 was published', revision: 3 });
      const state = await store.pollState(topic);
      expect(state?.rollout).toBeUndefined();
      expect(state?.withdrawn).toEqual([]);
      expect(await heads()).toEqual([['region=eu', 3n]]);
      expect((await rolloutEntries()).map((e) => [e.version, e.action, e.state, e.reason]).sort()).toEqual(
        [
          [1n, 'start', 'running', ''],
          [1n, 'supersede', 'superseded', 'version 2 was published'],
          [2n, 'start', 'running', ''],
          [2n, 'pause', 'paused', 'wait'],
          [2n, 'supersede', 'superseded', 'version 3 was published'],
        ].sort(),
      );
      // A superseded rollout takes no more changes from its old revision.
      expect(await apply(paused, resumeMove(paused, 5_000), 5_000)).toBeUndefined();
      // A publish with no rollout to supersede writes no rollout entry.
      await store.publish(newVersion(topic, 'four'), 6_000);
      expect(await rolloutEntries()).toHaveLength(5);
    });

    it('changeRollout is a compare-and-set on the revision: a stale one writes nothing; of two changes from one revision exactly one applies', async () => {
      let { rollout: r } = await start('one', 2_000);
      // Stale: computed from revision 1 after revision 2 was written.
      const stepped = await mustApply(r, advanceMove(r, 3_000), 3_000, ops);
      expect(stepped).toMatchObject({ state: 'running', step: 1, stepStartedAtMs: 3_000, updatedAtMs: 3_000, revision: 2 });
      expect(await apply(r, pauseMove(r, 3_100, 'stale'), 3_100)).toBeUndefined();
      expect(await store.getRollout(topic, 1n)).toEqual(stepped);
      expect((await rolloutEntries()).map((e) => e.action)).toEqual(['step', 'start']);
      // Two at once from the same revision (a driver stepping, an operator pausing), several times.
      r = stepped;
      let resumes = 0;
      for (let round = 0; round < 5; round++) {
        const at = 4_000 + round * 100;
        const moves = [webhookPassedMove(r, at), pauseMove(r, at, `round ${round}`)];
        const results = await Promise.all(moves.map((m) => apply(r, m, at)));
        const applied = results.filter((x): x is Rollout => x !== undefined);
        expect(applied).toHaveLength(1);
        const winner = applied[0] as Rollout;
        expect(winner.revision).toBe(r.revision + 1);
        expect(await store.getRollout(topic, 1n)).toEqual(winner);
        if (winner.state === 'paused') resumes++;
        r = winner.state === 'paused' ? await mustApply(winner, resumeMove(winner, at + 50), at + 50) : winner;
      }
      // One entry per applied change (start, step, a winner per round, the resumes), none for the losers.
      expect(await rolloutEntries()).toHaveLength(2 + 5 + resumes);
    });

    it('a publish and a change of the running rollout at once: one order or the other, never both from one revision', async () => {
      for (let round = 0; round < 3; round++) {
        const { rollout: r } = await start(`base-${round}`, 10_000 * (round + 1));
        const at = 10_000 * (round + 1) + 500;
        const [published, changed] = await Promise.all([store.publish(newVersion(topic, `plain-${round}`), at), apply(r, pauseMove(r, at, 'hold'), at)]);
        const old = (await store.getRollout(topic, r.version)) as Rollout;
        // Superseded in any case; after the pause (revision 3) when the pause applied, else from revision 1.
        expect(old).toMatchObject({ state: 'superseded', reason: `version ${published.record.version} was published`, revision: changed ? 3 : 2 });
        if (changed) expect(changed).toMatchObject({ state: 'paused', revision: 2 });
        const actions = (await rolloutEntries()).filter((e) => e.version === r.version).map((e) => e.action);
        expect(actions.sort()).toEqual((changed ? ['pause', 'start', 'supersede'] : ['start', 'supersede']).sort());
        expect((await store.pollState(topic))?.rollout).toBeUndefined();
      }
    });

    it('publishes with rollouts at once: each supersedes the one before it, and one rollout is left running', async () => {
      const published = await Promise.all([1, 2, 3, 4].map((i) => store.publish(newVersion(topic, `at-once-${i}`, { rollout: policy }), 2_000 + i)));
      expect(published.map((p) => p.record.version).sort()).toEqual([1n, 2n, 3n, 4n]);
      const all = await store.listRollouts(topic, { limit: 10 });
      expect(all.map((r) => [r.version, r.state])).toEqual([
        [4n, 'running'],
        [3n, 'superseded'],
        [2n, 'superseded'],
        [1n, 'superseded'],
      ]);
      expect(all.slice(1).map((r) => r.reason)).toEqual(['version 4 was published', 'version 3 was published', 'version 2 was published']);
      expect((await store.pollState(topic))?.rollout?.version).toBe(4n);
      expect((await store.activeRollouts()).filter((r) => r.topic === topic).map((r) => r.version)).toEqual([4n]);
    });

    it('completing a rollout attaches the empty scope to its version in the same change: it becomes the head of the empty scope', async () => {
      await store.publish(newVersion(topic, 'one', { scopes: [{}, { region: 'eu' }] }), 1_500);
      let { rollout: r } = await start('two', 2_000);
      r = await mustApply(r, advanceMove(r, 3_000), 3_000);
      r = await mustApply(r, advanceMove(r, 4_000), 4_000);
      expect(r).toMatchObject({ state: 'running', step: 2 });
      expect(await heads()).toEqual([['', 1n], ['region=eu', 1n]]);
      const head = await store.feedHead();
      const done = await mustApply(r, advanceMove(r, 5_000), 5_000, ops);
      expect(done).toMatchObject({ state: 'completed', step: 2, endedAtMs: 5_000, updatedAtMs: 5_000, revision: r.revision + 1 });
      expect(await store.getRollout(topic, 2n)).toEqual(done);
      expect((await store.getVersion(topic, 2n))?.scopes).toEqual([{}]);
      expect(await heads()).toEqual([['', 2n], ['region=eu', 1n]]);
      const state = await store.pollState(topic);
      expect(state?.rollout).toBeUndefined();
      expect(state?.heads.find((x) => scopeKey(x.scope) === '')?.version).toBe(2n);
      expect((await rolloutEntries())[0]).toMatchObject({ version: 2n, action: 'complete', state: 'completed', by: 'ops@example.com' });
      const { entries } = await drain(store, head);
      expect(entries.filter((e) => e.topic === topic && !e.hint).map(acted)).toContain('rollout 2');
      // Promote --full from the first step, on a version that already has the empty scope.
      const three = await start('three', 6_000);
      await store.addScopes(topic, 3n, [{}], 6_500);
      expect(await mustApply(three.rollout, completeMove(three.rollout, 7_000, 'promote', 'fast-track'), 7_000)).toMatchObject({ state: 'completed', step: 0 });
      expect((await store.getVersion(topic, 3n))?.scopes).toEqual([{}]);
      expect(await heads()).toEqual([['', 3n], ['region=eu', 1n]]);
      expect((await rolloutEntries())[0]).toMatchObject({ version: 3n, action: 'promote', reason: 'fast-track' });
    });

    it('a cancelled rollout withdraws its version (pollState.withdrawn, newest first); the running or paused one is pollState.rollout', async () => {
      const one = await start('one', 2_000);
      const cancelled = await mustApply(one.rollout, cancelMove(one.rollout, 2_500, 'bad canary'), 2_500, ops);
      expect(cancelled).toMatchObject({ state: 'cancelled', endedAtMs: 2_500, reason: 'bad canary', rejected: false, revision: 2 });
      let state = await store.pollState(topic);
      expect(state?.rollout).toBeUndefined();
      expect(state?.withdrawn).toEqual([1n]);
      await store.publish(newVersion(topic, 'two'), 3_000);
      const three = await start('three', 4_000);
      const rejected = await mustApply(three.rollout, cancelMove(three.rollout, 4_500, '2 consumer(s) rejected the version', true), 4_500);
      expect(rejected).toMatchObject({ state: 'cancelled', rejected: true });
      const four = await start('four', 5_000);
      state = await store.pollState(topic);
      expect(state?.withdrawn).toEqual([3n, 1n]);
      expect(state?.rollout).toEqual(four.rollout);
      const paused = await mustApply(four.rollout, pauseMove(four.rollout, 5_500, 'hold'), 5_500);
      expect((await store.pollState(topic))?.rollout).toEqual(paused);
      expect((await rolloutEntries()).filter((e) => e.action === 'cancel' || e.action === 'reject').map((e) => [e.version, e.action, e.reason])).toEqual([
        [3n, 'reject', '2 consumer(s) rejected the version'],
        [1n, 'cancel', 'bad canary'],
      ]);
      // The cancelled version's record stays, with no scopes.
      expect((await store.getVersion(topic, 1n))?.scopes).toEqual([]);
      expect(await heads()).toEqual([['', 2n]]);
    });

    it('activeRollouts: every running or paused rollout of live topics, not ended ones nor those of deleted topics', async () => {
      const names = [`${topic}-a`, `${topic}-b`, `${topic}-c`, `${topic}-d`];
      for (const t of names) await store.createTopic({ name: t, owner: '', description: '', retention: {} }, 1_000);
      const [a, b, c, d] = names as [string, string, string, string];
      const ra = (await store.publish(newVersion(a, 'a', { rollout: policy }), 2_000)).rollout as Rollout;
      const rb = (await store.publish(newVersion(b, 'b', { rollout: policy }), 2_000)).rollout as Rollout;
      const pb = await mustApply(rb, pauseMove(rb, 2_100, ''), 2_100);
      const rc = (await store.publish(newVersion(c, 'c', { rollout: policy }), 2_000)).rollout as Rollout;
      await mustApply(rc, cancelMove(rc, 2_100, ''), 2_100);
      await store.publish(newVersion(d, 'd', { rollout: policy }), 2_000);
      await store.deleteTopic(d, 'gone', 2_200);
      const active = (await store.activeRollouts()).filter((r) => names.includes(r.topic) || r.topic === topic);
      expect(active.sort((x, y) => (x.topic < y.topic ? -1 : 1))).toEqual([ra, pb]);
    });

    it('listRollouts pages the topic\'s rollouts newest first', async () => {
      for (let i = 1; i <= 5; i++) await start(`v${i}`, 1_000 + i * 1_000);
      const all = await store.listRollouts(topic, { limit: 10 });
      expect(all.map((r) => [r.version, r.state])).toEqual([
        [5n, 'running'],
        [4n, 'superseded'],
        [3n, 'superseded'],
        [2n, 'superseded'],
        [1n, 'superseded'],
      ]);
      const first = await store.listRollouts(topic, { limit: 2 });
      expect(first.map((r) => r.version)).toEqual([5n, 4n]);
      expect((await store.listRollouts(topic, { below: 4n, limit: 2 })).map((r) => r.version)).toEqual([3n, 2n]);
      expect((await store.listRollouts(topic, { below: 2n, limit: 2 })).map((r) => r.version)).toEqual([1n]);
      expect(await store.listRollouts(`${topic}-missing`, { limit: 2 })).toEqual([]);
      expect(first[0]).toEqual(await store.getRollout(topic, 5n));
    });

    it('changeRollout: TopicDeletedError on a deleted topic, NotFoundError with no such rollout; nothing written', async () => {
      await store.publish(newVersion(topic, 'plain'), 1_500);
      const { rollout: r } = await start('two', 2_000);
      const fake: Rollout = { ...r, version: 1n };
      await expect(apply(fake, pauseMove(fake, 2_500, ''), 2_500)).rejects.toBeInstanceOf(NotFoundError);
      const unknown: Rollout = { ...r, version: 99n };
      await expect(apply(unknown, pauseMove(unknown, 2_500, ''), 2_500)).rejects.toBeInstanceOf(NotFoundError);
      await store.deleteTopic(topic, 'gone', 3_000);
      await expect(apply(r, cancelMove(r, 3_500, 'too late'), 3_500)).rejects.toBeInstanceOf(TopicDeletedError);
      expect(await store.getRollout(topic, 2n)).toEqual(r);
      expect((await rolloutEntries()).map((e) => e.action)).toEqual(['start']);
      expect(await store.pollState(topic)).toBeUndefined();
    });

    it('recordOutcomes keeps each node\'s latest word (an older atMs is ignored); listOutcomes returns them per rollout', async () => {
      await start('one', 2_000);
      await start('two', 3_000);
      const outcome = (nodeId: string, version: Version, holds: Version, atMs: number, over: Partial<ConsumerOutcome> = {}): ConsumerOutcome => ({ topic, version, identity: identity(nodeId), holds, atMs, ...over });
      const rejection = { version: 2n, stage: 'validate' as const, reason: 'row count 0 < 1000' };
      await store.recordOutcomes([outcome('n1', 2n, 1n, 10_000), outcome('n2', 2n, 2n, 10_000), outcome('n3', 2n, 1n, 10_000, { rejection }), outcome('n1', 1n, 1n, 10_000)]);
      await store.recordOutcomes([]);
      // n1 moves on; n2's older word (delivered late) is ignored; n3 says the same again later.
      await store.recordOutcomes([outcome('n1', 2n, 2n, 11_000), outcome('n2', 2n, 0n, 9_000), outcome('n3', 2n, 1n, 12_000, { rejection })]);
      const byNode = (os: ConsumerOutcome[]) => [...os].sort((x, y) => (nodeKey(x.identity) < nodeKey(y.identity) ? -1 : 1));
      expect(byNode(await store.listOutcomes(topic, 2n))).toEqual([outcome('n1', 2n, 2n, 11_000), outcome('n2', 2n, 2n, 10_000), outcome('n3', 2n, 1n, 12_000, { rejection })]);
      expect(await store.listOutcomes(topic, 1n)).toEqual([outcome('n1', 1n, 1n, 10_000)]);
      expect(await store.listOutcomes(topic, 3n)).toEqual([]);
      // A node is its app, cluster, region and node id: another region is another node.
      await store.recordOutcomes([{ ...outcome('n1', 2n, 1n, 13_000), identity: identity('n1', 'eu-west-1') }]);
      expect(await store.listOutcomes(topic, 2n)).toHaveLength(4);
      // Outcomes write no history and no feed entry.
      expect((await store.listHistory(topic, { limit: 20 })).every((c) => c.kind === 'publish' || c.kind === 'rollout' || c.kind === 'create-topic')).toBe(true);
    });

    it('deleteVersion removes the version\'s rollout and outcomes; purgeTopic every rollout and outcome of the topic', async () => {
      const one = await start('one', 2_000);
      await mustApply(one.rollout, cancelMove(one.rollout, 2_500, ''), 2_500);
      await start('two', 3_000);
      await store.recordOutcomes([1n, 2n].map((v) => ({ topic, version: v, identity: identity('n1'), holds: v, atMs: 10_000 })));
      await store.deleteVersion(topic, 1n);
      expect(await store.getRollout(topic, 1n)).toBeUndefined();
      expect(await store.listOutcomes(topic, 1n)).toEqual([]);
      expect((await store.pollState(topic))?.withdrawn).toEqual([]);
      expect((await store.listRollouts(topic, { limit: 10 })).map((r) => r.version)).toEqual([2n]);
      expect(await store.listOutcomes(topic, 2n)).toHaveLength(1);
      // The running one's version deleted (as only an operator's purge would): no rollout is left running.
      await store.deleteVersion(topic, 2n);
      expect(await store.getRollout(topic, 2n)).toBeUndefined();
      expect((await store.pollState(topic))?.rollout).toBeUndefined();
      expect((await store.activeRollouts()).filter((r) => r.topic === topic)).toEqual([]);
      // purgeTopic: every rollout and outcome; a topic made again under the name starts clean.
      await start('three', 4_000);
      await store.recordOutcomes([{ topic, version: 3n, identity: identity('n1'), holds: 3n, atMs: Date.now() - 60_000 }]);
      await store.deleteTopic(topic, 'gone', 5_000);
      expect(await store.purgeTopic(topic)).toBe(true);
      await store.createTopic({ name: topic, owner: '', description: '', retention: {} }, 6_000);
      expect(await store.listRollouts(topic, { limit: 10 })).toEqual([]);
      expect(await store.getRollout(topic, 3n)).toBeUndefined();
      expect(await store.listOutcomes(topic, 3n)).toEqual([]);
      expect(await store.pollState(topic)).toMatchObject({ withdrawn: [] });
      expect((await store.pollState(topic))?.rollout).toBeUndefined();
    });

    it('createTopic and updateTopic keep the rollout policy (null removes it), with history detail rollout_policy', async () => {
      expect((await store.getTopic(topic))?.rolloutPolicy).toEqual(policy);
      expect((await store.listTopics()).find((t) => t.name === topic)?.rolloutPolicy).toEqual(policy);
      expect((await store.pollState(topic))?.topic.rolloutPolicy).toEqual(policy);
      const created = (await store.listHistory(topic, { limit: 10 })).find((c) => c.kind === 'create-topic');
      expect(created?.details['rollout_policy']).toBe(formatRolloutPolicy(policy));
      const other = validateRolloutPolicy({ steps: [{ scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 60_000, gates: ['webhook'] }], webhookUrl: 'https://gate.example.com/check', minHoldingPercent: 50 });
      expect((await store.updateTopic(topic, { rolloutPolicy: other }, 2_000, ops)).rolloutPolicy).toEqual(other);
      expect((await store.getTopic(topic))?.rolloutPolicy).toEqual(other);
      // Another field leaves it as it is.
      expect((await store.updateTopic(topic, { description: 'x' }, 2_500)).rolloutPolicy).toEqual(other);
      const removed = await store.updateTopic(topic, { rolloutPolicy: null }, 3_000, ops);
      expect(removed.rolloutPolicy).toBeUndefined();
      expect((await store.getTopic(topic))?.rolloutPolicy).toBeUndefined();
      const updates = (await store.listHistory(topic, { limit: 10 })).filter((c) => c.kind === 'update-topic').map((c) => c.details['rollout_policy']);
      expect(updates).toEqual(['', undefined, formatRolloutPolicy(other)]);
      // A topic made without one has none.
      await store.createTopic({ name: `${topic}-plain`, owner: '', description: '', retention: {} }, 4_000);
      expect((await store.getTopic(`${topic}-plain`))?.rolloutPolicy).toBeUndefined();
    });

    it('restoreTopic writes the topic\'s rollout policy back (a fallback snapshot carries it), as its history entry says', async () => {
      const t = `${topic}-restored`;
      const snap = { topic: { name: t, owner: 'o', description: '', retention: {}, createdAtMs: 50, latestVersion: 2n, rolloutPolicy: policy }, heads: [], pins: [], records: [] };
      expect(await store.restoreTopic(planRestore(snap), { key: 'imprint-snapshots/x.snapshot', writtenAtMs: 40 }, 1_000)).toEqual(snap.topic);
      expect((await store.getTopic(t))?.rolloutPolicy).toEqual(policy);
      const created = (await store.listHistory(t, { limit: 10 })).find((c) => c.kind === 'create-topic');
      expect(created?.details['rollout_policy']).toBe(formatRolloutPolicy(policy));
    });

    it('retention never purges the version a running or paused rollout targets; once it ends, retention decides again', async () => {
      const t = `${topic}-keep`;
      await store.createTopic({ name: t, owner: '', description: '', retention: { keepDays: 1 } }, 1_000);
      await store.publish(newVersion(t, 'old'), 1_000);
      await store.publish(newVersion(t, 'older-latest'), 2_000);
      const r = (await store.publish(newVersion(t, 'rolling', { rollout: policy }), 3_000)).rollout as Rollout;
      const purge = async () => (await purgeRetention({ store, blobStores: [], clock: () => 10 * DAY })).purged.filter((p) => p.topic === t).map((p) => p.version);
      // v1: out of retention; v2: the latest for everyone (what the rollout falls back to); v3: the rollout's.
      expect(await purge()).toEqual([1n]);
      const paused = await mustApply(r, pauseMove(r, 4_000, ''), 4_000);
      expect(await purge()).toEqual([]);
      expect((await store.getVersion(t, 3n))?.version).toBe(3n);
      await mustApply(paused, cancelMove(paused, 5_000, 'done with it'), 5_000);
      expect(await purge()).toEqual([3n]);
      expect((await store.listVersions(t, { limit: 10 })).map((v) => v.version)).toEqual([2n]);
    });
  });
}
