/** Which version a consumer should hold: latest by scope, overridden by the best matching pin. */
import { isActive, reaches, type Rollout } from './rollout.js';
import { identityAttributes, isEmptyScope, scopeMatches, specificity } from './scope.js';
import type { ConsumerIdentity, Pin, ScopeHead, Version } from './types.js';

export interface Target {
  readonly version: Version;
  /** True when a pin forces this version. */
  readonly pinned: boolean;
  readonly pin?: Pin;
  /** True when a cancelled rollout's version is being taken back: the consumer moves to this (older) version. */
  readonly rolledBack?: true;
}

/** What the decision needs of a topic's rollouts (rollout.ts). */
export interface RolloutView {
  /** The running or paused rollout, if any: its version goes to the consumers it has reached. */
  readonly rollout?: Pick<Rollout, 'topic' | 'version' | 'policy' | 'step' | 'state'>;
  /** Versions whose rollout was cancelled: a consumer holding one is moved back. */
  readonly withdrawn?: readonly Version[];
}

/** The highest version among the heads whose scope matches the attributes. */
export function latestFor(heads: readonly ScopeHead[], attrs: Readonly<Record<string, string>>): Version | undefined {
  let best: Version | undefined;
  for (const h of heads) {
    if ((best === undefined || h.version > best) && scopeMatches(h.scope, attrs)) best = h.version;
  }
  return best;
}

/** The pin that applies: the most specific matching scope wins; ties go to the newest pin. */
export function applicablePin(pins: readonly Pin[], attrs: Readonly<Record<string, string>>): Pin | undefined {
  let best: Pin | undefined;
  for (const p of pins) {
    if (!scopeMatches(p.scope, attrs)) continue;
    if (
      best === undefined ||
      specificity(p.scope) > specificity(best.scope) ||
      (specificity(p.scope) === specificity(best.scope) && p.createdAtMs > best.createdAtMs)
    ) {
      best = p;
    }
  }
  return best;
}

/**
 * The version a consumer holding `lastSeen` should hold now: a pin when one applies; else the
 * latest for its scopes, or the running rollout's version when the rollout has reached it and
 * it is newer; and when the consumer holds a withdrawn version (its rollout was cancelled),
 * that target as a roll-back.
 */
export function resolveTarget(heads: readonly ScopeHead[], pins: readonly Pin[], identity: ConsumerIdentity, rollouts: RolloutView = {}, lastSeen: Version = 0n): Target | undefined {
  const r = rollouts.rollout;
  const running = r !== undefined && isActive(r.state);
  const only = heads.length === 1 ? heads[0] : undefined;
  let latest: Version | undefined;
  if (only && pins.length === 0 && !running && isEmptyScope(only.scope)) {
    // Most topics: no pin, one head for every consumer, no rollout running. Its version is the
    // latest for everyone (what the lines below find), known without the consumer's attributes.
    latest = only.version;
  } else {
    const attrs = identityAttributes(identity);
    const pin = applicablePin(pins, attrs);
    if (pin) return { version: pin.version, pinned: true, pin };
    latest = latestFor(heads, attrs);
    if (running && (latest === undefined || r.version > latest) && reaches(r, identity)) latest = r.version;
  }
  if (latest === undefined) return undefined;
  if (lastSeen > latest && rollouts.withdrawn?.includes(lastSeen)) return { version: latest, pinned: false, rolledBack: true };
  return { version: latest, pinned: false };
}

/**
 * Whether a consumer holding `lastSeen` (0n: nothing) should be handed the target.
 * It never moves to an older version unless the answer says it is pinned or rolled back.
 */
export function isUpdate(target: Target, lastSeen: Version): boolean {
  if (target.version === lastSeen) return false;
  return target.pinned || target.rolledBack === true || target.version > lastSeen;
}
