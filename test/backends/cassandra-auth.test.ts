/**
 * Issue 14, "Backends": the Cassandra store against a Cassandra with authentication and TLS on
 * (authenticator: PasswordAuthenticator, authorizer: CassandraAuthorizer; client_encryption_options with a server certificate of
 * a CA made at start, client certificates required), which this file starts: the project's
 * shared Cassandra runs without them, so the other files need no credentials. A role `imprint`
 * is made here with a random password; the server logs in as it.
 *
 * Connecting with the right credentials works (store, `imprint serve`, `imprint janitor`);
 * a wrong password, no credentials, no CA, a wrong server name fail naming what failed; the
 * password is never in an error, the banner or a log line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { ImprintError } from '../../core/index.js';
import { createLogger } from '../../log/index.js';
import { CASSANDRA_SUPERUSER, backends, createContext, type BackendSecurity, type RunningBackend } from '../../scripts/backends/index.js';
import { cassandraWithDefaults, type CassandraOptions } from '../../server/config.js';
import { CassandraMetadataStore, startImprintServer } from '../../server/index.js';
import { runCli, startServe, type ServeProcess } from '../cli-process.js';
import { directPointer, identity, tempDir, until } from '../helpers.js';

const ctx = createContext();
const KEYSPACE = 'imprint_auth';
const SIMPLE = '{"class":"SimpleStrategy","replication_factor":1}';
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;
const WRONG = `wrong-${randomBytes(9).toString('base64url')}`;
let node: RunningBackend;
let sec: BackendSecurity;
let dir: string;
let passwordFile: string;

/** The store's options: role imprint over TLS with the CA and the client certificate, unless `over` says otherwise. */
function options(over: Partial<CassandraOptions> = {}): CassandraOptions {
  return {
    contactPoints: node.endpoint,
    localDataCenter: 'datacenter1',
    keyspace: KEYSPACE,
    replication: SIMPLE,
    username: 'imprint',
    password: PASSWORD,
    tls: { caFile: sec.caFile, certFile: sec.clientCertFile, keyFile: sec.clientKeyFile },
    connectTimeoutMs: 5000,
    ...over,
  };
}

