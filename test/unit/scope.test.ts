import { describe, expect, it } from 'vitest';
import {
  IDENTITY_KEYS,
  identityAttributes,
  parseScope,
  scopeKey,
  scopeMatches,
  specificity,
  uniqueScopes,
  validateIdentity,
  validatePollIdentity,
  validateScope,
} from '../../core/index.js';
import type { ConsumerIdentity, Scope } from '../../core/index.js';
import { invalid } from './util.js';

function identity(over: Partial<ConsumerIdentity> = {}): ConsumerIdentity {
  return { app: 'scorer', cluster: 'scorer-canary', region: 'us-east-1', nodeId: 'n1', labels: {}, ...over };
}

describe('parseScope', () => {
  it.each<[string, Scope]>([
    ['region=us-east-1', { region: 'us-east-1' }],
    ['app=scorer,cluster=scorer-canary', { app: 'scorer', cluster: 'scorer-canary' }],
    ['', {}],
    ['   ', {}],
    ['  region = eu , app=scorer  ', { region: 'eu', app: 'scorer' }],
    ['tier.v2_x-y=a/b:c', { 'tier.v2_x-y': 'a/b:c' }],
  ])('parses %j', (text, expected) => {
    expect(parseScope(text)).toEqual(expected);
  });

  it('an empty or blank string is the empty scope, which has no keys', () => {
    expect(Object.keys(parseScope(''))).toHaveLength(0);
  });

  it('`region` without `=value` is an error on the given field that names the pair', () => {
    const err = invalid(() => parseScope('app=scorer,region', 'scopes[2]'));
    expect(err.field).toBe('scopes[2]');
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('"region"');
    expect(err.message).not.toContain('"app=scorer"');
  });

  it('uses `scope` as the field by default', () => {
    expect(invalid(() => parseScope('region')).field).toBe('scope');
  });

  it.each([
    ['=v', 'no key'],
    ['k=', 'no value'],
    ['region=eu,k=', 'no value in a later pair'],
    ['k= ,a=1', 'a value that is only blanks'],
    [' =v,a=1', 'a key that is only blanks'],
    ['a=1,,b=2', 'an empty pair'],
    ['a=1,', 'a trailing comma'],
    ['region=eu,region=us', 'a duplicate key'],
    ['region=eu, region =us', 'a duplicate key after trimming'],
    ['-region=eu', 'a key starting with "-"'],
    ['reg ion=eu', 'a space inside the key'],
    ['reg$ion=eu', 'a "$" in the key'],
    [`${'k'.repeat(65)}=v`, 'a 65-character key'],
    ['a=b=c', 'a "=" in the value'],
    ['a=b c', 'a space in the value'],
  ])('rejects %j (%s)', (text) => {
    invalid(() => parseScope(text));
  });

  it('a duplicate key error names the key', () => {
    const err = invalid(() => parseScope('region=eu,region=us'));
    expect(err.field).toBe('scope');
    expect(err.message).toContain('"region"');
  });

  it('accepts a 64-character key and a 256-character value, but not a 257-character value', () => {
    const key = 'k'.repeat(64);
    expect(parseScope(`${key}=${'v'.repeat(256)}`)).toEqual({ [key]: 'v'.repeat(256) });
    invalid(() => parseScope(`a=${'v'.repeat(257)}`));
  });
});

describe('validateScope', () => {
  it('returns a valid scope unchanged', () => {
    const s = { region: 'eu', app: 'scorer' };
    expect(validateScope(s)).toBe(s);
  });

  it('names the field and the key of a bad value', () => {
    expect(invalid(() => validateScope({ region: '' }, 'scopes[1]')).field).toBe('scopes[1].region');
  });

  it('names the field for a bad key', () => {
    expect(invalid(() => validateScope({ '.x': 'a' }, 'scopes[0]')).field).toBe('scopes[0]');
  });
});

describe('scopeKey', () => {
  it.each<[Scope, string]>([
    [{}, ''],
    [{ region: 'eu' }, 'region=eu'],
    [{ region: 'eu', app: 'scorer' }, 'app=scorer,region=eu'],
    [{ b: '2', a: '1', c: '3' }, 'a=1,b=2,c=3'],
  ])('%j -> %j', (scope, key) => {
    expect(scopeKey(scope)).toBe(key);
  });

  it('is independent of key order', () => {
    expect(scopeKey({ cluster: 'c', app: 'a', region: 'r' })).toBe(scopeKey({ region: 'r', app: 'a', cluster: 'c' }));
  });

  it('differs when a value differs', () => {
    expect(scopeKey({ region: 'eu' })).not.toBe(scopeKey({ region: 'us' }));
  });

  it('round-trips through parseScope', () => {
    const s = { region: 'eu', app: 'scorer', tier: 'gold' };
    expect(parseScope(scopeKey(s))).toEqual(s);
  });
});

describe('scopeMatches', () => {
  const attrs = { app: 'scorer', cluster: 'scorer-canary', region: 'us-east-1', node: 'n1', tier: 'gold' };
  it.each<[string, Scope, Readonly<Record<string, string>>, boolean]>([
    ['empty scope, full attrs', {}, attrs, true],
    ['empty scope, no attrs', {}, {}, true],
    ['one matching pair', { region: 'us-east-1' }, attrs, true],
    ['all pairs match', { app: 'scorer', region: 'us-east-1', tier: 'gold' }, attrs, true],
    ['one pair of two differs', { app: 'scorer', region: 'eu-west-1' }, attrs, false],
    ['value differs', { region: 'eu-west-1' }, attrs, false],
    ['attribute missing', { zone: 'a' }, attrs, false],
    ['attribute missing, no attrs', { region: 'us-east-1' }, {}, false],
    ['value is case-sensitive', { app: 'Scorer' }, attrs, false],
    ['label attribute matches', { tier: 'gold' }, attrs, true],
  ])('%s -> %s', (_name, scope, a, expected) => {
    expect(scopeMatches(scope, a)).toBe(expected);
  });
});

