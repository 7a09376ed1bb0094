import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteMetadataStore, StoreOpenError } from '../../server/store/sqlite.js';
import { janitorStoreConformance } from '../conformance/janitor-store.js';
import { metadataStoreConformance } from '../conformance/metadata-store.js';
import { directPointer, tempDir } from '../helpers.js';

metadataStoreConformance('sqlite', async () => {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  return {
    store,
    async damageRecord(topic, version) {
      store.database.prepare(`UPDATE versions SET metadata = '{"build":"tampered"}' WHERE topic = ? AND version = ?`).run(topic, version);
    },
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store on disk', () => {
  it('keeps everything across close and reopen', async () => {
    const file = path.join(tempDir(), 'imprint.db');
    const a = SqliteMetadataStore.open({ file });
    await a.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    const bytes = Buffer.from('x');
    const { record: rec } = await a.publish({ topic: 'm', metadata: { k: 'v' }, pointer: { kind: 'direct', size: 1, sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', bytes }, scopes: [{}] }, 5);
    await a.close();
    const b = SqliteMetadataStore.open({ file });
    expect(await b.getVersion('m', 1n)).toEqual(rec);
    await b.close();
  });

  it('adds publish ids and history to a database written before them, keeping its data', async () => {
    const file = path.join(tempDir(), 'imprint.db');
    const a = SqliteMetadataStore.open({ file });
    await a.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    const { record } = await a.publish({ topic: 'm', metadata: {}, pointer: directPointer('before'), scopes: [{}] }, 5);
    // As the previous release left it: no publish id columns, no history table.
    a.database.exec('DROP INDEX versions_by_publish_id; ALTER TABLE versions DROP COLUMN publish_id; ALTER TABLE versions DROP COLUMN fingerprint; DROP TABLE history');
    await a.close();
    const b = SqliteMetadataStore.open({ file });
    expect(await b.getVersion('m', 1n)).toEqual(record);
    const v = { topic: 'm', metadata: {}, pointer: directPointer('after'), scopes: [{}], publishId: 'p' };
    expect(await b.publish(v, 6)).toMatchObject({ replayed: false, record: { version: 2n } });
    expect((await b.publish(v, 7)).replayed).toBe(true);
    expect((await b.listHistory('m', { limit: 10 })).map((c) => [c.kind, c.version])).toEqual([['publish', 2n]]);
    await b.close();
  });

  it('refuses a file that is not a database instead of starting empty', () => {
    const file = path.join(tempDir(), 'imprint.db');
    fs.writeFileSync(file, 'this is not an sqlite database, it is garbage '.repeat(200));
    expect(() => SqliteMetadataStore.open({ file })).toThrow(StoreOpenError);
    expect(() => SqliteMetadataStore.open({ file })).toThrow(/cannot open the metadata store .*imprint\.db/);
  });

  it('refuses a database with pages overwritten in the middle', async () => {
    const file = path.join(tempDir(), 'imprint.db');
    const s = SqliteMetadataStore.open({ file });
    await s.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.alloc(2000, i);
      await s.publish({ topic: 'm', metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: (await import('../../core/index.js')).sha256Hex(bytes), bytes }, scopes: [{}] }, i);
    }
    s.database.pragma('wal_checkpoint(TRUNCATE)');
    await s.close();
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096 * 3, 0xff), 0, 4096 * 3, 4096 * 2);
    fs.closeSync(fd);
    expect(() => SqliteMetadataStore.open({ file })).toThrow(StoreOpenError);
  });
});

janitorStoreConformance('sqlite', async () => {
  const dir = tempDir();
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
