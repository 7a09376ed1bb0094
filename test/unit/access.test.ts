/**
 * core/access.ts: the one decision every path asks (who may do what to a topic), table-driven
 * over every role and every action, plus admins, groups, everyone, the policy's defaults and
 * the input rules.
 */
import { describe, expect, it } from 'vitest';
import { ACTIONS, InvalidArgumentError, MAX_GRANTEE, accessPolicy, allowed, initialGrants, validateGrant, validateGrantee, type AccessAction, type Grant, type Role } from '../../core/index.js';

const alice = { name: 'alice', groups: ['ml'] };
const policy = accessPolicy({ admins: ['root', 'group:sre'] });

/** Which actions each role allows (and nobody: none). */
const EXPECTED: Record<Role | 'nobody', readonly AccessAction[]> = {
  owner: ['consume', 'inspect', 'publish', 'operate', 'own'],
  publisher: ['consume', 'inspect', 'publish'],
  operator: ['consume', 'inspect', 'operate'],
  consumer: ['consume'],
  nobody: [],
};

describe('allowed', () => {
  for (const [role, actions] of Object.entries(EXPECTED)) {
    it(`${role}: ${actions.join(', ') || 'nothing'}; never create (the policy decides that)`, () => {
      // The role given by name, by group and to everyone; nobody: another principal's grant.
      const grantees = role === 'nobody' ? ['bob'] : ['alice', 'group:ml', '*'];
      for (const grantee of grantees) {
        const grants: Grant[] = [{ role: role === 'nobody' ? 'owner' : (role as Role), grantee }];
        const got = ACTIONS.filter((a) => a !== 'create' && allowed(alice, a, grants, policy));
        expect(got, grantee).toEqual(actions);
      }
    });
  }

  it('admins (by name or group) may do everything, on any topic, grants or none', () => {
    for (const who of [{ name: 'root', groups: [] }, { name: 'x', groups: ['sre'] }]) {
      for (const a of ACTIONS) expect(allowed(who, a, [{ role: 'owner', grantee: 'bob' }], policy)).toBe(true);
    }
  });

  it('a group grant needs the group; group:NAME never matches a principal named so', () => {
    const grants: Grant[] = [{ role: 'publisher', grantee: 'group:ml' }];
    expect(allowed({ name: 'group:ml', groups: [] }, 'publish', grants, policy)).toBe(false);
    expect(allowed({ name: 'z', groups: ['ml'] }, 'publish', grants, policy)).toBe(true);
  });

  it('creating topics: everyone by default, admins only when the policy says so', () => {
    expect(allowed(alice, 'create', [], policy)).toBe(true);
    const strict = accessPolicy({ admins: ['root'], createTopics: 'admins' });
    expect(allowed(alice, 'create', [], strict)).toBe(false);
    expect(allowed({ name: 'root', groups: [] }, 'create', [], strict)).toBe(true);
  });

  it('a topic with no grants is read as the defaults with no owner: consume open, nothing else', () => {
    expect(ACTIONS.filter((a) => a !== 'create' && allowed(alice, a, [], policy))).toEqual(['consume']);
    const closed = accessPolicy({ consume: 'owners' });
    expect(ACTIONS.filter((a) => a !== 'create' && allowed(alice, a, [], closed))).toEqual([]);
    const open = accessPolicy({ publish: 'everyone' });
    expect(ACTIONS.filter((a) => a !== 'create' && allowed(alice, a, [], open))).toEqual(['consume', 'inspect', 'publish']);
  });

  it("a new topic's grants: its creator as owner, and the policy's defaults", () => {
    expect(initialGrants('alice', policy)).toEqual([
      { role: 'owner', grantee: 'alice' },
      { role: 'consumer', grantee: '*' },
    ]);
    expect(initialGrants('alice', accessPolicy({ consume: 'owners', publish: 'everyone' }))).toEqual([
      { role: 'owner', grantee: 'alice' },
      { role: 'publisher', grantee: '*' },
    ]);
  });
});

describe('grant input', () => {
  it('refuses an unknown role, an empty, spaced, over-long or bare group grantee, naming the field and the rule', () => {
    const cases: [{ role: string; grantee: string }, string, string][] = [
      [{ role: 'admin', grantee: 'bob' }, 'role', 'must be one of owner, publisher, operator, consumer'],
      [{ role: 'owner', grantee: '' }, 'grantee', 'must name a principal, group:NAME or *'],
      [{ role: 'owner', grantee: 'a b' }, 'grantee', 'must not contain spaces or control characters'],
      [{ role: 'owner', grantee: 'group:' }, 'grantee', 'must name the group after "group:"'],
      [{ role: 'owner', grantee: 'x'.repeat(MAX_GRANTEE + 1) }, 'grantee', `must be at most ${MAX_GRANTEE} characters`],
    ];
    for (const [g, field, rule] of cases) {
      const err = (() => {
        try {
          validateGrant(g);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toContain(field);
      expect((err as Error).message).toContain(rule);
    }
    expect(validateGrantee('spiffe://prod/ns/scoring')).toBe('spiffe://prod/ns/scoring');
  });

  it('refuses * as an admin', () => {
    expect(() => accessPolicy({ admins: ['*'] })).toThrow(/admins/);
    expect(() => accessPolicy({ admins: [''] })).toThrow(/admins\[0\]/);
  });
});
