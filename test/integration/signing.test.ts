/**
 * Signed versions against a real server: a topic with trusted keys takes a publish signed by
 * one of them, and refuses (FAILED_PRECONDITION naming the field, nothing written, counted)
 * an unsigned one, one signed by an untrusted key, and a tampered signature.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Publisher } from '../../client/index.js';
import { SignatureRejectedError, keyIdOf, rawPublicKey, sha256Hex, signContent, type DataPointer } from '../../core/index.js';
import { failure, startTestServer, type TestServer } from '../helpers.js';

const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

describe('signed versions: the service', () => {
  let t: TestServer;
  const trusted = generateKeyPairSync('ed25519');
  const second = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const bytes = Buffer.from('model v1');
  const pointer: DataPointer = { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
  const metadata = { build: '42' };

  beforeAll(async () => {
    t = await startTestServer({ metricsPort: 0 });
  });
  afterAll(async () => {
    await t.stop();
  });

  /** The topic's versions and history entries: a refused publish changes neither. */
  const written = async (topic: string) => [(await t.client.describeTopic(topic)).versionCount, (await t.client.listHistory(topic, { pageSize: 100 })).changes.length];

  const rejected = async (reason: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${t.server.metricsServer!.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`imprint_publish_signature_rejected_total{reason="${reason}"}`));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  };

  it('a topic created with trusted keys (PEM or raw) says so, and takes a publish signed by any of them', async () => {
    const topic = await t.client.createTopic({ name: 'signed-ok', trustedKeys: [pem(trusted.publicKey), rawPublicKey(second.publicKey)] });
    expect(topic.trustedKeys).toEqual([rawPublicKey(trusted.publicKey), rawPublicKey(second.publicKey)]);
    for (const key of [trusted.privateKey, second.privateKey]) {
      const r = await new Publisher({ client: t.client, signKey: key }).publish('signed-ok', bytes, { metadata });
      expect(r.signature?.keyId).toBe(keyIdOf(rawPublicKey(key)));
      expect((await t.client.getVersion('signed-ok', r.version)).signature).toEqual(r.signature);
    }
  });

  it('refuses an unsigned publish, a signature by an untrusted key and a tampered signature: FAILED_PRECONDITION naming the field, nothing written, counted', async () => {
    await t.client.createTopic({ name: 'signed-refuse', trustedKeys: [pem(trusted.publicKey)] });
    const before = await written('signed-refuse');
    const counts = { missing: await rejected('missing'), untrusted: await rejected('untrusted-key'), bad: await rejected('bad-signature') };

    const unsigned = await failure(new Publisher({ client: t.client }).publish('signed-refuse', bytes, { metadata }));
    expect(unsigned.code).toBe('FAILED_PRECONDITION');
    expect(unsigned.message).toMatch(/^signature is required: topic "signed-refuse" requires a signature by one of its 1 trusted key\(s\)/);

    const untrusted = await failure(new Publisher({ client: t.client, signKey: stranger.privateKey }).publish('signed-refuse', bytes, { metadata }));
    expect(untrusted.code).toBe('FAILED_PRECONDITION');
    expect(untrusted.message).toContain(`signature.key_id must be one of the trusted keys of topic "signed-refuse" (${keyIdOf(rawPublicKey(trusted.publicKey))}); got "${keyIdOf(rawPublicKey(stranger.publicKey))}"`);

    // A good signature over other content (the metadata changed after signing), and a flipped bit.
    const good = signContent({ topic: 'signed-refuse', metadata, pointer }, trusted.privateKey);
    const otherContent = await failure(t.client.publishPointer('signed-refuse', pointer, { metadata: { build: '43' }, signature: good }));
    expect(otherContent.message).toMatch(/^signature\.signature must be key [0-9a-f]{16}'s Ed25519 signature over the publish's signed digest/);
    const flipped = Buffer.from(good.signature, 'base64');
    flipped[0] = flipped[0]! ^ 0x80;
    const tampered = await failure(t.client.publishPointer('signed-refuse', pointer, { metadata, signature: { ...good, signature: flipped.toString('base64') } }));
    expect(tampered.code).toBe('FAILED_PRECONDITION');
    expect(tampered.message).toMatch(/^signature\.signature must be key/);

    expect(await written('signed-refuse')).toEqual(before);
    expect(await rejected('missing')).toBe(counts.missing + 1);
    expect(await rejected('untrusted-key')).toBe(counts.untrusted + 1);
    expect(await rejected('bad-signature')).toBe(counts.bad + 2);
    // The same signature over what it signed is taken.
    expect((await t.client.publishPointer('signed-refuse', pointer, { metadata, signature: good })).signature).toEqual(good);
  });

  it('a deleted topic with trusted keys says it is deleted, whatever the signature', async () => {
    await t.client.createTopic({ name: 'signed-deleted', trustedKeys: [pem(trusted.publicKey)] });
    await t.client.deleteTopic('signed-deleted', 'test');
    const refused = await failure(new Publisher({ client: t.client }).publish('signed-deleted', bytes));
    expect(refused.code).toBe('FAILED_PRECONDITION');
    expect(refused.message).toMatch(/topic "signed-deleted" was deleted at/);
  });

  it('a malformed signature is INVALID_ARGUMENT naming the field', async () => {
    await t.client.createTopic({ name: 'signed-malformed', trustedKeys: [pem(trusted.publicKey)] });
    const short = await failure(t.client.publishPointer('signed-malformed', pointer, { metadata, signature: { keyId: keyIdOf(rawPublicKey(trusted.publicKey)), signature: 'AAAA' } }));
    expect(short.code).toBe('INVALID_ARGUMENT');
    expect(short.message).toBe('signature.signature must be 64 bytes (an Ed25519 signature) (got "3 bytes")');
    const badId = await failure(t.client.publishPointer('signed-malformed', pointer, { metadata, signature: { keyId: 'XYZ', signature: Buffer.alloc(64).toString('base64') } }));
    expect(badId.message).toMatch(/^signature\.key_id must be 16 lowercase hex digits/);
  });

  it('the trusted keys change with an update (replaced; [] requires none), and bad keys are refused naming the field', async () => {
    await t.client.createTopic({ name: 'signed-update' });
    // No keys: anything goes, a signature is kept as sent.
    expect((await new Publisher({ client: t.client }).publish('signed-update', bytes)).signature).toBeUndefined();
    const updated = await t.client.updateTopic('signed-update', { trustedKeys: [pem(second.publicKey)] });
    expect(updated.trustedKeys).toEqual([rawPublicKey(second.publicKey)]);
    expect((await failure(new Publisher({ client: t.client, signKey: trusted.privateKey }).publish('signed-update', bytes))).code).toBe('FAILED_PRECONDITION');
    await new Publisher({ client: t.client, signKey: second.privateKey }).publish('signed-update', bytes);
    expect((await t.client.updateTopic('signed-update', { trustedKeys: [] })).trustedKeys).toBeUndefined();
    await new Publisher({ client: t.client }).publish('signed-update', bytes);
    // Only the update that set keys names them in the history.
    const details = (await t.client.listHistory('signed-update', { pageSize: 100 })).changes.filter((c) => c.kind === 'update-topic').map((c) => c.details['trusted_keys']);
    expect(details).toEqual(['', keyIdOf(rawPublicKey(second.publicKey))]);

    const twice = await failure(t.client.updateTopic('signed-update', { trustedKeys: [pem(trusted.publicKey), rawPublicKey(trusted.publicKey)] }));
    expect(twice.message).toBe('trusted_keys must not name a key twice');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect((await failure(t.client.createTopic({ name: 'signed-rsa', trustedKeys: [pem(rsa)] }))).message).toMatch(/^trustedKeys\[0\] must be an Ed25519 key/);
  });

  it('a Publisher refuses a signKey that is not an Ed25519 private key, naming the option', () => {
    expect(() => new Publisher({ client: t.client, signKey: trusted.publicKey })).toThrow(/^signKey must be an Ed25519 private key/);
    expect(() => new Publisher({ client: t.client, signKey: { path: '/nonexistent/key.pem' } })).toThrow(/^signKey must be a readable PEM file/);
    expect(() => new Publisher({ client: t.client, signKey: 'not a pem' })).toThrow(/^signKey must be an Ed25519 private key in PEM/);
  });

  it('SignatureRejectedError is the FAILED_PRECONDITION the service throws', () => {
    expect(new SignatureRejectedError({ reason: 'missing', field: 'signature', rule: 'is required' }).code).toBe('FAILED_PRECONDITION');
  });
});
