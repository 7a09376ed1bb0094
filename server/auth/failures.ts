/**
 * Authentication failures counted by reason (imprint_auth_failures_total{reason}): the
 * authenticator's refusals by their UnauthenticatedError kind, and "unavailable" when it could
 * not decide (a JWKS URL that does not answer).
 */
import { UnauthenticatedError } from '../../core/index.js';
import type { Authenticate, Principal, ServerCall } from './principal.js';

/** The reasons the metric counts by; a kind not listed is counted as "other". */
export const AUTH_FAILURE_REASONS = [
  'missing',
  'malformed',
  'expired',
  'not_yet_valid',
  'wrong_audience',
  'unknown_issuer',
  'unknown_key',
  'bad_signature',
  'algorithm',
  'claims',
  'unavailable',
  'other',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

const KNOWN: ReadonlySet<string> = new Set(AUTH_FAILURE_REASONS);

/** The reason an authenticator's error is counted under. */
export function failureReasonOf(err: unknown): AuthFailureReason {
  if (err instanceof UnauthenticatedError) return KNOWN.has(err.kind) ? (err.kind as AuthFailureReason) : 'other';
  return 'unavailable';
}

/** `authenticate`, each refusal counted by `count(reason)`. */
export function countingFailures(authenticate: Authenticate, count: (reason: AuthFailureReason) => void): Authenticate {
  const failed = (err: unknown): never => {
    count(failureReasonOf(err));
    throw err;
  };
  return (call: ServerCall) => {
    let got: Principal | Promise<Principal>;
    try {
      got = authenticate(call);
    } catch (err) {
      return failed(err);
    }
    return got instanceof Promise ? got.catch(failed) : got;
  };
}
