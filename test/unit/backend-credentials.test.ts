/**
 * Backend credentials and TLS options (issue 14, "Backends"): what is accepted, and that every
 * refusal names the option and the rule, never the secret. The real handshakes are in
 * test/backends/cassandra-auth.test.ts and test/backends/elasticsearch-security.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { secretFrom } from '../../cli/secrets.js';
import { InvalidArgumentError } from '../../core/index.js';
import { cassandraWithDefaults, withDefaults } from '../../server/config.js';
import { describeCassandraSecurity, describeEsSecurity } from '../../server/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-creds-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
const base = { contactPoints: '127.0.0.1', localDataCenter: 'dc1' };
const SECRET = 's3cr3t-do-not-print';

/** The error `fn` throws, checked to be an InvalidArgumentError naming `field` and never holding the secret. */
function refusal(fn: () => unknown, field: string): InvalidArgumentError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  const e = caught as InvalidArgumentError;
  expect(e.message).toContain(field);
  expect(JSON.stringify({ m: e.message, s: e.stack, ...e })).not.toContain(SECRET);
  return e;
}

describe('Cassandra credentials and TLS', () => {
  it('username and password become the store options; no TLS, no auth by default', () => {
    expect(cassandraWithDefaults(base)).not.toHaveProperty('auth');
    expect(cassandraWithDefaults(base)).not.toHaveProperty('tls');
    expect(cassandraWithDefaults({ ...base, username: 'imprint', password: `${SECRET}\n` }).auth).toEqual({ username: 'imprint', password: SECRET });
  });

  it('a username without a password, or a password without a username, names what is missing', () => {
    expect(refusal(() => cassandraWithDefaults({ ...base, username: 'imprint' }), 'cassandra.password').message).toMatch(/must be given with a username \(--cassandra-password-file, IMPRINT_CASSANDRA_PASSWORD\)/);
    refusal(() => cassandraWithDefaults({ ...base, password: SECRET }), 'cassandra.username');
    refusal(() => cassandraWithDefaults({ ...base, username: 'imprint', password: ' \n' }), 'cassandra.password');
  });

  it('TLS files are read when the options are checked: the bytes go to the driver, the paths to the banner', () => {
    const ca = file('ca.pem', PEM);
    const cert = file('cert.pem', PEM);
    const key = file('key.pem', '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n');
    const tls = cassandraWithDefaults({ ...base, tls: { caFile: ca, certFile: cert, keyFile: key, serverName: 'cassandra.internal' } }).tls;
    expect(tls).toMatchObject({ caFile: ca, certFile: cert, keyFile: key, serverName: 'cassandra.internal' });
    expect(tls?.ca?.toString()).toBe(PEM);
    expect(describeCassandraSecurity({ username: 'imprint', password: SECRET }, tls)).toBe(`user imprint, TLS (CA ${ca}, client cert ${cert})`);
    expect(describeCassandraSecurity({ username: 'imprint', password: SECRET }, undefined)).toBe('user imprint');
    expect(describeCassandraSecurity(undefined, undefined)).toBeUndefined();
  });

  it('a missing or non-PEM file, or a client cert without its key, is refused naming the option', () => {
    const e = refusal(() => cassandraWithDefaults({ ...base, tls: { caFile: path.join(dir, 'nope.pem') } }), 'cassandra.tls.caFile');
    expect(e.message).toMatch(/must be a readable PEM file \(--cassandra-tls-ca, IMPRINT_CASSANDRA_TLS_CA\): ENOENT/);
    refusal(() => cassandraWithDefaults({ ...base, tls: { caFile: file('plain.txt', SECRET) } }), 'cassandra.tls.caFile');
    refusal(() => cassandraWithDefaults({ ...base, tls: { certFile: file('c.pem', PEM) } }), 'cassandra.tls.keyFile');
    refusal(() => cassandraWithDefaults({ ...base, tls: { serverName: 'not a name' } }), 'cassandra.tls.serverName');
  });
});

describe('Elasticsearch credentials and CA', () => {
  const es = { dataDir: dir, audit: 'elasticsearch' as const, esUrl: 'https://127.0.0.1:9200' };

  it('an API key, or a username with a password, and a CA file', () => {
    expect(withDefaults({ ...es, esApiKey: SECRET }).esAuth).toEqual({ apiKey: SECRET });
    expect(withDefaults({ ...es, esUsername: 'imprint', esPassword: SECRET }).esAuth).toEqual({ username: 'imprint', password: SECRET });
    const ca = file('es-ca.pem', PEM);
    const o = withDefaults({ ...es, esCaFile: ca });
    expect(o.esTls?.caFile).toBe(ca);
    expect(o).not.toHaveProperty('esAuth');
    expect(describeEsSecurity({ apiKey: SECRET }, o.esTls)).toBe(`API key, CA ${ca}`);
    expect(describeEsSecurity({ username: 'imprint', password: SECRET }, undefined)).toBe('user imprint');
    expect(describeEsSecurity(undefined, undefined)).toBeUndefined();
  });

  it('both kinds at once, half of basic auth, or an unreadable CA are refused naming the flag', () => {
    refusal(() => withDefaults({ ...es, esApiKey: SECRET, esUsername: 'imprint', esPassword: SECRET }), 'es-username');
    refusal(() => withDefaults({ ...es, esUsername: 'imprint' }), 'es-password');
    refusal(() => withDefaults({ ...es, esPassword: SECRET }), 'es-username');
    refusal(() => withDefaults({ ...es, esCaFile: path.join(dir, 'missing.pem') }), 'es-ca');
  });

  it('a malformed --es-url with a password in it is refused without echoing the password', () => {
    expect(refusal(() => withDefaults({ ...es, esUrl: `ftp://elastic:${SECRET}@es:9200` }), 'es-url').message).toContain('ftp://elastic:[redacted]@es:9200');
  });
});

describe('secretFrom (the CLI reads secrets from a file or an env var, never a flag value)', () => {
  it('reads the file without its trailing newline, or takes the env var; neither: undefined', () => {
    expect(secretFrom(file('pw', `${SECRET}\n`), undefined, 'cassandra-password', 'X_PW')).toBe(SECRET);
    expect(secretFrom(undefined, SECRET, 'cassandra-password', 'X_PW')).toBe(SECRET);
    expect(secretFrom(undefined, undefined, 'cassandra-password', 'X_PW')).toBeUndefined();
    expect(secretFrom(undefined, '', 'cassandra-password', 'X_PW')).toBeUndefined();
  });

  it('both a file and the env var, or an unreadable file, are refused naming the flag (not the secret)', () => {
    refusal(() => secretFrom(file('pw2', SECRET), SECRET, 'cassandra-password', 'X_PW'), 'cassandra-password-file');
    expect(refusal(() => secretFrom(path.join(dir, 'none'), undefined, 'es-password', 'X_PW'), 'es-password-file').message).toMatch(/ENOENT/);
  });
});
