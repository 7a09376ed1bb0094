/**
 * Signed versions (docs/SIGNING.md is the format other languages implement). A publisher
 * signs what it vouches for: the topic, the metadata and the payload by its size and sha256.
 * Not the version number and the publish time (the server assigns them after the publish),
 * not the scopes (they may grow), not where the payload lies (a retry may upload it again
 * under another key; the sha256 binds the bytes). The signature is Ed25519 over the 32-byte
 * sha256 of a canonical encoding of those fields, the "signed digest".
 *
 * A topic requires signatures when it has trusted keys; the service (on publish) and the
 * Subscriber (before it fetches) ask the same question here: `signatureProblem`.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import type { VersionSignature } from './types.js';

/** The fields a signature binds. */
export interface SignedContent {
  readonly topic: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly pointer: { readonly size: number; readonly sha256: string };
}

/** A raw Ed25519 public key is 32 bytes; a signature 64. */
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** A key id: the first 16 hex digits of the sha256 of the raw 32-byte public key. */
export const KEY_ID = /^[0-9a-f]{16}$/;
/** A topic trusts at most this many keys. */
export const MAX_TRUSTED_KEYS = 16;

/** The canonical encoding whose sha256 is signed: JSON, metadata as [key, value] pairs sorted by key. */
export function signedEncoding(c: SignedContent): string {
  const metadata = Object.keys(c.metadata)
    .sort()
    .map((k) => [k, c.metadata[k]]);
  return JSON.stringify(['imprint.v1.signed', c.topic, metadata, c.pointer.size, c.pointer.sha256]);
}

/** The 32 bytes an Ed25519 signature is made over. */
export function signedDigest(c: SignedContent): Buffer {
  return createHash('sha256').update(signedEncoding(c)).digest();
}

/** The key id of a raw 32-byte public key (base64 or bytes). */
export function keyIdOf(publicKey: string | Uint8Array): string {
  const raw = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64') : publicKey;
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** The raw 32-byte public key (base64) of an Ed25519 public or private key. */
export function rawPublicKey(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new InvalidArgumentError('key', 'must be an Ed25519 key', pub.asymmetricKeyType);
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url').toString('base64');
}

/**
 * A trusted key as a person hands it in: a PEM public key (SPKI, as `imprint keygen` writes),
 * a PEM private key (its public half), or the raw 32-byte key in base64. Returns the raw key
 * in base64 (the form topics store and the wire carries as bytes).
 */
export function parseTrustedKey(text: string, field = 'trusted_keys'): string {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) {
    let key: KeyObject;
    try {
      key = t.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(t)) : createPublicKey(t);
    } catch (err) {
      throw new InvalidArgumentError(field, `must be an Ed25519 public key in PEM (${err instanceof Error ? err.message : String(err)})`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new InvalidArgumentError(field, 'must be an Ed25519 key', key.asymmetricKeyType);
    return rawPublicKey(key);
  }
  return validateTrustedKey(t, field);
}

/** A raw public key in base64: 32 bytes, and a point Ed25519 accepts. */
export function validateTrustedKey(base64: string, field: string): string {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== PUBLIC_KEY_BYTES || raw.toString('base64') !== base64) {
    throw new InvalidArgumentError(field, `must be a raw Ed25519 public key of ${PUBLIC_KEY_BYTES} bytes (base64 in text, bytes on the wire) or a PEM public key`, `${raw.length} bytes`);
  }
  return base64;
}

/** A topic's trusted keys: at most MAX_TRUSTED_KEYS distinct raw keys. */
export function validateTrustedKeys(keys: readonly string[], field = 'trusted_keys'): readonly string[] {
  if (keys.length > MAX_TRUSTED_KEYS) throw new InvalidArgumentError(field, `must have at most ${MAX_TRUSTED_KEYS} keys`, keys.length);
  keys.forEach((k, i) => validateTrustedKey(k, `${field}[${i}]`));
  if (new Set(keys).size !== keys.length) throw new InvalidArgumentError(field, 'must not name a key twice');
  return keys;
}

function publicKeyOf(base64: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(base64, 'base64').toString('base64url') }, format: 'jwk' });
}

/** Signs `c` with an Ed25519 private key. */
export function signContent(c: SignedContent, privateKey: KeyObject): VersionSignature {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidArgumentError('signKey', 'must be an Ed25519 private key', `${privateKey.type} ${privateKey.asymmetricKeyType ?? ''}`.trim());
  }
  return { keyId: keyIdOf(rawPublicKey(privateKey)), signature: sign(null, signedDigest(c), privateKey).toString('base64') };
}

/** Why a signature is refused, for errors and the `reason` label of the rejection metrics. */
export type SignatureProblem =
  | { readonly reason: 'missing'; readonly field: 'signature'; readonly rule: string }
  | { readonly reason: 'untrusted-key'; readonly field: 'signature.key_id'; readonly rule: string }
  | { readonly reason: 'bad-signature'; readonly field: 'signature.signature'; readonly rule: string };

/**
 * THE signature check: undefined when `trustedKeys` is empty (nothing required) or when
 * `signature` is by one of them and verifies over `c`'s signed digest; else why not. `keysAre`
 * names the key set in the rule where it is not the topic's (a CLI names its flag).
 */
export function signatureProblem(c: SignedContent, signature: VersionSignature | undefined, trustedKeys: readonly string[], keysAre?: string): SignatureProblem | undefined {
  if (trustedKeys.length === 0) return undefined;
  if (!signature) {
    const rule = keysAre === undefined ? `is required: topic "${c.topic}" requires a signature by one of its ${trustedKeys.length} trusted key(s)` : `is required: by one of ${keysAre} (${trustedKeys.length})`;
    return { reason: 'missing', field: 'signature', rule };
  }
  const key = trustedKeys.find((k) => keyIdOf(k) === signature.keyId);
  if (!key) {
    const ids = trustedKeys.map((k) => keyIdOf(k)).join(', ');
    return { reason: 'untrusted-key', field: 'signature.key_id', rule: `must be one of ${keysAre ?? `the trusted keys of topic "${c.topic}"`} (${ids}); got "${signature.keyId}"` };
  }
  const sig = Buffer.from(signature.signature, 'base64');
  const ok = sig.length === SIGNATURE_BYTES && verify(null, signedDigest(c), publicKeyOf(key), sig);
  if (!ok) return { reason: 'bad-signature', field: 'signature.signature', rule: `must be key ${signature.keyId}'s Ed25519 signature over the publish's signed digest (topic, metadata, size, sha256); it does not verify` };
  return undefined;
}
