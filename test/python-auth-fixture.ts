/**
 * What the TLS + token tests need, made with the repository's own helpers: a CA and a server
 * certificate (scripts/backends makeTestPki, openssl) and a JWKS with a token signed by its
 * key (jose, as test/jwt-keys.ts). Run as `tsx test/python-auth-fixture.ts DIR ISSUER AUDIENCE` (python/tests/test_auth.py does);
 * writes DIR/{ca.crt,server.crt,server.key,jwks.json,token.txt}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeTestPki } from '../scripts/backends/launcher.js';
import { makeKey, signToken, writeJwks } from './jwt-keys.js';

const [dir, iss, aud] = process.argv.slice(2) as [string, string, string];
await makeTestPki(dir);
const key = await makeKey('py-test');
writeJwks(path.join(dir, 'jwks.json'), key);
fs.writeFileSync(path.join(dir, 'token.txt'), await signToken(key, { iss, aud, sub: 'airflow', imprint_apps: '*' }));
