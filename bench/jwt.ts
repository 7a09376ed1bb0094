/**
 * What bearer JWTs cost a poll: Polls/s of the all-role server given a JWT authenticator (each
 * call sends a token verified once and then answered from the token cache, plus the apps
 * check) vs the same server without one, in one run, interleaved, median of 3 rounds. Also the
 * authenticator alone: a cached token's lookup vs a first verification (an ES256 signature).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ImprintClient } from '../client/index.js';
import { sha256Hex, type ConsumerIdentity } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { combineAuthenticators, jwtAuthenticator, startImprintServer, type ServerCall } from '../server/index.js';
import { tempDir, throughput } from './util.js';

const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'imprint';
const id: ConsumerIdentity = { app: 'bench', cluster: 'c1', region: 'us-east-1', nodeId: 'n1', labels: {} };

const dir = tempDir();
const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwksFile = path.join(dir, 'jwks.json');
fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
const sign = (sub: string) =>
  new SignJWT({ sub, imprint_apps: ['bench'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
const jwt = jwtAuthenticator({ jwks: jwksFile, issuers: [ISSUER], audience: AUDIENCE });

// 1. Polls/s through the real server, with and without the authenticator.
const plain = await startImprintServer({ dataDir: path.join(dir, 'plain'), port: 0, log: silentLogger });
const authed = await startImprintServer({ dataDir: path.join(dir, 'authed'), port: 0, log: silentLogger, authenticate: combineAuthenticators({ bearer: jwt.authenticate }) });
const token = await sign('bench-poller');
const plainClient = new ImprintClient({ address: `127.0.0.1:${plain.port}`, app: 'bench' });
const authedClient = new ImprintClient({ address: `127.0.0.1:${authed.port}`, app: 'bench', token });
for (const c of [plainClient, authedClient]) {
  await c.createTopic({ name: 'bench' });
  const bytes = Buffer.from('x'.repeat(1000));
  await c.publishPointer('bench', { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes });
}
const pollPlain = () => plainClient.poll('bench', id, 1n);
const pollAuthed = () => authedClient.poll('bench', id, 1n);
await throughput(pollPlain, 32, 500);
await throughput(pollAuthed, 32, 500);
const rounds: { plain: number; authed: number }[] = [];
for (let i = 0; i < 3; i++) rounds.push({ plain: await throughput(pollPlain, 32, 2000), authed: await throughput(pollAuthed, 32, 2000) });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;
const p = med(rounds.map((r) => r.plain));
const a = med(rounds.map((r) => r.authed));
const stats = jwt.stats();
console.log(`jwt         Polls/s with a bearer JWT (cached) ${a.toFixed(0)} | without authentication ${p.toFixed(0)} | ratio ${(a / p).toFixed(2)}x  (32 in flight, median of 3 x 2 s; ${stats.verified} verification, ${stats.cacheHits} cache hits)`);
plainClient.close();
authedClient.close();
await Promise.all([plain.stop(), authed.stop()]);

// 2. The authenticator alone: a cached token vs a first verification.
const callWith = (t: string): ServerCall => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${t}`);
  // Only the metadata is read.
  return { metadata } as unknown as ServerCall;
};
const cachedCall = callWith(token);
const n = 200_000;
let t0 = performance.now();
for (let i = 0; i < n; i++) jwt.authenticate(cachedCall);
const cachedUs = ((performance.now() - t0) * 1000) / n;
const fresh = await Promise.all(Array.from({ length: 500 }, (_, i) => sign(`p${i}`)));
t0 = performance.now();
for (const t of fresh) await jwt.authenticate(callWith(t));
const verifyUs = ((performance.now() - t0) * 1000) / fresh.length;
console.log(`jwt         authenticate: cached token ${cachedUs.toFixed(2)} us/call | first verification (ES256) ${verifyUs.toFixed(0)} us/call | ratio ${(verifyUs / cachedUs).toFixed(0)}x`);
jwt.close();
