/**
 * Who may act as which application. A consumer names its application twice over: in its
 * request's `identity.app` (Poll, BatchPoll, Watch, GetLatestAt) and in the `x-imprint-app`
 * metadata the client sends on every call. On a server with principals each name a call
 * carries must be one its principal may act as (`Principal.apps`: "*" or a list; a JWT
 * without the apps claim: only the app named as its principal), else the call is refused
 * PERMISSION_DENIED, naming the principal, the app and the topic, before any work. A server
 * without principals takes both names on trust, as before.
 */
import { PermissionDeniedError } from '../../core/index.js';
import { APP_METADATA_KEY } from '../../proto/metadata-keys.js';
import type { Principal, ServerCall } from './principal.js';

/** May `principal` act as application `app`? */
export function mayActAs(principal: Principal, app: string): boolean {
  return principal.apps === '*' || principal.apps.includes(app);
}

/** The topic a request names, for the error: its `topic`, else how many `topics` it names. */
function topicOf(request: unknown): { topic: string; many?: number } {
  if (typeof request !== 'object' || request === null) return { topic: '' };
  const r = request as { topic?: unknown; topics?: unknown };
  if (typeof r.topic === 'string') return { topic: r.topic };
  if (Array.isArray(r.topics)) return { topic: '', many: r.topics.length };
  return { topic: '' };
}

/** The application names `call` claims: its `x-imprint-app` metadata and its request's `identity.app` (each when sent). */
function claimedApps(call: Pick<ServerCall, 'metadata' | 'request'>): { app: string; where: string }[] {
  const out: { app: string; where: string }[] = [];
  for (const v of call.metadata.get(APP_METADATA_KEY)) out.push({ app: String(v), where: APP_METADATA_KEY });
  const req = call.request;
  if (typeof req === 'object' && req !== null && 'identity' in req) {
    const identity: unknown = req.identity;
    if (typeof identity === 'object' && identity !== null && 'app' in identity && typeof identity.app === 'string' && identity.app !== '') out.push({ app: identity.app, where: 'identity.app' });
  }
  return out;
}

/**
 * Throws PermissionDeniedError when `call` claims an application (x-imprint-app, identity.app)
 * its principal may not act as. A BatchPoll or Watch is refused whole (one identity per request).
 */
export function checkClaimedApps(call: Pick<ServerCall, 'metadata' | 'request'>, principal: Principal): void {
  for (const { app, where } of claimedApps(call)) {
    if (mayActAs(principal, app)) continue;
    const { topic, many } = topicOf(call.request);
    const may = principal.apps === '*' ? 'any' : principal.apps.length === 0 ? 'none' : principal.apps.map((a) => JSON.stringify(a)).join(', ');
    throw new PermissionDeniedError(principal.name, `act as app ${JSON.stringify(app)} (${where})`, topic, `${many !== undefined ? `for all ${many} topics of the request; ` : ''}it may act as: ${may}`);
  }
}
