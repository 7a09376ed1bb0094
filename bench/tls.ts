/**
 * tls: Polls/s of a consume-role instance over plaintext, TLS, mTLS alone (client certificates
 * verified at the handshake), mTLS with the certificate principal (every call authenticated,
 * access control off), and mTLS with the principal and per-topic access control (every poll
 * authorized: the serving default once callers are authenticated), in one process and one
 * run: 32 in flight, no update, median of 3 x 2 s, as `consume`. Target: authorization costs
 * at most 10% (mTLS + authorization >= 0.9x mTLS alone). And the handshake apart: a new
 * client's first Poll (connect, handshake, answer), median and p99 of 100, per transport.
 * Certificates from openssl (scripts/certs.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImprintClient, type ClientTlsOptions } from '../client/index.js';
import { silentLogger } from '../log/index.js';
import { certificateAuthenticator, combineAuthenticators, startImprintServer, type ImprintServer } from '../server/index.js';
import { makePki } from '../scripts/certs.js';
import { BENCH_ID, seedPollTopic } from './seed.js';
import { quantile, tempDir, throughput } from './util.js';

const id = BENCH_ID;
const dir = tempDir();
await seedPollTopic(dir);

const pki = await makePki(path.join(dir, 'pki'));
const scorer = await pki.ca.issue('scorer', { uris: ['spiffe://bench/scorer'] });
const serve = (extra: object): Promise<ImprintServer> => startImprintServer({ role: 'consume', dataDir: dir, port: 0, log: silentLogger, metricsPort: 0, ...extra });
const servers = {
  plaintext: await serve({}),
  tls: await serve({ tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile } }),
  mtls: await serve({ tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.caFile } }),
  principal: await serve({ tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.caFile }, authenticate: combineAuthenticators({ certificate: certificateAuthenticator({ apps: { 'spiffe://bench/scorer': ['bench'] } }) }), access: 'off' }),
  authz: await serve({ tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.caFile }, authenticate: combineAuthenticators({ certificate: certificateAuthenticator({ apps: { 'spiffe://bench/scorer': ['bench'] } }) }) }),
};
const tlsOf: Record<keyof typeof servers, ClientTlsOptions | undefined> = {
  plaintext: undefined,
  tls: { ca: pki.ca.ca },
  mtls: { ca: pki.ca.ca, cert: scorer.cert, key: scorer.key },
  principal: { ca: pki.ca.ca, cert: scorer.cert, key: scorer.key },
  authz: { ca: pki.ca.ca, cert: scorer.cert, key: scorer.key },
};
const names = Object.keys(servers) as (keyof typeof servers)[];
const clientOf = (n: keyof typeof servers) => new ImprintClient({ address: `127.0.0.1:${servers[n].port}`, ...(tlsOf[n] && { tls: tlsOf[n] }) });
const clients = Object.fromEntries(names.map((n) => [n, clientOf(n)])) as Record<keyof typeof servers, ImprintClient>;
const poll = (c: ImprintClient) => () => c.poll('bench', id, 1n);
for (const n of names) await throughput(poll(clients[n]), 32, 500);
// Rounds alternate the transports, so a drift of the machine's speed falls on each alike.
const rounds: Record<keyof typeof servers, number>[] = [];
for (let i = 0; i < 3; i++) {
  const r = { plaintext: 0, tls: 0, mtls: 0, principal: 0, authz: 0 };
  for (const n of names) r[n] = await throughput(poll(clients[n]), 32, 2000);
  rounds.push(r);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;
const rate = Object.fromEntries(names.map((n) => [n, med(rounds.map((r) => r[n]))])) as Record<keyof typeof servers, number>;

// The handshake: a new client's first Poll, one at a time.
const firstPoll: Record<string, number[]> = {};
for (const n of names) {
  const ms: number[] = [];
  for (let i = 0; i < 100; i++) {
    const c = clientOf(n);
    const t0 = performance.now();
    await c.poll('bench', id, 1n);
    ms.push(performance.now() - t0);
    c.close();
  }
  firstPoll[n] = ms.sort((a, b) => a - b);
}
const hs = (n: keyof typeof servers) => `${quantile(firstPoll[n] ?? [], 0.5).toFixed(2)}/${quantile(firstPoll[n] ?? [], 0.99).toFixed(2)} ms`;
console.log(
  `tls         consume-role Poll: plaintext ${rate.plaintext.toFixed(0)}/s | TLS ${rate.tls.toFixed(0)}/s (${(rate.tls / rate.plaintext).toFixed(2)}x) | mTLS ${rate.mtls.toFixed(0)}/s (${(rate.mtls / rate.plaintext).toFixed(2)}x) | mTLS + certificate principal ${rate.principal.toFixed(0)}/s (${(rate.principal / rate.mtls).toFixed(2)}x mTLS alone) | mTLS + principal + authorization ${rate.authz.toFixed(0)}/s (${(rate.authz / rate.plaintext).toFixed(2)}x plaintext, ${(rate.authz / rate.mtls).toFixed(2)}x mTLS alone, target >= 0.9x)  (32 in flight, median of 3 x 2 s)`,
);
console.log(`tls         a new client's first Poll (connect + handshake + answer), p50/p99 of 100: plaintext ${hs('plaintext')} | TLS ${hs('tls')} | mTLS ${hs('mtls')}`);
for (const c of Object.values(clients)) c.close();
for (const s of Object.values(servers)) await s.stop({ drain: false });
fs.rmSync(dir, { recursive: true, force: true });
