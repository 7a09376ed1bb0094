/**
 * Credentials and TLS for the backends the server opens: Cassandra (username/password, TLS
 * with a CA and an optional client certificate) and Elasticsearch (an API key or a username
 * and password, and a CA). The files are read here, once, when the options are checked, so a
 * missing or unreadable file is an error naming its option before anything connects. Secrets
 * never go into an error: a rule names the option, never its value.
 */
import fs from 'node:fs';
import { InvalidArgumentError } from '../core/index.js';

/** TLS to Cassandra's native port (its `client_encryption_options`). */
export interface CassandraTlsOptions {
  /** PEM file of the CA(s) that signed Cassandra's certificate. @default the system's CAs */
  readonly caFile?: string;
  /** PEM client certificate, for a Cassandra that requires one (`require_client_auth`). @default none */
  readonly certFile?: string;
  /** PEM private key of `certFile`; required with it. @default none */
  readonly keyFile?: string;
  /** The name Cassandra's certificate must carry (and the SNI sent), instead of the contact point's host. @default the contact point's host */
  readonly serverName?: string;
}

/** Cassandra TLS as the driver takes it, with the files it came from (for the banner). */
export interface ResolvedCassandraTls {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Cassandra's PasswordAuthenticator credentials. */
export interface CassandraAuth {
  readonly username: string;
  readonly password: string;
}

/** Elasticsearch credentials: an API key (the base64 `encoded` value of the security API) or basic auth. */
export type EsAuth = { readonly apiKey: string } | { readonly username: string; readonly password: string };

/** Elasticsearch TLS: the CA that signed its HTTP certificate, and the file it came from. */
export interface ResolvedEsTls {
  readonly caFile: string;
  readonly ca: Buffer;
}

/** Where a caller sets each option, for the rules of errors (flag and env var). */
const WHERE = {
  'cassandra.username': '--cassandra-username, IMPRINT_CASSANDRA_USERNAME',
  'cassandra.password': '--cassandra-password-file, IMPRINT_CASSANDRA_PASSWORD',
  'cassandra.tls.caFile': '--cassandra-tls-ca, IMPRINT_CASSANDRA_TLS_CA',
  'cassandra.tls.certFile': '--cassandra-tls-cert, IMPRINT_CASSANDRA_TLS_CERT',
  'cassandra.tls.keyFile': '--cassandra-tls-key, IMPRINT_CASSANDRA_TLS_KEY',
  'cassandra.tls.serverName': '--cassandra-tls-server-name, IMPRINT_CASSANDRA_TLS_SERVER_NAME',
  'es-api-key': '--es-api-key-file, IMPRINT_ES_API_KEY',
  'es-username': '--es-username, IMPRINT_ES_USERNAME',
  'es-password': '--es-password-file, IMPRINT_ES_PASSWORD',
  'es-ca': '--es-ca, IMPRINT_ES_CA',
} as const;
type Field = keyof typeof WHERE;

/** A PEM file's bytes, or an error naming the option and why (never the file's content). */
export function readPemFile(field: Field, file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InvalidArgumentError(field, `must be a readable PEM file (${WHERE[field]}): ${code}`, file);
  }
  if (!bytes.includes('-----BEGIN ')) throw new InvalidArgumentError(field, `must be a PEM file (a "-----BEGIN ..." block) (${WHERE[field]})`, file);
  return bytes;
}

/** A secret's text: no leading or trailing white space (files end with a newline), not empty. The value is never in the error. */
function secret(field: Field, value: string): string {
  const v = value.trim();
  if (v === '') throw new InvalidArgumentError(field, `must not be empty (${WHERE[field]})`);
  return v;
}

function name(field: Field, value: string): string {
  const v = value.trim();
  if (!/^[\x21-\x7e]{1,256}$/.test(v)) throw new InvalidArgumentError(field, `must be 1 to 256 printable ASCII characters without spaces (${WHERE[field]})`, value);
  return v;
}

