/**
 * The CLI's rollout parts as pure functions: the policy flags (text form, JSON file, gate
 * thresholds, --no-rollout-policy) with errors that name the flag; `rollout status` and
 * `rollout list` text; the history's rollout entries.
 */
import { describe, expect, it } from 'vitest';
import { ImprintError, InvalidArgumentError, validateRolloutPolicy, type Rollout, type RolloutPolicy } from '../../core/index.js';
import { changeText } from '../../cli/format.js';
import { timeLeft, consumersGateText, policyFromJson, rolloutLine, rolloutPolicyFromFlags, rolloutStatusText, webhookGateText, type RolloutFlags } from '../../cli/rollout.js';

const STEPS = 'cluster=canary 10m gates=consumers; region=us-east-1 30m gates=consumers,webhook; * 0';
const noFile = (): string => {
  throw new Error('no file in this test');
};
const flags = (o: RolloutFlags, current?: RolloutPolicy) => rolloutPolicyFromFlags(o, current, noFile);

/** The error a call throws (the test fails if it does not throw an ImprintError). */
function errorOf(fn: () => unknown): ImprintError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ImprintError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('rolloutPolicyFromFlags', () => {
  it('reads the text form with the gate flags', () => {
    expect(flags({ rollout: STEPS, rolloutWebhook: 'https://ci.example/gate', rolloutMinHolding: '95', rolloutMaxRejections: '2', rolloutWebhookTimeout: '2s' })).toEqual({
      steps: [
        { scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 600_000, gates: ['consumers'] },
        { scopes: [{ region: 'us-east-1' }], percent: 100, bakeMs: 1_800_000, gates: ['consumers', 'webhook'] },
        { scopes: [{}], percent: 100, bakeMs: 0, gates: [] },
      ],
      minHoldingPercent: 95,
      maxRejections: 2,
      webhookUrl: 'https://ci.example/gate',
      webhookTimeoutMs: 2000,
    });
  });

  it('says nothing when no flag is given, and null for --no-rollout-policy', () => {
    expect(flags({})).toBeUndefined();
    expect(flags({ rolloutPolicy: true })).toBeUndefined();
    expect(flags({ rolloutPolicy: false })).toBeNull();
  });

  it('the gate flags alone change the policy the topic has', () => {
    const current = validateRolloutPolicy({ steps: [{ scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 60_000, gates: ['consumers'] }] });
    expect(flags({ rolloutMaxRejections: '3' }, current)).toEqual({ ...current, maxRejections: 3 });
  });

  it.each<[string, RolloutFlags, string, RegExp]>([
    ['a bad bake', { rollout: 'cluster=canary 10m; * soon' }, '--rollout step 2 bake', /must be a bake time like 0, 30s/],
    ['a missing bake', { rollout: 'cluster=canary' }, '--rollout step 1 bake', /is required \(0 for none\)/],
    ['a percent of 0', { rollout: '* 0% 1h; * 0' }, '--rollout step 1 percent', /must be a whole number from 1 to 100/],
    ['an unknown gate', { rollout: '* 1h gates=smoke' }, '--rollout step 1 gates', /must be among consumers, webhook/],
    ['a webhook gate without a URL', { rollout: STEPS }, '--rollout-webhook', /is required when a step has a webhook gate/],
    ['a bad webhook URL', { rollout: '* 1h', rolloutWebhook: 'ftp://x' }, '--rollout-webhook', /must be an http or https URL/],
    ['a min-holding over 100', { rollout: '* 1h', rolloutMinHolding: '101' }, '--rollout-min-holding', /must be a whole number from 0 to 100/],
    ['a min-holding that is no number', { rollout: '* 1h', rolloutMinHolding: 'most' }, '--rollout-min-holding', /must be a whole number/],
    ['a webhook timeout too short', { rollout: '* 1h', rolloutWebhookTimeout: '10ms' }, '--rollout-webhook-timeout', /from 100 to 60000/],
    ['a webhook timeout that is no duration', { rollout: '* 1h', rolloutWebhookTimeout: 'long' }, '--rollout-webhook-timeout', /must be a duration/],
    ['both --rollout and --rollout-file', { rollout: '* 1h', rolloutFile: 'x.json' }, '--rollout', /cannot go with --rollout-file/],
    ['--no-rollout-policy with steps', { rollout: '* 1h', rolloutPolicy: false }, '--no-rollout-policy', /cannot go with the other --rollout flags/],
    ['gate flags on a topic without a policy', { rolloutMaxRejections: '1' }, '--rollout', /is required with the other --rollout flags/],
    ['too many steps', { rollout: Array.from({ length: 21 }, () => '* 0').join('; ') }, '--rollout', /must have 1 to 20 steps/],
  ])('%s: names %s', (_name, o, field, rule) => {
    const err = errorOf(() => flags(o));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
    expect(err.message).toMatch(rule);
    expect(err.message.startsWith(`${field} `)).toBe(true);
  });

  it('reads a JSON file (scopes as text or objects, bake as text or ms), and names the file and step in its errors', () => {
    const json = JSON.stringify({
      steps: [{ scopes: ['cluster=canary'], bake: '10m', gates: ['consumers'] }, { scopes: [{ region: 'us-east-1' }], percent: 50, bakeMs: 1000 }, { bake: '0' }],
      maxRejections: 1,
      webhookTimeout: '3s',
    });
    expect(rolloutPolicyFromFlags({ rolloutFile: 'policy.json' }, undefined, () => json)).toEqual({
      steps: [
        { scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 600_000, gates: ['consumers'] },
        { scopes: [{ region: 'us-east-1' }], percent: 50, bakeMs: 1000, gates: [] },
        { scopes: [{}], percent: 100, bakeMs: 0, gates: [] },
      ],
      minHoldingPercent: 90,
      maxRejections: 1,
      webhookTimeoutMs: 3000,
    });
    const fileErr = (text: string) => errorOf(() => rolloutPolicyFromFlags({ rolloutFile: 'policy.json' }, undefined, () => text)).message;
    expect(fileErr('{')).toMatch(/^--rollout-file must be JSON/);
    expect(fileErr('{"steps": [{"bake": "1h", "percent": 120}]}')).toMatch(/^--rollout-file step 1 percent must be a whole number from 1 to 100 \(got 120\)/);
    expect(fileErr('{"steps": [{"scopes": ["nokey"], "bake": "1h"}]}')).toMatch(/^--rollout-file step 1 scopes\[0\]/);
    expect(fileErr('{"steps": [{"scopes": ["a=b"]}]}')).toMatch(/^--rollout-file step 1 bake is required/);
    expect(fileErr('{"steps": [{"bake": "1h", "gates": "consumers"}]}')).toMatch(/^--rollout-file step 1 gates must be an array/);
    expect(errorOf(() => rolloutPolicyFromFlags({ rolloutFile: '/nonexistent/policy.json' })).message).toMatch(/^--rollout-file must be a readable file/);
    expect(() => policyFromJson('[]')).toThrow(/--rollout-file must be a JSON object with "steps"/);
  });
});

