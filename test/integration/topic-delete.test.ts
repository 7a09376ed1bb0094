/**
 * Topic lifecycle on the embedded store and local blob stores in two regions: DeleteTopic (polls
 * of the all and consume roles, BatchPoll and Watch answer NOT_FOUND; changes are refused; the
 * topic is still described), the janitor's topic purge after its grace (objects in both regions,
 * then the records and the topic; resumable), and the name free again. GetLatestAt with
 * apply_pins: the poll decision over the topic as it stood at a moment, pins then included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore, Publisher } from '../../client/index.js';
import type { VersionRecord } from '../../core/index.js';
import { examineAll } from '../../cli/lifecycle.js';
import { Janitor, purgeDeletedTopics } from '../../janitor/index.js';
import { SqliteMetadataStore } from '../../server/index.js';
import { MemoryAuditSink, failure, identity, startTestServer, tempDir } from '../helpers.js';
import { FlakyBlobStore } from '../flaky-blob-store.js';

const DAY = 24 * 60 * 60 * 1000;

const objectsOf = (store: LocalBlobStore, r: VersionRecord) =>
  r.pointer.kind === 'blob' ? r.pointer.locations.filter((l) => l.region === store.region).map((l) => path.join(store.root, l.key)) : [];

/** Asks `answer` until it gives `wanted` (a consume-role table follows the feed), for at most 20 s. */
async function eventually(what: string, answer: () => Promise<string>, wanted: string): Promise<void> {
  let last = '';
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    last = await answer();
    if (last === wanted) return;
  }
  throw new Error(`${what}: still ${last} after 20 s`);
}

