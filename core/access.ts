/**
 * Per-topic access control: who may do what to a topic. Pure rules; the server asks
 * `allowed` on every path (server/auth/access-control.ts), with the grants the store keeps.
 *
 * A topic has grants: a role and whom it is given to (`Grantee`): a principal's name, a group
 * (`group:NAME`, matched against the principal's groups), or `*` (any authenticated
 * principal). Each role allows a set of actions on that topic:
 *
 * | role | actions |
 * | --- | --- |
 * | owner | everything below, and `own`: change the topic (UpdateTopic: owner, description, retention, contract), delete it, grant and revoke |
 * | publisher | `publish` (Publish, AddScopes), `inspect`, `consume` |
 * | operator | `operate` (Pin, Unpin), `inspect`, `consume` |
 * | consumer | `consume` (Poll, BatchPoll, Watch, GetVersion, ListVersions, GetLatestAt, GetTopic, ListPins) |
 *
 * `inspect` is reading how the topic is run and by whom: DescribeTopic, ListHistory,
 * ListMoves and GetAccess (they name consumers' nodes and the principals that changed it).
 * Admins (the policy's) may do everything everywhere. Creating a topic (`create`) is open to
 * every principal unless the policy keeps it to admins; the creator becomes its owner, and
 * the policy's defaults are granted with it. A topic with no grants at all (created before
 * access control was on) is read as having the defaults and no owner: only admins change it.
 */
import { InvalidArgumentError } from './errors.js';

export const ROLES = ['owner', 'publisher', 'operator', 'consumer'] as const;
export type Role = (typeof ROLES)[number];

/** What a call does to a topic (`create`: makes one). The label of imprint_permission_denied_total. */
export const ACTIONS = ['consume', 'inspect', 'publish', 'operate', 'own', 'create'] as const;
export type AccessAction = (typeof ACTIONS)[number];

/** A principal's name, `group:NAME`, or `*` (any authenticated principal). */
export type Grantee = string;

export interface Grant {
  readonly role: Role;
  readonly grantee: Grantee;
}

