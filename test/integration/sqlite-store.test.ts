import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteMetadataStore, StoreOpenError } from '../../server/store/sqlite.js';
import { janitorStoreConformance } from '../conformance/janitor-store.js';
import { metadataStoreConformance } from '../conformance/metadata-store.js';
import { rolloutStoreConformance } from '../conformance/rollouts.js';
import { directPointer, tempDir } from '../helpers.js';

metadataStoreConformance('sqlite', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'imprint.db');
  let store = SqliteMetadataStore.open({ file });
  return {
    store,
    async damageRecord(topic, version) {
      store.database.prepare(`UPDATE versions SET metadata = '{"build":"tampered"}' WHERE topic = ? AND version = ?`).run(topic, version);
    },
    async reopen() {
      await store.close();
      store = SqliteMetadataStore.open({ file });
      return store;
    },
    async staleCursor() {
      // Another database's cursor.
      const other = SqliteMetadataStore.open({ file: path.join(dir, 'other.db') });
      try {
        return await other.feedHead();
      } finally {
        await other.close();
      }
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

  it('adds the staleness contract columns to a database written before them: its topics have none, and take one', async () => {
    const file = path.join(tempDir(), 'imprint.db');
    const a = SqliteMetadataStore.open({ file });
    await a.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    a.database.exec('ALTER TABLE topics DROP COLUMN expect_every_ms; ALTER TABLE topics DROP COLUMN max_staleness_ms');
    await a.close();
    const b = SqliteMetadataStore.open({ file });
    expect(await b.getTopic('m')).toEqual({ name: 'm', owner: 'o', description: '', retention: {}, createdAtMs: 1, latestVersion: 0n });
    expect(await b.updateTopic('m', { expectEveryMs: 3_600_000 }, 2)).toMatchObject({ expectEveryMs: 3_600_000 });
    await b.close();
  });

  it('adds the signing columns to a database written before them: its topics and records have none, and take them', async () => {
    const file = path.join(tempDir(), 'imprint.db');
    const a = SqliteMetadataStore.open({ file });
    await a.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    const pointer = directPointer('x');
    const { record } = await a.publish({ topic: 'm', metadata: {}, pointer, scopes: [{}] }, 2);
    a.database.exec('ALTER TABLE topics DROP COLUMN trusted_keys; ALTER TABLE versions DROP COLUMN signature_key_id; ALTER TABLE versions DROP COLUMN signature');
    await a.close();
    const b = SqliteMetadataStore.open({ file });
    expect(await b.getTopic('m')).toEqual({ name: 'm', owner: 'o', description: '', retention: {}, createdAtMs: 1, latestVersion: 1n });
    expect(await b.getVersion('m', 1n)).toEqual(record);
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(await b.updateTopic('m', { trustedKeys: [key] }, 3)).toMatchObject({ trustedKeys: [key] });
    const signature = { keyId: '0123456789abcdef', signature: Buffer.alloc(64, 1).toString('base64') };
    expect((await b.publish({ topic: 'm', metadata: {}, pointer, scopes: [{}], signature }, 4)).record.signature).toEqual(signature);
    await b.close();
  });

  it('change feed: each committed change exactly once, in commit order, across topics and pages; nothing else', async () => {
    const store = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
    const head = await store.feedHead();
    const made: string[] = [];
    for (const t of ['a', 'b', 'c']) {
      await store.createTopic({ name: t, owner: '', description: '', retention: {} }, 1);
      made.push(`${t} create-topic 0`);
    }
    // Interleaved across topics, some of it failing or changing nothing.
    for (let i = 1; i <= 5; i++) {
      for (const t of ['c', 'a', 'b']) {
        await store.publish({ topic: t, metadata: {}, pointer: directPointer(`${t}${i}`), scopes: [{}], publishId: `${t}-${i}` }, 10 + i);
        made.push(`${t} publish ${i}`);
      }
      await store.publish({ topic: 'a', metadata: {}, pointer: directPointer(`a${i}`), scopes: [{}], publishId: `a-${i}` }, 20 + i); // replayed
      await store.addScopes('b', BigInt(i), [{ region: 'eu' }], 30 + i);
      made.push(`b add-scopes ${i}`);
      await store.addScopes('b', BigInt(i), [{ region: 'eu' }], 40 + i); // already there
    }
    const given: string[] = [];
    let cursor = head;
    for (let reads = 0; ; reads++) {
      const page = await store.readFeed(cursor, { limit: 4 });
      expect(page.entries.length).toBeLessThanOrEqual(4);
      given.push(...page.entries.map((e) => `${e.topic} ${e.kind} ${e.version}`));
      expect(page.entries.every((e) => !e.hint)).toBe(true);
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(given).toEqual(made);
    expect((await store.readFeed(cursor, { limit: 4 })).entries).toEqual([]);
    await store.close();
  });

  it('change feed: a seq is never given twice, also when the last history row is deleted (AUTOINCREMENT, added to older databases)', async () => {
    const file = path.join(tempDir(), 'imprint.db');
    const a = SqliteMetadataStore.open({ file });
    await a.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    await a.publish({ topic: 'm', metadata: {}, pointer: directPointer('one'), scopes: [{}] }, 2);
    // As the previous release made it: seq without AUTOINCREMENT.
    a.database.exec(`
      CREATE TABLE h (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, at_ms INTEGER NOT NULL, kind TEXT NOT NULL, change TEXT NOT NULL) STRICT;
      INSERT INTO h SELECT seq, topic, at_ms, kind, change FROM history;
      DROP TABLE history;
      ALTER TABLE h RENAME TO history;
      CREATE INDEX history_by_topic ON history (topic, seq);`);
    const old = (await a.listHistory('m', { limit: 10 })).map((c) => [c.seq, c.kind]);
    await a.close();
    const b = SqliteMetadataStore.open({ file });
    expect((await b.listHistory('m', { limit: 10 })).map((c) => [c.seq, c.kind])).toEqual(old);
    await b.publish({ topic: 'm', metadata: {}, pointer: directPointer('two'), scopes: [{}] }, 3);
    const head = await b.feedHead();
    // A reader is at the last change; that row goes (as a cleanup of history might do it).
    b.database.exec('DELETE FROM history WHERE seq = (SELECT MAX(seq) FROM history)');
    await b.publish({ topic: 'm', metadata: {}, pointer: directPointer('three'), scopes: [{}] }, 4);
    expect((await b.readFeed(head, { limit: 10 })).entries.map((e) => `${e.kind} ${e.version}`)).toEqual(['publish 3']);
    await b.close();
  });

  it('change feed: a cursor from a newer state of the file than the one opened (a restored copy) is too old', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'imprint.db');
    const a = SqliteMetadataStore.open({ file });
    await a.createTopic({ name: 'm', owner: 'o', description: '', retention: {} }, 1);
    a.database.pragma('wal_checkpoint(TRUNCATE)');
    fs.copyFileSync(file, path.join(dir, 'copy.db'));
    await a.publish({ topic: 'm', metadata: {}, pointer: directPointer('one'), scopes: [{}] }, 2);
    const head = await a.feedHead();
    await a.close();
    const copy = SqliteMetadataStore.open({ file: path.join(dir, 'copy.db') });
    const page = await copy.readFeed(head, { limit: 10 });
    expect(page).toMatchObject({ entries: [], tooOld: true, more: false });
    await copy.publish({ topic: 'm', metadata: {}, pointer: directPointer('again'), scopes: [{}] }, 3);
    expect((await copy.readFeed(page.cursor, { limit: 10 })).entries.map((e) => `${e.kind} ${e.version}`)).toEqual(['publish 1']);
    await copy.close();
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

rolloutStoreConformance('sqlite', async () => {
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
