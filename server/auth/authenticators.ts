/**
 * One authenticator from the ways a server accepts: a call that sends a bearer token
 * (`authorization: Bearer ...`) is judged by the token authenticator (JWT); any other by the
 * client-certificate one (mTLS). A call that brings neither kind the server accepts is
 * refused UNAUTHENTICATED, saying what the server accepts.
 */
import { UnauthenticatedError } from '../../core/index.js';
import type { Authenticate, ServerCall } from './principal.js';

export interface Authenticators {
  /** Judges calls that send `authorization: Bearer <token>`. @default none: bearer tokens are refused */
  readonly bearer?: Authenticate;
  /** Judges calls without a bearer token, from the connection's client certificate. @default none */
  readonly certificate?: Authenticate;
}

/** The metadata key a bearer token comes in. */
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/** The bearer token `call` sends, if any ("" for a malformed authorization header). */
export function bearerTokenOf(call: ServerCall): string | undefined {
  const header = call.metadata.get(AUTHORIZATION_METADATA_KEY)[0];
  if (header === undefined) return undefined;
  const m = /^Bearer +(\S+)\s*$/i.exec(String(header));
  return m?.[1] ?? '';
}

/** The server's authenticator from the ways it accepts; undefined when it accepts none (calls stay anonymous). */
export function combineAuthenticators(ways: Authenticators): Authenticate | undefined {
  const { bearer, certificate } = ways;
  if (!bearer && !certificate) return undefined;
  const accepted = [bearer && 'a bearer token', certificate && 'a client certificate'].filter(Boolean).join(' or ');
  return (call) => {
    const token = bearerTokenOf(call);
    if (token !== undefined) {
      if (!bearer) throw new UnauthenticatedError(`this server does not accept bearer tokens: send ${accepted}`, { kind: 'missing' });
      if (token === '') throw new UnauthenticatedError('the authorization metadata is not "Bearer <token>"', { kind: 'malformed' });
      return bearer(call);
    }
    if (certificate) return certificate(call);
    throw new UnauthenticatedError(`no credentials: send ${accepted}`, { kind: 'missing' });
  };
}
