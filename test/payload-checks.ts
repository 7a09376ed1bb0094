/** Assertions shared by the payload tests on local directories and on MinIO. */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'vitest';
import type { BlobStore } from '../client/blob-store/blob-store.js';
import { downloadPayload, fetchPayload, type FetchOptions } from '../client/index.js';
import { DataIntegrityError, type VersionRecord } from '../core/index.js';
import { tempDir } from './helpers.js';

/**
 * `record`'s copy in `damaged` is refused with `message` by fetchPayload and downloadPayload
 * (which keeps no file), and beside the intact copy in `intact` that copy is the answer of both.
 */
export async function expectDamagedCopyRefused(record: VersionRecord, damaged: BlobStore, intact: BlobStore, bytes: Buffer, message: RegExp, opts: FetchOptions): Promise<void> {
  const alone = await fetchPayload(record, [damaged], opts).catch((e: unknown) => e);
  expect(alone).toBeInstanceOf(DataIntegrityError);
  expect((alone as Error).message).toMatch(message);
  const dir = tempDir();
  await expect(downloadPayload(record, [damaged], path.join(dir, 'out.bin'), opts)).rejects.toThrow(message);
  expect(fs.readdirSync(dir)).toEqual([]);

  // Beside an intact copy, the intact one is the answer.
  expect((await fetchPayload(record, [damaged, intact], opts)).equals(bytes)).toBe(true);
  await downloadPayload(record, [damaged, intact], path.join(dir, 'out.bin'), opts);
  expect(fs.readFileSync(path.join(dir, 'out.bin')).equals(bytes)).toBe(true);
  expect(fs.readdirSync(dir)).toEqual(['out.bin']);
}

/** The garbage collector, reachable in a new context once the flag is set at run time (a test cannot pass --expose-gc to its worker). */
export function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** ArrayBuffer memory once it stops falling after collections (V8 frees backing stores in a background task), looking for up to 10 s. */
export async function settledArrayBuffers(gc: () => void): Promise<number> {
  let last = Infinity;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    gc();
    const now = process.memoryUsage().arrayBuffers;
    if (now >= last) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

/** ArrayBuffer memory above `before` once it falls under `below` after collections, or what is left after 10 s. */
export async function arrayBuffersLeftAbove(before: number, below: number, gc: () => void): Promise<number> {
  const deadline = Date.now() + 10_000;
  let after = Infinity;
  while (Date.now() < deadline) {
    gc();
    after = process.memoryUsage().arrayBuffers - before;
    if (after < below) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return after;
}
