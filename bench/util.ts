import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-bench-'));
}

/** Runs `fn` with `concurrency` loops for `ms`; returns calls per second. */
export async function throughput(fn: () => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return n / (ms / 1000);
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
}
