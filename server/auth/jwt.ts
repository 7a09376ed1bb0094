/**
 * Principals from bearer JWTs (`authorization: Bearer <token>`), verified with jose against a
 * JWKS: a file (read again when it changes) or a URL (jose's remote key set: fetched once,
 * cached, fetched again for a key id it does not know, at most once per cooldown). A token is
 * verified once: its principal is then kept per token string until the token expires (at
 * most `maxCacheMs`), so a poll costs a map lookup, never a signature check or a network call.
 *
 * Who the principal is: its name from `principalClaim` (`sub`), its groups from `groupsClaim`
 * (`groups`), the applications it may act as from `appsClaim` (`imprint_apps`: a list, or "*"
 * for any; a token without the claim may act only as the application named as its principal).
 * A token that does not verify is refused UNAUTHENTICATED with the reason (expired, not yet
 * valid, wrong audience, unknown issuer, unknown key, bad signature, malformed), its `kind` one
 * of AUTH_FAILURE_REASONS.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { bearerTokenOf } from './authenticators.js';
import type { Authenticate, Principal, ServerCall } from './principal.js';

/** Signature algorithms accepted unless `algorithms` says otherwise: asymmetric ones only (a JWKS holds public keys). */
export const DEFAULT_JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export interface JwtOptions {
  /** The keys tokens are signed with: a JWKS file (read again when it changes) or an http(s) URL serving one. Required. */
  readonly jwks: string;
  /** Issuers (`iss`) whose tokens are accepted; a token from any other is refused. Required: at least one. */
  readonly issuers: readonly string[];
  /** The audience (`aud`) a token must name: this service's name at the issuer. Required. */
  readonly audience: string;
  /** Clock skew allowed when checking `exp` and `nbf`, ms (0-600000). @default 30000 */
  readonly clockToleranceMs?: number;
  /** Signature algorithms accepted (`alg`). @default DEFAULT_JWT_ALGORITHMS (RS*, PS*, ES*, EdDSA) */
  readonly algorithms?: readonly string[];
  /** The claim whose (string) value is the principal's name. @default "sub" */
  readonly principalClaim?: string;
  /** The claim listing the principal's groups (a list, or one space-separated string). @default "groups" */
  readonly groupsClaim?: string;
  /** The claim listing the applications the principal may act as (a list, or "*"); absent: only the app named as the principal. @default "imprint_apps" */
  readonly appsClaim?: string;
  /** Verified tokens kept at most (oldest out first). @default 10000 */
  readonly maxCachedTokens?: number;
  /** A verified token is kept at most this long (ms), even when it expires later: a key removed from the JWKS stops working within it. @default 300000 */
  readonly maxCacheMs?: number;
  /** JWKS URL: a key id not in the set fetches it again, at most once per this (ms). @default 30000 (jose's) */
  readonly jwksCooldownMs?: number;
  /** JWKS URL: the set is fetched again when older than this (ms). @default 600000 (jose's) */
  readonly jwksMaxAgeMs?: number;
  /** JWKS URL: a fetch taking longer fails (ms). @default 5000 (jose's) */
  readonly jwksTimeoutMs?: number;
  /** JWKS file: how often it is checked for a change (ms, 100-60000). @default 1000 */
  readonly jwksFileIntervalMs?: number;
  /** @default a logger that writes nothing */
  readonly log?: Logger;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
}

export const JWT_DEFAULTS = {
  clockToleranceMs: 30_000,
  algorithms: DEFAULT_JWT_ALGORITHMS,
  principalClaim: 'sub',
  groupsClaim: 'groups',
  appsClaim: 'imprint_apps',
  maxCachedTokens: 10_000,
  maxCacheMs: 300_000,
  jwksCooldownMs: 30_000,
  jwksMaxAgeMs: 600_000,
  jwksTimeoutMs: 5_000,
  jwksFileIntervalMs: 1_000,
} as const;

export type ResolvedJwtOptions = Required<Omit<JwtOptions, 'log' | 'clock'>> & { readonly log: Logger; readonly clock: () => number };

