/**
 * A client's TLS: what the library's clients (ImprintClient, and through it Publisher and
 * Subscriber; checkHealth) take to speak TLS or mTLS to a server. Either PEM contents (an
 * application reads its files or secret store itself; the CLI reads the files its --tls-*
 * flags name), or file paths the client reads and reads again when they change
 * (`caFile`, `certFile`, `keyFile`: `TlsFiles`), so a long-running scorer survives certificate
 * rotation: new connections use the new set; open ones go on with theirs until they close.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { experimental } from '@grpc/grpc-js';
import { InvalidArgumentError } from '../core/index.js';

export interface ClientTlsOptions {
  /** PEM CA certificate(s) the server's certificate must chain to. @default the system's trusted roots */
  readonly ca?: string | Buffer;
  /** PEM client certificate (chain) for mTLS; with `key`. @default none: no client certificate */
  readonly cert?: string | Buffer;
  /** PEM private key of `cert`. @default none */
  readonly key?: string | Buffer;
  /**
   * The name the server's certificate must carry, when it differs from the address's host (an
   * IP address, a load balancer's name). @default the host of the address
   */
  readonly serverName?: string;
  /** A PEM CA file, read now and again when it changes (instead of `ca`). @default the system's trusted roots */
  readonly caFile?: string;
  /** A PEM client certificate file for mTLS, with `keyFile`, read again when it changes (instead of `cert`). @default none */
  readonly certFile?: string;
  /** The PEM private key file of `certFile` (instead of `key`). @default none */
  readonly keyFile?: string;
  /** With files: how often they are checked for a change (their size and time), ms (10 to 3600000). @default 5000 */
  readonly reloadMs?: number;
}

/** What a set of TLS material checks into: PEM buffers, the certificate's end. */
interface TlsSet {
  readonly ca: Buffer | null;
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
}

/**
 * Checks PEM material named by `fields` (the option names the errors say): PEM text, a
 * certificate and key given together, the key the certificate's, the certificate not past its
 * end. A key that is not the certificate's, or an expired certificate, fails here with the
 * reason, not as an opaque failed handshake (the server refuses both) later.
 */
