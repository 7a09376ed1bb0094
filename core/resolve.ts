/** Which version a consumer should hold: latest by scope, overridden by the best matching pin. */
import { identityAttributes, scopeMatches, specificity } from './scope.js';
import type { ConsumerIdentity, Pin, ScopeHead, Version } from './types.js';

export interface Target {
  readonly version: Version;
  /** True when a pin forces this version. */
  readonly pinned: boolean;
  readonly pin?: Pin;
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

/** The version a consumer should hold now: a pin when one applies, else the latest for its scopes. */
export function resolveTarget(heads: readonly ScopeHead[], pins: readonly Pin[], identity: ConsumerIdentity): Target | undefined {
  const attrs = identityAttributes(identity);
  const pin = applicablePin(pins, attrs);
  if (pin) return { version: pin.version, pinned: true, pin };
  const latest = latestFor(heads, attrs);
  return latest === undefined ? undefined : { version: latest, pinned: false };
}

/**
 * Whether a consumer holding `lastSeen` (0n: nothing) should be handed the target.
 * It never moves to an older version unless the answer says it is pinned.
 */
export function isUpdate(target: Target, lastSeen: Version): boolean {
  if (target.version === lastSeen) return false;
  return target.pinned || target.version > lastSeen;
}