function checkMs(v: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgumentError(field, `must be a whole number of milliseconds, ${min}-${max}`, v);
  return v;
}

function checkName(v: string, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new InvalidArgumentError(field, 'must be a non-empty string', v);
  return v;
}

/** The options with their defaults, checked; errors name the option. */
export function jwtWithDefaults(o: JwtOptions): ResolvedJwtOptions {
  const issuers = (o.issuers ?? []).map((i) => checkName(i, 'issuers'));
  if (issuers.length === 0) throw new InvalidArgumentError('issuers', 'must name at least one issuer (the iss of the tokens to accept)');
  const algorithms = [...(o.algorithms ?? JWT_DEFAULTS.algorithms)];
  if (algorithms.length === 0 || algorithms.some((a) => a === 'none' || /^HS/.test(a))) {
    throw new InvalidArgumentError('algorithms', 'must list asymmetric algorithms (RS*, PS*, ES*, EdDSA); "none" and HS* are refused', algorithms.join(','));
  }
  const d = JWT_DEFAULTS;
  return {
    jwks: checkName(o.jwks, 'jwks'),
    issuers,
    audience: checkName(o.audience, 'audience'),
    clockToleranceMs: checkMs(o.clockToleranceMs ?? d.clockToleranceMs, 'clockToleranceMs', 0, 600_000),
    algorithms,
    principalClaim: checkName(o.principalClaim ?? d.principalClaim, 'principalClaim'),
    groupsClaim: checkName(o.groupsClaim ?? d.groupsClaim, 'groupsClaim'),
    appsClaim: checkName(o.appsClaim ?? d.appsClaim, 'appsClaim'),
    maxCachedTokens: checkMs(o.maxCachedTokens ?? d.maxCachedTokens, 'maxCachedTokens', 1, 10_000_000),
    maxCacheMs: checkMs(o.maxCacheMs ?? d.maxCacheMs, 'maxCacheMs', 0, 86_400_000),
    jwksCooldownMs: checkMs(o.jwksCooldownMs ?? d.jwksCooldownMs, 'jwksCooldownMs', 0, 86_400_000),
    jwksMaxAgeMs: checkMs(o.jwksMaxAgeMs ?? d.jwksMaxAgeMs, 'jwksMaxAgeMs', 1, 86_400_000),
    jwksTimeoutMs: checkMs(o.jwksTimeoutMs ?? d.jwksTimeoutMs, 'jwksTimeoutMs', 1, 600_000),
    jwksFileIntervalMs: checkMs(o.jwksFileIntervalMs ?? d.jwksFileIntervalMs, 'jwksFileIntervalMs', 100, 60_000),
    log: o.log ?? silentLogger,
    clock: o.clock ?? Date.now,
  };
}

/** A JWKS given as a URL rather than a file. */
export function isJwksUrl(jwks: string): boolean {
  return /^https?:\/\//i.test(jwks);
}

/** Reads and parses a JWKS file; InvalidArgumentError("jwks") when it is not one. */
function readJwksFile(file: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError('jwks', `must be a readable JWKS file (${err instanceof Error ? err.message : String(err)})`, file);
  }
  const keys: unknown = typeof parsed === 'object' && parsed !== null && 'keys' in parsed ? parsed.keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new InvalidArgumentError('jwks', 'must be a JWKS: JSON {"keys": [...]} with at least one key', file);
  return parsed as JSONWebKeySet;
}

/** A claim's value as a list of strings: a JSON list of strings, or one string of names separated by spaces or commas. */
function listClaim(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '');
  return undefined;
}

/** The JWKS URL could not be fetched (or did not answer a JWKS): the server's trouble, not the token's. */
class JwksUnavailable extends Error {}

