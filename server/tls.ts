/**
 * The server's TLS: its certificate and key (and, for mTLS, the CA client certificates must
 * chain to) read from PEM files and read again when they change, so a renewed certificate is
 * served to new connections without a restart. One ServerTls serves every listener of a
 * process: the gRPC port (both bind paths take `grpcCredentials()`) and the metrics endpoint
 * (`serveHttps`).
 *
 * Why not grpc-js's FileWatcherCertificateProvider: it starts with no certificate (connections
 * are dropped until its first asynchronous read), and a read that fails or finds a key that does
 * not match the certificate (an operator who replaces the two files one after the other) makes
 * the server drop every new connection until the next good read. Here the files are read and
 * checked before anything binds (a bad file is an error at start-up naming the flag), and a
 * changed set that does not load is logged and the last good one kept.
 */
import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type https from 'node:https';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../core/index.js';
import type { Logger } from '../log/index.js';

/** The server's TLS files. */
export interface TlsOptions {
  /** PEM certificate chain the server presents (--tls-cert, IMPRINT_TLS_CERT); required. */
  readonly certFile: string;
  /** PEM private key of that certificate (--tls-key, IMPRINT_TLS_KEY); required. */
  readonly keyFile: string;
  /**
   * PEM CA certificate(s) client certificates must chain to (--tls-client-ca,
   * IMPRINT_TLS_CLIENT_CA): given, every gRPC connection must present a valid client
   * certificate (mTLS). @default none: clients present no certificate
   */
  readonly clientCaFile?: string;
  /** How often the files are checked for a change, ms (10 to 3600000). @default 5000 */
  readonly reloadMs?: number;
}

export const TLS_DEFAULTS = { reloadMs: 5000 } as const;

/** The flag and environment variable of each file, for errors. */
const FLAGS = { certFile: 'tls-cert', keyFile: 'tls-key', clientCaFile: 'tls-client-ca' } as const;
const ENV = { certFile: 'IMPRINT_TLS_CERT', keyFile: 'IMPRINT_TLS_KEY', clientCaFile: 'IMPRINT_TLS_CLIENT_CA' } as const;

/** Checks the TLS options and fills in the defaults above. */
export function tlsWithDefaults(o: TlsOptions): Readonly<Required<Omit<TlsOptions, 'clientCaFile'>> & Pick<TlsOptions, 'clientCaFile'>> {
  for (const field of ['certFile', 'keyFile'] as const) {
    if (typeof o[field] !== 'string' || o[field] === '') throw new InvalidArgumentError(`tls.${field}`, `must name a PEM file (--${FLAGS[field]}, ${ENV[field]})`, o[field]);
  }
  if (o.clientCaFile !== undefined && (typeof o.clientCaFile !== 'string' || o.clientCaFile === '')) {
    throw new InvalidArgumentError('tls.clientCaFile', `must name a PEM file (--${FLAGS.clientCaFile}, ${ENV.clientCaFile})`, o.clientCaFile);
  }
  const reloadMs = o.reloadMs ?? TLS_DEFAULTS.reloadMs;
  if (!Number.isInteger(reloadMs) || reloadMs < 10 || reloadMs > 3_600_000) throw new InvalidArgumentError('tls.reloadMs', 'must be a whole number of milliseconds from 10 to 3600000', reloadMs);
  return { certFile: o.certFile, keyFile: o.keyFile, ...(o.clientCaFile !== undefined && { clientCaFile: o.clientCaFile }), reloadMs };
}

/** One loaded set of files: what a secure context is made of. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  /** The server certificate's SHA-256 fingerprint (AA:BB:...), as clients see it. */
  readonly fingerprint256: string;
  /** The server certificate's serial number (hex). */
  readonly serialNumber: string;
  /** When the server certificate expires. */
  readonly validTo: string;
  /** The same instant (the certificate's notAfter), ms since the Unix epoch. */
  readonly validToMs: number;
}

/** Reads and checks the files: a certificate, its key, the client CA; throws naming the flag. */
export function loadTlsMaterial(o: Pick<TlsOptions, 'certFile' | 'keyFile' | 'clientCaFile'>): TlsMaterial {
  const read = (field: keyof typeof FLAGS, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new InvalidArgumentError(FLAGS[field], `must be a readable PEM file: ${err instanceof Error ? err.message : String(err)}`, file);
    }
  };
  const cert = read('certFile', o.certFile);
  const key = read('keyFile', o.keyFile);
  const ca = o.clientCaFile === undefined ? undefined : read('clientCaFile', o.clientCaFile);
  let x509: crypto.X509Certificate;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch (err) {
    throw new InvalidArgumentError('tls-cert', `must hold a PEM certificate: ${err instanceof Error ? err.message : String(err)}`, o.certFile);
  }
  if (ca) {
    // node:tls skips what is not a certificate in `ca` without a word (then every client would be refused).
    try {
      new crypto.X509Certificate(ca);
    } catch (err) {
      throw new InvalidArgumentError('tls-client-ca', `must hold PEM CA certificates: ${err instanceof Error ? err.message : String(err)}`, o.clientCaFile);
    }
  }
  try {
    // Throws when the key is not the certificate's, or not a PEM key.
    tls.createSecureContext({ cert, key });
  } catch (err) {
    throw new InvalidArgumentError('tls-key', `must be the private key of --tls-cert's certificate: ${err instanceof Error ? err.message : String(err)}`, o.keyFile);
  }
  return { cert, key, ...(ca && { ca }), fingerprint256: x509.fingerprint256, serialNumber: x509.serialNumber, validTo: x509.validTo, validToMs: Date.parse(x509.validTo) };
}

