/** server/audit/file.ts PollLines: each line is exactly JSON.stringify(event) + "\n", whatever the event. */
import { describe, expect, it } from 'vitest';
import type { PollEvent } from '../../server/audit/audit-sink.js';
import { PollLines } from '../../server/audit/file.js';

const alice = { app: 'scorer', cluster: 'eu-1', region: 'eu-west-1', nodeId: 'n-1', labels: { tier: 'gold' } };
const odd = { app: 'sc"o\\rer', cluster: 'ünï\u2028', region: '', nodeId: 'n\n2', labels: { 'a"b': 'c\u0000d', '': 'e' } };

const event = (over: Partial<PollEvent> = {}): PollEvent => ({
  kind: 'poll',
  atMs: 1_764_000_000_123,
  topic: 'trust.model',
  identity: alice,
  lastSeen: '0',
  holds: '9223372036854775807',
  outcome: 'no-update',
  pinned: false,
  ...over,
});

describe('PollLines', () => {
  it('writes what JSON.stringify writes, for every outcome, odd strings, an error, and identities that change and come back', () => {
    const events: PollEvent[] = [
      event(),
      event({ outcome: 'update', pinned: true, lastSeen: '41', holds: '42' }),
      event({ identity: odd, topic: 'we"ird\\topic\u2029' }),
      event({ identity: odd, outcome: 'error', error: 'topic "x" not\nfound \u0007' }),
      event(),
      // A copy of an identity (a new object with the same fields) is written the same way.
      event({ identity: { ...odd } }),
    ];
    const lines = new PollLines();
    for (const e of events) {
      const line = lines.of(e);
      expect(line).toBe(`${JSON.stringify(e)}\n`);
      expect(JSON.parse(line)).toEqual(e);
    }
  });
});
