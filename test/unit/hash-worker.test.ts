/**
 * The sha256 worker of large payload reads (client/hash-worker.ts): the digest of the bytes fed
 * in order, pages faulted in without changing a byte already written, views out of order
 * refused, and a worker that stops before its digest failing its hash instead of leaving it
 * waiting. Reads that use it are in test/integration/fetch-parts.test.ts.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HashWorkerError, sharedHash } from '../../client/hash-worker.js';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('the sha256 worker', () => {
  it('gives the sha256 of the buffer fed in pieces, and its page faulting leaves every written byte as it was', async () => {
    const shared = new SharedArrayBuffer(24 * MiB + 3);
    const bytes = Buffer.from(shared);
    const failures: unknown[] = [];
    const h = sharedHash(shared, (err) => failures.push(err));
    // Written and fed in uneven pieces, most of it before the worker is up: its pass over
    // every page comes after the writes and must not change them.
    const source = randomFillSync(Buffer.alloc(bytes.length));
    for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 4093) % (3 * MiB) || 1) {
      const end = Math.min(bytes.length, at + step);
      source.copy(bytes, at, at, end);
      h.update(bytes.subarray(at, end));
    }
    expect(await h.digest()).toBe(sha256(source));
    expect(bytes.equals(source)).toBe(true);
    await once(h.worker, 'exit');
    expect(failures).toEqual([]);
  });

  it('refuses a view that is not the next bytes of its buffer', async () => {
    const shared = new SharedArrayBuffer(1024);
    const h = sharedHash(shared, () => {});
    try {
      expect(() => h.update(Buffer.from(shared).subarray(10, 20))).toThrow(/fed its buffer in order: bytes from 0 next, got a view at 10/);
      expect(() => h.update(Buffer.alloc(10))).toThrow(TypeError);
    } finally {
      h.drop();
    }
  });

  it('a worker that stops before its digest fails the hash: onFail is told, and the digest rejects', async () => {
    const shared = new SharedArrayBuffer(4 * MiB);
    const failures: unknown[] = [];
    const h = sharedHash(shared, (err) => failures.push(err));
    h.update(Buffer.from(shared).subarray(0, 2 * MiB));
    await h.worker.terminate();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(HashWorkerError);
    expect((failures[0] as Error).message).toMatch(/^the sha256 worker thread stopped \(exit code \d+\) before its digest$/);
    await expect(h.digest()).rejects.toBe(failures[0]);
  });

  it('a worker stopped while a digest is awaited rejects it', async () => {
    const shared = new SharedArrayBuffer(64 * MiB);
    const failures: unknown[] = [];
    const h = sharedHash(shared, (err) => failures.push(err));
    h.update(Buffer.from(shared));
    const digest = h.digest();
    void h.worker.terminate();
    // Either the worker answered first, or it was stopped first and the digest says so: never a wait without end.
    const outcome = await digest.then(
      (hex) => ({ hex }),
      (err: unknown) => ({ err }),
    );
    if ('hex' in outcome) expect(outcome.hex).toBe(sha256(Buffer.from(shared)));
    else {
      expect(outcome.err).toBeInstanceOf(HashWorkerError);
      expect(failures).toEqual([outcome.err]);
    }
  });

  it('a dropped hash stops its worker and fails no one', async () => {
    const failures: unknown[] = [];
    const h = sharedHash(new SharedArrayBuffer(1024), (err) => failures.push(err));
    h.drop();
    await once(h.worker, 'exit');
    expect(failures).toEqual([]);
    await expect(h.digest()).rejects.toThrow('the hash was dropped before its digest');
  });
});
