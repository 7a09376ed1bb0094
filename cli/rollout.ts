/**
 * Rollouts in the CLI: `imprint rollout status|list|pause|resume|cancel|promote TOPIC`, and the
 * policy flags of `imprint topic create|update` (--rollout "STEPS" or --rollout-file FILE, the
 * gate thresholds, the webhook; --no-rollout-policy on update). The policy is checked here
 * first (core's validateRolloutPolicy), so a mistake names the flag, not a wire field.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { ImprintClient, RolloutStatus } from '../client/imprint-client.js';
import {
  InvalidArgumentError,
  ROLLOUT_DEFAULTS,
  bakeLeftMs,
  consumersGateProblem,
  formatRolloutPolicy,
  formatRolloutSteps,
  isActive,
  parseRolloutSteps,
  parseScope,
  scopeKey,
  validateRolloutPolicy,
  type Rollout,
  type RolloutPolicy,
  type RolloutProgress,
  type RolloutStep,
  type Scope,
} from '../core/index.js';
import { duration, when } from './format.js';
import { parseDuration } from './janitor.js';
import type { LifecycleContext } from './lifecycle.js';

// ---------------------------------------------------------------------------------------
// The policy flags

/** The policy flags of `topic create` and `topic update`, as commander gives them. */
export interface RolloutFlags {
  rollout?: string;
  rolloutFile?: string;
  rolloutMinHolding?: string;
  rolloutMaxRejections?: string;
  rolloutWebhook?: string;
  rolloutWebhookTimeout?: string;
  /** update only: false with --no-rollout-policy. */
  rolloutPolicy?: boolean;
}

export const ROLLOUT_STEPS_HELP = `STEPS: steps separated by ";", each WHO [PERCENT%] BAKE [gates=consumers,webhook]; WHO is * (everyone) or scopes k=v,k=v joined by "|"; BAKE is 0, 30s, 10m, 1h or 2d`;

/** Adds the policy flags to `topic create` (and, with `update`, --no-rollout-policy). */
export function addRolloutPolicyOptions(cmd: Command, update = false): Command {
  cmd
    .option('--rollout <steps>', `publishes reach consumers step by step (${ROLLOUT_STEPS_HELP}), e.g. "cluster=canary 10m gates=consumers; region=us-east-1 30m; * 0"`)
    .option('--rollout-file <file>', 'the rollout policy as a JSON file: {"steps": [{"scopes": ["cluster=canary"], "bake": "10m", "gates": ["consumers"]}, ...], "minHoldingPercent": 90, ...} (README "The rollout commands")')
    .option('--rollout-min-holding <percent>', `consumers gate: at least this % (0-100) of the consumers reached hold the version at the end of a step's bake (default ${ROLLOUT_DEFAULTS.minHoldingPercent})`)
    .option('--rollout-max-rejections <n>', `consumers gate: more consumers than this (0-1000000) rejecting the version reject the rollout at once (default ${ROLLOUT_DEFAULTS.maxRejections})`)
    .option('--rollout-webhook <url>', 'webhook gate: POSTed the topic, version and step; 2xx accepts (http or https)')
    .option('--rollout-webhook-timeout <duration>', `webhook gate: how long one call may take (100ms to 60s; default ${ROLLOUT_DEFAULTS.webhookTimeoutMs / 1000}s)`);
  if (update) cmd.option('--no-rollout-policy', "remove the topic's rollout policy: publishes reach consumers at once (a running rollout goes on with its own)");
  return cmd;
}

/** The policy-wide flags given, by the name validateRolloutPolicy checks them under. */
const POLICY_FLAGS: Readonly<Record<string, string>> = {
  min_holding_percent: '--rollout-min-holding',
  max_rejections: '--rollout-max-rejections',
  webhook_url: '--rollout-webhook',
  webhook_timeout_ms: '--rollout-webhook-timeout',
};

/** An error of validateRolloutPolicy (fields rollout_policy.x) named by the flag (or the file's key) that gave x. */
function asFlagError(err: unknown, stepsFrom: string): unknown {
  if (!(err instanceof InvalidArgumentError) || !err.field.startsWith('rollout_policy.')) return err;
  const rest = err.field.slice('rollout_policy.'.length);
  const step = /^steps\[(\d+)\]\.?(.*)$/.exec(rest);
  const field = step ? `${stepsFrom} step ${Number(step[1]) + 1}${step[2] ? ` ${step[2].replace(/^bake_ms$/, 'bake')}` : ''}` : rest === 'steps' ? stepsFrom : (POLICY_FLAGS[rest] ?? `${stepsFrom} ${rest}`);
  return new InvalidArgumentError(field, err.message.slice(err.field.length + 1));
}