describe('specificity', () => {
  it.each<[Scope, number]>([
    [{}, 0],
    [{ region: 'eu' }, 1],
    [{ region: 'eu', app: 'scorer', cluster: 'c' }, 3],
  ])('%j -> %i', (scope, n) => {
    expect(specificity(scope)).toBe(n);
  });
});

describe('identityAttributes', () => {
  it('maps app, cluster, region and nodeId (as node) and adds the labels', () => {
    expect(identityAttributes(identity({ labels: { tier: 'gold', zone: 'b' } }))).toEqual({
      app: 'scorer',
      cluster: 'scorer-canary',
      region: 'us-east-1',
      node: 'n1',
      tier: 'gold',
      zone: 'b',
    });
  });

  it.each([
    ['app', { app: '' }],
    ['cluster', { cluster: '' }],
    ['region', { region: '' }],
    ['node', { nodeId: '' }],
  ] as const)('an empty %s is absent', (attr, over) => {
    const attrs = identityAttributes(identity(over));
    expect(attr in attrs).toBe(false);
    expect(Object.keys(attrs)).toHaveLength(3);
  });

  it('an all-empty identity has no attributes', () => {
    expect(identityAttributes({ app: '', cluster: '', region: '', nodeId: '', labels: {} })).toEqual({});
  });

  it("builds the attributes once for one identity object (a BatchPoll's topics), frozen, and anew for another", () => {
    const one = identity({ labels: { tier: 'gold' } });
    const first = identityAttributes(one);
    expect(identityAttributes(one)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const other = identity({ labels: { tier: 'silver' } });
    expect(identityAttributes(other)).toEqual({ ...first, tier: 'silver' });
    expect(identityAttributes(one)).toEqual(first);
  });

  it('a consumer matches a scope on a label and on node', () => {
    const attrs = identityAttributes(identity({ labels: { tier: 'gold' } }));
    expect(scopeMatches({ tier: 'gold', node: 'n1' }, attrs)).toBe(true);
    expect(scopeMatches({ nodeId: 'n1' }, attrs)).toBe(false);
  });
});

describe('validateIdentity', () => {
  it('accepts a full identity and one with empty fields', () => {
    const full = identity({ labels: { tier: 'gold' } });
    expect(validateIdentity(full)).toBe(full);
    const empty = { app: '', cluster: '', region: '', nodeId: '', labels: {} };
    expect(validateIdentity(empty)).toBe(empty);
  });

  it.each(IDENTITY_KEYS.map((k) => [k]))('rejects a label named %s', (k) => {
    const err = invalid(() => validateIdentity(identity({ labels: { [k]: 'x' } })));
    expect(err.field).toBe(`identity.labels.${k}`);
  });

  it.each<[string, Partial<ConsumerIdentity>, string]>([
    ['a space in app', { app: 'my app' }, 'identity.app'],
    ['a comma in region', { region: 'eu,us' }, 'identity.region'],
    ['"=" in nodeId', { nodeId: 'n=1' }, 'identity.node'],
    ['a 257-character cluster', { cluster: 'c'.repeat(257) }, 'identity.cluster'],
    ['a bad label key', { labels: { '-tier': 'gold' } }, 'identity.labels'],
    ['an empty label value', { labels: { tier: '' } }, 'identity.labels.tier'],
  ])('rejects %s', (_name, over, field) => {
    expect(invalid(() => validateIdentity(identity(over))).field).toBe(field);
  });

  it('uses the field it is given', () => {
    expect(invalid(() => validateIdentity(identity({ app: 'a b' }), 'consumer')).field).toBe('consumer.app');
  });
});

describe('validatePollIdentity', () => {
  it('checks one identity object once, however many check it (a BatchPoll: its transport, then the Poller per topic)', () => {
    let reads = 0;
    const counted: ConsumerIdentity = {
      get app() {
        reads++;
        return 'scorer';
      },
      cluster: 'c1',
      region: 'us-east-1',
      nodeId: 'n1',
      labels: {},
    };
    for (let i = 0; i < 8; i++) expect(validatePollIdentity(counted)).toBe(counted);
    const once = reads;
    expect(once).toBeGreaterThan(0);
    // A bad one after a good one throws; after another good one, the first is checked again.
    expect(() => validatePollIdentity(identity({ app: '' }))).toThrow(/identity\.app/);
    validatePollIdentity(identity());
    validatePollIdentity(counted);
    expect(reads).toBe(once * 2);
  });
});

describe('uniqueScopes', () => {
  it('removes duplicates by canonical form, keeping the first, in order', () => {
    const a1 = { region: 'eu', app: 'x' };
    const b = { region: 'us' };
    const a2 = { app: 'x', region: 'eu' };
    const e1 = {};
    const e2 = {};
    const out = uniqueScopes([a1, b, a2, e1, e2]);
    expect(out).toHaveLength(3);
    expect(out[0]).toBe(a1);
    expect(out[1]).toBe(b);
    expect(out[2]).toBe(e1);
  });

  it('keeps scopes that differ in one value', () => {
    expect(uniqueScopes([{ region: 'eu' }, { region: 'us' }])).toEqual([{ region: 'eu' }, { region: 'us' }]);
  });

  it('returns an empty list for an empty list', () => {
    expect(uniqueScopes([])).toEqual([]);
  });
});
