/**
 * The server's AccessControl: a denial throws PERMISSION_DENIED naming principal, action and
 * topic, is counted, and is logged at most once per (principal, action, topic) per period,
 * carrying how many were denied since (a client looping on a topic it may not read costs a
 * line a minute, not one per poll). No principal: allowed.
 */
import { describe, expect, it } from 'vitest';
import { PermissionDeniedError, type DeniedEvent } from '../../core/index.js';
import { createLogger } from '../../log/index.js';
import { AccessControl } from '../../server/index.js';
import type { DeniedCall } from '../../server/auth/access-control.js';

const eve = { name: 'eve', groups: [], apps: '*' as const, via: 'jwt' as const };

describe('AccessControl', () => {
  it('denies with a typed error, counts every denial, and logs one line per key per period with the count since', () => {
    const lines: Record<string, unknown>[] = [];
    let now = 1_000_000;
    const access = new AccessControl({ log: createLogger({ destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } }), clock: () => now, policy: { consume: 'owners' } });
    const deny = (topic: string) => {
      try {
        access.check(eve, 'consume', topic, []);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const err = deny('t1');
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ principal: 'eve', action: 'consume', topic: 't1' });
    for (let i = 0; i < 99; i++) deny('t1');
    deny('t2');
    expect(access.denials.consume).toBe(101);
    expect(lines.map((l) => [l['msg'], l['topic'], l['denied']])).toEqual([
      ['permission denied', 't1', 1],
      ['permission denied', 't2', 1],
    ]);
    now += 60_000;
    deny('t1');
    expect(lines.at(-1)).toMatchObject({ msg: 'permission denied', principal: 'eve', action: 'consume', topic: 't1', denied: 100 });
    // Without a principal (no authentication) nothing is checked.
    expect(() => access.check(undefined, 'own', 't1', [])).not.toThrow();
  });

  it('sends each logged denial to the audit as a denied event (method, app when claimed, the count since), bounded as the log line', () => {
    const events: DeniedEvent[] = [];
    let now = 5_000_000;
    const access = new AccessControl({ clock: () => now, policy: { consume: 'owners' }, audit: { record: (e) => events.push(e) > 0 }, replica: 'r1' });
    const deny = (action: 'consume' | 'own', call?: DeniedCall) => expect(() => access.check(eve, action, 't1', [], call)).toThrow(PermissionDeniedError);
    deny('consume', { method: 'Poll', app: 'scorer' });
    for (let i = 0; i < 41; i++) deny('consume', { method: 'BatchPoll', app: 'scorer' });
    deny('own');
    now += 59_999;
    deny('consume', { method: 'Poll', app: 'scorer' });
    expect(events).toEqual([
      { kind: 'denied', atMs: 5_000_000, topic: 't1', replica: 'r1', principal: 'eve', action: 'consume', method: 'Poll', app: 'scorer', count: 1 },
      { kind: 'denied', atMs: 5_000_000, topic: 't1', replica: 'r1', principal: 'eve', action: 'own', method: '', count: 1 },
    ]);
    now += 1;
    deny('consume', { method: 'Watch', app: 'scorer' });
    expect(events.at(-1)).toEqual({ kind: 'denied', atMs: 5_060_000, topic: 't1', replica: 'r1', principal: 'eve', action: 'consume', method: 'Watch', app: 'scorer', count: 43 });
    expect(access.denials.consume).toBe(44);
  });
});
