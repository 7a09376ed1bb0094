/**
 * Every handler of a gRPC service behind the server's authenticator (server/auth): the call's
 * principal is established before its handler runs, or the call is refused with the
 * authenticator's reason; a call claiming an application its principal may not act as
 * (x-imprint-app, identity.app: server/auth/apps.ts) is refused PERMISSION_DENIED, by a
 * wrapper of its own (`appCheckedService`) that sits inside the request metrics, so those
 * refusals are counted with the method's other outcomes.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log/index.js';
import { checkClaimedApps } from '../auth/apps.js';
import { principalOf, rememberPrincipal, type Authenticate, type Principal, type ServerCall } from '../auth/principal.js';
import { toServiceError } from './errors.js';
import { requestLog } from './request-log.js';

type AnyHandler = (call: ServerCall, callback?: grpc.sendUnaryData<unknown>) => void;

/**
 * Every handler of a service (unary or server-streaming) behind `authenticate`: the call's
 * principal is established first (synchronously when the authenticator answers so) and kept
 * for `principalOf`; a call that cannot be authenticated is answered with the error's status
 * (UNAUTHENTICATED), and its handler never runs. (The apps a call claims are checked by
 * `appCheckedService`, which the handler stack puts inside the request metrics.)
 */
export function authenticatedService<H extends object>(handlers: H, authenticate: Authenticate, log: Logger): H {
  const out: Record<string, AnyHandler> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    // Each value is a grpc-js handler of its own request and response types; wrapping keeps them.
    const h = handler as AnyHandler;
    out[method] = (call, callback) => {
      const refuse = (err: unknown) => {
        const status = toServiceError(err, method, requestLog(call, log));
        if (callback) callback(status);
        else call.emit('error', status);
      };
      const admit = (p: Principal) => {
        rememberPrincipal(call, p);
        h(call, callback);
      };
      let got: Principal | Promise<Principal>;
      try {
        got = authenticate(call);
      } catch (err) {
        refuse(err);
        return;
      }
      if (got instanceof Promise) got.then(admit, refuse);
      else admit(got);
    };
  }
  return out as H;
}

/**
 * Every handler of a service behind the check of the applications a call claims
 * (x-imprint-app, identity.app) against its principal's: a call claiming one it may not act
 * as is answered PERMISSION_DENIED and its handler never runs. A call without a principal
 * (nothing authenticated it) claims on trust.
 */
export function appCheckedService<H extends object>(handlers: H, log: Logger): H {
  const out: Record<string, AnyHandler> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    // Each value is a grpc-js handler of its own request and response types; wrapping keeps them.
    const h = handler as AnyHandler;
    out[method] = (call, callback) => {
      const p = principalOf(call);
      if (p) {
        try {
          checkClaimedApps(call, p);
        } catch (err) {
          const status = toServiceError(err, method, requestLog(call, log));
          if (callback) callback(status);
          else call.emit('error', status);
          return;
        }
      }
      h(call, callback);
    };
  }
  return out as H;
}