/** Checks Cassandra's username and password: both or neither. */
export function cassandraAuthFrom(username: string | undefined, password: string | undefined): CassandraAuth | undefined {
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined) throw new InvalidArgumentError('cassandra.username', `must be given with a password (${WHERE['cassandra.username']})`);
  if (password === undefined) throw new InvalidArgumentError('cassandra.password', `must be given with a username (${WHERE['cassandra.password']})`);
  return { username: name('cassandra.username', username), password: secret('cassandra.password', password) };
}

/** Reads Cassandra's TLS files; a client certificate needs its key and the other way round. */
export function cassandraTlsFrom(t: CassandraTlsOptions | undefined): ResolvedCassandraTls | undefined {
  if (t === undefined) return undefined;
  if ((t.certFile === undefined) !== (t.keyFile === undefined)) {
    const missing = t.certFile === undefined ? 'cassandra.tls.certFile' : 'cassandra.tls.keyFile';
    throw new InvalidArgumentError(missing, `must be given with ${missing === 'cassandra.tls.certFile' ? 'its key' : 'the client certificate'} (${WHERE[missing]})`);
  }
  if (t.serverName !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(t.serverName)) {
    throw new InvalidArgumentError('cassandra.tls.serverName', `must be a DNS name (${WHERE['cassandra.tls.serverName']})`, t.serverName);
  }
  return {
    ...(t.caFile !== undefined && { caFile: t.caFile, ca: readPemFile('cassandra.tls.caFile', t.caFile) }),
    ...(t.certFile !== undefined && { certFile: t.certFile, cert: readPemFile('cassandra.tls.certFile', t.certFile) }),
    ...(t.keyFile !== undefined && { keyFile: t.keyFile, key: readPemFile('cassandra.tls.keyFile', t.keyFile) }),
    ...(t.serverName !== undefined && { serverName: t.serverName }),
  };
}

/** Checks Elasticsearch's credentials: an API key, or a username with a password, or none. */
export function esAuthFrom(o: { readonly esApiKey?: string; readonly esUsername?: string; readonly esPassword?: string }): EsAuth | undefined {
  if (o.esApiKey !== undefined) {
    for (const f of ['esUsername', 'esPassword'] as const) {
      if (o[f] !== undefined) throw new InvalidArgumentError(f === 'esUsername' ? 'es-username' : 'es-password', `must not be given with an API key (${WHERE['es-api-key']}): give one or the other`);
    }
    return { apiKey: secret('es-api-key', o.esApiKey) };
  }
  if (o.esUsername === undefined && o.esPassword === undefined) return undefined;
  if (o.esUsername === undefined) throw new InvalidArgumentError('es-username', `must be given with a password (${WHERE['es-username']})`);
  if (o.esPassword === undefined) throw new InvalidArgumentError('es-password', `must be given with a username (${WHERE['es-password']})`);
  return { username: name('es-username', o.esUsername), password: secret('es-password', o.esPassword) };
}

/** Reads Elasticsearch's CA file. */
export function esTlsFrom(caFile: string | undefined): ResolvedEsTls | undefined {
  return caFile === undefined ? undefined : { caFile, ca: readPemFile('es-ca', caFile) };
}

/** Who the server is to Cassandra, for the banner: the user and the TLS files, never a secret; undefined when neither is set. */
export function describeCassandraSecurity(auth: CassandraAuth | undefined, tls: ResolvedCassandraTls | undefined): string | undefined {
  if (!auth && !tls) return undefined;
  const files = [tls?.caFile && `CA ${tls.caFile}`, tls?.certFile && `client cert ${tls.certFile}`].filter(Boolean).join(', ');
  return [auth && `user ${auth.username}`, tls && `TLS${files ? ` (${files})` : ''}`].filter(Boolean).join(', ');
}

/** Who the server is to Elasticsearch, for the banner: the user or "API key", and the CA file; undefined when neither is set. */
export function describeEsSecurity(auth: EsAuth | undefined, tls: ResolvedEsTls | undefined): string | undefined {
  if (!auth && !tls) return undefined;
  const who = auth === undefined ? undefined : 'apiKey' in auth ? 'API key' : `user ${auth.username}`;
  return [who, tls && `CA ${tls.caFile}`].filter(Boolean).join(', ');
}
