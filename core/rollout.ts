/**
 * Rollouts: a version reaches a topic's consumers step by step (a canary cluster, then a region,
 * then everyone), each step baking for a while and passing its gates before the next.
 *
 * The model, in one place:
 * - A topic may have a RolloutPolicy. A publish to it (without explicit scopes and without
 *   `noRollout`) starts a Rollout of the new version: the version is written with NO scopes
 *   (no scope head moves, so nobody gets it as a latest) and the rollout's first step is
 *   applied at once. Its target is every consumer (the empty scope).
 * - Who the rollout has reached is the union of its applied steps (`reaches`): a step adds the
 *   consumers matching any of its scopes, or a percentage of them chosen by a stable hash of
 *   the topic and the node id (`rolloutBucket`), so a node stays in or out across polls,
 *   restarts and steps.
 * - The poll decision (poll.ts) gives a reached consumer the rollout's version while the
 *   rollout is running or paused; pins still win.
 * - When the last step has baked and passed, the rollout completes: the version gets its
 *   target scopes (the empty scope), in the same atomic step, and is the latest for everyone.
 * - Cancelled (by an operator or a gate): the version is withdrawn; a consumer holding it is
 *   moved back to what the decision gives it without the rollout (`rolledBack` in the answer,
 *   the one case besides a pin where a consumer moves to an older version). Its record and
 *   history stay; nothing is deleted.
 * - Superseded: a newer publish to the topic stops the running rollout; nobody new gets its
 *   version, and whoever holds it keeps it until something newer reaches them.
 *
 * Everything here is pure; the store keeps rollouts (MetadataStore), the driver advances them
 * (server/rollout), the service exposes them.
 */
import { FailedPreconditionError, InvalidArgumentError } from './errors.js';
import { identityAttributes, parseScope, scopeKey, scopeMatches, validateScope } from './scope.js';
import type { ConsumerIdentity, RolloutGate, RolloutPolicy, RolloutStep, Version } from './types.js';

export type { RolloutGate, RolloutPolicy, RolloutStep } from './types.js';

export const ROLLOUT_GATES: readonly RolloutGate[] = ['consumers', 'webhook'];

export const ROLLOUT_DEFAULTS = { minHoldingPercent: 90, maxRejections: 0, webhookTimeoutMs: 5000 } as const;
export const MAX_ROLLOUT_STEPS = 20;
export const MAX_STEP_SCOPES = 16;
export const MAX_BAKE_MS = 30 * 86_400_000;

export type RolloutState = 'running' | 'paused' | 'completed' | 'cancelled' | 'superseded';

/** Whether a rollout in this state still widens (and its version is given to whom it reached). */
export function isActive(state: RolloutState): boolean {
  return state === 'running' || state === 'paused';
}

/** One rollout of one version, as the store keeps it. */
export interface Rollout {
  readonly topic: string;
  readonly version: Version;
  /** The topic's policy when the rollout began (a later policy change does not affect it). */
  readonly policy: RolloutPolicy;
  readonly state: RolloutState;
  /** The index of the last step applied (0: the first, applied when the version was published). */
  readonly step: number;
  /** When that step was applied; its bake runs from here (moved on resume by the time spent paused). */
  readonly stepStartedAtMs: number;
  /** Paused: the bake the current step had left when it was paused, ms. */
  readonly bakeLeftMs?: number;
  readonly startedAtMs: number;
  readonly updatedAtMs: number;
  /** Completed, cancelled or superseded: when. */
  readonly endedAtMs?: number;
  /** Cancelled, superseded or paused: why (an operator's reason, a gate's verdict, the superseding version). */
  readonly reason: string;
  /** Cancelled by a gate (not by an operator). */
  readonly rejected: boolean;
  /** The step whose webhook gate has answered 2xx (-1: none yet). */
  readonly webhookPassedStep: number;
  /** Bumped by every change; a change applies only to the revision it was computed from (no step applied twice). */
  readonly revision: number;
}

/** What changed a rollout, as its history entry (details.action) and log line say. */
export type RolloutAction = 'start' | 'step' | 'pause' | 'resume' | 'promote' | 'cancel' | 'reject' | 'complete' | 'supersede' | 'webhook-passed';

// ---------------------------------------------------------------------------------------
// Who the rollout has reached

/** 10000 buckets: a percentage step takes the nodes whose bucket is below percent * 100. */
export const ROLLOUT_BUCKETS = 10_000;

