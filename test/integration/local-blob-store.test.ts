import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../client/index.js';
import { blobStoreConformance } from '../conformance/blob-store.js';
import { tempDir } from '../helpers.js';

blobStoreConformance('local', async () => {
  const root = tempDir();
  return { store: new LocalBlobStore({ root }), cleanup: async () => fs.rmSync(root, { recursive: true, force: true }) };
});

describe('LocalBlobStore', () => {
  it('never reads or writes outside its root, nor locations of another bucket', async () => {
    const root = tempDir();
    const store = new LocalBlobStore({ root });
    await expect(store.put('../escape', Readable.from([Buffer.from('x')]))).rejects.toThrow(/key must be a relative path inside the blob store/);
    expect(fs.existsSync(path.join(root, '..', 'escape'))).toBe(false);
    await expect(store.get({ kind: 'file', region: 'local', bucket: 'local', key: '../../etc/passwd' })).rejects.toThrow(/inside the blob store/);
    await expect(store.get({ kind: 'file', region: 'local', bucket: 'other', key: 'a' })).rejects.toThrow(/bucket "local"/);
  });
});
