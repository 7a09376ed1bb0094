/**
 * Rollouts' pure rules (core/rollout.ts): the bucket hash, who a rollout has reached, the
 * policy's checks and text form, the state machine's moves, and the poll decision with a
 * rollout in the view.
 */
import { describe, expect, it } from 'vitest';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  ROLLOUT_BUCKETS,
  advanceMove,
  bakeLeftMs,
  cancelMove,
  completeMove,
  consumersGateProblem,
  decidePoll,
  formatRolloutPolicy,
  formatRolloutSteps,
  parseRolloutSteps,
  pauseMove,
  reaches,
  recordDigest,
  resumeMove,
  rolloutBucket,
  rolloutProgress,
  sha256Hex,
  validateRolloutPolicy,
  verdictOf,
  webhookPassedMove,
  type ConsumerOutcome,
  type PollSource,
  type PollView,
  type Rollout,
  type RolloutPolicy,
  type Version,
  type VersionRecord,
} from '../../core/index.js';
import { identity } from '../helpers.js';

const policy = (text: string, extra: Partial<RolloutPolicy> = {}): RolloutPolicy => validateRolloutPolicy({ steps: parseRolloutSteps(text), ...extra });

function rollout(text: string, over: Partial<Rollout> = {}): Rollout {
  return {
    topic: 't',
    version: 5n,
    policy: policy(text),
    state: 'running',
    step: 0,
    stepStartedAtMs: 1000,
    startedAtMs: 1000,
    updatedAtMs: 1000,
    reason: '',
    rejected: false,
    webhookPassedStep: -1,
    revision: 1,
    ...over,
  };
}

const node = (i: number) => `node-${i}`;

describe('rolloutBucket', () => {
  it.each([1, 5, 10, 25, 50, 90])('a %i%% step takes within 2 points of that share of 10k node ids', (pct) => {
    let inside = 0;
    for (let i = 0; i < 10_000; i++) if (rolloutBucket('ip-reputation', node(i)) < pct * 100) inside++;
    expect(Math.abs(inside / 100 - pct)).toBeLessThanOrEqual(2);
  });

  it('is the same for the same topic and node on every call, and stays in range', () => {
    // A restart is a new call with the same inputs: the same bucket (no state, no seed).
    for (let i = 0; i < 1000; i++) {
      const b = rolloutBucket('t', node(i));
      expect(b).toBe(rolloutBucket('t', node(i)));
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(ROLLOUT_BUCKETS);
    }
  });

  it('gives another topic other canaries', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++) if ((rolloutBucket('a', node(i)) < 1000) === (rolloutBucket('b', node(i)) < 1000) && rolloutBucket('a', node(i)) < 1000) same++;
    // Independent 10% draws overlap on about 1% of the nodes, not on all 10%.
    expect(same).toBeLessThan(300);
  });
});

describe('reaches', () => {
  const r = rollout('cluster=canary 10m; region=us-east-1 25% 10m; * 1h');
  const canary = identity({ cluster: 'canary', region: 'eu-west-1', nodeId: 'c1' });
  const other = identity({ cluster: 'main', region: 'eu-west-1', nodeId: 'x1' });

  it('step 0 reaches only its scope', () => {
    expect(reaches(r, canary)).toBe(true);
    expect(reaches(r, other)).toBe(false);
  });

  it('a later step adds its share and keeps what earlier steps reached', () => {
    const at1 = { ...r, step: 1 };
    let inUs = 0;
    for (let i = 0; i < 10_000; i++) {
      const id = identity({ cluster: 'main', region: 'us-east-1', nodeId: node(i) });
      const reached = reaches(at1, id);
      expect(reached).toBe(rolloutBucket('t', node(i)) < 2500);
      if (reached) {
        inUs++;
        // Once in, in at every later step.
        expect(reaches({ ...r, step: 2 }, id)).toBe(true);
      }
    }
    expect(Math.abs(inUs / 100 - 25)).toBeLessThanOrEqual(2);
    expect(reaches(at1, canary)).toBe(true);
    expect(reaches(at1, other)).toBe(false);
    expect(reaches({ ...r, step: 2 }, other)).toBe(true);
  });

  it('a step of several scopes takes any of them', () => {
    const two = rollout('region=a|region=b 1m');
    expect(reaches(two, identity({ region: 'a' }))).toBe(true);
    expect(reaches(two, identity({ region: 'b' }))).toBe(true);
    expect(reaches(two, identity({ region: 'c' }))).toBe(false);
  });
});