describe('topic lifecycle', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  async function setup(clock: () => number) {
    const east = new LocalBlobStore({ root: tempDir(), region: 'us-east-1' });
    const west = new LocalBlobStore({ root: tempDir(), region: 'eu-west-1' });
    const store = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
    stops.push(() => store.close());
    const t = await startTestServer({ clock, blobStores: [east, west], metadataStore: store, auditSink: new MemoryAuditSink() });
    stops.push(() => t.stop());
    // A consume-role instance on the same store: its table learns of the deletion from the change feed.
    const consume = await startTestServer({ role: 'consume', metadataStore: store, auditSink: new MemoryAuditSink(), tailMs: 20 });
    stops.push(() => consume.stop());
    return { t, consume, east, west, store, publisher: new Publisher({ client: t.client, blobStores: [east, west] }) };
  }

  it('delete: polls find no such topic, changes are refused, operators still see it; the purge frees the name', async () => {
    let now = 100 * DAY;
    const { t, consume, east, west, store, publisher } = await setup(() => now);
    await t.client.createTopic({ name: 'scores', owner: 'trust' });
    await t.client.createTopic({ name: 'kept' });
    const v1 = await publisher.publish('scores', randomBytes(1024 * 1024 + 10));
    const v2 = await publisher.publish('scores', randomBytes(1024 * 1024 + 20), { scopes: [{ region: 'eu' }] });
    const other = await publisher.publish('kept', randomBytes(1024 * 1024 + 30));
    await t.client.pin('scores', 1n, { scope: { cluster: 'canary' } });
    const who = identity({ app: 'scorer', region: 'eu' });
    const consumeAnswer = () => consume.client.poll('scores', who, 0n).then((a) => `v${a.record?.version}`, (err: { code?: string }) => String(err.code));
    await eventually('the consume role serves v2', consumeAnswer, 'v2');
    const watch = t.client.watch(who, [{ topic: 'scores', lastSeen: 0n }]);
    expect((await watch.next()).value).toMatchObject({ kind: 'result', topic: 'scores', record: { version: 2n } });

    // 1. Delete.
    const deleted = await t.client.deleteTopic('scores', 'replaced by scores-v2');
    expect(deleted).toMatchObject({ name: 'scores', deletedAtMs: now, latestVersion: 2n });
    // 2. Polls of both roles, BatchPoll and Watch: NOT_FOUND.
    expect(await failure(t.client.poll('scores', who, 0n))).toMatchObject({ code: 'NOT_FOUND' });
    const watched = (await watch.next()).value;
    expect(watched).toMatchObject({ kind: 'result', topic: 'scores', error: { code: 'NOT_FOUND' } });
    await watch.return(undefined);
    // The consume role's table learns of it from the change feed (read every 20 ms here).
    await eventually('the consume role answers NOT_FOUND', consumeAnswer, 'NOT_FOUND');
    const batch = await consume.client.batchPoll(who, [{ topic: 'scores', lastSeen: 0n }, { topic: 'kept', lastSeen: 0n }]);
    expect(batch.map((r) => r.error?.code ?? `v${r.record?.version}`)).toEqual(['NOT_FOUND', 'v1']);
    // 3. Changes are refused, naming the deletion; nothing is written.
    const when = new Date(now).toISOString();
    const changes = [
      () => publisher.publish('scores', Buffer.from('late')),
      () => t.client.addScopes('scores', 1n, [{ app: 'x' }]),
      () => t.client.pin('scores', 1n),
      () => t.client.unpin('scores', { cluster: 'canary' }),
      () => t.client.updateTopic('scores', { description: 'still here?' }),
    ];
    for (const change of changes) {
      const err = await failure(change());
      expect(err.code).toBe('FAILED_PRECONDITION');
      expect(err.message).toContain(`topic "scores" was deleted at ${when}`);
    }
    // 4. Operators still see it; the list hides it unless asked.
    expect((await t.client.getTopic('scores')).deletedAtMs).toBe(now);
    const d = await t.client.describeTopic('scores');
    expect(d.topic.deletedAtMs).toBe(now);
    expect(d.versionCount).toBe(2);
    expect(d.pins.map((p) => p.version)).toEqual([1n]);
    expect(d.recentChanges[0]).toMatchObject({ kind: 'delete-topic', reason: 'replaced by scores-v2' });
    expect((await t.client.listTopics()).map((x) => x.name)).toEqual(['kept']);
    expect((await t.client.listTopics({ includeDeleted: true })).map((x) => x.name)).toEqual(['kept', 'scores']);
    // 5. The name is held until the purge.
    const held = await failure(t.client.createTopic({ name: 'scores' }));
    expect(held.code).toBe('ALREADY_EXISTS');
    expect(held.message).toContain(`was deleted at ${when} and holds its name until the janitor purges it`);

    // 6. Within the grace nothing is purged; past it, a region that refuses deletes keeps the topic whole.
    const janitor = new Janitor({ store, blobStores: [east, west], clock: () => now, deleteGraceMs: DAY });
    expect((await janitor.runJob('topic-purge')).result).toMatchObject({ purged: [], waiting: 1 });
    now += DAY;
    const flaky = new FlakyBlobStore(west, 'deletes');
    const first = await purgeDeletedTopics({ store, blobStores: [east, flaky], graceMs: DAY, clock: () => now });
    expect(first.purged).toEqual([]);
    expect(new Set(first.failures.map((f) => `${f.topic} ${f.location.region}`))).toEqual(new Set(['scores eu-west-1']));
    expect(await store.countVersions('scores')).toBe(2);
    for (const r of [v1, v2]) expect(objectsOf(west, r).every((f) => fs.existsSync(f))).toBe(true);
    // A janitor's run that leaves a topic for the next is not a success (its metrics and /healthz).
    const flakyRun = await new Janitor({ store, blobStores: [east, flaky], clock: () => now, deleteGraceMs: DAY }).runJob('topic-purge');
    expect(flakyRun.outcome).toBe('failed');
    expect((await store.jobSuccesses()).get('topic-purge')).toBe(now - DAY); // the run within the grace, not this one
    // 7. The next run finishes: objects in both regions, then the records and the topic.
    const second = await janitor.runJob('topic-purge');
    expect(second.result).toMatchObject({ purged: ['scores'], waiting: 0, failures: [] });
    expect(second.outcome).toBe('ok');
    expect((await store.jobSuccesses()).get('topic-purge')).toBe(now);
    for (const r of [v1, v2]) for (const f of [...objectsOf(east, r), ...objectsOf(west, r)]) expect(fs.existsSync(f)).toBe(false);
    for (const f of [...objectsOf(east, other), ...objectsOf(west, other)]) expect(fs.existsSync(f)).toBe(true);
    expect(await failure(t.client.getTopic('scores'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.listPins('scores')).toEqual([]);
    // 8. The name is free again: a new topic, from version 1; the history keeps the old one's life.
    await t.client.createTopic({ name: 'scores', owner: 'new-team' });
    expect((await publisher.publish('scores', Buffer.from('fresh'))).version).toBe(1n);
    const history = (await t.client.listHistory('scores', { pageSize: 100 })).changes.map((c) => c.kind);
    expect(history.slice(0, 3)).toEqual(['publish', 'create-topic', 'delete-topic']);
    // 9. The fallback snapshot leaves deleted topics out (the purged one is a new topic now).
    await t.client.deleteTopic('kept');
    const snapshot = await janitor.runJob('snapshot');
    expect(snapshot.result).toMatchObject({ topics: 1 });
  });

  it('topic cleanup never suggests a topic whose consumers the audit cannot tell, and says why', async () => {
    let now = 10 * DAY;
    const { t } = await setup(() => now);
    await t.client.createTopic({ name: 'untold', owner: 'o' });
    now += 365 * DAY;
    // The audit sink here (in memory) cannot list consumers: the topic is old and never published to, yet not idle.
    const [verdict] = await examineAll(t.client, await t.client.listTopics(), now - 180 * DAY, 4);
    expect(verdict).toEqual({ topic: 'untold', owner: 'o', kind: 'unknown', why: 'the memory audit sink cannot list consumers' });
  });

  it('GetLatestAt with apply_pins: the poll decision over the heads and the pins in effect at that moment', async () => {
    let now = 10 * DAY;
    const { t } = await setup(() => now);
    await t.client.createTopic({ name: 'm' });
    const text = (s: string) => Buffer.from(s);
    const publisher = new Publisher({ client: t.client, blobStores: [] });
    now += 1000;
    await publisher.publish('m', text('one'));
    now += 1000;
    await publisher.publish('m', text('two'));
    now += 1000;
    await t.client.pin('m', 1n, { scope: { cluster: 'canary' }, reason: 'bad v2' });
    const pinnedAt = now;
    now += 1000;
    await publisher.publish('m', text('three'));
    now += 1000;
    await t.client.unpin('m', { cluster: 'canary' });
    const canary = identity({ app: 'scorer', cluster: 'canary' });
    const other = identity({ app: 'scorer', cluster: 'main' });
    // While the pin was in effect (after v3 was published): the canary pinned to v1, others on v3.
    const during = await t.client.servedAt('m', canary, pinnedAt + 1500);
    expect(during).toMatchObject({ record: { version: 1n }, pinned: true, pin: { version: 1n, reason: 'bad v2' } });
    expect(await t.client.servedAt('m', other, pinnedAt + 1500)).toMatchObject({ record: { version: 3n }, pinned: false });
    // Before the pin and after the unpin: the latest then.
    expect(await t.client.servedAt('m', canary, pinnedAt - 1)).toMatchObject({ record: { version: 2n }, pinned: false });
    expect(await t.client.servedAt('m', canary, now)).toMatchObject({ record: { version: 3n }, pinned: false });
    // Without apply_pins, GetLatestAt answers as before (pins not applied).
    expect((await t.client.latestAt('m', canary, pinnedAt + 1500))?.version).toBe(3n);
    // Before the topic had anything: nothing.
    expect(await t.client.servedAt('m', canary, 10 * DAY)).toEqual({ pinned: false });
  });
});
