/**
 * Watch on the consume role: a publish-role instance and a consume-role instance on one data
 * dir (SQLite in WAL mode); what the publish instance commits reaches a watcher of the consume
 * instance once the consume instance's poll table has it: the table, tailing the change feed,
 * gives the word to its Watch streams (server/poll/poll-table.ts and feed-follower.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, type WatchEvent } from '../../client/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { directPointer, identity, tempDir, until } from '../helpers.js';

describe('Watch (consume role)', () => {
  const dataDir = tempDir();
  let publish: ImprintServer;
  let consume: ImprintServer;
  let pub: ImprintClient;
  let con: ImprintClient;

  beforeAll(async () => {
    publish = await startImprintServer({ dataDir, port: 0, role: 'publish', log: silentLogger });
    pub = new ImprintClient({ address: `127.0.0.1:${publish.port}` });
    await pub.createTopic({ name: 'model', owner: 'o' });
    await pub.publishPointer('model', directPointer('m1'));
    // The default refresh: a change must come by the feed's word, not by waiting for a full re-read.
    consume = await startImprintServer({ dataDir, port: 0, role: 'consume', log: silentLogger });
    con = new ImprintClient({ address: `127.0.0.1:${consume.port}` });
  });
  afterAll(async () => {
    pub.close();
    con.close();
    await consume.stop();
    await publish.stop();
  });

  it("pushes what the publish instance commits (publish, pin, unpin) once the consume instance's table has it", async () => {
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const reading = (async () => {
      for await (const e of con.watch(identity(), [{ topic: 'model', lastSeen: 0n }], { signal: stop.signal })) events.push(e);
    })();
    const results = () => events.flatMap((e) => (e.kind === 'result' ? [`v${e.record?.version}${e.pinned ? ' pinned' : ''}`] : []));
    try {
      await until('the first answer', () => results().length === 1);
      await pub.publishPointer('model', directPointer('m2'));
      await until('the publish', () => results().length === 2);
      await pub.pin('model', 1n, { reason: 'bad v2' });
      await until('the pin', () => results().length === 3);
      await pub.unpin('model');
      await until('the unpin', () => results().length === 4);
      expect(results()).toEqual(['v1', 'v2', 'v1 pinned', 'v2']);
    } finally {
      stop.abort();
      await reading;
    }
  });
});
