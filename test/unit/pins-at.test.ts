/** core pinsAt: the pins in effect at a moment, replayed from a topic's history. */
import { describe, expect, it } from 'vitest';
import { pinsAt, scopeKey, type Change, type ChangeKind, type Scope } from '../../core/index.js';

let seq = 0n;
const change = (kind: ChangeKind, atMs: number, version = 0n, scope: Scope = {}, reason = ''): Change => ({
  topic: 't',
  seq: ++seq,
  kind,
  atMs,
  by: { principal: 'ops', authenticated: false, peer: '' },
  version,
  scopes: kind === 'pin' || kind === 'unpin' ? [scope] : [],
  reason,
  publishId: '',
  details: {},
});

const seen = (changes: Change[], atMs: number) => pinsAt(changes, atMs).map((p) => `${scopeKey(p.scope) || '*'}=v${p.version}`);

describe('pinsAt', () => {
  const history = [
    change('create-topic', 0),
    change('publish', 10, 1n),
    change('pin', 20, 1n, { cluster: 'canary' }, 'bad v2'),
    change('pin', 30, 1n),
    change('pin', 40, 2n, { cluster: 'canary' }),
    change('unpin', 50, 1n),
    change('delete-topic', 60),
    change('create-topic', 70),
    change('pin', 80, 1n, { region: 'eu' }),
  ];

  it('a pin is in effect from its time, replaced by the next pin of its scope, until its unpin', () => {
    expect(seen(history, 19)).toEqual([]);
    expect(seen(history, 20)).toEqual(['cluster=canary=v1']);
    expect(pinsAt(history, 20)[0]).toMatchObject({ reason: 'bad v2', createdAtMs: 20, createdBy: 'ops' });
    expect(seen(history, 35)).toEqual(['cluster=canary=v1', '*=v1']);
    expect(seen(history, 45)).toEqual(['cluster=canary=v2', '*=v1']);
    expect(seen(history, 55)).toEqual(['cluster=canary=v2']);
  });

  it('a deletion, and a topic created again under the name, start with no pins', () => {
    expect(seen(history, 65)).toEqual([]);
    expect(seen(history, 75)).toEqual([]);
    expect(seen(history, 90)).toEqual(['region=eu=v1']);
  });

  it('takes the history in any order (the stores give it newest first)', () => {
    expect(seen([...history].reverse(), 45)).toEqual(['cluster=canary=v2', '*=v1']);
  });
});
