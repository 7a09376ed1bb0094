import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  KEY_ID,
  keyIdOf,
  parseTrustedKey,
  rawPublicKey,
  signContent,
  signatureProblem,
  signedDigest,
  signedEncoding,
  validateTrustedKeys,
  type SignedContent,
} from '../../core/index.js';

/** The shared vectors (docs/SIGNING.md): every language's client checks itself against them. */
interface Vectors {
  keys: { seedHex: string; publicKeyBase64: string; keyId: string }[];
  cases: { key: string; content: SignedContent; encoding: string; signedDigestHex: string; signature: string }[];
}
const vectors = JSON.parse(fs.readFileSync(new URL('../vectors/signing.json', import.meta.url), 'utf8')) as Vectors;

/** An Ed25519 private key from its 32-byte seed (RFC 8032), as PKCS#8 DER wraps it. */
function keyFromSeed(seedHex: string) {
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
}

describe('signing vectors', () => {
  it('derives each key\'s raw public key and key id from its seed', () => {
    expect(vectors.keys.length).toBeGreaterThan(0);
    for (const k of vectors.keys) {
      expect(rawPublicKey(keyFromSeed(k.seedHex))).toBe(k.publicKeyBase64);
      expect(keyIdOf(k.publicKeyBase64)).toBe(k.keyId);
      expect(k.keyId).toMatch(KEY_ID);
    }
  });

  it('RFC 8032 test 1: the first key is the RFC\'s, so the seed convention is the standard one', () => {
    expect(Buffer.from(vectors.keys[0]!.publicKeyBase64, 'base64').toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  });

  it.each(vectors.cases.map((c, i) => [i, c] as const))('case %i: encoding, signed digest and signature', (_i, c) => {
    const key = vectors.keys.find((k) => k.keyId === c.key)!;
    expect(signedEncoding(c.content)).toBe(c.encoding);
    expect(signedDigest(c.content).toString('hex')).toBe(c.signedDigestHex);
    // Ed25519 is deterministic: the same key over the same digest gives the same signature.
    expect(signContent(c.content, keyFromSeed(key.seedHex))).toEqual({ keyId: key.keyId, signature: c.signature });
    expect(signatureProblem(c.content, { keyId: key.keyId, signature: c.signature }, [key.publicKeyBase64])).toBeUndefined();
  });
});

describe('signatureProblem', () => {
  const c = vectors.cases[1]!;
  const key = vectors.keys.find((k) => k.keyId === c.key)!;
  const other = vectors.keys.find((k) => k.keyId !== c.key)!;
  const sig = { keyId: key.keyId, signature: c.signature };

  it('requires nothing of a topic without trusted keys', () => {
    expect(signatureProblem(c.content, undefined, [])).toBeUndefined();
  });

  it('refuses a missing signature, an untrusted key and a signature that does not verify', () => {
    expect(signatureProblem(c.content, undefined, [key.publicKeyBase64])).toMatchObject({ reason: 'missing', field: 'signature' });
    expect(signatureProblem(c.content, sig, [other.publicKeyBase64])).toMatchObject({ reason: 'untrusted-key', field: 'signature.key_id' });
    const tampered = Buffer.from(c.signature, 'base64');
    tampered[10] = tampered[10]! ^ 0x01;
    expect(signatureProblem(c.content, { ...sig, signature: tampered.toString('base64') }, [key.publicKeyBase64])).toMatchObject({ reason: 'bad-signature' });
    expect(signatureProblem(c.content, { ...sig, signature: 'AAAA' }, [key.publicKeyBase64])).toMatchObject({ reason: 'bad-signature' });
  });

  it('binds topic, metadata, size and sha256: changing any fails the check', () => {
    const trusted = [other.publicKeyBase64, key.publicKeyBase64];
    expect(signatureProblem(c.content, sig, trusted)).toBeUndefined();
    const changed: SignedContent[] = [
      { ...c.content, topic: 'other-topic' },
      { ...c.content, metadata: { ...c.content.metadata, build: '1843' } },
      { ...c.content, metadata: { ...c.content.metadata, extra: '' } },
      { ...c.content, pointer: { ...c.content.pointer, size: c.content.pointer.size + 1 } },
      { ...c.content, pointer: { ...c.content.pointer, sha256: 'f'.repeat(64) } },
    ];
    for (const x of changed) expect(signatureProblem(x, sig, trusted)).toMatchObject({ reason: 'bad-signature' });
  });
});

describe('trusted keys', () => {
  it('parses a PEM public key, a PEM private key (its public half) and a raw base64 key to the same raw key', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = rawPublicKey(publicKey);
    expect(parseTrustedKey(publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(raw);
    expect(parseTrustedKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toBe(raw);
    expect(parseTrustedKey(`${raw}\n`)).toBe(raw);
  });

  it('refuses other key types, wrong lengths, duplicates and too many, naming the field', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => parseTrustedKey(rsa, 'trustedKeys')).toThrow(/trustedKeys must be an Ed25519 key/);
    expect(() => parseTrustedKey('AAAA', 'trustedKeys')).toThrow(/trustedKeys must be a raw Ed25519 public key of 32 bytes/);
    const k = vectors.keys[0]!.publicKeyBase64;
    expect(() => validateTrustedKeys([k, k])).toThrow(/trusted_keys must not name a key twice/);
    const many = Array.from({ length: 17 }, () => rawPublicKey(generateKeyPairSync('ed25519').publicKey));
    expect(() => validateTrustedKeys(many)).toThrow(/trusted_keys must have at most 16 keys/);
  });
});
