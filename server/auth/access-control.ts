/**
 * Per-topic access control on the server: core's `allowed` (core/access.ts) over the grants
 * the store keeps, with the server's policy (admins, defaults for new topics, who may create
 * topics), and what a denial leaves behind. Only calls with a principal are checked: a server
 * without an authenticator has none, and everything stays allowed.
 *
 * A denial is PERMISSION_DENIED naming the principal, the action and the topic, changes
 * nothing, and is recorded: counted (imprint_permission_denied_total{action}, and `denials`),
 * and logged at warn and sent to the audit sink as a `denied` event (core/denials.ts: the
 * method, and the app the call claimed), bounded: one line and one event per (principal,
 * action, topic) per `denialLogEveryMs` carrying how many were denied since the last one, so a
 * client polling in a loop with no grant costs one line and one event a minute, not one per
 * poll. (Denials after a key's last event are said with its next one; the metric has them all.)
 */
import { Counter, type Registry } from 'prom-client';
import { ACTIONS, PermissionDeniedError, type DeniedEvent, accessPolicy, allowed, initialGrants, isAdmin, type AccessAction, type AccessPolicy, type Grant, type ResolvedAccessPolicy } from '../../core/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { Principal } from './principal.js';

export interface AccessControlOptions {
  /** Admins, defaults for new topics, who may create topics. @default core's accessPolicy defaults */
  readonly policy?: AccessPolicy;
  /** imprint_permission_denied_total is registered here. @default not exported */
  readonly registry?: Registry;
  /** @default a silent logger */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
  /** One log line per (principal, action, topic) per this period, ms. @default 60000 */
  readonly denialLogEveryMs?: number;
  /** (principal, action, topic) keys remembered for that at most; beyond, all are forgotten at once. @default 10000 */
  readonly denialLogKeys?: number;
  /** False: nothing is checked (principals are still recorded and new topics still get their grants). @default true */
  readonly enforce?: boolean;
  /** Where denied events go (the server's AuditSink), with the log line. @default none */
  readonly audit?: { record(event: DeniedEvent): boolean };
  /** This instance's name in the denied events. @default "" (give the Holdings' replica) */
  readonly replica?: string;
}

/** What a denial says of the call besides principal, action and topic. */
export interface DeniedCall {
  /** The RPC (e.g. "Publish", "Poll"). */
  readonly method: string;
  /** The application it claimed (x-imprint-app, identity.app), when it claimed one. */
  readonly app?: string;
}

interface DenialLine {
  lastLoggedMs: number;
  since: number;
}

export class AccessControl {
  readonly policy: ResolvedAccessPolicy;
  /** Denials by action, since start (tests; the metric where there is a registry). */
  readonly denials: Record<AccessAction, number> = { consume: 0, inspect: 0, publish: 0, operate: 0, own: 0, create: 0 };
  private readonly counter: Counter<'action'> | undefined;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly logEveryMs: number;
  private readonly logKeys: number;
  private readonly lines = new Map<string, DenialLine>();
  private readonly enforce: boolean;
  private readonly audit: AccessControlOptions['audit'];
  private readonly replica: string;

  constructor(o: AccessControlOptions = {}) {
    this.policy = accessPolicy(o.policy);
    this.log = o.log ?? silentLogger;
    this.clock = o.clock ?? Date.now;
    this.logEveryMs = o.denialLogEveryMs ?? 60_000;
    this.logKeys = o.denialLogKeys ?? 10_000;
    this.enforce = o.enforce ?? true;
    this.audit = o.audit;
    this.replica = o.replica ?? '';
    if (o.registry) {
      this.counter = new Counter({
        name: 'imprint_permission_denied_total',
        help: 'Calls refused PERMISSION_DENIED by per-topic access control, by action (consume, inspect, publish, operate, own, create)',
        labelNames: ['action'],
        registers: [o.registry],
      });
      for (const action of ACTIONS) this.counter.labels({ action }).inc(0);
    }
  }

  /**
   * Throws (and records) PERMISSION_DENIED unless `principal` may do `action` on `topic`,
   * whose grants are `grants`. No principal: allowed (a server without authentication).
   * `call` says which call was refused, for the audit.
   */
  check(principal: Principal | undefined, action: AccessAction, topic: string, grants: readonly Grant[], call: DeniedCall = { method: '' }): void {
    if (principal === undefined || !this.enforce || allowed(principal, action, grants, this.policy)) return;
    throw this.denied(principal, action, topic, call);
  }

  /**
   * What `principal` may do on a topic whose grants are `grants` (every action but `create`,
   * which is not a topic's), by the rule `check` applies. No principal, or not enforcing: all.
   */
  actionsOf(principal: Principal | undefined, grants: readonly Grant[]): Exclude<AccessAction, 'create'>[] {
    const onTopic = ACTIONS.filter((a): a is Exclude<AccessAction, 'create'> => a !== 'create');
    if (principal === undefined || !this.enforce) return onTopic;
    return onTopic.filter((a) => allowed(principal, a, grants, this.policy));
  }

  /** Whether the policy makes `principal` an admin. */
  isAdmin(principal: Principal): boolean {
    return isAdmin(principal, this.policy);
  }

  /** The grants a topic created by `principal` starts with; none without a principal. */
  grantsForNew(principal: Principal | undefined): Grant[] | undefined {
    return principal === undefined ? undefined : initialGrants(principal.name, this.policy);
  }

  /** Records a denial and returns its error. */
  private denied(principal: Principal, action: AccessAction, topic: string, call: DeniedCall): PermissionDeniedError {
    this.denials[action]++;
    this.counter?.labels({ action }).inc();
    const key = `${principal.name}\u0000${action}\u0000${topic}`;
    const now = this.clock();
    let line = this.lines.get(key);
    if (!line) {
      if (this.lines.size >= this.logKeys) this.lines.clear();
      line = { lastLoggedMs: Number.NEGATIVE_INFINITY, since: 0 };
      this.lines.set(key, line);
    }
    line.since++;
    if (now - line.lastLoggedMs >= this.logEveryMs) {
      const { method, app } = call;
      this.log.warn('permission denied', { principal: principal.name, action, topic, method, ...(app !== undefined && { app }), denied: line.since });
      // Best-effort as every audit event: a sink that drops it counts it.
      this.audit?.record({ kind: 'denied', atMs: now, topic, replica: this.replica, principal: principal.name, action, method, ...(app !== undefined && { app }), count: line.since });
      line.lastLoggedMs = now;
      line.since = 0;
    }
    return new PermissionDeniedError(principal.name, action, topic, whyDenied(action));
  }
}

/** What the caller lacks, in the error: the roles that allow the action. */
function whyDenied(action: AccessAction): string {
  switch (action) {
    case 'create':
      return 'this server lets only admins create topics (--create-topics admins)';
    case 'own':
      return 'needs the owner role on the topic';
    case 'publish':
      return 'needs the publisher or owner role on the topic';
    case 'operate':
      return 'needs the operator or owner role on the topic';
    case 'inspect':
      return 'needs the operator, publisher or owner role on the topic';
    case 'consume':
      return 'needs a role on the topic (consumer or above)';
  }
}