/** The message of the error opening a store with `o` (which must fail), checked to hold no secret. */
async function openFails(o: CassandraOptions): Promise<string> {
  const err = await CassandraMetadataStore.open(cassandraWithDefaults(o)).then(
    async (s) => {
      await s.close();
      throw new Error('expected the store not to open');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImprintError);
  const e = err as ImprintError;
  const text = `${e.message}\n${e.cause instanceof Error ? e.cause.message : ''}`;
  for (const secret of [PASSWORD, WRONG]) expect(text).not.toContain(secret);
  return e.message;
}

/** The flags of `imprint serve` / `imprint janitor` for this Cassandra, as the role imprint. */
function storeFlags(): string[] {
  return [
    '--store', 'cassandra',
    '--cassandra-contact-points', node.endpoint,
    '--cassandra-local-dc', 'datacenter1',
    '--cassandra-keyspace', KEYSPACE,
    '--cassandra-replication', SIMPLE,
    '--cassandra-username', 'imprint',
    '--cassandra-tls-ca', sec.caFile,
    '--cassandra-tls-cert', sec.clientCertFile,
    '--cassandra-tls-key', sec.clientKeyFile,
  ];
}

beforeAll(async () => {
  const t0 = Date.now();
  node = await backends.cassandra.start(ctx, { secure: true });
  ctx.log(`cassandra-auth: a Cassandra with authentication and TLS started in ${Date.now() - t0} ms`);
  if (!node.security) throw new Error('started with secure but no security handle');
  sec = node.security;
  // The role the server logs in as (not the default superuser, whose password is well known).
  const admin = new cassandra.Client({
    contactPoints: [node.endpoint],
    localDataCenter: 'datacenter1',
    authProvider: new cassandra.auth.PlainTextAuthProvider(CASSANDRA_SUPERUSER.username, CASSANDRA_SUPERUSER.password),
    sslOptions: { rejectUnauthorized: true, ca: fs.readFileSync(sec.caFile), cert: fs.readFileSync(sec.clientCertFile), key: fs.readFileSync(sec.clientKeyFile) },
  });
  try {
    await admin.execute(`CREATE ROLE imprint WITH PASSWORD = '${PASSWORD}' AND LOGIN = true`);
    // CassandraAuthorizer is on: the one grant the README gives. The role creates the keyspace
    // (and so owns it and its tables); a role without it could not.
    await admin.execute('GRANT CREATE ON ALL KEYSPACES TO imprint');
  } finally {
    await admin.shutdown();
  }
  dir = tempDir();
  passwordFile = path.join(dir, 'cassandra-password');
  fs.writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await node?.stop();
});

describe('the Cassandra store with a login and TLS', () => {
  it('connects as the role with the CA and a client certificate: a server publishes and polls', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', format: 'json', destination: { write: (l) => lines.push(l) } });
    const server = await startImprintServer({ dataDir: tempDir(), port: 0, log, store: 'cassandra', cassandra: options() });
    const client = new ImprintClient({ address: `127.0.0.1:${server.port}` });
    try {
      await until('the store connected', () => lines.some((l) => l.includes('cassandra connected')), 60_000);
      await client.createTopic({ name: 'secured' });
      expect((await client.publishPointer('secured', directPointer('v1'))).version).toBe(1n);
      expect((await client.poll('secured', identity(), 0n)).record?.version).toBe(1n);
    } finally {
      client.close();
      await server.stop();
    }
    expect(lines.join('')).not.toContain(PASSWORD);
  });

  it('a wrong password: the error names the user and says the password is wrong, without it', async () => {
    expect(await openFails(options({ password: WRONG }))).toMatch(/Provided username imprint and\/or password are incorrect/);
  });

  it('no credentials: the error says Cassandra requires authentication', async () => {
    const { username: _u, password: _p, ...noLogin } = options();
    expect(await openFails(noLogin)).toMatch(/requires authentication, but no authenticator found/);
  });

  it("TLS without the CA: Cassandra's certificate is not trusted (the driver's default would accept it)", async () => {
    expect(await openFails(options({ tls: { certFile: sec.clientCertFile, keyFile: sec.clientKeyFile } }))).toMatch(/unable to verify the first certificate|self[- ]signed certificate/);
  });

  it('a server name the certificate does not carry is refused; one it carries is accepted', async () => {
    expect(await openFails(options({ tls: { caFile: sec.caFile, certFile: sec.clientCertFile, keyFile: sec.clientKeyFile, serverName: 'cassandra.elsewhere.test' } }))).toMatch(/does not match certificate's altnames/);
    const store = await CassandraMetadataStore.open(cassandraWithDefaults(options({ tls: { caFile: sec.caFile, certFile: sec.clientCertFile, keyFile: sec.clientKeyFile, serverName: 'backend.imprint.test' } })));
    await store.close();
  });

  it('a role without the grant cannot create the keyspace: the error names the permission', async () => {
    const admin = new cassandra.Client({
      contactPoints: [node.endpoint],
      localDataCenter: 'datacenter1',
      authProvider: new cassandra.auth.PlainTextAuthProvider(CASSANDRA_SUPERUSER.username, CASSANDRA_SUPERUSER.password),
      sslOptions: { rejectUnauthorized: true, ca: fs.readFileSync(sec.caFile), cert: fs.readFileSync(sec.clientCertFile), key: fs.readFileSync(sec.clientKeyFile) },
    });
    try {
      await admin.execute(`CREATE ROLE reader WITH PASSWORD = '${PASSWORD}' AND LOGIN = true`);
    } finally {
      await admin.shutdown();
    }
    expect(await openFails(options({ username: 'reader', keyspace: 'imprint_reader' }))).toMatch(/refused the server's role \(connect\): User reader has no CREATE permission on <all keyspaces>/);
  });

  it('no client certificate, when Cassandra requires one: refused in the handshake', async () => {
    expect(await openFails(options({ tls: { caFile: sec.caFile } }))).toMatch(/certificate required/);
  });
});

describe('imprint serve and imprint janitor with --cassandra-username, --cassandra-password-file, --cassandra-tls-*', () => {
  let served: ServeProcess | undefined;
  afterAll(async () => {
    await served?.stop();
  });

  it('serve: the banner says who it is to Cassandra and over what, never the password; it serves', async () => {
    served = await startServe(tempDir(), [...storeFlags(), '--cassandra-password-file', passwordFile, '--log-level', 'debug']);
    const s = served;
    expect(s.output()).toContain(`metadata  cassandra ${node.endpoint} keyspace ${KEYSPACE} (dc datacenter1; user imprint, TLS (CA ${sec.caFile}, client cert ${sec.clientCertFile}); health`);
    const client = new ImprintClient({ address: s.address });
    try {
      await until('cassandra connected', () => s.output().includes('cassandra connected'), 60_000);
      await client.createTopic({ name: 'via-cli' });
      expect((await client.publishPointer('via-cli', directPointer('x'))).version).toBe(1n);
    } finally {
      client.close();
    }
    expect(await s.stop()).toBe(0);
    expect(s.output()).not.toContain(PASSWORD);
    served = undefined;
  });

  it('serve with a wrong IMPRINT_CASSANDRA_PASSWORD: logs that the password is wrong, retries, never prints it', async () => {
    served = await startServe(tempDir(), [...storeFlags(), '--log-level', 'debug'], { IMPRINT_CASSANDRA_PASSWORD: WRONG });
    const s = served;
    // A JSON line (stderr is no terminal): the fields, then the message.
    await until('the refusal in the log', () => s.output().split('\n').some((l) => l.includes('cassandra is not reachable') && l.includes('Provided username imprint and/or password are incorrect')), 60_000);
    expect(await s.stop()).toBe(0);
    expect(s.output()).not.toContain(WRONG);
    served = undefined;
  });

  it('janitor --once opens the store with the same flags (IMPRINT_CASSANDRA_PASSWORD)', async () => {
    const r = await runCli(['--data-dir', tempDir(), 'janitor', '--once', ...storeFlags()], { IMPRINT_CASSANDRA_PASSWORD: PASSWORD });
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    expect(r.code, r.stderr).toBe(0);
  });
});