describe('the policy', () => {
  it('reads and writes its text form', () => {
    const text = 'cluster=canary 10m gates=consumers; region=us-east-1|region=us-west-2 30m gates=consumers,webhook; * 25% 15m; * 0';
    const steps = parseRolloutSteps(text);
    expect(steps[1]).toEqual({ scopes: [{ region: 'us-east-1' }, { region: 'us-west-2' }], percent: 100, bakeMs: 1_800_000, gates: ['consumers', 'webhook'] });
    expect(steps[2]).toEqual({ scopes: [{}], percent: 25, bakeMs: 900_000, gates: [] });
    expect(formatRolloutSteps(steps)).toBe(text);
    const p = validateRolloutPolicy({ steps, webhookUrl: 'https://ci.example/gate', minHoldingPercent: 95 });
    expect(formatRolloutPolicy(p)).toBe(`${text}  min-holding=95%  webhook=https://ci.example/gate`);
    expect(p).toMatchObject({ minHoldingPercent: 95, maxRejections: 0, webhookTimeoutMs: 5000 });
  });

  it.each<[string, () => unknown, string]>([
    ['no steps', () => validateRolloutPolicy({ steps: [] }), 'rollout_policy.steps'],
    ['a percentage of 0', () => validateRolloutPolicy({ steps: [{ percent: 0 }] }), 'rollout_policy.steps[0].percent'],
    ['a negative bake', () => validateRolloutPolicy({ steps: [{ bakeMs: -1 }] }), 'rollout_policy.steps[0].bake_ms'],
    ['an unknown gate', () => validateRolloutPolicy({ steps: [{ gates: ['magic' as never] }] }), 'rollout_policy.steps[0].gates'],
    ['a webhook gate without a URL', () => validateRolloutPolicy({ steps: [{ gates: ['webhook'] }] }), 'rollout_policy.webhook_url'],
    ['a URL that is not http', () => validateRolloutPolicy({ steps: [{}], webhookUrl: 'ftp://x' }), 'rollout_policy.webhook_url'],
    ['a holding share above 100', () => validateRolloutPolicy({ steps: [{}], minHoldingPercent: 101 }), 'rollout_policy.min_holding_percent'],
    ['a bad scope in the text', () => parseRolloutSteps('region 10m'), 'rollout step 1'],
    ['a step without a bake', () => parseRolloutSteps('cluster=canary; * 1h'), 'rollout step 1 bake'],
  ])('refuses %s, naming the field', (_what, call, field) => {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).message).toContain(field);
  });
});

describe('the moves', () => {
  const r = rollout('cluster=canary 10m; * 1h');

  it('pause keeps the bake left and resume gives it back', () => {
    const paused = pauseMove(r, 1000 + 4 * 60_000, 'looking at graphs').next;
    expect(paused).toMatchObject({ state: 'paused', bakeLeftMs: 6 * 60_000, reason: 'looking at graphs' });
    expect(bakeLeftMs(paused, 10_000_000)).toBe(6 * 60_000);
    const resumed = resumeMove(paused, 5_000_000).next;
    expect(resumed.state).toBe('running');
    expect(bakeLeftMs(resumed, 5_000_000)).toBe(6 * 60_000);
    expect(resumed.bakeLeftMs).toBeUndefined();
  });

  it('advance goes to the next step, then completes after the last', () => {
    const step1 = advanceMove(r, 700_000);
    expect(step1.action).toBe('step');
    expect(step1.next).toMatchObject({ state: 'running', step: 1, stepStartedAtMs: 700_000 });
    const done = advanceMove(step1.next, 5_000_000);
    expect(done.action).toBe('complete');
    expect(done.next).toMatchObject({ state: 'completed', step: 1, endedAtMs: 5_000_000 });
    expect(completeMove(r, 9, 'promote').action).toBe('promote');
  });

  it('cancel by a gate is a rejection', () => {
    expect(cancelMove(r, 9, 'bad', true)).toMatchObject({ action: 'reject', next: { state: 'cancelled', rejected: true, reason: 'bad', endedAtMs: 9 } });
    expect(cancelMove(r, 9, 'operator').action).toBe('cancel');
    expect(webhookPassedMove(r, 9).next.webhookPassedStep).toBe(0);
  });

  it.each<[string, () => unknown]>([
    ['resume a running one', () => resumeMove(r, 1)],
    ['pause a paused one', () => pauseMove({ ...r, state: 'paused' }, 1, '')],
    ['cancel a completed one', () => cancelMove({ ...r, state: 'completed' }, 1, '')],
    ['promote a cancelled one', () => advanceMove({ ...r, state: 'cancelled' }, 1, 'promote')],
  ])('refuses to %s, saying its state', (_what, call) => {
    expect(call).toThrow(FailedPreconditionError);
    expect(call).toThrow(/version 5 of topic "t".*it is/);
  });
});

