/**
 * Per-topic access control on the server: core's `allowed` (core/access.ts) over the grants
 * the store keeps, with the server's policy (admins, defaults for new topics, who may create
 * topics), and what a denial leaves behind. Only calls with a principal are checked: a server
 * without an authenticator has none, and everything stays allowed.
 *
 * A denial is PERMISSION_DENIED naming the principal, the action and the topic, changes
 * nothing, and is recorded: counted (imprint_permission_denied_total{action}, and `denials`)
 * and logged at warn, bounded: one line per (principal, action, topic) per `denialLogEveryMs`
 * carrying how many were denied since the last line, so a client polling in a loop with no
 * grant costs one line a minute, not one per poll.
 */
import { Counter, type Registry } from 'prom-client';
import { ACTIONS, PermissionDeniedError, accessPolicy, allowed, initialGrants, isAdmin, type AccessAction, type AccessPolicy, type Grant, type ResolvedAccessPolicy } from '../../core/index.js';
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

  constructor(o: AccessControlOptions = {}) {
    this.policy = accessPolicy(o.policy);
    this.log = o.log ?? silentLogger;
    this.clock = o.clock ?? Date.now;
    this.logEveryMs = o.denialLogEveryMs ?? 60_000;
    this.logKeys = o.denialLogKeys ?? 10_000;
    this.enforce = o.enforce ?? true;
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
   */
  check(principal: Principal | undefined, action: AccessAction, topic: string, grants: readonly Grant[]): void {
    if (principal === undefined || !this.enforce || allowed(principal, action, grants, this.policy)) return;
    throw this.denied(principal, action, topic);
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
  private denied(principal: Principal, action: AccessAction, topic: string): PermissionDeniedError {
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
      this.log.warn('permission denied', { principal: principal.name, action, topic, denied: line.since });
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
