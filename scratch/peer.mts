import { makePki } from '../test/certs.ts';
import tls from 'node:tls';
import fs from 'node:fs';
import { once } from 'node:events';
const dir = fs.mkdtempSync('/tmp/pki-');
const pki = await makePki(dir);
const c = await pki.ca.issue('c', { uris: ['spiffe://x/y'] });
let serverSocket: tls.TLSSocket | undefined;
const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.ca, requestCert: true, rejectUnauthorized: true }, (s) => { serverSocket = s; });
server.listen(0);
await once(server, 'listening');
const port = (server.address() as any).port;
const sock = tls.connect({ port, host: '127.0.0.1', ca: pki.ca.ca, cert: c.cert, key: c.key, servername: 'localhost' });
await once(sock, 'secureConnect');
while (!serverSocket) await new Promise((r) => setTimeout(r, 10));
const n = 20000;
for (let i = 0; i < 2000; i++) serverSocket.getPeerCertificate();
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) serverSocket.getPeerCertificate();
const t1 = process.hrtime.bigint();
console.log('getPeerCertificate per call µs', Number(t1 - t0) / n / 1000);
// handshake cost
const hs = 200; const h0 = process.hrtime.bigint();
for (let i = 0; i < hs; i++) { const s = tls.connect({ port, host: '127.0.0.1', ca: pki.ca.ca, cert: c.cert, key: c.key, servername: 'localhost' }); await once(s, 'secureConnect'); s.destroy(); }
const h1 = process.hrtime.bigint();
console.log('mTLS handshake ms (client+server same process)', Number(h1 - h0) / hs / 1e6);
sock.destroy(); server.close();