/** Why jose refused a token, in words and as a metric reason. */
function refusal(err: unknown, token: string, o: ResolvedJwtOptions): UnauthenticatedError | UnavailableError {
  const refuse = (kind: string, reason: string) => new UnauthenticatedError(`bearer token refused: ${reason}`, { kind, cause: err });
  if (err instanceof joseErrors.JWTExpired) return refuse('expired', `expired at ${expiry(err.payload)}`);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const p = err.payload;
    if (err.claim === 'nbf') return refuse('not_yet_valid', `not valid before ${typeof p.nbf === 'number' ? new Date(p.nbf * 1000).toISOString() : '?'}`);
    if (err.claim === 'aud') return refuse('wrong_audience', `its audience ${JSON.stringify(p.aud ?? null)} is not ${JSON.stringify(o.audience)}`);
    if (err.claim === 'iss') return refuse('unknown_issuer', `unknown issuer ${JSON.stringify(p.iss ?? null)} (accepted: ${o.issuers.map((i) => JSON.stringify(i)).join(', ')})`);
    return refuse('claims', `claim ${err.claim} ${err.reason === 'missing' ? 'is missing' : 'is not valid'}`);
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return refuse('unknown_key', `no key in the JWKS matches its key id ${JSON.stringify(kidOf(token) ?? null)}`);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return refuse('bad_signature', 'its signature does not verify');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return refuse('algorithm', `its algorithm ${JSON.stringify(algOf(token) ?? null)} is not accepted (${o.algorithms.join(', ')})`);
  if (err instanceof JwksUnavailable) return new UnavailableError(`the JWKS at ${o.jwks} could not be fetched to verify a bearer token: ${err.message}`, { cause: err.cause });
  return refuse('malformed', `not a well-formed signed JWT (${err instanceof Error ? err.message : String(err)})`);
}

function expiry(p: JWTPayload): string {
  return typeof p.exp === 'number' ? new Date(p.exp * 1000).toISOString() : '?';
}

function kidOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}

function algOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

export interface JwtStats {
  /** Tokens whose signature and claims were checked (cache misses that verified). */
  readonly verified: number;
  /** Calls answered from the token cache. */
  readonly cacheHits: number;
  /** Tokens in the cache now. */
  readonly cached: number;
  /** Times the JWKS file was read again after it changed. */
  readonly jwksReloads: number;
}

interface Cached {
  readonly principal: Principal;
  /** Until when (ms since the epoch) the cached answer holds. */
  readonly untilMs: number;
}

/**
 * The bearer-token authenticator. `authenticate` is the server's Authenticate (give it to
 * combineAuthenticators as `bearer`); events: "jwks-reloaded" ({ keys }) after the JWKS file
 * changed and was read again (the token cache is emptied: tokens are checked against the new
 * keys), "jwks-reload-failed" ({ error }) when the changed file is not a JWKS (the old keys stay).
 */
export class JwtAuthenticator extends EventEmitter {
  readonly options: ResolvedJwtOptions;
  readonly authenticate: Authenticate;
  private keys: JWTVerifyGetKey;
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<Principal>>();
  private fileStamp = '';
  private counts = { verified: 0, cacheHits: 0, jwksReloads: 0 };
  private readonly watched?: string;
  private timer?: NodeJS.Timeout;

