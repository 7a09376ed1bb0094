/**
 * ConsumerOutcomes (server/poll/outcomes.ts) over an in-memory store of the two methods it
 * uses: words kept only for topics with an active rollout (or that just changed), written once
 * per change, after the rollout began; a failing store fails nothing, is counted and tried
 * again; the buffer's bound drops and counts.
 */
import { describe, expect, it } from 'vitest';
import { PollChangeHub } from '../../server/poll/index.js';
import { ConsumerOutcomes, OutcomesOptionError } from '../../server/poll/outcomes.js';
import type { ConsumerOutcome, Rollout } from '../../core/index.js';
import { identity } from '../helpers.js';

class OutcomeStore {
  active: Pick<Rollout, 'topic' | 'version' | 'startedAtMs'>[] = [];
  written: ConsumerOutcome[] = [];
  calls = 0;
  failing = false;
  async activeRollouts(): Promise<Rollout[]> {
    if (this.failing) throw new Error('store down');
    return this.active as Rollout[];
  }
  async recordOutcomes(outcomes: readonly ConsumerOutcome[]): Promise<void> {
    this.calls++;
    if (this.failing) throw new Error('store down');
    this.written.push(...outcomes);
  }
}

const node = (n: string) => identity({ nodeId: n });
const said = (s: OutcomeStore) => s.written.map((o) => `${o.topic}@${o.version} ${o.identity.nodeId}:${o.holds}${o.rejection ? ` x${o.rejection.version}` : ''}`);

describe('ConsumerOutcomes', () => {
  it('writes a node\'s word once per change, only for topics with an active rollout, and keeps its rejection', async () => {
    const store = new OutcomeStore();
    let now = 1000;
    store.active = [{ topic: 'a', version: 5n, startedAtMs: 500 }];
    const o = new ConsumerOutcomes({ store, clock: () => now });
    await o.flush();
    o.heard('a', node('n1'), 4n);
    o.heard('b', node('n1'), 4n);
    o.heard('a', node('n2'), 5n);
    await o.flush();
    expect(said(store)).toEqual(['a@5 n1:4', 'a@5 n2:5']);
    // The same again: nothing kept, nothing written.
    o.heard('a', node('n1'), 4n);
    expect(o.stats().pending).toBe(0);
    o.heard('a', node('n1'), 4n, { version: 5n, stage: 'decode', reason: 'bad' });
    await o.flush();
    now++;
    o.heard('a', node('n1'), 4n);
    await o.flush();
    expect(said(store)).toEqual(['a@5 n1:4', 'a@5 n2:5', 'a@5 n1:4 x5']);
    expect(o.stats().recorded).toBe(3);
    await o.stop();
  });

  it('keeps words for a topic that just changed, and writes those heard once its rollout began', async () => {
    const store = new OutcomeStore();
    const changes = new PollChangeHub();
    let now = 1000;
    const o = new ConsumerOutcomes({ store, changes, clock: () => now });
    await o.flush();
    o.heard('a', node('n1'), 1n);
    expect(o.stats().pending).toBe(0);
    changes.notify('a');
    o.heard('a', node('n1'), 1n);
    now = 2000;
    o.heard('a', node('n2'), 1n);
    store.active = [{ topic: 'a', version: 2n, startedAtMs: 1500 }];
    await o.flush();
    expect(said(store)).toEqual(['a@2 n2:1']);
    await o.stop();
  });

  it('a failing store fails nothing: counted, and the words are written at a later flush', async () => {
    const store = new OutcomeStore();
    store.active = [{ topic: 'a', version: 2n, startedAtMs: 0 }];
    const o = new ConsumerOutcomes({ store, clock: () => 1000 });
    await o.flush();
    store.failing = true;
    o.heard('a', node('n1'), 2n);
    await o.flush();
    await o.flush();
    expect(o.stats()).toMatchObject({ recorded: 0, failures: 2, pending: 1 });
    store.failing = false;
    await o.flush();
    expect(said(store)).toEqual(['a@2 n1:2']);
    expect(o.stats()).toMatchObject({ recorded: 1, pending: 0 });
    await o.stop();
  });

  it('holds at most maxPending words; the rest are dropped and counted', async () => {
    const store = new OutcomeStore();
    store.active = [{ topic: 'a', version: 2n, startedAtMs: 0 }];
    const o = new ConsumerOutcomes({ store, maxPending: 2, batchSize: 1, clock: () => 1000 });
    await o.flush();
    for (const n of ['n1', 'n2', 'n3']) o.heard('a', node(n), 1n);
    // A newer word of a node already waiting replaces it (no drop).
    o.heard('a', node('n1'), 2n);
    expect(o.stats()).toMatchObject({ pending: 2, dropped: 1 });
    await o.flush();
    expect(said(store)).toEqual(['a@2 n1:2', 'a@2 n2:1']);
    expect(store.calls).toBe(2);
    await o.stop();
  });

  it('refuses bad options naming the field', () => {
    expect(() => new ConsumerOutcomes({ store: new OutcomeStore(), flushMs: 5 })).toThrow(OutcomesOptionError);
    expect(() => new ConsumerOutcomes({ store: new OutcomeStore(), maxPending: 0 })).toThrow('outcomes.maxPending must be a whole number from 1 to 10000000 (got 0)');
  });
});