/** Who is asking, as access control sees it (server/auth's Principal has these). */
export interface AccessSubject {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface AccessPolicy {
  /** Principals (names) and groups (`group:NAME`) that may do everything everywhere. @default none */
  readonly admins?: readonly Grantee[];
  /** Who may consume a new topic: `everyone` grants consumer to `*`; `owners`: only its owners (and whom they grant). @default 'everyone' */
  readonly consume?: 'everyone' | 'owners';
  /** Who may publish to a new topic: `everyone` grants publisher to `*`. @default 'owners' */
  readonly publish?: 'everyone' | 'owners';
  /** Who may create topics. @default 'everyone' (any authenticated principal) */
  readonly createTopics?: 'everyone' | 'admins';
}

/** A policy with its defaults filled and its admins indexed, made once (accessPolicy). */
export interface ResolvedAccessPolicy {
  readonly adminNames: ReadonlySet<string>;
  readonly adminGroups: ReadonlySet<string>;
  readonly consume: 'everyone' | 'owners';
  readonly publish: 'everyone' | 'owners';
  readonly createTopics: 'everyone' | 'admins';
  /** The grants a topic without any is read as having. */
  readonly fallback: readonly Grant[];
}

/** The most grants one topic may have. */
export const MAX_GRANTS = 100;
/** The longest grantee, in characters. */
export const MAX_GRANTEE = 256;
export const GROUP_PREFIX = 'group:';
export const EVERYONE = '*';

const ROLE_ACTIONS: Readonly<Record<Role, ReadonlySet<AccessAction>>> = {
  owner: new Set(['consume', 'inspect', 'publish', 'operate', 'own']),
  publisher: new Set(['consume', 'inspect', 'publish']),
  operator: new Set(['consume', 'inspect', 'operate']),
  consumer: new Set(['consume']),
};

/** The policy's defaults filled in, its grantees checked (`field` names it in errors). */
export function accessPolicy(p: AccessPolicy = {}, field = 'admins'): ResolvedAccessPolicy {
  const admins = (p.admins ?? []).map((a, i) => validateGrantee(a, `${field}[${i}]`));
  if (admins.includes(EVERYONE)) throw new InvalidArgumentError(field, 'must name principals or groups, not "*"', EVERYONE);
  const consume = p.consume ?? 'everyone';
  const publish = p.publish ?? 'owners';
  return {
    adminNames: new Set(admins.filter((a) => !a.startsWith(GROUP_PREFIX))),
    adminGroups: new Set(admins.filter((a) => a.startsWith(GROUP_PREFIX)).map((a) => a.slice(GROUP_PREFIX.length))),
    consume,
    publish,
    createTopics: p.createTopics ?? 'everyone',
    fallback: [...(consume === 'everyone' ? [{ role: 'consumer' as const, grantee: EVERYONE }] : []), ...(publish === 'everyone' ? [{ role: 'publisher' as const, grantee: EVERYONE }] : [])],
  };
}

export function isAdmin(who: AccessSubject, policy: ResolvedAccessPolicy): boolean {
  if (policy.adminNames.has(who.name)) return true;
  for (const g of who.groups) if (policy.adminGroups.has(g)) return true;
  return false;
}

/** Whether `grantee` names `who`. */
export function granteeMatches(grantee: Grantee, who: AccessSubject): boolean {
  if (grantee === EVERYONE) return true;
  // group:NAME names a group only, never a principal that happens to be called so.
  if (grantee.startsWith(GROUP_PREFIX)) {
    // Compared in place (no slice: a poll's decision allocates nothing).
    for (const g of who.groups) if (grantee.length === GROUP_PREFIX.length + g.length && grantee.startsWith(g, GROUP_PREFIX.length)) return true;
    return false;
  }
  return grantee === who.name;
}

/**
 * THE decision: whether `who` may do `action` on a topic with `grants` (for `create`: the
 * topic to be; its grants are not asked). A few comparisons: no I/O, no allocation.
 */
export function allowed(who: AccessSubject, action: AccessAction, grants: readonly Grant[], policy: ResolvedAccessPolicy): boolean {
  if (isAdmin(who, policy)) return true;
  if (action === 'create') return policy.createTopics === 'everyone';
  for (const g of grants.length > 0 ? grants : policy.fallback) {
    if (ROLE_ACTIONS[g.role].has(action) && granteeMatches(g.grantee, who)) return true;
  }
  return false;
}

/** The grants a topic `creator` makes starts with: the creator as owner, and the policy's defaults. */
export function initialGrants(creator: string, policy: ResolvedAccessPolicy): Grant[] {
  return [{ role: 'owner', grantee: creator }, ...policy.fallback];
}

export function isRole(role: unknown): role is Role {
  return typeof role === 'string' && (ROLES as readonly string[]).includes(role);
}

/** `role`, or INVALID_ARGUMENT naming `field`. */
export function validateRole(role: string, field = 'role'): Role {
  if (!isRole(role)) throw new InvalidArgumentError(field, `must be one of ${ROLES.join(', ')}`, role);
  return role;
}

/** `grantee` as kept, or INVALID_ARGUMENT naming `field`: a name, group:NAME or *, 1 to MAX_GRANTEE printable characters. */
export function validateGrantee(grantee: string, field = 'grantee'): Grantee {
  if (grantee.length === 0) throw new InvalidArgumentError(field, 'must name a principal, group:NAME or * (got an empty name)');
  if (grantee.length > MAX_GRANTEE) throw new InvalidArgumentError(field, `must be at most ${MAX_GRANTEE} characters`, grantee.length);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(grantee)) throw new InvalidArgumentError(field, 'must not contain spaces or control characters', grantee);
  if (grantee === GROUP_PREFIX) throw new InvalidArgumentError(field, 'must name the group after "group:"', grantee);
  return grantee;
}

/** A grant checked (its role and grantee fields named `${prefix}role`, `${prefix}grantee`). */
export function validateGrant(g: { role: string; grantee: string }, prefix = ''): Grant {
  return { role: validateRole(g.role, `${prefix}role`), grantee: validateGrantee(g.grantee, `${prefix}grantee`) };
}

/** A grant as text, e.g. `publisher:group:scoring` (logs, history details). */
export function grantText(g: Grant): string {
  return `${g.role}:${g.grantee}`;
}

/** Grants in a stable order: by role (owner first), then grantee. */
export function sortGrants(gs: readonly Grant[]): Grant[] {
  return [...gs].sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || (a.grantee < b.grantee ? -1 : a.grantee > b.grantee ? 1 : 0));
}
