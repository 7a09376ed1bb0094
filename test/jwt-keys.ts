/** Real signing keys and JWTs made at test time with jose: a key pair per kid, its JWKS, signed tokens. */
import fs from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  /** The public key as a JWKS entry (kid, alg, use: sig). */
  readonly jwk: JWK;
}

export async function makeKey(kid: string, alg = 'ES256'): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export function jwksOf(...keys: TestKey[]): { keys: JWK[] } {
  return { keys: keys.map((k) => k.jwk) };
}

/** Writes the JWKS of `keys` to `file` whole (a temp file renamed over it, as a rotation does). */
export function writeJwks(file: string, ...keys: TestKey[]): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(jwksOf(...keys)));
  fs.renameSync(`${file}.tmp`, file);
}

export interface TokenClaims extends JWTPayload {
  /** Seconds from now; negative: already expired. @default 3600 */
  readonly expiresIn?: number;
  /** Seconds from now the token becomes valid. @default none */
  readonly notBeforeIn?: number;
}

/** A JWT signed by `key` (its kid in the header), for `iss`/`aud`, expiring in `expiresIn` s. */
export async function signToken(key: TestKey, claims: TokenClaims): Promise<string> {
  const { expiresIn = 3600, notBeforeIn, ...payload } = claims;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...payload, exp: now + expiresIn, iat: now, ...(notBeforeIn !== undefined && { nbf: now + notBeforeIn }) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}
