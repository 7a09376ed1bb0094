/**
 * A Subscriber given trusted keys against a real server that hands it what a compromised
 * service would: the server's topic requires no signatures (or a record's signature is
 * altered straight in its SQLite file), while the subscriber requires its own keys. A version
 * not signed by one of them is never fetched nor swapped in; the current value stays, and the
 * rejection is an event and a metric, as for a bad sha256.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, SnapshotReader, Subscriber, type RejectedEvent, type SubscriberOptions } from '../../client/index.js';
import { SignatureRejectedError, keyIdOf, rawPublicKey, recordDigest, sha256Hex, signContent, type DataPointer } from '../../core/index.js';
import { runCli } from '../cli-process.js';
import { writeSnapshot } from '../../janitor/index.js';
import { identity, startTestServer, tempDir, until, type TestServer } from '../helpers.js';

const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
const direct = (text: string): DataPointer => {
  const bytes = Buffer.from(text);
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
};

describe('Subscriber with trusted keys', () => {
  const trusted = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function subscriberOf(t: TestServer | { address: string }, opts: Partial<SubscriberOptions> = {}) {
    const client = new ImprintClient({ address: t.address, deadlineMs: 2_000 });
    const s = new Subscriber({
      client,
      identity: identity({ app: 'scorer', nodeId: 'n1' }),
      trustedKeys: [pem(trusted.publicKey)],
      intervalMs: 50,
      mode: 'poll',
      startupBudgetMs: 5_000,
      retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 50 },
      ...opts,
    });
    const rejected: RejectedEvent[] = [];
    s.on('rejected', (e: RejectedEvent) => rejected.push(e));
    cleanups.push(async () => {
      await s.close();
      client.close();
    });
    return { s, rejected };
  }

  const failures = async (s: Subscriber, reason: string) =>
    (await s.registry.getSingleMetric('imprint_client_failures_total')?.get())?.values.find((v) => v.labels['step'] === 'signature' && v.labels['reason'] === reason)?.value ?? 0;
  const fetched = async (s: Subscriber) => (await s.registry.getSingleMetric('imprint_client_fetched_bytes_total')?.get())?.values.reduce((a, v) => a + v.value, 0) ?? 0;

  it('an untrusted key, a tampered signature and no signature are never fetched nor swapped in; the current value stays', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.stop());
    await t.client.createTopic({ name: 'model' }); // the server requires nothing: it hands out whatever was published
    const signed = new Publisher({ client: t.client, signKey: trusted.privateKey });
    await signed.publish('model', Buffer.from('v1 signed'));
    const { s, rejected } = subscriberOf(t);
    const sub = s.subscribe('model', { decode: (b) => b.toString() });
    await sub.ready();
    expect(sub.current).toBe('v1 signed');
    const bytesAfterV1 = await fetched(s);
    expect(bytesAfterV1).toBe('v1 signed'.length);

    // v2: signed by a key the subscriber does not trust.
    await new Publisher({ client: t.client, signKey: stranger.privateKey }).publish('model', Buffer.from('v2 stranger'));
    await until('v2 rejected', () => rejected.some((e) => e.version === 2n));
    expect(rejected.find((e) => e.version === 2n)).toMatchObject({ topic: 'model', step: 'signature' });
    expect(rejected.find((e) => e.version === 2n)?.reason).toContain(`signature.key_id must be one of the trusted keys of topic "model" (${keyIdOf(rawPublicKey(trusted.publicKey))})`);
    // v3: a trusted key's signature, over other content (the payload was swapped after signing).
    const good = signContent({ topic: 'model', metadata: {}, pointer: direct('v3 as signed') }, trusted.privateKey);
    await t.client.publishPointer('model', direct('v3 altered'), { signature: good });
    await until('v3 rejected', () => rejected.some((e) => e.version === 3n));
    expect(rejected.find((e) => e.version === 3n)?.step).toBe('signature');
    // v4: unsigned.
    await new Publisher({ client: t.client }).publish('model', Buffer.from('v4 unsigned'));
    await until('v4 rejected', () => rejected.some((e) => e.version === 4n));

    expect(sub.version).toBe(1n);
    expect(sub.current).toBe('v1 signed');
    expect(await fetched(s)).toBe(bytesAfterV1); // rejected before fetch
    expect(await failures(s, 'untrusted-key')).toBeGreaterThanOrEqual(1);
    expect(await failures(s, 'bad-signature')).toBeGreaterThanOrEqual(1);
    expect(await failures(s, 'missing')).toBeGreaterThanOrEqual(1);

    // v5: trusted again: swapped in.
    await signed.publish('model', Buffer.from('v5 signed'));
    await until('v5 swapped in', () => sub.version === 5n);
    expect(sub.current).toBe('v5 signed');

    // At start-up with an untrusted latest, a new subscriber takes the newest older version that verifies.
    await new Publisher({ client: t.client, signKey: stranger.privateKey }).publish('model', Buffer.from('v6 stranger'));
    const fresh = subscriberOf(t);
    const freshSub = fresh.s.subscribe('model', { decode: (b) => b.toString() });
    await freshSub.ready();
    expect(freshSub.version).toBe(5n);
    expect(fresh.rejected.map((e) => [e.version, e.step])).toContainEqual([6n, 'signature']);
    // A subscriber that trusts the stranger's key, per subscription, takes v6.
    const other = subscriberOf(t).s.subscribe('model', { decode: (b) => b.toString(), trustedKeys: [rawPublicKey(stranger.publicKey)] });
    await other.ready();
    expect(other.current).toBe('v6 stranger');
  }, 60_000);

  it('a signature altered in the store (the service itself compromised) is refused, though the topic requires signatures and the record passes its digest', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.stop());
    await t.client.createTopic({ name: 'model', trustedKeys: [pem(trusted.publicKey)] });
    const signed = new Publisher({ client: t.client, signKey: trusted.privateKey });
    await signed.publish('model', Buffer.from('v1 signed'));
    const { s, rejected } = subscriberOf(t);
    const sub = s.subscribe('model', { decode: (b) => b.toString() });
    await sub.ready();
    // v2 is published properly, then its payload and sha256 replaced behind the service's back,
    // with a digest that matches (the record digest does not cover the signature, nor need to).
    const { version } = await signed.publish('model', Buffer.from('v2 signed'), { publishId: 'v2' });
    await until('v2 swapped in', () => sub.version === 2n);
    const { version: v3 } = await signed.publish('model', Buffer.from('v3 signed'));
    expect(v3).toBe(3n);
    const db = new Database(path.join(t.dataDir, 'imprint.db'));
    try {
      const evil = Buffer.from('v3 evil');
      const row = db.prepare('SELECT published_at_ms, metadata FROM versions WHERE topic = ? AND version = ?').get('model', 3) as { published_at_ms: number; metadata: string };
      const digest = recordDigest({ topic: 'model', version: 3n, publishedAtMs: Number(row.published_at_ms), metadata: JSON.parse(row.metadata) as Record<string, string>, pointer: { kind: 'direct', size: evil.length, sha256: sha256Hex(evil), bytes: evil } });
      db.prepare('UPDATE versions SET direct = ?, size = ?, sha256 = ?, digest = ? WHERE topic = ? AND version = ?').run(evil, evil.length, sha256Hex(evil), digest, 'model', 3);
    } finally {
      db.close();
    }
    expect(version).toBe(2n);
    // The subscriber may have taken v3 before the edit; a fresh one decides on what is stored now.
    const fresh = subscriberOf(t);
    const freshSub = fresh.s.subscribe('model', { decode: (b) => b.toString() });
    await freshSub.ready();
    expect(freshSub.version).toBe(2n);
    expect(freshSub.current).toBe('v2 signed');
    expect(fresh.rejected.find((e) => e.version === 3n)).toMatchObject({ step: 'signature' });
    expect(fresh.rejected.find((e) => e.version === 3n)?.reason).toMatch(/signature\.signature must be key [0-9a-f]{16}'s Ed25519 signature/);
    expect(rejected.every((e) => e.step === 'signature')).toBe(true);
  }, 60_000);

  it('on the fallback snapshot, signatures are still there and still checked', async () => {
    const regions = [new LocalBlobStore({ root: tempDir(), region: 'us-east-1' })];
    const t = await startTestServer({ blobStores: regions });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await t.stop();
    });
    await t.client.createTopic({ name: 'model' });
    await new Publisher({ client: t.client, signKey: stranger.privateKey }).publish('model', Buffer.from('v1 stranger'));
    await writeSnapshot({ store: t.server.store, blobStores: regions });
    const address = t.address;
    await t.stop();
    stopped = true;
    const fallback = { fallback: new SnapshotReader({ blobStores: regions }), blobStores: regions, retry: { retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10 }, defaultValue: undefined };
    // Trusting the stranger: the snapshot's record carries its signature, which verifies.
    const trusting = subscriberOf({ address }, { ...fallback, trustedKeys: [pem(stranger.publicKey)] }).s.subscribe('model', { decode: (b) => b.toString() });
    await trusting.ready();
    expect(trusting.current).toBe('v1 stranger');
    // Trusting only its own key: refused, the default stays.
    const strict = subscriberOf({ address }, fallback);
    const strictSub = strict.s.subscribe('model', { decode: (b) => b.toString(), defaultValue: 'default' });
    await until('v1 rejected on the fallback', () => strict.rejected.some((e) => e.version === 1n));
    expect(strict.rejected.find((e) => e.version === 1n)).toMatchObject({ step: 'signature' });
    expect(strictSub.version).toBe(0n);
    expect(strictSub.current).toBe('default');
  }, 60_000);

  it('a consume-role server (its in-memory poll table) hands out the signature too, and Watch and BatchPoll both carry it', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.stop());
    await t.client.createTopic({ name: 'model', trustedKeys: [pem(trusted.publicKey)] });
    await new Publisher({ client: t.client, signKey: trusted.privateKey }).publish('model', Buffer.from('v1 signed'));
    const consume = await startTestServer({ role: 'consume', metadataStore: t.server.store, refreshMs: 600_000, tailMs: 50 });
    cleanups.push(() => consume.stop());
    for (const mode of ['watch', 'poll'] as const) {
      const { s, rejected } = subscriberOf(consume, { mode });
      const sub = s.subscribe('model', { decode: (b) => b.toString() });
      await sub.ready();
      expect(sub.current).toBe('v1 signed');
      expect(sub.currentRecord?.signature?.keyId).toBe(keyIdOf(rawPublicKey(trusted.publicKey)));
      expect(rejected).toEqual([]);
    }
  }, 60_000);

  it('downloadVersion and imprint download --trusted-key refuse a tampered signature, an untrusted key and none (the CLI writes nothing)', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.stop());
    await t.client.createTopic({ name: 'model' }); // the server requires nothing: it hands out whatever was published
    await new Publisher({ client: t.client, signKey: trusted.privateKey }).publish('model', Buffer.from('v1 signed'));
    // v2: a trusted key's signature over other content (the payload swapped after signing).
    const good = signContent({ topic: 'model', metadata: {}, pointer: direct('v2 as signed') }, trusted.privateKey);
    await t.client.publishPointer('model', direct('v2 altered'), { signature: good });
    await new Publisher({ client: t.client, signKey: stranger.privateKey }).publish('model', Buffer.from('v3 stranger'));
    await new Publisher({ client: t.client }).publish('model', Buffer.from('v4 unsigned'));

    // The library: the Subscriber's trusted keys, or the call's.
    const { s } = subscriberOf(t);
    expect((await s.downloadVersion('model', 1n)).bytes.toString()).toBe('v1 signed');
    const refused = async (v: bigint, opts?: { trustedKeys: string[] }) => {
      const err = await s.downloadVersion('model', v, opts).then(() => undefined, (e: unknown) => e);
      expect(err, `v${v}`).toBeInstanceOf(SignatureRejectedError);
      return err as SignatureRejectedError;
    };
    expect(await refused(2n)).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'bad-signature', field: 'signature.signature' });
    expect(await refused(3n)).toMatchObject({ reason: 'untrusted-key', field: 'signature.key_id' });
    expect(await refused(4n)).toMatchObject({ reason: 'missing', field: 'signature' });
    expect((await s.downloadVersion('model', 3n, { trustedKeys: [rawPublicKey(stranger.publicKey)] })).bytes.toString()).toBe('v3 stranger');
    expect((await refused(1n, { trustedKeys: [rawPublicKey(stranger.publicKey)] })).reason).toBe('untrusted-key');
    // Without trusted keys nothing is checked.
    const { s: open } = subscriberOf(t, { trustedKeys: [] });
    expect((await open.downloadVersion('model', 2n)).bytes.toString()).toBe('v2 altered');

    // The CLI: refused with the reason, nothing written; a good one written.
    const dir = tempDir();
    const pub = path.join(dir, 'trusted.pub');
    fs.writeFileSync(pub, pem(trusted.publicKey));
    const download = (v: string, ...more: string[]) => runCli(['--address', t.address, 'download', 'model', v, '-o', path.join(dir, `v${v}.bin`), ...more]);
    const tampered = await download('2', '--trusted-key', pub);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/signature\.signature must be key [0-9a-f]{16}'s Ed25519 signature over the publish's signed digest \(topic, metadata, size, sha256\); it does not verify \(v2 of topic "model" refused, nothing written\)/);
    const untrusted = await download('3', '--trusted-key', pub);
    expect(untrusted.stderr).toContain(`signature.key_id must be one of the keys given with --trusted-key (${keyIdOf(rawPublicKey(trusted.publicKey))}); got "${keyIdOf(rawPublicKey(stranger.publicKey))}"`);
    const unsigned = await download('4', '--trusted-key', pub);
    expect(unsigned.stderr).toContain('signature is required: by one of the keys given with --trusted-key (1) (v4 of topic "model" refused, nothing written)');
    for (const v of ['2', '3', '4']) expect(fs.existsSync(path.join(dir, `v${v}.bin`)), `v${v}.bin`).toBe(false);
    const ok = await download('1', '--trusted-key', pub);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'v1.bin'), 'utf8')).toBe('v1 signed');
    expect((await download('2')).code).toBe(0); // no --trusted-key: signatures are not checked
  }, 60_000);

  it('refuses trusted keys that are not Ed25519 public keys, naming the option', () => {
    const client = new ImprintClient({ address: '127.0.0.1:1' });
    cleanups.push(() => client.close());
    expect(() => new Subscriber({ client, identity: identity(), trustedKeys: ['AAAA'] })).toThrow(/^trustedKeys\[0\] must be a raw Ed25519 public key of 32 bytes/);
  });
});