/**
 * A node's bucket, 0 to 9999, for `topic`: FNV-1a (32-bit) over the UTF-16 code units of
 * `${topic}\n${nodeId}`, finished with murmur3's fmix32, modulo 10000. Stable across polls,
 * restarts, versions and instances (the same node is in the same 5% every time; another
 * topic's canaries are other nodes). docs/ROLLOUTS.md gives vectors.
 */
export function rolloutBucket(topic: string, nodeId: string): number {
  let h = 0x811c9dc5;
  const s = `${topic}\n${nodeId}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % ROLLOUT_BUCKETS;
}

/** Whether step `s` takes the consumer (attributes `attrs`, bucket computed on demand). */
function stepTakes(s: RolloutStep, attrs: Readonly<Record<string, string>>, bucket: () => number): boolean {
  if (!s.scopes.some((scope) => scopeMatches(scope, attrs))) return false;
  return s.percent >= 100 || bucket() < s.percent * 100;
}

/** Whether the rollout's applied steps (0 to `rollout.step`) have reached the consumer. */
export function reaches(rollout: Pick<Rollout, 'topic' | 'policy' | 'step'>, identity: ConsumerIdentity): boolean {
  const attrs = identityAttributes(identity);
  let b: number | undefined;
  const bucket = (): number => (b ??= rolloutBucket(rollout.topic, identity.nodeId));
  const last = Math.min(rollout.step, rollout.policy.steps.length - 1);
  for (let i = 0; i <= last; i++) {
    const s = rollout.policy.steps[i];
    if (s && stepTakes(s, attrs, bucket)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Consumer outcomes and the consumers gate

/** Where a consumer's attempt to load a version failed. */
export type RejectStage = 'fetch' | 'verify' | 'decode' | 'validate';
export const REJECT_STAGES: readonly RejectStage[] = ['fetch', 'verify', 'decode', 'validate'];

/** A consumer's word on a version it could not load. */
export interface Rejection {
  readonly version: Version;
  readonly stage: RejectStage;
  /** At most 1024 characters. */
  readonly reason: string;
}

/**
 * What one node said during one rollout (the store keeps the latest per topic, rollout
 * version and node): the version it holds and, when it has one, its latest rejection.
 */
export interface ConsumerOutcome {
  readonly topic: string;
  /** The rollout's version (the key: outcomes are kept per rollout). */
  readonly version: Version;
  readonly identity: ConsumerIdentity;
  /** What the node holds (0n: nothing). */
  readonly holds: Version;
  readonly rejection?: Rejection;
  /** When the serving instance heard it, ms. */
  readonly atMs: number;
}

/** The consumers gate's count at one moment. */
export interface RolloutProgress {
  /** Nodes the rollout has reached that asked for the topic since it began. */
  readonly reached: number;
  /** Of those, the ones holding the version. */
  readonly holding: number;
  /** Nodes whose latest rejection is of the version (any node, reached or not). */
  readonly rejections: number;
}

export function rolloutProgress(rollout: Pick<Rollout, 'topic' | 'version' | 'policy' | 'step'>, outcomes: readonly ConsumerOutcome[]): RolloutProgress {
  let reached = 0;
  let holding = 0;
  let rejections = 0;
  for (const o of outcomes) {
    if (o.rejection?.version === rollout.version) rejections++;
    if (!reaches(rollout, o.identity)) continue;
    reached++;
    if (o.holds === rollout.version) holding++;
  }
  return { reached, holding, rejections };
}

/**
 * The consumers gate's verdict: undefined when it passes, else why it does not. With no reached
 * consumer heard from it fails: nobody has shown that the version loads (a step that reaches no
 * one is promoted by an operator, or has no consumers gate).
 */
export function consumersGateProblem(policy: RolloutPolicy, p: RolloutProgress): string | undefined {
  if (p.rejections > policy.maxRejections) return `${p.rejections} consumer(s) rejected the version (at most ${policy.maxRejections} allowed)`;
  if (p.reached === 0) return 'no consumer the rollout has reached has asked for the topic since it began (at least one must hold the version)';
  const pct = (100 * p.holding) / p.reached;
  if (pct < policy.minHoldingPercent) return `${p.holding} of ${p.reached} reached consumers hold the version (${pct.toFixed(1)}%, at least ${policy.minHoldingPercent}% needed)`;
  return undefined;
}

// ---------------------------------------------------------------------------------------
// The policy: checking it, and its text form

/** Checks a policy (naming `field`.steps[i].x) and returns it with defaults filled in. */
export function validateRolloutPolicy(p: Omit<Partial<RolloutPolicy>, 'steps'> & { readonly steps?: readonly Partial<RolloutStep>[] }, field = 'rollout_policy'): RolloutPolicy {
  const steps = p.steps ?? [];
  if (steps.length < 1 || steps.length > MAX_ROLLOUT_STEPS) throw new InvalidArgumentError(`${field}.steps`, `must have 1 to ${MAX_ROLLOUT_STEPS} steps`, steps.length);
  const out: RolloutStep[] = steps.map((s, i) => {
    const f = `${field}.steps[${i}]`;
    const scopes = s.scopes && s.scopes.length > 0 ? s.scopes : [{}];
    if (scopes.length > MAX_STEP_SCOPES) throw new InvalidArgumentError(`${f}.scopes`, `must have at most ${MAX_STEP_SCOPES} scopes`, scopes.length);
    scopes.forEach((sc, j) => validateScope(sc, `${f}.scopes[${j}]`));
    const percent = s.percent ?? 100;
    if (!Number.isInteger(percent) || percent < 1 || percent > 100) throw new InvalidArgumentError(`${f}.percent`, 'must be a whole number from 1 to 100', percent);
    const bakeMs = s.bakeMs ?? 0;
    if (!Number.isInteger(bakeMs) || bakeMs < 0 || bakeMs > MAX_BAKE_MS) throw new InvalidArgumentError(`${f}.bake_ms`, `must be a whole number of ms from 0 to ${MAX_BAKE_MS} (30 days)`, bakeMs);
    const gates = [...new Set(s.gates ?? [])];
    for (const g of gates) if (!ROLLOUT_GATES.includes(g)) throw new InvalidArgumentError(`${f}.gates`, `must be among ${ROLLOUT_GATES.join(', ')}`, g);
    return { scopes, percent, bakeMs, gates };
  });
  const minHoldingPercent = p.minHoldingPercent ?? ROLLOUT_DEFAULTS.minHoldingPercent;
  if (!Number.isInteger(minHoldingPercent) || minHoldingPercent < 0 || minHoldingPercent > 100) throw new InvalidArgumentError(`${field}.min_holding_percent`, 'must be a whole number from 0 to 100', minHoldingPercent);
  const maxRejections = p.maxRejections ?? ROLLOUT_DEFAULTS.maxRejections;
  if (!Number.isInteger(maxRejections) || maxRejections < 0 || maxRejections > 1_000_000) throw new InvalidArgumentError(`${field}.max_rejections`, 'must be a whole number from 0 to 1000000', maxRejections);
  const webhookTimeoutMs = p.webhookTimeoutMs ?? ROLLOUT_DEFAULTS.webhookTimeoutMs;
  if (!Number.isInteger(webhookTimeoutMs) || webhookTimeoutMs < 100 || webhookTimeoutMs > 60_000) throw new InvalidArgumentError(`${field}.webhook_timeout_ms`, 'must be a whole number of ms from 100 to 60000', webhookTimeoutMs);
  const webhookUrl = p.webhookUrl ? p.webhookUrl : undefined;
  if (webhookUrl !== undefined) {
    let ok = false;
    try {
      const u = new URL(webhookUrl);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && webhookUrl.length <= 2048;
    } catch {
      ok = false;
    }
    if (!ok) throw new InvalidArgumentError(`${field}.webhook_url`, 'must be an http or https URL of at most 2048 characters', webhookUrl);
  }
  if (webhookUrl === undefined && out.some((s) => s.gates.includes('webhook'))) throw new InvalidArgumentError(`${field}.webhook_url`, 'is required when a step has a webhook gate');
  return webhookUrl === undefined ? { steps: out, minHoldingPercent, maxRejections, webhookTimeoutMs } : { steps: out, minHoldingPercent, maxRejections, webhookUrl, webhookTimeoutMs };
}

/** "90s", "5m", "24h", "7d", "0" or milliseconds ("1500"). */
function parseBake(text: string, field: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new InvalidArgumentError(field, 'must be a bake time like 0, 30s, 10m, 1h or 2d', text);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function formatBake(ms: number): string {
  for (const [unit, n] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  }
  return ms === 0 ? '0' : `${ms}ms`;
}

/**
 * Parses the steps' text form (the CLI's --rollout): steps separated by ";", each
 * `WHO [PERCENT%] BAKE [gates=GATE,...]` where WHO is `*` (everyone) or one or more scopes
 * `k=v,k=v` joined by "|", e.g.
 *   `cluster=canary 10m gates=consumers; region=us-east-1 30m gates=consumers,webhook; * 25% 15m; * 1h`
 * The policy-wide settings (thresholds, webhook) come from `rest`.
 */
export function parseRolloutSteps(text: string, field = 'rollout'): RolloutStep[] {
  const parts = text.split(';').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new InvalidArgumentError(field, 'must have at least one step, e.g. "cluster=canary 10m; * 1h"', text);
  return parts.map((part, i) => {
    const f = `${field} step ${i + 1}`;
    const words = part.split(/\s+/);
    const who = words.shift() ?? '';
    const scopes = who === '*' ? [{}] : who.split('|').map((s) => parseScope(s, f));
    let percent = 100;
    let bakeMs: number | undefined;
    let gates: RolloutGate[] = [];
    for (const w of words) {
      if (/^\d+%$/.test(w)) percent = Number(w.slice(0, -1));
      else if (w.startsWith('gates=')) gates = w.slice(6).split(',').filter((g) => g !== '') as RolloutGate[];
      else if (bakeMs === undefined) bakeMs = parseBake(w, `${f} bake`);
      else throw new InvalidArgumentError(f, 'must be WHO [PERCENT%] BAKE [gates=consumers,webhook]', part);
    }
    if (bakeMs === undefined) throw new InvalidArgumentError(`${f} bake`, 'is required (0 for none), e.g. "region=us-east-1 30m"', part);
    return { scopes, percent, bakeMs, gates };
  });
}

/** The steps' text form, as parseRolloutSteps reads it. */
export function formatRolloutSteps(steps: readonly RolloutStep[]): string {
  return steps
    .map((s) => {
      const who = s.scopes.length === 1 && scopeKey(s.scopes[0] ?? {}) === '' ? '*' : s.scopes.map(scopeKey).join('|');
      return [who, s.percent < 100 ? `${s.percent}%` : '', formatBake(s.bakeMs), s.gates.length ? `gates=${s.gates.join(',')}` : ''].filter((w) => w !== '').join(' ');
    })
    .join('; ');
}

/** The whole policy in a line: its steps' text form and the gates' settings that differ from the defaults. */
export function formatRolloutPolicy(p: RolloutPolicy): string {
  const extra = [
    p.minHoldingPercent !== ROLLOUT_DEFAULTS.minHoldingPercent ? `min-holding=${p.minHoldingPercent}%` : '',
    p.maxRejections !== ROLLOUT_DEFAULTS.maxRejections ? `max-rejections=${p.maxRejections}` : '',
    p.webhookUrl ? `webhook=${p.webhookUrl}` : '',
    p.webhookTimeoutMs !== ROLLOUT_DEFAULTS.webhookTimeoutMs ? `webhook-timeout=${formatBake(p.webhookTimeoutMs)}` : '',
  ].filter((w) => w !== '');
  return [formatRolloutSteps(p.steps), ...extra].join('  ');
}

// ---------------------------------------------------------------------------------------
// The state machine: every change a driver or an operator makes, as a pure function

/** A change to a rollout, as MetadataStore.changeRollout takes it: the rollout as it is to be, what happened, why. */
export interface RolloutMove {
  readonly next: Rollout;
  readonly action: RolloutAction;
  readonly reason: string;
}

/** The step last applied. */
export function currentStep(r: Pick<Rollout, 'policy' | 'step'>): RolloutStep {
  const s = r.policy.steps[Math.min(r.step, r.policy.steps.length - 1)];
  if (!s) throw new Error('a rollout policy has at least one step');
  return s;
}

/** The bake the current step has left at `nowMs`, ms (0: baked). A paused rollout's clock stands still. */
export function bakeLeftMs(r: Rollout, nowMs: number): number {
  if (r.state === 'paused') return r.bakeLeftMs ?? 0;
  return Math.max(0, r.stepStartedAtMs + currentStep(r).bakeMs - nowMs);
}

function describe(r: Pick<Rollout, 'topic' | 'version'>): string {
  return `the rollout of version ${r.version} of topic "${r.topic}"`;
}

/** Refuses a verb on a rollout in a state it does not apply to. */
function refuse(r: Rollout, verb: string, why: string): FailedPreconditionError {
  return new FailedPreconditionError(`cannot ${verb} ${describe(r)}: it is ${r.state}${why ? `; ${why}` : ''}`);
}

/** Running -> paused: no step is applied and the bake clock stops. */
export function pauseMove(r: Rollout, nowMs: number, reason: string): RolloutMove {
  if (r.state !== 'running') throw refuse(r, 'pause', r.state === 'paused' ? 'resume it to go on' : '');
  return { next: { ...r, state: 'paused', bakeLeftMs: bakeLeftMs(r, nowMs), updatedAtMs: nowMs, reason }, action: 'pause', reason };
}

/** Paused -> running, with the bake it had left. */
export function resumeMove(r: Rollout, nowMs: number): RolloutMove {
  if (r.state !== 'paused') throw refuse(r, 'resume', '');
  const { bakeLeftMs: left = 0, ...rest } = r;
  return { next: { ...rest, state: 'running', stepStartedAtMs: nowMs - (currentStep(r).bakeMs - left), updatedAtMs: nowMs, reason: '' }, action: 'resume', reason: '' };
}

/** Running or paused -> cancelled: the version is withdrawn. `rejected`: a gate did it (action 'reject'). */
export function cancelMove(r: Rollout, nowMs: number, reason: string, rejected = false): RolloutMove {
  if (!isActive(r.state)) throw refuse(r, 'cancel', '');
  const { bakeLeftMs: _left, ...rest } = r;
  return { next: { ...rest, state: 'cancelled', updatedAtMs: nowMs, endedAtMs: nowMs, reason, rejected }, action: rejected ? 'reject' : 'cancel', reason };
}

/**
 * The next step now (running), or completion after the last: what the driver does when a step
 * has baked and passed its gates, and what promote does at once (skipping the bake and gates).
 */
export function advanceMove(r: Rollout, nowMs: number, action: 'step' | 'promote' = 'step', reason = ''): RolloutMove {
  if (!isActive(r.state)) throw refuse(r, action === 'promote' ? 'promote' : 'advance', '');
  const { bakeLeftMs: _left, ...rest } = r;
  if (r.step + 1 >= r.policy.steps.length) return completeMove(r, nowMs, action, reason);
  return { next: { ...rest, state: 'running', step: r.step + 1, stepStartedAtMs: nowMs, updatedAtMs: nowMs, reason: '' }, action, reason };
}

/** Running or paused -> completed: the version is the latest for everyone (promote --full, or after the last step). */
export function completeMove(r: Rollout, nowMs: number, action: 'complete' | 'step' | 'promote' = 'complete', reason = ''): RolloutMove {
  if (!isActive(r.state)) throw refuse(r, action === 'promote' ? 'promote' : 'complete', '');
  const { bakeLeftMs: _left, ...rest } = r;
  return { next: { ...rest, state: 'completed', updatedAtMs: nowMs, endedAtMs: nowMs, reason: '' }, action: action === 'promote' ? 'promote' : 'complete', reason };
}

/** The current step's webhook answered 2xx: remembered, so no driver calls it again for this step. */
export function webhookPassedMove(r: Rollout, nowMs: number): RolloutMove {
  if (!isActive(r.state)) throw refuse(r, 'record a webhook answer for', '');
  return { next: { ...r, webhookPassedStep: r.step, updatedAtMs: nowMs }, action: 'webhook-passed', reason: '' };
}

/** The rollout a publish of `version` starts: running, its first step applied at `nowMs`, revision 0 (the store writes it as revision 1). */
export function startRollout(topic: string, version: Version, policy: RolloutPolicy, nowMs: number): Rollout {
  return { topic, version, policy, state: 'running', step: 0, stepStartedAtMs: nowMs, startedAtMs: nowMs, updatedAtMs: nowMs, reason: '', rejected: false, webhookPassedStep: -1, revision: 0 };
}

/** A publish of `newer` stops the running or paused rollout: nobody new gets its version. */
export function supersedeMove(r: Rollout, nowMs: number, newer: Version): RolloutMove {
  const reason = `version ${newer} was published`;
  return { next: { ...r, state: 'superseded', updatedAtMs: nowMs, endedAtMs: nowMs, reason }, action: 'supersede', reason };
}
