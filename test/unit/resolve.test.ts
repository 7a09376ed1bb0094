import { describe, expect, it } from 'vitest';
import { applicablePin, isUpdate, latestFor, resolveTarget } from '../../core/index.js';
import type { ConsumerIdentity, Pin, Scope, ScopeHead, Target, Version } from '../../core/index.js';

const head = (version: Version, scope: Scope = {}): ScopeHead => ({ scope, version, sinceMs: 0 });
const pin = (version: Version, scope: Scope, createdAtMs: number): Pin => ({
  topic: 'trust-model',
  scope,
  version,
  createdAtMs,
  reason: '',
  createdBy: '',
});

const EU = { app: 'scorer', cluster: 'scorer-canary', region: 'eu-west-1', node: 'n1' };
const US = { app: 'scorer', cluster: 'scorer-main', region: 'us-east-1', node: 'n2' };

describe('latestFor', () => {
  it.each<[string, ScopeHead[], Readonly<Record<string, string>>, Version | undefined]>([
    ['no heads', [], EU, undefined],
    ['one empty-scope head matches anyone', [head(3n)], EU, 3n],
    ['empty-scope head matches a consumer with no attributes', [head(3n)], {}, 3n],
    ['highest of several matching heads', [head(2n), head(5n, { region: 'eu-west-1' }), head(4n, { app: 'scorer' })], EU, 5n],
    ['order of heads does not matter', [head(5n, { region: 'eu-west-1' }), head(4n, { app: 'scorer' }), head(2n)], EU, 5n],
    ['a higher non-matching head is ignored', [head(2n), head(9n, { region: 'us-east-1' })], EU, 2n],
    ['the same heads seen from the other region', [head(2n), head(9n, { region: 'us-east-1' })], US, 9n],
    ['none match', [head(9n, { region: 'us-east-1' }), head(8n, { cluster: 'x' })], EU, undefined],
    ['all pairs of a head must match', [head(1n), head(6n, { region: 'eu-west-1', cluster: 'scorer-main' })], EU, 1n],
    ['a head on a missing attribute does not match', [head(6n, { tier: 'gold' })], EU, undefined],
  ])('%s', (_name, heads, attrs, expected) => {
    expect(latestFor(heads, attrs)).toBe(expected);
  });

  it('handles versions above 2^53', () => {
    expect(latestFor([head(2n ** 63n), head(2n ** 63n + 1n)], {})).toBe(2n ** 63n + 1n);
  });
});

describe('applicablePin', () => {
  it('no pins: undefined', () => {
    expect(applicablePin([], EU)).toBeUndefined();
  });

  it('ignores pins that do not match', () => {
    const pins = [pin(3n, { region: 'us-east-1' }, 100), pin(4n, { cluster: 'scorer-main' }, 200)];
    expect(applicablePin(pins, EU)).toBeUndefined();
  });

  it('an empty-scope pin applies to everyone', () => {
    const p = pin(3n, {}, 100);
    expect(applicablePin([p], EU)).toBe(p);
    expect(applicablePin([p], {})).toBe(p);
  });

  it('the most specific matching pin wins over a newer, less specific one', () => {
    const specific = pin(2n, { region: 'eu-west-1', app: 'scorer' }, 100);
    const newerRegion = pin(5n, { region: 'eu-west-1' }, 500);
    const newestAll = pin(6n, {}, 900);
    expect(applicablePin([newestAll, specific, newerRegion], EU)).toBe(specific);
    expect(applicablePin([specific, newerRegion, newestAll], EU)).toBe(specific);
  });

  it('a more specific pin that does not match is ignored', () => {
    const other = pin(2n, { region: 'us-east-1', app: 'scorer' }, 100);
    const general = pin(5n, { app: 'scorer' }, 50);
    expect(applicablePin([other, general], EU)).toBe(general);
  });

  it('with equal specificity the newest pin wins, in any order', () => {
    const older = pin(9n, { region: 'eu-west-1' }, 100);
    const newer = pin(3n, { app: 'scorer' }, 200);
    expect(applicablePin([older, newer], EU)).toBe(newer);
    expect(applicablePin([newer, older], EU)).toBe(newer);
  });

  it('with equal specificity the newest pin wins among three', () => {
    const a = pin(1n, { region: 'eu-west-1' }, 300);
    const b = pin(2n, { app: 'scorer' }, 100);
    const c = pin(3n, { node: 'n1' }, 200);
    expect(applicablePin([b, a, c], EU)).toBe(a);
    expect(applicablePin([c, b, a], EU)).toBe(a);
  });
});

describe('resolveTarget', () => {
  const id: ConsumerIdentity = { app: 'scorer', cluster: 'scorer-canary', region: 'eu-west-1', nodeId: 'n1', labels: { tier: 'gold' } };
  const heads = [head(4n), head(7n, { region: 'eu-west-1' }), head(9n, { region: 'us-east-1' })];

  it('without pins: the latest matching head, not pinned', () => {
    const t = resolveTarget(heads, [], id);
    expect(t).toEqual({ version: 7n, pinned: false });
  });

  it('nothing matches and no pin: undefined', () => {
    expect(resolveTarget([head(9n, { region: 'us-east-1' })], [], id)).toBeUndefined();
    expect(resolveTarget([], [], id)).toBeUndefined();
  });

  it('a matching pin beats the latest even when it is older', () => {
    const p = pin(2n, { region: 'eu-west-1' }, 100);
    const t = resolveTarget(heads, [p], id);
    expect(t?.version).toBe(2n);
    expect(t?.pinned).toBe(true);
    expect(t?.pin).toBe(p);
  });

  it('a pin applies even when no head matches', () => {
    const p = pin(3n, {}, 100);
    expect(resolveTarget([], [p], id)).toEqual({ version: 3n, pinned: true, pin: p });
  });

  it('a pin for another region does not apply', () => {
    const t = resolveTarget(heads, [pin(2n, { region: 'us-east-1' }, 100)], id);
    expect(t).toEqual({ version: 7n, pinned: false });
  });

  it('matches pins and heads against labels and node id', () => {
    const byLabel = pin(1n, { tier: 'gold' }, 100);
    expect(resolveTarget(heads, [byLabel], id)?.version).toBe(1n);
    expect(resolveTarget([head(8n, { node: 'n1' }), head(4n)], [], id)?.version).toBe(8n);
    expect(resolveTarget([head(8n, { node: 'n2' }), head(4n)], [], id)?.version).toBe(4n);
  });
});

describe('isUpdate', () => {
  const unpinned = (v: Version): Target => ({ version: v, pinned: false });
  const pinned = (v: Version): Target => ({ version: v, pinned: true, pin: pin(v, {}, 0) });

  it.each<[string, Target, Version, boolean]>([
    ['same version, unpinned', unpinned(5n), 5n, false],
    ['same version, pinned', pinned(5n), 5n, false],
    ['newer, unpinned', unpinned(6n), 5n, true],
    ['newer, pinned', pinned(6n), 5n, true],
    ['older, unpinned: never move back', unpinned(4n), 5n, false],
    ['older, pinned: move back', pinned(4n), 5n, true],
    ['nothing seen yet (0n), unpinned', unpinned(1n), 0n, true],
    ['nothing seen yet (0n), pinned', pinned(3n), 0n, true],
    ['much newer, beyond 2^53', unpinned(2n ** 60n), 2n ** 53n + 1n, true],
  ])('%s -> %s', (_name, target, lastSeen, expected) => {
    expect(isUpdate(target, lastSeen)).toBe(expected);
  });
});
