/**
 * How both stores keep rollouts and consumer outcomes as text (core/rollout.ts has the model):
 * a rollout's fields but its keys as one JSON document, an outcome's identity and rejection as
 * another. One encoding, so the SQLite and Cassandra rows say the same thing.
 */
import { validateRolloutPolicy, type ConsumerOutcome, type ConsumerIdentity, type Rejection, type Rollout, type RolloutPolicy, type RolloutState } from '../../core/index.js';

/** A rollout without its keys (topic, version) and revision, which are columns of their own. */
type RolloutDoc = Omit<Rollout, 'topic' | 'version' | 'revision'>;

export function encodeRollout(r: Rollout): string {
  const { topic: _t, version: _v, revision: _r, ...doc } = r;
  return JSON.stringify(doc satisfies RolloutDoc);
}

export function decodeRollout(topic: string, version: bigint, revision: number, text: string): Rollout {
  const doc = JSON.parse(text) as RolloutDoc;
  return { ...doc, topic, version, revision };
}

/** A topic's policy as stored (JSON), null for none. */
export function encodePolicy(p: RolloutPolicy | undefined | null): string | null {
  return p ? JSON.stringify(p) : null;
}

/** A stored policy back, checked again (a damaged one reads as none rather than failing the topic). */
export function decodePolicy(text: string | null | undefined): RolloutPolicy | undefined {
  if (!text) return undefined;
  try {
    return validateRolloutPolicy(JSON.parse(text) as RolloutPolicy);
  } catch {
    return undefined;
  }
}

/** The states a driver advances and a poll serves. */
export const ACTIVE_STATES: readonly RolloutState[] = ['running', 'paused'];

interface OutcomeDoc {
  identity: ConsumerIdentity;
  holds: string;
  rejection?: { version: string; stage: Rejection['stage']; reason: string };
}

export function encodeOutcome(o: ConsumerOutcome): string {
  const doc: OutcomeDoc = {
    identity: o.identity,
    holds: o.holds.toString(),
    ...(o.rejection && { rejection: { version: o.rejection.version.toString(), stage: o.rejection.stage, reason: o.rejection.reason } }),
  };
  return JSON.stringify(doc);
}

export function decodeOutcome(topic: string, version: bigint, atMs: number, text: string): ConsumerOutcome {
  const d = JSON.parse(text) as OutcomeDoc;
  return {
    topic,
    version,
    identity: d.identity,
    holds: BigInt(d.holds),
    atMs,
    ...(d.rejection && { rejection: { version: BigInt(d.rejection.version), stage: d.rejection.stage, reason: d.rejection.reason } }),
  };
}

/** The history details of a rollout change. */
export function rolloutDetails(action: string, r: Rollout): Record<string, string> {
  return { action, step: String(r.step), state: r.state };
}
