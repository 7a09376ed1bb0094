/**
 * The rollout converters (proto/convert.ts) through the real wire encoding: a rollout, its
 * policy and a rejection come back as they went, and what the wire cannot mean is refused
 * naming the wire field.
 */
import { describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { validateRolloutPolicy, type Rollout } from '../../core/index.js';
import { rejectionFromWire, rejectionToWire, rolloutFromWire, rolloutPolicyFromWire, rolloutToWire } from '../../proto/convert.js';
import type { GetRolloutResponse__Output } from '../../proto/gen/imprint/v1/GetRolloutResponse.js';
import type { PollRequest__Output } from '../../proto/gen/imprint/v1/PollRequest.js';
import { loadImprintProto } from '../../proto/loader.js';

const { def } = loadImprintProto();
const method = (service: string, name: string) => (def[`imprint.v1.${service}`] as grpc.ServiceDefinition)[name] as grpc.MethodDefinition<unknown, unknown>;
/** A GetRollout answer as a client reads it off the wire. */
const overWire = (res: unknown) => method('OperatorService', 'GetRollout').responseDeserialize(method('OperatorService', 'GetRollout').responseSerialize(res)) as GetRolloutResponse__Output;
const pollOverWire = (req: unknown) => method('ConsumerService', 'Poll').requestDeserialize(method('ConsumerService', 'Poll').requestSerialize(req)) as PollRequest__Output;

const policy = validateRolloutPolicy({
  steps: [
    { scopes: [{ cluster: 'canary' }, { cluster: 'canary-2' }], percent: 100, bakeMs: 600_000, gates: ['consumers'] },
    { scopes: [{}], percent: 5, bakeMs: 0, gates: ['consumers', 'webhook'] },
  ],
  minHoldingPercent: 0,
  maxRejections: 3,
  webhookUrl: 'https://ci.example/gate',
  webhookTimeoutMs: 2000,
});

describe('rollout converters', () => {
  it('a paused rollout comes back as it went (the revision stays on the server)', () => {
    const r: Rollout = { topic: 'model', version: 9_007_199_254_740_993n, policy, state: 'paused', step: 1, stepStartedAtMs: 1000, bakeLeftMs: 500, startedAtMs: 900, updatedAtMs: 1100, reason: 'looking', rejected: false, webhookPassedStep: -1, revision: 7 };
    const res = overWire({ rollout: rolloutToWire(r), progress: { reached: 10, holding: 9, rejections: 1 } });
    expect(rolloutFromWire(res.rollout as NonNullable<typeof res.rollout>)).toEqual({ ...r, revision: 0 });
    expect(res.progress).toEqual({ reached: 10, holding: 9, rejections: 1 });
  });

  it('a cancelled rollout keeps its end and rejected flag; a 0 min-holding survives (optional on the wire)', () => {
    const r: Rollout = { topic: 'model', version: 3n, policy, state: 'cancelled', step: 0, stepStartedAtMs: 1000, startedAtMs: 1000, updatedAtMs: 2000, endedAtMs: 2000, reason: 'gate', rejected: true, webhookPassedStep: 0, revision: 2 };
    const back = rolloutFromWire(overWire({ rollout: rolloutToWire(r) }).rollout as NonNullable<GetRolloutResponse__Output['rollout']>);
    expect(back).toEqual({ ...r, revision: 0 });
    expect(back.policy.minHoldingPercent).toBe(0);
  });

  it('a policy with absent thresholds and percent 0 gets the defaults; bad values name the wire field', () => {
    const wire = overWire({ rollout: { topic: 't', version: '1', state: 'ROLLOUT_STATE_RUNNING', policy: { steps: [{ scopes: [], percent: 0, bakeMs: 5 }] } } }).rollout?.policy;
    expect(rolloutPolicyFromWire(wire as NonNullable<typeof wire>)).toEqual({ steps: [{ scopes: [{}], percent: 100, bakeMs: 5, gates: [] }], minHoldingPercent: 90, maxRejections: 0, webhookTimeoutMs: 5000 });
    const bad = overWire({ rollout: { topic: 't', version: '1', state: 'ROLLOUT_STATE_RUNNING', policy: { steps: [{ percent: 101, bakeMs: 5 }] } } }).rollout?.policy;
    expect(() => rolloutPolicyFromWire(bad as NonNullable<typeof bad>)).toThrow(/^rollout_policy\.steps\[0\]\.percent must be a whole number from 1 to 100 \(got 101\)/);
    const gate = overWire({ rollout: { topic: 't', version: '1', state: 'ROLLOUT_STATE_RUNNING', policy: { steps: [{ bakeMs: 5, gates: ['ROLLOUT_GATE_UNSPECIFIED'] }] } } }).rollout?.policy;
    expect(() => rolloutPolicyFromWire(gate as NonNullable<typeof gate>, 'topic.rollout_policy')).toThrow(/^topic\.rollout_policy\.steps\[0\]\.gates\[0\] must be one of ROLLOUT_GATE_CONSUMERS, ROLLOUT_GATE_WEBHOOK/);
  });

  it('a rejection goes on a poll and comes back; a reason over 1024 characters is refused naming the field', () => {
    const req = pollOverWire({ topic: 'model', lastSeenVersion: '1', rejected: rejectionToWire({ version: 2n, stage: 'validate', reason: 'x'.repeat(1024) }) });
    expect(rejectionFromWire(req.rejected, 'rejected')).toEqual({ version: 2n, stage: 'validate', reason: 'x'.repeat(1024) });
    expect(rejectionFromWire(pollOverWire({ topic: 'model' }).rejected, 'rejected')).toBeUndefined();
    expect(() => rejectionFromWire(pollOverWire({ rejected: { version: '2', stage: 'REJECT_STAGE_UNSPECIFIED' } }).rejected, 'rejected')).toThrow(/^rejected\.stage must be one of REJECT_STAGE_FETCH/);
    expect(() => rejectionFromWire(pollOverWire({ rejected: { version: '0', stage: 'REJECT_STAGE_FETCH' } }).rejected, 'topics[3].rejected')).toThrow(/^topics\[3\]\.rejected\.version must be/);
    expect(() => rejectionFromWire({ version: '2', stage: 'REJECT_STAGE_FETCH', reason: 'y'.repeat(1025) }, 'rejected')).toThrow(/^rejected\.reason must be at most 1024 characters \(got 1025\)/);
  });
});