/** What a server presents and asks for, in node:tls's terms. */
function contextOptions(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.ca && { ca: m.ca }) };
}

/**
 * grpc-js credentials whose secure context follows a ServerTls: grpc-js calls
 * `setSecureContext` on its HTTP/2 server (bindAsync's and a connection injector's alike) with
 * each update, as its own certificate-provider credentials do.
 */
class ReloadingServerCredentials extends grpc.ServerCredentials {
  constructor(tlsFiles: ServerTls) {
    const mtls = tlsFiles.mutual;
    super({ requestCert: mtls, rejectUnauthorized: mtls }, contextOptions(tlsFiles.current));
    tlsFiles.on('reloaded', (m: TlsMaterial) => this.updateSecureContextOptions(contextOptions(m)));
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return this === other;
  }
}

export interface TlsReloadFailure {
  readonly error: Error;
}

/**
 * A server's TLS files, loaded and kept current. Events: `reloaded` (TlsMaterial) when a
 * changed set loaded and is served to new connections; `reload-failed` ({ error }) when a
 * changed set did not load (the last good one is still served).
 */
export class ServerTls extends EventEmitter {
  readonly options: ReturnType<typeof tlsWithDefaults>;
  private material: TlsMaterial;
  private readonly log: Logger;
  private readonly files: readonly string[];
  private credentials: grpc.ServerCredentials | undefined;
  private watching = false;
  private readonly onChange = (now: fs.Stats, before: fs.Stats): void => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload();
  };

  constructor(options: TlsOptions, log: Logger) {
    super();
    this.options = tlsWithDefaults(options);
    this.log = log;
    this.material = loadTlsMaterial(this.options);
    this.files = [this.options.certFile, this.options.keyFile, ...(this.options.clientCaFile === undefined ? [] : [this.options.clientCaFile])];
  }

  /** The set served to new connections now. */
  get current(): TlsMaterial {
    return this.material;
  }

  /** Whether clients must present a certificate that chains to the client CA. */
  get mutual(): boolean {
    return this.options.clientCaFile !== undefined;
  }

  /** Starts checking the files every `reloadMs` (idempotent). */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    // Stat polling by path: a file replaced by a rename (a Kubernetes secret update) is seen too.
    for (const f of this.files) fs.watchFile(f, { interval: this.options.reloadMs, persistent: false }, this.onChange);
  }

  /** Reads the files again; serves them to new connections when they load, else keeps the last good set. */
  reload(): void {
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.options);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.log.warn('TLS files changed but do not load; new connections still get the previous certificate', { error: error.message });
      this.emit('reload-failed', { error } satisfies TlsReloadFailure);
      return;
    }
    if (next.cert.equals(this.material.cert) && next.key.equals(this.material.key) && Buffer.compare(next.ca ?? Buffer.alloc(0), this.material.ca ?? Buffer.alloc(0)) === 0) return;
    this.material = next;
    this.log.info('TLS certificate reloaded: new connections get it', { fingerprint256: next.fingerprint256, serialNumber: next.serialNumber, validTo: next.validTo });
    this.emit('reloaded', next);
  }

  /** gRPC server credentials that follow the files (one object for every listener of the server). */
  grpcCredentials(): grpc.ServerCredentials {
    this.credentials ??= new ReloadingServerCredentials(this);
    return this.credentials;
  }

  /**
   * Options for an HTTPS server (the metrics endpoint, the HTTP API) with the current
   * certificate, and keeps `server`'s certificate current once created. Client certificates
   * are asked for only with `askClientCertificates` on a mutual-TLS server, and not required:
   * the handshake verifies one sent against the client CA (the socket is `authorized`), and
   * what needs one (the certificate authenticator) refuses a request without it, while what
   * does not (a lent payload URL) still answers. @default askClientCertificates false
   */
  serveHttps(create: (options: https.ServerOptions) => https.Server, o: { readonly askClientCertificates?: boolean } = {}): https.Server {
    const ask = o.askClientCertificates === true && this.mutual;
    const options = (m: TlsMaterial): https.ServerOptions => ({ cert: m.cert, key: m.key, ...(ask && m.ca && { ca: m.ca, requestCert: true, rejectUnauthorized: false }) });
    const server = create(options(this.material));
    const onReload = (m: TlsMaterial) => server.setSecureContext(options(m));
    this.on('reloaded', onReload);
    server.once('close', () => this.off('reloaded', onReload));
    return server;
  }

  /** Stops checking the files. */
  close(): void {
    if (!this.watching) return;
    this.watching = false;
    for (const f of this.files) fs.unwatchFile(f, this.onChange);
  }
}

/** Whether `host` is a loopback address: binding it serves this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}
