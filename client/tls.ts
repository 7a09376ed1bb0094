/**
 * A client's TLS: what the library's clients (ImprintClient, and through it Publisher and
 * Subscriber; checkHealth) take to speak TLS or mTLS to a server. PEM contents, not file
 * paths: an application reads its files (or secret store) itself; the CLI reads the files its
 * --tls-* flags name.
 */
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
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
}

/** gRPC channel credentials (and the channel options they need) for `tls`; plaintext without it. */
export function channelCredentials(tls: ClientTlsOptions | undefined): { readonly credentials: grpc.ChannelCredentials; readonly options: grpc.ChannelOptions } {
  if (tls === undefined) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const pem = (field: 'ca' | 'cert' | 'key'): Buffer | null => {
    const v = tls[field];
    if (v === undefined) return null;
    const b = typeof v === 'string' ? Buffer.from(v) : v;
    if (!Buffer.isBuffer(b) || !b.includes('-----BEGIN')) throw new InvalidArgumentError(`tls.${field}`, 'must be PEM text (-----BEGIN ...)', typeof v === 'string' ? `${v.slice(0, 40)}...` : typeof v);
    return b;
  };
  const ca = pem('ca');
  const cert = pem('cert');
  const key = pem('key');
  if ((cert === null) !== (key === null)) throw new InvalidArgumentError(cert ? 'tls.key' : 'tls.cert', 'must be given with the other: a client certificate and its private key go together');
  if (cert && key) {
    // A key that is not the certificate's, or a certificate past its date, fails here with
    // the reason, not as an opaque failed handshake (the server refuses both) later.
    let x509: crypto.X509Certificate;
    try {
      x509 = new crypto.X509Certificate(cert);
      if (!x509.checkPrivateKey(crypto.createPrivateKey(key))) throw new Error('the key does not match the certificate');
    } catch (err) {
      throw new InvalidArgumentError('tls.key', `must be the private key of tls.cert: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (Date.parse(x509.validTo) < Date.now()) throw new InvalidArgumentError('tls.cert', `has expired (valid to ${x509.validTo}): the server refuses it`);
  }
  if (tls.serverName !== undefined && !/^[A-Za-z0-9.*-]{1,253}$/.test(tls.serverName)) throw new InvalidArgumentError('tls.serverName', 'must be a DNS name', tls.serverName);
  return {
    credentials: grpc.credentials.createSsl(ca, key, cert),
    options: tls.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName },
  };
}
