/**
 * Stopping with a drain: health says NOT_SERVING for `drainMs` while calls are still answered
 * (load balancers and clients move on first), nothing flips it back meanwhile, and a second
 * stop() ends the drain at once.
 */
import { describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { checkHealth } from '../../client/health.js';
import { InvalidArgumentError } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, withDefaults } from '../../server/index.js';
import { directPointer, identity, tempDir } from '../helpers.js';

describe('stop with a drain', () => {
  it.each(['all', 'consume'] as const)('role %s: NOT_SERVING while still answering, kept through a table refresh; a second stop() ends the drain', async (role) => {
    const dataDir = tempDir();
    const seed = await startImprintServer({ dataDir, port: 0, log: silentLogger });
    const c0 = new ImprintClient({ address: `127.0.0.1:${seed.port}` });
    await c0.createTopic({ name: 'model' });
    await c0.publishPointer('model', directPointer('v1'));
    c0.close();
    await seed.stop();

    const server = await startImprintServer({ dataDir, port: 0, log: silentLogger, role, drainMs: 600_000 });
    const address = `127.0.0.1:${server.port}`;
    const client = new ImprintClient({ address });
    try {
      expect(await checkHealth(address)).toBe('SERVING');
      const stopped = server.stop();
      expect(await checkHealth(address)).toBe('NOT_SERVING');
      expect(await checkHealth(address, 'imprint.v1.ConsumerService')).toBe('NOT_SERVING');
      // Still answering while it drains.
      expect((await client.poll('model', identity({ app: 'drain' }), 0n)).record?.version).toBe(1n);
      // A consume instance's table refresh would say SERVING: not while draining.
      await server.table?.refresh();
      expect(await checkHealth(address)).toBe('NOT_SERVING');
      // Asked again: the drain (10 minutes) ends now, and both calls resolve.
      await Promise.all([server.stop(), stopped]);
      await expect(checkHealth(address, '', 1000)).rejects.toThrow();
    } finally {
      client.close();
    }
  });

  it('stop({ drain: false }) stops at once, whatever drainMs says', async () => {
    const server = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger, drainMs: 600_000 });
    const address = `127.0.0.1:${server.port}`;
    await server.stop({ drain: false });
    await expect(checkHealth(address, '', 1000)).rejects.toThrow();
  });

  it('refuses a drain out of range, naming the flag', () => {
    expect(() => withDefaults({ drainMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => withDefaults({ drainMs: 600_001 })).toThrow(/drain-ms must be a whole number of milliseconds from 0 to 600000/);
    expect(withDefaults({}).drainMs).toBe(0);
  });
});
