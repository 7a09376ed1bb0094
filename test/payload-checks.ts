/** Assertions shared by the payload tests on local directories and on MinIO. */
import fs from 'node:fs';
import path from 'node:path';
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
