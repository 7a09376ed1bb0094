/**
 * The certificate principal's name (server/auth/certificate.ts) from each source, over the
 * shapes Node gives a verified peer certificate (`subjectaltname` text, `subject.CN`), and its
 * cache by fingerprint. The handshakes themselves are test/integration/tls.test.ts.
 */
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../core/index.js';
import { principalAppsFrom } from '../../cli/auth-options.js';
import { certificateAuthenticator, certificateName, rememberConnection, type PrincipalFrom, type ServerCall } from '../../server/index.js';

const cert = (fields: { san?: string; cn?: string | string[]; fingerprint?: string }): PeerCertificate =>
  ({ subjectaltname: fields.san, subject: fields.cn === undefined ? {} : { CN: fields.cn }, serialNumber: '0A1B', fingerprint256: fields.fingerprint ?? 'AA:BB' }) as unknown as PeerCertificate;

describe('certificateName', () => {
  const full = cert({ san: 'DNS:a.example, URI:spiffe://prod/scorer, DNS:b.example, URI:spiffe://prod/other', cn: 'the-cn' });
  it.each<[PrincipalFrom, PeerCertificate, string]>([
    ['san-uri', full, 'spiffe://prod/scorer'],
    ['san-dns', full, 'a.example'],
    ['cn', full, 'the-cn'],
    ['auto', full, 'spiffe://prod/scorer'],
    ['auto', cert({ san: 'DNS:a.example, IP Address:10.0.0.1', cn: 'the-cn' }), 'a.example'],
    ['auto', cert({ san: 'IP Address:10.0.0.1', cn: 'the-cn' }), 'the-cn'],
    ['cn', cert({ cn: ['first', 'second'] }), 'first'],
    // Node quotes (as JSON) a name holding a comma, so one name is never read as two.
    ['san-uri', cert({ san: 'URI:"spiffe://prod/a, b", DNS:x' }), 'spiffe://prod/a, b'],
  ])('%s of %j is %s', (from, c, name) => {
    expect(certificateName(c, from)).toEqual({ name });
  });

  it('says why when the certificate has no such name', () => {
    expect(certificateName(cert({ san: 'DNS:a.example' }), 'san-uri')).toEqual({ reason: 'the client certificate (serial 0A1B) has no SAN URI to name its principal (--principal-from san-uri)' });
    expect(certificateName(cert({}), 'auto')).toEqual({ reason: 'the client certificate (serial 0A1B) has no SAN URI, SAN DNS name or subject CN to name its principal (--principal-from auto)' });
  });
});

describe('certificateAuthenticator', () => {
  const callWith = (peer: PeerCertificate | undefined): ServerCall => ({ getAuthContext: () => (peer ? { transportSecurityType: 'ssl', sslPeerCertificate: peer } : {}) }) as unknown as ServerCall;

  it('answers the principal, the same object for the same certificate (named once)', () => {
    const auth = certificateAuthenticator({ from: 'san-uri' });
    const a = auth(callWith(cert({ san: 'URI:spiffe://prod/scorer', fingerprint: 'F1' })));
    expect(a).toEqual({ name: 'spiffe://prod/scorer', groups: [], apps: ['spiffe://prod/scorer'], via: 'certificate' });
    expect(auth(callWith(cert({ san: 'URI:spiffe://prod/scorer', fingerprint: 'F1' })))).toBe(a);
  });

  it('lets a principal act as the apps `apps` gives it, besides its own name ("*": any)', () => {
    const auth = certificateAuthenticator({ apps: { 'spiffe://prod/scorer': ['scorer', 'scorer-canary'], 'spiffe://prod/ops': '*' } });
    expect(auth(callWith(cert({ san: 'URI:spiffe://prod/scorer', fingerprint: 'S' })))).toMatchObject({ apps: ['spiffe://prod/scorer', 'scorer', 'scorer-canary'] });
    expect(auth(callWith(cert({ san: 'URI:spiffe://prod/ops', fingerprint: 'O' })))).toMatchObject({ apps: '*' });
    expect(auth(callWith(cert({ san: 'URI:spiffe://prod/other', fingerprint: 'X' })))).toMatchObject({ apps: ['spiffe://prod/other'] });
  });

  it('reads the certificate once per connection when the transport names the connection', () => {
    const auth = certificateAuthenticator();
    let reads = 0;
    const callOn = (connection: object | undefined, fingerprint: string): ServerCall => {
      const call = {
        getAuthContext: () => {
          reads += 1;
          return { transportSecurityType: 'ssl', sslPeerCertificate: cert({ san: `URI:spiffe://prod/${fingerprint}`, fingerprint }) };
        },
      } as unknown as ServerCall;
      if (connection) rememberConnection(call, connection);
      return call;
    };
    const a = {};
    const b = {};
    expect(auth(callOn(a, 'A'))).toMatchObject({ name: 'spiffe://prod/A' });
    expect(auth(callOn(a, 'A'))).toMatchObject({ name: 'spiffe://prod/A' });
    expect(auth(callOn(b, 'B'))).toMatchObject({ name: 'spiffe://prod/B' });
    expect(reads).toBe(2);
    // Without a connection (a transport that cannot tell), the certificate is read every call.
    auth(callOn(undefined, 'A'));
    auth(callOn(undefined, 'A'));
    expect(reads).toBe(4);
  });

  it('refuses UNAUTHENTICATED without a verified certificate or a name', () => {
    const auth = certificateAuthenticator({ from: 'cn' });
    expect(() => auth(callWith(undefined))).toThrow(new UnauthenticatedError("no verified client certificate: connect with TLS and a client certificate the server's client CA (--tls-client-ca) signed"));
    expect(() => auth(callWith(cert({ san: 'DNS:x' })))).toThrow(UnauthenticatedError);
  });

  it('refuses options outside the rules, naming the flag', () => {
    expect(() => certificateAuthenticator({ from: 'email' as PrincipalFrom })).toThrow('from must be one of auto, san-uri, san-dns, cn (--principal-from, IMPRINT_PRINCIPAL_FROM) (got "email")');
    expect(() => certificateAuthenticator({ cacheSize: 0 })).toThrow('cacheSize must be a whole number from 1 to 1000000 (got 0)');
  });
});

describe('principalAppsFrom (serve --principal-apps)', () => {
  it('reads PRINCIPAL=APP[,APP] entries, the last "=" splitting, repeated principals adding up', () => {
    expect(principalAppsFrom(['spiffe://prod/scorer=scorer,scorer-canary', 'spiffe://prod/scorer=audit', 'cn=a=b=ops', 'spiffe://prod/ops=*'])).toEqual({
      'spiffe://prod/scorer': ['scorer', 'scorer-canary', 'audit'],
      'cn=a=b': ['ops'],
      'spiffe://prod/ops': '*',
    });
  });
  it.each([['scorer'], ['=scorer'], ['spiffe://prod/scorer='], ['spiffe://prod/scorer=a b']])('refuses %j naming the flag', (entry) => {
    expect(() => principalAppsFrom([entry])).toThrow(/^--principal-apps must/);
  });
});
