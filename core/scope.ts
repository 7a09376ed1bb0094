/** Scopes: parsing, canonical form, and matching against a consumer's identity. */
import { InvalidArgumentError } from './errors.js';
import type { ConsumerIdentity, Scope } from './types.js';

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A scope or identity value: 1-256 characters without whitespace, "," or "=" (also the rule for an
 * application name): /^[^\s,=]{1,256}$/ as a loop over char codes: every BatchPoll's identity is
 * checked by it, field by field, twice (the transport, then the Poller).
 */
export function isIdentityValue(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > 256) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c > 32 ? c === 44 || c === 61 || (c >= 0xa0 && isUnicodeSpace(c)) : c === 32 || (c >= 9 && c <= 13)) return false;
  }
  return true;
}

/** Whether a code unit from U+00A0 up is one that \s matches (ECMAScript's WhiteSpace and LineTerminator). */
function isUnicodeSpace(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** Identity fields usable in scopes; labels may not reuse these names. */
export const IDENTITY_KEYS = ['app', 'cluster', 'region', 'node'] as const;

/** Checks one scope; `field` names it in the error (e.g. `scopes[1]`). */
export function validateScope(scope: Scope, field = 'scope'): Scope {
  for (const [k, v] of Object.entries(scope)) {
    if (!KEY.test(k)) throw new InvalidArgumentError(`${field}`, 'keys must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit', k);
    if (!isIdentityValue(v)) throw new InvalidArgumentError(`${field}.${k}`, 'must be 1-256 characters without spaces, "," or "="', v);
  }
  return scope;
}

/**
 * Parses `k=v,k=v` (the CLI's form). The empty string is the empty scope.
 * `region` without `=value` is an error that names the pair.
 */
export function parseScope(text: string, field = 'scope'): Scope {
  const out: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed === '') return out;
  for (const pair of trimmed.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) throw new InvalidArgumentError(field, 'must be key=value pairs separated by ","', pair);
    const k = pair.slice(0, eq).trim();
    const v = pair.slice(eq + 1).trim();
    if (Object.hasOwn(out, k)) throw new InvalidArgumentError(field, 'must not repeat a key', k);
    out[k] = v;
  }
  return validateScope(out, field);
}

/** The canonical text of a scope: sorted `k=v` pairs joined by ","; "" for the empty scope. */
export function scopeKey(scope: Scope): string {
  return Object.keys(scope)
    .sort()
    .map((k) => `${k}=${scope[k]}`)
    .join(',');
}

/**
 * The identity object whose attributes were built last, and them: a BatchPoll decides all its
 * topics (7 and more), one after another, for one identity object, and builds its attributes
 * once rather than once per topic (one entry, as the Poller's validated identity: nothing for
 * the garbage collector to trace). Identities are treated as immutable; the attributes are
 * frozen, since every caller of the same identity shares them.
 */
let lastIdentity: ConsumerIdentity | undefined;
let lastAttributes: Readonly<Record<string, string>> = Object.freeze({});

/** The attributes a scope is matched against. Empty identity fields are absent. */
export function identityAttributes(id: ConsumerIdentity): Readonly<Record<string, string>> {
  if (id === lastIdentity) return lastAttributes;
  const attrs: Record<string, string> = { ...id.labels };
  if (id.app) attrs.app = id.app;
  if (id.cluster) attrs.cluster = id.cluster;
  if (id.region) attrs.region = id.region;
  if (id.nodeId) attrs.node = id.nodeId;
  lastAttributes = Object.freeze(attrs);
  lastIdentity = id;
  return lastAttributes;
}

/** True when every pair of the scope equals the consumer's attribute (the empty scope matches all). */
export function scopeMatches(scope: Scope, attrs: Readonly<Record<string, string>>): boolean {
  for (const k in scope) {
    if (attrs[k] !== scope[k]) return false;
  }
  return true;
}

/** How specific a scope is: its number of pairs. */
export function specificity(scope: Scope): number {
  return Object.keys(scope).length;
}

/** Whether the scope is the empty one, every consumer's: `specificity(scope) === 0` with no array of its keys (a poll asks it of its topic's head). */
export function isEmptyScope(scope: Scope): boolean {
  for (const _ in scope) return false;
  return true;
}

/** Removes duplicate scopes (by canonical key), keeping the first. */
export function uniqueScopes(scopes: readonly Scope[]): Scope[] {
  const seen = new Set<string>();
  return scopes.filter((s) => {
    const k = scopeKey(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Checks a consumer identity, every field and label. Runs on every poll (3k BatchPolls/s on a
 * fleet's consume instance): it makes no object or array while the identity is valid.
 */
export function validateIdentity(id: ConsumerIdentity, field = 'identity'): ConsumerIdentity {
  checkIdentityValue(id.app, field, 'app');
  checkIdentityValue(id.cluster, field, 'cluster');
  checkIdentityValue(id.region, field, 'region');
  checkIdentityValue(id.nodeId, field, 'node');
  for (const k in id.labels) {
    if (!Object.hasOwn(id.labels, k)) continue;
    const v = id.labels[k] as string;
    if ((IDENTITY_KEYS as readonly string[]).includes(k)) throw new InvalidArgumentError(`${field}.labels.${k}`, `must not reuse an identity field name (${IDENTITY_KEYS.join(', ')})`);
    if (!KEY.test(k)) throw new InvalidArgumentError(`${field}.labels`, 'keys must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit', k);
    if (!isIdentityValue(v)) throw new InvalidArgumentError(`${field}.labels.${k}`, 'must be 1-256 characters without spaces, "," or "="', v);
  }
  return id;
}

function checkIdentityValue(v: string, field: string, name: string): void {
  if (v !== '' && !isIdentityValue(v)) throw new InvalidArgumentError(`${field}.${name}`, 'must be at most 256 characters without spaces, "," or "="', v);
}

/**
 * The identity object validatePollIdentity passed last. A BatchPoll's identity is checked by its
 * transport, then by the Poller for each of its topics: the same object, checked once (one
 * entry, nothing for the garbage collector to trace). Identities are treated as immutable.
 */
let lastPollIdentity: ConsumerIdentity | undefined;

/**
 * The identity of a consumer that polls: valid, and naming its application, which the audit
 * and the consume role's per-application limits count by.
 */
export function validatePollIdentity(id: ConsumerIdentity, field = 'identity'): ConsumerIdentity {
  if (id === lastPollIdentity) return id;
  if (id.app === '') throw new InvalidArgumentError(`${field}.app`, 'is required: name the application that polls (audit and per-application limits count by it)');
  validateIdentity(id, field);
  lastPollIdentity = id;
  return id;
}