const POLICY = validateRolloutPolicy({
  steps: [
    { scopes: [{ cluster: 'canary' }], percent: 100, bakeMs: 600_000, gates: ['consumers'] },
    { scopes: [{ region: 'us-east-1' }], percent: 100, bakeMs: 1_800_000, gates: ['consumers', 'webhook'] },
    { scopes: [{}], percent: 100, bakeMs: 0, gates: [] },
  ],
  webhookUrl: 'https://ci.example/gate',
});
const T0 = Date.parse('2026-11-29T10:00:00Z');
const rollout = (r: Partial<Rollout> = {}): Rollout => ({
  topic: 'model',
  version: 42n,
  policy: POLICY,
  state: 'running',
  step: 1,
  stepStartedAtMs: T0 + 600_000,
  startedAtMs: T0,
  updatedAtMs: T0 + 600_000,
  reason: '',
  rejected: false,
  webhookPassedStep: -1,
  revision: 3,
  ...r,
});

describe('rollout status and list text', () => {
  it('a running rollout: its step, whom it reached, the bake left, both gates', () => {
    const text = rolloutStatusText({ rollout: rollout(), progress: { reached: 40, holding: 38, rejections: 0 } }, T0 + 600_000 + 300_000);
    expect(text.split('\n')).toEqual([
      'model v42  RUNNING at step 2 of 3, bake 25m left, started 2026-11-29T10:00:00.000Z',
      '  steps:',
      `       1. ${'cluster=canary 10m gates=consumers'.padEnd(48)}  applied`,
      `    >  2. ${'region=us-east-1 30m gates=consumers,webhook'.padEnd(48)}  applied, baking: 25m left`,
      '       3. * 0',
      '  reached     cluster=canary or region=us-east-1',
      '  consumers   40 reached, 38 holding (95.0%, at least 90% needed), 0 rejections (at most 0): passes',
      '  webhook     waiting for a 2xx from https://ci.example/gate (each call 5s at most; called until the bake ends)',
      '  policy      cluster=canary 10m gates=consumers; region=us-east-1 30m gates=consumers,webhook; * 0  webhook=https://ci.example/gate',
    ]);
  });

  it('a rollout a gate rejected: cancelled, by a gate, with the verdict', () => {
    const r = rollout({ state: 'cancelled', step: 0, endedAtMs: T0 + 600_000, rejected: true, reason: '1 consumer(s) rejected the version (at most 0 allowed)' });
    const text = rolloutStatusText({ rollout: r, progress: { reached: 3, holding: 2, rejections: 1 } }, T0 + 700_000);
    expect(text).toContain('model v42  CANCELLED at step 1 of 3, started 2026-11-29T10:00:00.000Z, ended 2026-11-29T10:10:00.000Z: rejected by a gate: 1 consumer(s) rejected the version');
    expect(text).toContain('  consumers   3 reached, 2 holding (66.7%, at least 90% needed), 1 rejection (at most 0): as last reported while it ran');
    expect(text).toContain('  cancelled   by a gate: 1 consumer(s) rejected the version (at most 0 allowed); consumers that held v42 were moved back');
  });

  it('paused: the bake left stands still, with the reason; completed: everyone', () => {
    const paused = rollout({ state: 'paused', bakeLeftMs: 120_000, reason: 'checking the error rate' });
    expect(rolloutLine(paused, T0 + 10 * 3_600_000)).toBe('model v42  PAUSED at step 2 of 3, bake 2m left (clock stopped), started 2026-11-29T10:00:00.000Z: checking the error rate');
    const done = rollout({ state: 'completed', step: 2, endedAtMs: T0 + 3_600_000 });
    const text = rolloutStatusText({ rollout: done, progress: { reached: 0, holding: 0, rejections: 0 } }, T0 + 3_600_000);
    expect(text).toContain('COMPLETED at every step');
    expect(text).toContain('  reached     everyone (the version is the latest for all)');
  });

  it('the webhook gate: not a gate of this step, passed, none', () => {
    expect(webhookGateText(rollout({ step: 0 }))).toBe('not a gate of this step (https://ci.example/gate)');
    expect(webhookGateText(rollout({ webhookPassedStep: 1 }))).toBe('passed for this step (https://ci.example/gate)');
    expect(webhookGateText(rollout({ policy: validateRolloutPolicy({ steps: [{ scopes: [{}], percent: 100, bakeMs: 0, gates: [] }] }) }))).toBe('none');
  });

  it('the bake left reads in whole seconds, rounded up', () => {
    expect(timeLeft(1_500_000)).toBe('25m');
    expect(rolloutLine(rollout(), T0 + 600_000 + 1_234)).toContain('bake 29m59s left');
    expect(rolloutLine(rollout({ state: 'paused', bakeLeftMs: 3_725_001 }), 0)).toContain('bake 1h2m6s left');
    expect(rolloutLine(rollout(), T0 + 10 * 3_600_000)).toContain('bake 0s left');
  });

  it('the consumers gate with nobody reached yet would hold the rollout, with no percentage', () => {
    expect(consumersGateText(POLICY, { reached: 0, holding: 0, rejections: 0 })).toBe(
      '0 reached, 0 holding (-, at least 90% needed), 0 rejections (at most 0): would hold the rollout: no consumer the rollout has reached has asked for the topic since it began (at least one must hold the version)',
    );
  });

  it('an ended rollout shows what its consumers last said, with no verdict', () => {
    expect(consumersGateText(POLICY, { reached: 2, holding: 2, rejections: 0 }, false)).toBe('2 reached, 2 holding (100.0%, at least 90% needed), 0 rejections (at most 0): as last reported while it ran');
  });
});