function checkedSet(got: { ca?: string | Buffer | undefined; cert?: string | Buffer | undefined; key?: string | Buffer | undefined }, fields: Record<'ca' | 'cert' | 'key', string>): TlsSet {
  const pem = (field: 'ca' | 'cert' | 'key'): Buffer | null => {
    const v = got[field];
    if (v === undefined) return null;
    const b = typeof v === 'string' ? Buffer.from(v) : v;
    if (!Buffer.isBuffer(b) || !b.includes('-----BEGIN')) throw new InvalidArgumentError(fields[field], 'must be PEM text (-----BEGIN ...)', typeof v === 'string' ? `${v.slice(0, 40)}...` : typeof v);
    return b;
  };
  const ca = pem('ca');
  const cert = pem('cert');
  const key = pem('key');
  if ((cert === null) !== (key === null)) throw new InvalidArgumentError(cert ? fields.key : fields.cert, 'must be given with the other: a client certificate and its private key go together');
  if (cert && key) {
    let x509: crypto.X509Certificate;
    try {
      x509 = new crypto.X509Certificate(cert);
      if (!x509.checkPrivateKey(crypto.createPrivateKey(key))) throw new Error('the key does not match the certificate');
    } catch (err) {
      throw new InvalidArgumentError(fields.key, `must be the private key of ${fields.cert}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (Date.parse(x509.validTo) < Date.now()) throw new InvalidArgumentError(fields.cert, `has expired (valid to ${x509.validTo}): the server refuses it`);
  }
  if (ca) {
    try {
      tls.createSecureContext({ ca });
    } catch (err) {
      throw new InvalidArgumentError(fields.ca, `must be PEM CA certificates: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { ca, cert, key };
}

/**
 * TLS material read from files and read again when they change: every `reloadMs` each file's
 * size and modification time are compared (a file renamed into place counts); a changed set
 * that checks (checkedSet) becomes the one new connections use (`reloaded` event, `reloads`);
 * one that does not (a certificate written before its key, a bad file) is left out and the last
 * good set kept (`reload-failed` event with the error, `failedReloads`), and is tried again at
 * the next change. It is the certificate provider of grpc-js's channel credentials. `close()`
 * stops the checks (the ImprintClient's close does).
 */
export class TlsFiles extends EventEmitter implements experimental.CertificateProvider {
  reloads = 0;
  failedReloads = 0;
  private current: TlsSet;
  private stamps: string;
  private readonly timer: NodeJS.Timeout;
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();

  constructor(private readonly files: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string }, reloadMs: number) {
    super();
    this.stamps = this.stampsNow();
    this.current = this.read();
    this.timer = setInterval(() => this.check(), reloadMs);
    this.timer.unref();
  }

  /** The CA certificate(s) as last read (null: none given, the system's roots). */
  get ca(): Buffer | null {
    return this.current.ca;
  }

  /** Whether a client certificate is given (mTLS). */
  get hasIdentity(): boolean {
    return this.current.cert !== null;
  }

  private stampsNow(): string {
    return [this.files.caFile, this.files.certFile, this.files.keyFile]
      .map((f) => {
        if (f === undefined) return '-';
        try {
          const st = fs.statSync(f);
          return `${st.size}:${st.mtimeMs}:${st.ino}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }

  private read(): TlsSet {
    const { caFile, certFile, keyFile } = this.files;
    const file = (f: string | undefined, field: string): Buffer | undefined => {
      if (f === undefined) return undefined;
      try {
        return fs.readFileSync(f);
      } catch (err) {
        throw new InvalidArgumentError(field, `must be a readable file (${err instanceof Error ? err.message : String(err)})`, f);
      }
    };
    return checkedSet({ ca: file(caFile, 'tls.caFile'), cert: file(certFile, 'tls.certFile'), key: file(keyFile, 'tls.keyFile') }, { ca: 'tls.caFile', cert: 'tls.certFile', key: 'tls.keyFile' });
  }

  /** One check: 1. did any file change? 2. read and check the set; 3. hand a good one to the listeners, or keep the last. */
  check(): void {
    const stamps = this.stampsNow();
    if (stamps === this.stamps) return;
    this.stamps = stamps;
    let next: TlsSet;
    try {
      next = this.read();
    } catch (err) {
      this.failedReloads++;
      this.emit('reload-failed', err);
      return;
    }
    this.current = next;
    this.reloads++;
    for (const l of this.caListeners) l(this.caUpdate());
    for (const l of this.identityListeners) l(this.identityUpdate());
    this.emit('reloaded');
  }

  private caUpdate(): experimental.CaCertificateUpdate {
    // No CA file: the system's roots, as grpc-js's own credentials use.
    return { caCertificate: this.current.ca ?? Buffer.from(tls.rootCertificates.join('\n')) };
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    const { cert, key } = this.current;
    return cert && key ? { certificate: cert, privateKey: key } : null;
  }

  addCaCertificateListener(l: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(l);
    l(this.caUpdate());
  }

  removeCaCertificateListener(l: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(l);
  }

  addIdentityCertificateListener(l: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(l);
    l(this.identityUpdate());
  }

  removeIdentityCertificateListener(l: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(l);
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/**
 * gRPC channel credentials (and the channel options they need) for `tls`; plaintext without it.
 * With files, `files` reads them again when they change (close it with the client).
 */
export function channelCredentials(tls: ClientTlsOptions | undefined): { readonly credentials: grpc.ChannelCredentials; readonly options: grpc.ChannelOptions; readonly files?: TlsFiles } {
  if (tls === undefined) return { credentials: grpc.credentials.createInsecure(), options: {} };
  if (tls.serverName !== undefined && !/^[A-Za-z0-9.*-]{1,253}$/.test(tls.serverName)) throw new InvalidArgumentError('tls.serverName', 'must be a DNS name', tls.serverName);
  const options: grpc.ChannelOptions = tls.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName };
  const fromFiles = tls.caFile !== undefined || tls.certFile !== undefined || tls.keyFile !== undefined;
  if (!fromFiles) {
    if (tls.reloadMs !== undefined) throw new InvalidArgumentError('tls.reloadMs', 'goes with tls.caFile, tls.certFile or tls.keyFile (PEM contents are not read again)', tls.reloadMs);
    const { ca, cert, key } = checkedSet(tls, { ca: 'tls.ca', cert: 'tls.cert', key: 'tls.key' });
    return { credentials: grpc.credentials.createSsl(ca, key, cert), options };
  }
  for (const [pem, file] of [['ca', 'caFile'], ['cert', 'certFile'], ['key', 'keyFile']] as const) {
    if (tls[pem] !== undefined) throw new InvalidArgumentError(`tls.${pem}`, `cannot go with tls.caFile, tls.certFile or tls.keyFile: give tls.${file} instead`);
  }
  const reloadMs = tls.reloadMs ?? 5_000;
  if (!Number.isInteger(reloadMs) || reloadMs < 10 || reloadMs > 3_600_000) throw new InvalidArgumentError('tls.reloadMs', 'must be a whole number of ms from 10 to 3600000', reloadMs);
  const files = new TlsFiles(tls, reloadMs);
  return { credentials: experimental.createCertificateProviderChannelCredentials(files, files.hasIdentity ? files : null), options, files };
}
