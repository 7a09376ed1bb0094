/**
 * Who makes a call. A server with an authenticator establishes each call's Principal before
 * its handler runs (from the mTLS client certificate or a bearer JWT, server/auth/; the gRPC
 * transport's wrapper is server/grpc/authenticate.ts) and answers UNAUTHENTICATED, with the
 * reason, when it cannot; the handlers read it with
 * `principalOf(call)` and hand it to the service code as part of the Caller. A server without
 * one (the loopback-only embedded default) has no principals: every call is anonymous and
 * nothing is checked.
 */
import type * as grpc from '@grpc/grpc-js';

/** An authenticated caller. */
export interface Principal {
  /** Its name, as grants, pins and the history record it: a certificate's SAN URI, DNS name or CN; a JWT's subject. */
  readonly name: string;
  /** Groups it belongs to (a JWT claim), which grants may name as well. */
  readonly groups: readonly string[];
  /** The applications it may act as (a consumer's identity.app, `x-imprint-app`); "*": any. */
  readonly apps: readonly string[] | '*';
  /** How it was established. */
  readonly via: 'certificate' | 'jwt';
}

/** Any gRPC server call: what an authenticator may look at (metadata, peer, the TLS auth context). */
export type ServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

/**
 * Establishes who makes `call`: its Principal, or throws (or rejects with) an
 * UnauthenticatedError that says why. Must be cheap on the hot path: per connection or cached
 * per token, never a network call per request; a synchronous answer costs no promise.
 */
export type Authenticate = (call: ServerCall) => Principal | Promise<Principal>;

const principals = new WeakMap<object, Principal>();

/** Keeps the principal established for `call` (the transport's authentication wrapper). */
export function rememberPrincipal(call: object, principal: Principal): void {
  principals.set(call, principal);
}

/** The principal the server's authenticator established for `call`; undefined on a server without one. */
export function principalOf(call: object): Principal | undefined {
  return principals.get(call);
}