describe("the history's rollout entries", () => {
  const change = (details: Record<string, string>, reason = '') =>
    changeText({ topic: 'model', kind: 'rollout', atMs: T0, by: { principal: 'ops', authenticated: true, peer: '10.0.0.1:5000' }, version: 42n, scopes: [], reason, publishId: '', details });
  it.each([
    [{ action: 'start', step: '0', state: 'running' }, '', 'rollout started, step 1 applied'],
    [{ action: 'step', step: '1', state: 'running' }, '', 'step 2 applied'],
    [{ action: 'pause', step: '1', state: 'paused' }, 'error rate', 'paused at step 2: error rate'],
    [{ action: 'resume', step: '1', state: 'running' }, '', 'resumed at step 2'],
    [{ action: 'promote', step: '2', state: 'running' }, '', 'promoted: step 3 applied'],
    [{ action: 'promote', step: '1', state: 'completed' }, '', 'promoted to everyone'],
    [{ action: 'reject', step: '0', state: 'cancelled' }, '2 consumer(s) rejected the version', 'REJECTED at step 1 by a gate: 2 consumer(s) rejected the version'],
    [{ action: 'cancel', step: '1', state: 'cancelled' }, 'bad scores', 'cancelled at step 2: bad scores'],
    [{ action: 'complete', step: '2', state: 'completed' }, '', 'rollout completed: the latest for everyone'],
    [{ action: 'supersede', step: '0', state: 'superseded' }, 'by v43', 'superseded at step 1: by v43'],
    [{ action: 'webhook-passed', step: '1', state: 'running' }, '', 'webhook gate passed at step 2'],
  ])('%o %s', (details, reason, what) => {
    const line = change(details, reason);
    expect(line.split(/ {2,}/).slice(1, 5)).toEqual(['rollout', 'v42', 'ops', '10.0.0.1:5000']);
    expect(line.endsWith(`  ${what}`)).toBe(true);
  });

  it('a removed rollout policy reads "none" in an update-topic entry', () => {
    const line = changeText({ topic: 'model', kind: 'update-topic', atMs: T0, by: { principal: '', authenticated: false, peer: '' }, version: 0n, scopes: [], reason: '', publishId: '', details: { rollout_policy: '' } });
    expect(line).toMatch(/rollout_policy=none$/);
  });
});