describe('the consumers gate', () => {
  const r = rollout('cluster=canary 10m gates=consumers; * 1h');
  const out = (cluster: string, holds: Version, rejected?: Version): ConsumerOutcome => ({
    topic: 't',
    version: 5n,
    identity: identity({ cluster, nodeId: `${cluster}-${Math.random()}` }),
    holds,
    atMs: 1,
    ...(rejected && { rejection: { version: rejected, stage: 'validate', reason: 'no' } }),
  });

  it('counts the reached nodes that hold the version, and every rejection', () => {
    const p = rolloutProgress(r, [out('canary', 5n), out('canary', 5n), out('canary', 4n), out('main', 4n), out('main', 4n, 5n)]);
    expect(p).toEqual({ reached: 3, holding: 2, rejections: 1 });
    expect(consumersGateProblem(r.policy, p)).toMatch(/1 consumer\(s\) rejected/);
    expect(consumersGateProblem(r.policy, { reached: 3, holding: 2, rejections: 0 })).toMatch(/2 of 3 reached consumers hold the version \(66\.7%, at least 90% needed\)/);
    expect(consumersGateProblem(r.policy, { reached: 10, holding: 9, rejections: 0 })).toBeUndefined();
    // Nobody heard from: nobody has shown the version loads.
    expect(consumersGateProblem(r.policy, { reached: 0, holding: 0, rejections: 0 })).toMatch(/no consumer the rollout has reached/);
  });
});

describe('the poll decision with a rollout', () => {
  function rec(version: Version): VersionRecord {
    const bytes = Buffer.from(`v${version}`);
    const base = { topic: 't', version, publishedAtMs: Number(version), metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes } };
    return { ...base, scopes: [], digest: recordDigest(base) };
  }
  const records = [1n, 2n, 3n].map(rec);
  const source: PollSource<PollView> = {
    state: () => undefined,
    record: (topic, _view, version) => verdictOf(topic, version, records.find((r) => r.version === version)),
    versionsBelow: () => [],
  };
  const view = (over: Partial<PollView>): PollSource<PollView> => ({ ...source, state: () => ({ heads: [{ scope: {}, version: 1n, sinceMs: 0 }], pins: [], ...over }) });
  const canary = identity({ cluster: 'canary', nodeId: 'c' });
  const other = identity({ cluster: 'main', nodeId: 'm' });
  const running = rollout('cluster=canary 10m; * 1h', { version: 2n });
  const show = async (src: PollSource<PollView>, id = canary, lastSeen: Version = 1n) => {
    const d = await decidePoll(src, 't', id, lastSeen);
    return d.record ? `v${d.record.version}${d.pinned ? ' pinned' : ''}${d.rolledBack ? ' rolled back' : ''}` : 'none';
  };

  it('gives the version to whom the rollout reached, running or paused, and to no one else', async () => {
    expect(await show(view({ rollout: running }))).toBe('v2');
    expect(await show(view({ rollout: { ...running, state: 'paused' } }))).toBe('v2');
    expect(await show(view({ rollout: running }), other)).toBe('none');
    expect(await show(view({ rollout: running }), other, 0n)).toBe('v1');
  });

  it('gives it to no one once the rollout ended without completing', async () => {
    expect(await show(view({ rollout: { ...running, state: 'superseded' } }), canary, 0n)).toBe('v1');
    expect(await show(view({ rollout: { ...running, state: 'cancelled' } }), canary, 0n)).toBe('v1');
  });

  it('a pin wins over the rollout', async () => {
    expect(await show(view({ rollout: running, pins: [{ topic: 't', scope: {}, version: 1n, createdAtMs: 1, reason: '', createdBy: '' }] }), canary, 2n)).toBe('v1 pinned');
  });

  it('moves a holder of a withdrawn version back, and only such a holder', async () => {
    expect(await show(view({ withdrawn: [2n] }), canary, 2n)).toBe('v1 rolled back');
    // Holding a newer version that was not withdrawn: never older.
    expect(await show(view({ withdrawn: [2n] }), canary, 3n)).toBe('none');
    expect(await show(view({}), canary, 2n)).toBe('none');
  });

  it('a newer latest than the rollout goes to everyone', async () => {
    expect(await show(view({ rollout: running, heads: [{ scope: {}, version: 3n, sinceMs: 0 }] }))).toBe('v3');
  });
});
