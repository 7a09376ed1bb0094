import { makePki } from '../test/certs.ts';
import fs from 'node:fs';
import crypto from 'node:crypto';
const dir = fs.mkdtempSync('/tmp/pki-');
const t0 = Date.now();
const p = await makePki(dir);
const c = await p.ca.issue('client', { uris: ['spiffe://test/scorer'] });
const e = await p.ca.issue('expired', { cn: 'old', expired: true });
console.log(Date.now() - t0, 'ms');
for (const x of [p.server, c, e]) { const x5 = new crypto.X509Certificate(x.cert); console.log(x5.subject, x5.subjectAltName, x5.validFrom, x5.validTo); }
