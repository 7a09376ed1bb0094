/**
 * The driver's stop() over a store that hangs (as Cassandra does under SIGSTOP): it returns
 * after at most the lease's time for the tick under way and as much for giving the lease up,
 * so a server's shutdown is not held by its rollout driver. A store that never answers is a
 * fake here (the driver is code over an interface); the real stores are in
 * test/integration/rollout-driver.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RolloutDriver, type RolloutDriverStore } from '../../server/rollout/index.js';

class HangingStore implements RolloutDriverStore {
  calls: string[] = [];
  private readonly never = new Promise<never>(() => {});
  acquireLease(): Promise<boolean> {
    this.calls.push('acquireLease');
    return this.calls.length === 1 ? Promise.resolve(true) : this.never;
  }
  releaseLease(): Promise<void> {
    this.calls.push('releaseLease');
    return this.never;
  }
  activeRollouts(): Promise<never> {
    this.calls.push('activeRollouts');
    return this.never;
  }
  changeRollout(): Promise<never> {
    return this.never;
  }
  listOutcomes(): Promise<never> {
    return this.never;
  }
}

describe('RolloutDriver.stop over a hanging store', () => {
  it('returns within twice the lease time, having tried to give the lease up', async () => {
    const store = new HangingStore();
    const driver = new RolloutDriver({ store, tickMs: 10, leaseTtlMs: 100 });
    driver.start();
    while (!store.calls.includes('activeRollouts')) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await driver.stop();
    // Bounded, not timed: without the bound stop() never returns and the test times out.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(store.calls).toEqual(['acquireLease', 'activeRollouts', 'releaseLease']);
  });
});