function wholeNumber(v: string, flag: string): number {
  if (!/^[0-9]+$/.test(v.trim())) throw new InvalidArgumentError(flag, 'must be a whole number', v);
  return Number(v);
}

/** A duration of at least 1 ms ("1500ms", "5s"), for the webhook timeout. */
function timeoutMs(v: string, flag: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(flag, 'must be a duration like 500ms, 5s or 1m', v);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm'];
}

/** A policy before validateRolloutPolicy checks it and fills in its defaults. */
type PolicyDraft = Partial<RolloutPolicy>;

/** The JSON file's policy (the domain's names; scopes as "k=v,k=v" or objects; bake as "10m" or bakeMs), not yet checked. */
export function policyFromJson(text: string, flag = '--rollout-file'): PolicyDraft {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(flag, `must be JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidArgumentError(flag, 'must be a JSON object with "steps"');
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d['steps'])) throw new InvalidArgumentError(`${flag} steps`, 'must be an array of steps');
  // Values as the file has them (validateRolloutPolicy checks them, naming the step); absent ones as the text form's.
  const steps = (d['steps'] as unknown[]).map((raw, i): RolloutStep => {
    const f = `${flag} step ${i + 1}`;
    if (!raw || typeof raw !== 'object') throw new InvalidArgumentError(f, 'must be an object like {"scopes": ["region=us-east-1"], "bake": "30m"}');
    const s = raw as Record<string, unknown>;
    const scopes = s['scopes'] === undefined ? undefined : Array.isArray(s['scopes']) ? (s['scopes'] as unknown[]).map((sc, j) => scopeOf(sc, `${f} scopes[${j}]`)) : undefined;
    if (s['scopes'] !== undefined && scopes === undefined) throw new InvalidArgumentError(`${f} scopes`, 'must be an array of scopes ("k=v,k=v" or {"k": "v"})');
    const bakeMs = typeof s['bake'] === 'string' ? (s['bake'].trim() === '0' ? 0 : parseDuration(s['bake'], `${f} bake`)) : s['bakeMs'];
    if (bakeMs === undefined) throw new InvalidArgumentError(`${f} bake`, 'is required (0 for none), e.g. "bake": "30m"');
    if (s['gates'] !== undefined && !Array.isArray(s['gates'])) throw new InvalidArgumentError(`${f} gates`, 'must be an array, e.g. ["consumers", "webhook"]', s['gates']);
    return { scopes: scopes ?? [{}], percent: (s['percent'] ?? 100) as number, bakeMs: bakeMs as number, gates: (s['gates'] ?? []) as RolloutStep['gates'] };
  });
  const timeout = d['webhookTimeout'] !== undefined ? timeoutMs(String(d['webhookTimeout']), `${flag} webhookTimeout`) : (d['webhookTimeoutMs'] as number | undefined);
  return {
    steps,
    ...(d['minHoldingPercent'] !== undefined && { minHoldingPercent: d['minHoldingPercent'] as number }),
    ...(d['maxRejections'] !== undefined && { maxRejections: d['maxRejections'] as number }),
    ...(d['webhookUrl'] !== undefined && { webhookUrl: d['webhookUrl'] as string }),
    ...(timeout !== undefined && { webhookTimeoutMs: timeout }),
  };
}

function scopeOf(sc: unknown, field: string): Scope {
  if (typeof sc === 'string') return sc === '*' ? {} : parseScope(sc, field);
  if (sc && typeof sc === 'object' && !Array.isArray(sc) && Object.values(sc).every((v) => typeof v === 'string')) return { ...(sc as Record<string, string>) };
  throw new InvalidArgumentError(field, 'must be "k=v,k=v" or {"k": "v"}', sc);
}

/**
 * The policy the flags give: undefined when they say nothing (keep it), null for
 * --no-rollout-policy (remove it). Thresholds without steps patch `current` (update: the
 * topic's policy). Every error names the flag.
 */
export function rolloutPolicyFromFlags(o: RolloutFlags, current?: RolloutPolicy, readFile: (file: string) => string = (f) => fs.readFileSync(f, 'utf8')): RolloutPolicy | null | undefined {
  const thresholds = o.rolloutMinHolding !== undefined || o.rolloutMaxRejections !== undefined || o.rolloutWebhook !== undefined || o.rolloutWebhookTimeout !== undefined;
  if (o.rollout !== undefined && o.rolloutFile !== undefined) throw new InvalidArgumentError('--rollout', 'cannot go with --rollout-file (give the steps one way)');
  if (o.rolloutPolicy === false) {
    if (o.rollout !== undefined || o.rolloutFile !== undefined || thresholds) throw new InvalidArgumentError('--no-rollout-policy', 'cannot go with the other --rollout flags (it removes the policy)');
    return null;
  }
  let base: PolicyDraft;
  let stepsFrom: string;
  if (o.rollout !== undefined) {
    base = { steps: parseRolloutSteps(o.rollout, '--rollout') };
    stepsFrom = '--rollout';
  } else if (o.rolloutFile !== undefined) {
    let text: string;
    try {
      text = readFile(o.rolloutFile);
    } catch (err) {
      throw new InvalidArgumentError('--rollout-file', `must be a readable file (${err instanceof Error ? err.message : String(err)})`, o.rolloutFile);
    }
    base = policyFromJson(text);
    stepsFrom = '--rollout-file';
  } else if (thresholds) {
    if (!current) throw new InvalidArgumentError('--rollout', 'is required with the other --rollout flags when the topic has no rollout policy (give the steps with --rollout or --rollout-file)');
    base = current;
    stepsFrom = '--rollout';
  } else return undefined;
  const patch = {
    ...(o.rolloutMinHolding !== undefined && { minHoldingPercent: wholeNumber(o.rolloutMinHolding, '--rollout-min-holding') }),
    ...(o.rolloutMaxRejections !== undefined && { maxRejections: wholeNumber(o.rolloutMaxRejections, '--rollout-max-rejections') }),
    ...(o.rolloutWebhook !== undefined && { webhookUrl: o.rolloutWebhook }),
    ...(o.rolloutWebhookTimeout !== undefined && { webhookTimeoutMs: timeoutMs(o.rolloutWebhookTimeout, '--rollout-webhook-timeout') }),
  };
  try {
    return validateRolloutPolicy({ ...base, ...patch });
  } catch (err) {
    throw asFlagError(err, stepsFrom);
  }
}

// ---------------------------------------------------------------------------------------
// How a rollout reads

/** Whom a step adds: "cluster=canary", "region=us-east-1|region=eu-west-1", "5% of everyone". */
function whoText(s: RolloutStep): string {
  const who = s.scopes.every((sc) => scopeKey(sc) === '') ? 'everyone' : s.scopes.map(scopeKey).join('|');
  return s.percent < 100 ? `${s.percent}% of ${who}` : who;
}

/** Time left, rounded up to the second: "25m", "9m59s", "1h2m", "0s". */
export function timeLeft(ms: number): string {
  let sec = Math.ceil(Math.max(0, ms) / 1000);
  const parts: string[] = [];
  for (const [unit, n] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (sec >= n) {
      parts.push(`${Math.floor(sec / n)}${unit}`);
      sec %= n;
    }
  }
  return parts.join('') || '0s';
}

/** "step 2 of 3". */
function stepOf(r: Rollout): string {
  return `step ${Math.min(r.step, r.policy.steps.length - 1) + 1} of ${r.policy.steps.length}`;
}

/** One line of `rollout list`, and the first line of the verbs' answers. */
export function rolloutLine(r: Rollout, nowMs: number): string {
  const where = r.state === 'completed' ? 'every step' : stepOf(r);
  const bake = isActive(r.state) ? `, bake ${timeLeft(bakeLeftMs(r, nowMs))} left${r.state === 'paused' ? ' (clock stopped)' : ''}` : '';
  const ended = r.endedAtMs !== undefined ? `, ended ${when(r.endedAtMs)}` : '';
  const why = r.reason ? `: ${r.rejected ? 'rejected by a gate: ' : ''}${r.reason}` : r.rejected ? ': rejected by a gate' : '';
  return `${r.topic} v${r.version}  ${r.state.toUpperCase()} at ${where}${bake}, started ${when(r.startedAtMs)}${ended}${why}`;
}

/** The consumers gate's count against the policy: "12 reached, 11 holding (91.7%, at least 90% needed), 0 rejections (at most 0): passes". */
export function consumersGateText(policy: RolloutPolicy, p: RolloutProgress, active = true): string {
  const pct = p.reached === 0 ? '-' : `${((100 * p.holding) / p.reached).toFixed(1)}%`;
  const counts = `${p.reached} reached, ${p.holding} holding (${pct}, at least ${policy.minHoldingPercent}% needed), ${p.rejections} rejection${p.rejections === 1 ? '' : 's'} (at most ${policy.maxRejections})`;
  // An ended rollout: what its consumers last said while it ran, no verdict.
  if (!active) return `${counts}: as last reported while it ran`;
  const problem = consumersGateProblem(policy, p);
  return `${counts}: ${problem ? `would hold the rollout: ${problem}` : 'passes'}`;
}

/** The webhook gate of the current step: not one, waiting for its 2xx, or passed. */
export function webhookGateText(r: Rollout): string {
  const step = r.policy.steps[Math.min(r.step, r.policy.steps.length - 1)];
  if (!r.policy.webhookUrl) return 'none';
  if (!step?.gates.includes('webhook')) return `not a gate of this step (${r.policy.webhookUrl})`;
  if (r.webhookPassedStep >= r.step) return `passed for this step (${r.policy.webhookUrl})`;
  return isActive(r.state) ? `waiting for a 2xx from ${r.policy.webhookUrl} (each call ${duration(r.policy.webhookTimeoutMs)} at most; called until the bake ends)` : `had not passed (${r.policy.webhookUrl})`;
}

/** `imprint rollout status`: where it is, whom it reached, the bake left, the gates, why it stopped. */
export function rolloutStatusText(s: RolloutStatus, nowMs: number): string {
  const r = s.rollout;
  const gates = r.policy.steps[Math.min(r.step, r.policy.steps.length - 1)]?.gates ?? [];
  const marker = (i: number): string => {
    if (r.state === 'completed' || i < r.step) return 'applied';
    if (i > r.step) return '';
    if (!isActive(r.state)) return `applied, ${r.state} here`;
    return `applied, ${r.state === 'paused' ? 'PAUSED' : 'baking'}: ${timeLeft(bakeLeftMs(r, nowMs))} left`;
  };
  return [
    rolloutLine(r, nowMs),
    '  steps:',
    ...r.policy.steps.map((step, i) => {
      const m = marker(i);
      return `    ${i === r.step && r.state !== 'completed' ? '>' : ' '} ${String(i + 1).padStart(2)}. ${m ? `${formatRolloutSteps([step]).padEnd(48)}  ${m}` : formatRolloutSteps([step])}`;
    }),
    `  reached     ${r.state === 'completed' ? 'everyone (the version is the latest for all)' : r.policy.steps.slice(0, r.step + 1).map(whoText).join(' or ')}`,
    `  consumers   ${consumersGateText(r.policy, s.progress, isActive(r.state))}${gates.includes('consumers') ? '' : ' (not a gate of this step)'}`,
    `  webhook     ${webhookGateText(r)}`,
    ...(r.state === 'cancelled' ? [`  cancelled   ${r.rejected ? 'by a gate' : 'by an operator'}${r.reason ? `: ${r.reason}` : ''}; consumers that held v${r.version} were moved back`] : []),
    ...(r.state === 'paused' && r.reason ? [`  paused      ${r.reason}`] : []),
    ...(r.state === 'superseded' ? [`  superseded  ${r.reason || 'by a newer publish'}; whoever holds v${r.version} keeps it until something newer reaches them`] : []),
    `  policy      ${formatRolloutPolicy(r.policy)}`,
  ].join('\n');
}

/** A rollout for --json (the revision stays on the server). */
export function rolloutJson(r: Rollout): unknown {
  const { revision: _revision, ...rest } = r;
  return rest;
}

// ---------------------------------------------------------------------------------------
// The commands

function parseVersionArg(v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,18}$/.test(v.trim())) throw new InvalidArgumentError('VERSION', 'must be a version number (1 or more)', v);
  return BigInt(v);
}

export function addRolloutCommands(program: Command, ctx: LifecycleContext): void {
  const rollout = program
    .command('rollout')
    .description("a topic's rollouts: where the newest is and whom it reached; pause, resume, cancel and promote it (an operator's or owner's action)")
    .addHelpText(
      'after',
      `
A topic with a rollout policy (imprint topic create|update --rollout) rolls each publish out step
by step: the previous version stays the latest for everyone the rollout has not reached.

Examples:
  imprint rollout status ip-reputation                 the newest rollout, its step, bake and gates
  imprint rollout status ip-reputation 41              the rollout of v41
  imprint rollout list ip-reputation
  imprint rollout pause ip-reputation --reason "looking at the canary's error rate"
  imprint rollout resume ip-reputation
  imprint rollout promote ip-reputation                skip this step's bake and gates: the next step now
  imprint rollout promote ip-reputation --full         the latest for everyone now
  imprint rollout cancel ip-reputation --reason "v42 scores everything as spam"`,
    );

  // The version is an argument, not --version: the program's own --version (print imprint's
  // version) takes that flag wherever it appears.
  rollout
    .command('status <topic> [version]')
    .description("a rollout (default: the topic's newest; VERSION: that version's): its state, step i of n and whom it reached, the bake left, the consumers gate's count and the webhook gate")
    .action(
      ctx.withClient(async (client: ImprintClient, topic: string, version: string | undefined) => {
        const s = await client.getRollout(topic, parseVersionArg(version));
        const now = Date.now();
        ctx.out({ rollout: rolloutJson(s.rollout), progress: s.progress, ...(isActive(s.rollout.state) && { bakeLeftMs: bakeLeftMs(s.rollout, now) }) }, () => rolloutStatusText(s, now));
      }),
    );

  rollout
    .command('list <topic>')
    .description("a topic's rollouts, newest first")
    .option('-n, --limit <n>', 'at most this many', '20')
    .action(
      ctx.withClient(async (client: ImprintClient, topic: string, o: { limit: string }) => {
        const limit = Number(o.limit);
        if (!/^[0-9]+$/.test(o.limit) || limit < 1 || limit > 1000) throw new InvalidArgumentError('--limit', 'must be a whole number from 1 to 1000', o.limit);
        const { rollouts } = await client.listRollouts(topic, { pageSize: limit });
        const now = Date.now();
        ctx.out(rollouts.map(rolloutJson), () => (rollouts.length ? rollouts.map((r) => rolloutLine(r, now)).join('\n') : `no rollouts of ${topic}`));
      }),
    );

  const verb = (done: string, r: Rollout) => ctx.out(rolloutJson(r), () => `${done}\n${rolloutLine(r, Date.now())}`);

  rollout
    .command('pause <topic>')
    .description('hold the running rollout where it is: no step is applied and the bake clock stops')
    .option('--reason <text>', 'why (kept in the history, shown by status)', '')
    .action(ctx.withClient(async (client: ImprintClient, topic: string, o: { reason: string }) => verb('paused', await client.pauseRollout(topic, o.reason))));

  rollout
    .command('resume <topic>')
    .description('go on with a paused rollout, with the bake it had left')
    .action(ctx.withClient(async (client: ImprintClient, topic: string) => verb('resumed', await client.resumeRollout(topic))));

  rollout
    .command('cancel <topic>')
    .description('withdraw the version: every consumer holding it moves back to what it had before (within a poll interval; a second with Watch); its record and history stay')
    .requiredOption('--reason <text>', 'why (required; kept in the history, shown by status)')
    .action(
      ctx.withClient(async (client: ImprintClient, topic: string, o: { reason: string }) => {
        if (o.reason.trim() === '') throw new InvalidArgumentError('--reason', 'must say why the rollout is cancelled');
        verb('cancelled', await client.cancelRollout(topic, o.reason));
      }),
    );

  rollout
    .command('promote <topic>')
    .description("skip the current step's bake and gates: the next step now; with --full, the version is the latest for everyone now")
    .option('--full', 'fast-track to everyone, skipping the remaining steps')
    .action(ctx.withClient(async (client: ImprintClient, topic: string, o: { full?: boolean }) => verb(o.full ? 'promoted to everyone' : 'promoted', await client.promoteRollout(topic, { full: o.full === true }))));
}