  constructor(options: JwtOptions) {
    super();
    const o = (this.options = jwtWithDefaults(options));
    if (isJwksUrl(o.jwks)) {
      let url: URL;
      try {
        url = new URL(o.jwks);
      } catch {
        throw new InvalidArgumentError('jwks', 'must be a JWKS file or an http(s) URL', o.jwks);
      }
      const remote = createRemoteJWKSet(url, { cooldownDuration: o.jwksCooldownMs, cacheMaxAge: o.jwksMaxAgeMs, timeoutDuration: o.jwksTimeoutMs });
      // What the remote set throws other than "no such key" is its fetch failing.
      this.keys = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (err) {
          if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JOSENotSupported) throw err;
          throw new JwksUnavailable(err instanceof Error ? err.message : String(err), { cause: err });
        }
      };
    } else {
      // Read now: a missing or broken file fails the start, not the first call.
      this.fileStamp = this.stampOf(o.jwks);
      this.keys = createLocalJWKSet(readJwksFile(o.jwks));
      this.watched = o.jwks;
      // Its stat against the one read (not fs.watchFile's first look, which may come after a change).
      this.timer = setInterval(() => this.reloadIfChanged(), o.jwksFileIntervalMs).unref();
    }
    this.authenticate = (call: ServerCall) => this.principalOfToken(bearerTokenOf(call) ?? '');
  }

  /** The principal of `token`: from the cache at once, else verified (one verification per token at a time). */
  principalOfToken(token: string): Principal | Promise<Principal> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.untilMs > this.options.clock()) {
        this.counts.cacheHits++;
        return hit.principal;
      }
      this.cache.delete(token);
    }
    if (token === '') throw new UnauthenticatedError('no bearer token', { kind: 'missing' });
    let p = this.pending.get(token);
    if (!p) {
      p = this.verify(token).finally(() => this.pending.delete(token));
      this.pending.set(token, p);
    }
    return p;
  }

  stats(): JwtStats {
    return { ...this.counts, cached: this.cache.size };
  }

  /** Stops watching the JWKS file. */
  close(): void {
    clearInterval(this.timer);
  }

  /** 1. signature and claims (jose) → 2. the principal from its claims → 3. kept until it expires. */
  private async verify(token: string, again = true): Promise<Principal> {
    const o = this.options;
    const keysUsed = this.keys;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keysUsed, {
        issuer: [...o.issuers],
        audience: o.audience,
        clockTolerance: o.clockToleranceMs / 1000,
        algorithms: [...o.algorithms],
        requiredClaims: ['exp'],
        currentDate: new Date(o.clock()),
      }));
    } catch (err) {
      // A key id the file does not have: the file may have just been rotated; look once now.
      if (again && err instanceof joseErrors.JWKSNoMatchingKey && this.watched && this.reloadIfChanged()) return this.verify(token, false);
      throw refusal(err, token, o);
    }
    const principal = this.principalOf(payload);
    this.counts.verified++;
    // A reload while this token was being checked against the old keys: do not keep it.
    if (keysUsed === this.keys) this.remember(token, principal, payload);
    return principal;
  }

  private principalOf(payload: JWTPayload): Principal {
    const o = this.options;
    const name: unknown = payload[o.principalClaim];
    if (typeof name !== 'string' || name === '') {
      throw new UnauthenticatedError(`bearer token refused: its ${JSON.stringify(o.principalClaim)} claim (the principal's name) is missing or not a string`, { kind: 'claims' });
    }
    const apps = listClaim(payload[o.appsClaim]);
    return {
      name,
      groups: listClaim(payload[o.groupsClaim]) ?? [],
      apps: apps === undefined ? [name] : apps.includes('*') ? '*' : apps,
      via: 'jwt',
    };
  }

  private remember(token: string, principal: Principal, payload: JWTPayload): void {
    const o = this.options;
    const untilMs = Math.min((payload.exp as number) * 1000 + o.clockToleranceMs, o.clock() + o.maxCacheMs);
    if (this.cache.size >= o.maxCachedTokens) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, { principal, untilMs });
  }

  private stampOf(file: string): string {
    try {
      const s = fs.statSync(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return '';
    }
  }

  /** Reads the JWKS file again when it changed since it was read; true when new keys are in use. */
  private reloadIfChanged(): boolean {
    const file = this.watched;
    if (!file) return false;
    const stamp = this.stampOf(file);
    if (stamp === '' || stamp === this.fileStamp) return false;
    this.fileStamp = stamp;
    let jwks: JSONWebKeySet;
    try {
      jwks = readJwksFile(file);
    } catch (err) {
      this.options.log.warn('JWKS file changed but is not a JWKS: the previous keys stay in use', { file, error: err instanceof Error ? err.message : String(err) });
      this.emit('jwks-reload-failed', { error: err });
      return false;
    }
    this.keys = createLocalJWKSet(jwks);
    this.cache.clear();
    this.counts.jwksReloads++;
    this.options.log.info('JWKS file read again: tokens are checked against its keys', { file, keys: jwks.keys.length });
    this.emit('jwks-reloaded', { keys: jwks.keys.length });
    return true;
  }
}

/** The bearer-token authenticator of `options` (its `authenticate` goes to combineAuthenticators as `bearer`). */
export function jwtAuthenticator(options: JwtOptions): JwtAuthenticator {
  return new JwtAuthenticator(options);
}
