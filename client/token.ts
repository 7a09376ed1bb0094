/**
 * Bearer tokens on every call: a client given a token (a JWT its issuer gave it) sends it as
 * request metadata `authorization: Bearer <token>` on every call, unary and streaming. As
 * metadata rather than grpc-js call credentials, so it works on plaintext channels as on TLS
 * ones (grpc-js sends call credentials over TLS only).
 */
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../core/index.js';

/**
 * A bearer token, or where to get one: a function is asked before every call (a job that
 * refreshes its token returns the current one; keep it cheap: cache the token until it nears
 * its expiry).
 */
export type TokenSource = string | (() => string | Promise<string>);

/** The metadata key a bearer token goes in (the server's AUTHORIZATION_METADATA_KEY). */
const AUTHORIZATION = 'authorization';

/** A token as it may be sent: no whitespace inside (a JWT has none), not empty. */
function checkToken(token: unknown, field: string): string {
  const t = typeof token === 'string' ? token.trim() : '';
  if (t === '' || /\s/.test(t)) throw new InvalidArgumentError(field, 'must be a non-empty bearer token without whitespace (a JWT)', typeof token === 'string' ? `${token.length} characters` : token);
  return t;
}

/** The `token` option's rule, checked when the client is made (a string) or before each call (a function's answer). */
export function validateTokenSource(token: TokenSource): TokenSource {
  if (typeof token === 'function') return token;
  return checkToken(token, 'token');
}

/**
 * A client interceptor that sends `token` as `authorization: Bearer ...` on every call. A
 * token function that throws or answers no token fails the call UNAUTHENTICATED with its
 * message; nothing is sent.
 */
export function bearerTokenInterceptor(token: TokenSource): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const send = (t: string) => {
          metadata.set(AUTHORIZATION, `Bearer ${t}`);
          next(metadata, listener);
        };
        const fail = (err: unknown) =>
          listener.onReceiveStatus({ code: grpc.status.UNAUTHENTICATED, details: `the client's token function failed: ${err instanceof Error ? err.message : String(err)}`, metadata: new grpc.Metadata() });
        if (typeof token === 'string') return send(token);
        let got: string | Promise<string>;
        try {
          got = token();
        } catch (err) {
          return fail(err);
        }
        Promise.resolve(got).then((t) => {
          let checked: string;
          try {
            checked = checkToken(t, 'token()');
          } catch (err) {
            return fail(err);
          }
          send(checked);
        }, fail);
      },
    });
}
