/**
 * The mTLS principal: the name in the client certificate the TLS handshake verified (against
 * the server's client CA, `--tls-client-ca`). Which name is configurable: the certificate's
 * first SAN URI (a SPIFFE ID such as spiffe://prod/ns/scoring/sa/scorer), its first SAN DNS
 * name, or its subject's CN; `auto` takes the first of those the certificate has.
 *
 * Cheap on the hot path: the handshake already verified the chain and the dates, so the name
 * is a function of the certificate alone. It is kept per connection when the transport says
 * which connection a call came in on (`rememberConnection`: the gRPC server's own listener
 * does), so a call costs two map reads; otherwise per certificate fingerprint (a bounded map),
 * after grpc-js's lookup of the peer certificate (Node builds it anew for every call).
 */
import type { PeerCertificate } from 'node:tls';
import { InvalidArgumentError, UnauthenticatedError } from '../../core/index.js';
import type { Authenticate, Principal, ServerCall } from './principal.js';

const connections = new WeakMap<object, object>();

/** Tells the certificate authenticator which connection `call` came in on (the transport, before authenticating). */
export function rememberConnection(call: object, connection: object): void {
  connections.set(call, connection);
}

/** Where the principal's name comes from. */
export type PrincipalFrom = 'auto' | 'san-uri' | 'san-dns' | 'cn';
export const PRINCIPAL_FROM: readonly PrincipalFrom[] = ['auto', 'san-uri', 'san-dns', 'cn'];

export interface CertificateAuthenticatorOptions {
  /** The certificate's name that is the principal. @default "auto": SAN URI, else SAN DNS, else CN */
  readonly from?: PrincipalFrom;
  /** Certificates whose principal is remembered (by fingerprint), 1 to 1000000. @default 10000 */
  readonly cacheSize?: number;
  /**
   * The applications each principal may act as (a consumer's identity.app, `x-imprint-app`)
   * besides the one named as itself: principal name -> app names, or "*" for any.
   * @default none: each principal only as the application of its own name
   */
  readonly apps?: Readonly<Record<string, readonly string[] | '*'>>;
}

export const CERTIFICATE_AUTH_DEFAULTS = { from: 'auto', cacheSize: 10_000 } as const;

/** The subject alternative names of one kind ("URI", "DNS") in node's `subjectaltname` text. */
function altNames(cert: PeerCertificate, kind: 'URI' | 'DNS'): string[] {
  const text = cert.subjectaltname ?? '';
  const out: string[] = [];
  // Node writes e.g. `DNS:a.example, URI:spiffe://x/y`, quoting (JSON) a value with a comma or quote.
  const re = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== kind) continue;
    const raw = m[2] ?? '';
    out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}

/** The principal's name in `cert` by `from`, or why there is none. */
export function certificateName(cert: PeerCertificate, from: PrincipalFrom): { name: string } | { reason: string } {
  const uri = () => altNames(cert, 'URI')[0];
  const dns = () => altNames(cert, 'DNS')[0];
  const cn = () => {
    const v = cert.subject?.CN;
    return Array.isArray(v) ? v[0] : v;
  };
  const name = from === 'san-uri' ? uri() : from === 'san-dns' ? dns() : from === 'cn' ? cn() : (uri() ?? dns() ?? cn());
  if (name !== undefined && name !== '') return { name };
  const what = { 'san-uri': 'SAN URI', 'san-dns': 'SAN DNS name', cn: 'subject CN', auto: 'SAN URI, SAN DNS name or subject CN' }[from];
  return { reason: `the client certificate (serial ${cert.serialNumber}) has no ${what} to name its principal (--principal-from ${from})` };
}

/**
 * An Authenticate that names each call's principal from its connection's verified client
 * certificate: `{ name, groups: [], apps: [name, ...opts.apps[name]], via: 'certificate' }`
 * (the principal may act as the application of its own name, and those `apps` gives it). A call without a verified certificate (a plaintext or
 * TLS-only server, which should not use this) or whose certificate has no such name is
 * refused UNAUTHENTICATED with the reason.
 */
export function certificateAuthenticator(opts: CertificateAuthenticatorOptions = {}): Authenticate {
  const from = opts.from ?? CERTIFICATE_AUTH_DEFAULTS.from;
  if (!PRINCIPAL_FROM.includes(from)) throw new InvalidArgumentError('from', `must be one of ${PRINCIPAL_FROM.join(', ')} (--principal-from, IMPRINT_PRINCIPAL_FROM)`, from);
  const cacheSize = opts.cacheSize ?? CERTIFICATE_AUTH_DEFAULTS.cacheSize;
  const extraApps = opts.apps ?? {};
  const appsOf = (name: string): readonly string[] | '*' => {
    const extra = Object.hasOwn(extraApps, name) ? extraApps[name] : undefined;
    return extra === '*' ? '*' : [name, ...(extra ?? [])];
  };
  if (!Number.isInteger(cacheSize) || cacheSize < 1 || cacheSize > 1_000_000) throw new InvalidArgumentError('cacheSize', 'must be a whole number from 1 to 1000000', cacheSize);
  // fingerprint256 -> the principal, or the reason it has none; oldest first (Map order).
  const known = new Map<string, Principal | UnauthenticatedError>();
  // Per connection: a connection's verified certificate does not change while it is open.
  const perConnection = new WeakMap<object, Principal | UnauthenticatedError>();
  const byCertificate = (call: ServerCall): Principal | UnauthenticatedError => {
    const cert = call.getAuthContext()?.sslPeerCertificate;
    if (!cert) return new UnauthenticatedError("no verified client certificate: connect with TLS and a client certificate the server's client CA (--tls-client-ca) signed");
    let answer = known.get(cert.fingerprint256);
    if (answer === undefined) {
      const got = certificateName(cert, from);
      answer = 'name' in got ? { name: got.name, groups: [], apps: appsOf(got.name), via: 'certificate' } : new UnauthenticatedError(got.reason);
      if (known.size >= cacheSize) known.delete(known.keys().next().value as string);
      known.set(cert.fingerprint256, answer);
    }
    return answer;
  };
  return (call: ServerCall) => {
    const connection = connections.get(call);
    let answer = connection && perConnection.get(connection);
    if (answer === undefined) {
      answer = byCertificate(call);
      if (connection) perConnection.set(connection, answer);
    }
    if (answer instanceof UnauthenticatedError) throw answer;
    return answer;
  };
}
