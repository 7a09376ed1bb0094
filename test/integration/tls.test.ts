/**
 * TLS and mTLS with real handshakes (certificates made by openssl at test time, scripts/certs.ts):
 * an mTLS server names each caller's principal from its client certificate and refuses a
 * certificate from another CA, an expired one and none; a TLS server is checked by name (and
 * the override); a TLS server's files are read again when they change, new connections get the
 * new certificate and a set that does not load is not served; the consume role's own listener
 * (TCP_NODELAY) speaks TLS; metrics are served over HTTPS; a non-loopback host needs TLS or
 * `insecure`.
 */
import { once } from 'node:events';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, type ClientTlsOptions } from '../../client/index.js';
import { checkHealth } from '../../client/health.js';
import { InvalidArgumentError } from '../../core/index.js';
import { createLogger, silentLogger, type LogDestination } from '../../log/index.js';
import { certificateAuthenticator, combineAuthenticators, startImprintServer, withDefaults, type Authenticate, type ImprintServer, type TlsMaterial } from '../../server/index.js';
import { makePki, type IssuedCert, type TestPki } from '../../scripts/certs.js';
import { directPointer, failure, tempDir } from '../helpers.js';

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health') as unknown as new (address: string, creds: grpc.ChannelCredentials) => grpc.Client & {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void): void;
};

/** The serial number of the certificate a new TLS connection to `port` is given (gRPC: HTTP/2; metrics: HTTP/1.1). */
async function servedSerial(port: number, ca: string, servername: string, alpn = 'h2'): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername, ALPNProtocols: [alpn] });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate().serialNumber;
  } finally {
    socket.destroy();
  }
}

describe('TLS and mTLS', () => {
  let pki: TestPki;
  let clients: Record<'uri' | 'dns' | 'cn' | 'nameless' | 'otherCa' | 'expired', IssuedCert>;
  let mtls: ImprintServer;
  // How often the server read a call's peer certificate (grpc-js builds it anew each time).
  let certificateReads = 0;
  const countingReads =
    (inner: Authenticate): Authenticate =>
    (call) => {
      const read = call.getAuthContext.bind(call);
      call.getAuthContext = () => {
        certificateReads += 1;
        return read();
      };
      return inner(call);
    };
  const open: ImprintClient[] = [];
  const client = (port: number, t: ClientTlsOptions | undefined): ImprintClient => {
    const c = new ImprintClient({ address: `127.0.0.1:${port}`, deadlineMs: 5000, ...(t && { tls: t }) });
    open.push(c);
    return c;
  };
  const withCert = (c: IssuedCert): ClientTlsOptions => ({ ca: pki.ca.ca, cert: c.cert, key: c.key });

  beforeAll(async () => {
    pki = await makePki(tempDir('imprint-pki-'));
    const [uri, dns, cn, nameless, otherCa, expired] = await Promise.all([
      pki.ca.issue('client-uri', { cn: 'ignored-cn', dns: ['ignored.dns'], uris: ['spiffe://imprint.test/scorer'] }),
      pki.ca.issue('client-dns', { cn: 'ignored-cn', dns: ['publisher.imprint.test'] }),
      pki.ca.issue('client-cn', { cn: 'operator-jane' }),
      pki.ca.issue('client-nameless', {}),
      pki.otherCa.issue('client-other', { uris: ['spiffe://imprint.test/scorer'] }),
      pki.ca.issue('client-expired', { uris: ['spiffe://imprint.test/old'], expired: true }),
    ]);
    clients = { uri, dns, cn, nameless, otherCa, expired };
    mtls = await startImprintServer({
      dataDir: tempDir(),
      port: 0,
      log: silentLogger,
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.caFile },
      authenticate: countingReads(combineAuthenticators({ certificate: certificateAuthenticator({ apps: { 'spiffe://imprint.test/scorer': ['scorer'] } }) }) as Authenticate),
    });
  }, 60_000);
  afterAll(async () => {
    for (const c of open) c.close();
    await mtls?.stop({ drain: false });
  });

  it('mTLS: the principal is the client certificate\'s name (SAN URI, else SAN DNS, else CN), recorded in the history', async () => {
    const scorer = client(mtls.port, withCert(clients.uri));
    await scorer.createTopic({ name: 'mtls-topic', owner: 'claimed-owner' });
    // Its creator owns it and makes the other two its publisher and operator.
    await scorer.grantAccess('mtls-topic', { role: 'publisher', grantee: 'publisher.imprint.test' });
    await scorer.grantAccess('mtls-topic', { role: 'operator', grantee: 'operator-jane' });
    await client(mtls.port, withCert(clients.dns)).publishPointer('mtls-topic', directPointer('v1'));
    await client(mtls.port, withCert(clients.cn)).pin('mtls-topic', 1n, { reason: 'test', createdBy: 'mallory' });
    const { changes } = await scorer.listHistory('mtls-topic');
    const by = Object.fromEntries(changes.map((c) => [c.kind, c.by]));
    expect(by['create-topic']).toMatchObject({ principal: 'spiffe://imprint.test/scorer', authenticated: true });
    expect(by['publish']).toMatchObject({ principal: 'publisher.imprint.test', authenticated: true });
    expect(by['pin']).toMatchObject({ principal: 'operator-jane', authenticated: true });
  });

  it('mTLS: a certificate principal polls as the apps the server gives it (--principal-apps), and no other', async () => {
    const id = (app: string) => ({ app, cluster: 'c', region: 'r', nodeId: 'n1', labels: {} });
    const scorer = client(mtls.port, withCert(clients.uri));
    expect((await scorer.poll('mtls-topic', id('scorer'), 0n)).record?.version).toBe(1n);
    expect((await scorer.poll('mtls-topic', id('spiffe://imprint.test/scorer'), 0n)).record?.version).toBe(1n);
    const err = await failure(scorer.poll('mtls-topic', id('billing'), 0n));
    expect(err.message).toContain('permission denied: "spiffe://imprint.test/scorer" may not act as app "billing"');
    // Another principal is not given "scorer".
    expect((await failure(client(mtls.port, withCert(clients.dns)).poll('mtls-topic', id('scorer'), 0n))).message).toContain('may not act as app "scorer"');
  });

  it('mTLS: the certificate is read once per connection, not per call', async () => {
    const c = client(mtls.port, withCert(clients.uri));
    const before = certificateReads;
    for (let i = 0; i < 5; i++) expect((await c.getTopic('mtls-topic')).name).toBe('mtls-topic');
    expect(certificateReads - before).toBe(1);
  });

  it('mTLS: a verified certificate without a usable name is UNAUTHENTICATED with the reason', async () => {
    const err = await failure(client(mtls.port, withCert(clients.nameless)).getTopic('mtls-topic'));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.message).toContain('has no SAN URI, SAN DNS name or subject CN to name its principal (--principal-from auto)');
  });

  it('mTLS: no client certificate, one from another CA, and an expired one are refused at the handshake', async () => {
    for (const t of [{ ca: pki.ca.ca }, withCert(clients.otherCa)]) {
      const err = await failure(client(mtls.port, t).getTopic('mtls-topic'));
      expect(err.code).toBe('UNAVAILABLE');
    }
    // The client library refuses to present an expired certificate; the server refuses it too.
    expect(() => client(mtls.port, withCert(clients.expired))).toThrow(/tls.cert has expired \(valid to Jan {1,2}2 00:00:00 2020 GMT\)/);
    const raw = new HealthClient(`127.0.0.1:${mtls.port}`, grpc.credentials.createSsl(Buffer.from(pki.ca.ca), Buffer.from(clients.expired.key), Buffer.from(clients.expired.cert)));
    try {
      const code = await new Promise<grpc.status>((resolve) => raw.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err) => resolve(err ? err.code : grpc.status.OK)));
      expect(code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      raw.close();
    }
    // The same with a good certificate works: the refusals were the certificates'.
    expect((await client(mtls.port, withCert(clients.uri)).getTopic('mtls-topic')).name).toBe('mtls-topic');
  });

  it('a plaintext client cannot talk to a TLS server, nor a TLS client without the CA', async () => {
    expect((await failure(client(mtls.port, undefined).getTopic('mtls-topic'))).code).toBe('UNAVAILABLE');
    const untrusted = await failure(client(mtls.port, { cert: clients.uri.cert, key: clients.uri.key }).getTopic('mtls-topic'));
    expect(untrusted.code).toBe('UNAVAILABLE');
    expect(untrusted.message).toMatch(/unable to verify the first certificate|self-signed certificate in certificate chain|unable to get local issuer certificate/);
  });

  it('health answers over mTLS, and refuses the handshake without a client certificate', async () => {
    expect(await checkHealth(`127.0.0.1:${mtls.port}`, '', 5000, withCert(clients.uri))).toBe('SERVING');
    await expect(checkHealth(`127.0.0.1:${mtls.port}`, '', 5000, { ca: pki.ca.ca })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  describe('a TLS consume instance whose certificate names only imprint.test', () => {
    let dir: string;
    let consume: ImprintServer;
    let named: IssuedCert;
    const certFile = () => path.join(dir, 'server.pem');
    const keyFile = () => path.join(dir, 'server-key.pem');

    beforeAll(async () => {
      dir = tempDir('imprint-tls-files-');
      named = await pki.ca.issue('named', { dns: ['imprint.test'] });
      fs.copyFileSync(named.certFile, certFile());
      fs.copyFileSync(named.keyFile, keyFile());
      consume = await startImprintServer({ dataDir: tempDir(), port: 0, log: silentLogger, role: 'consume', metricsPort: 0, tls: { certFile: certFile(), keyFile: keyFile(), reloadMs: 20 } });
    }, 60_000);
    afterAll(async () => {
      await consume?.stop({ drain: false });
    });

    it('is refused by a client that dials 127.0.0.1, and answers with the server name override', async () => {
      const refused = await failure(client(consume.port, { ca: pki.ca.ca }).getTopic('x'));
      expect(refused.code).toBe('UNAVAILABLE');
      expect(refused.message).toContain("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list");
      const c = client(consume.port, { ca: pki.ca.ca, serverName: 'imprint.test' });
      // Answered over TLS by the consume role's own listener (TCP_NODELAY): the topic is unknown.
      expect((await failure(c.getTopic('x'))).code).toBe('NOT_FOUND');
      const polled = await c.batchPoll({ app: 'scorer', cluster: '', region: '', nodeId: 'n1', labels: {} }, [{ topic: 'x', lastSeen: 0n }]);
      expect(polled[0]?.error?.code).toBe('NOT_FOUND');
    });

    /** GET /metrics over HTTPS: "STATUS BODY". */
    const scrape = () =>
      new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: consume.metricsServer?.port, path: '/metrics', ca: pki.ca.ca, servername: 'imprint.test' }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => resolve(`${res.statusCode} ${text}`));
          })
          .on('error', reject);
      });
    /** imprint_tls_certificate_expiry_timestamp_seconds as scraped. */
    const expiry = async () => Number(/^imprint_tls_certificate_expiry_timestamp_seconds (\S+)$/m.exec(await scrape())?.[1]);

    it('serves metrics over HTTPS with the same certificate, and its notAfter as a metric', async () => {
      expect(consume.metricsServer?.scheme).toBe('https');
      const body = await scrape();
      expect(body).toMatch(/^200 /);
      expect(body).toContain('imprint_consume_requests_total');
      expect(await expiry()).toBe(new Date(new crypto.X509Certificate(named.cert).validTo).getTime() / 1000);
    });

    it('serves a changed certificate to new connections without a restart, and keeps the last good one when the files do not load', async () => {
      const tlsFiles = consume.tls;
      if (!tlsFiles) throw new Error('no TLS on the server');
      const before = await servedSerial(consume.port, pki.ca.ca, 'imprint.test');
      expect(before.toLowerCase()).toBe(tlsFiles.current.serialNumber.toLowerCase());
      // 1. A key that is not the certificate's: refused, the previous certificate still served.
      const failed = once(tlsFiles, 'reload-failed');
      fs.copyFileSync(clients.uri.keyFile, keyFile());
      const [{ error }] = (await failed) as [{ error: Error }];
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toContain("must be the private key of --tls-cert's certificate");
      expect(await servedSerial(consume.port, pki.ca.ca, 'imprint.test')).toBe(before);
      // 2. A renewed certificate and its key: new connections get it.
      const renewed = await pki.ca.issue('renewed', { dns: ['imprint.test'], days: 2 });
      const reloaded = once(tlsFiles, 'reloaded');
      fs.copyFileSync(renewed.certFile, certFile());
      fs.copyFileSync(renewed.keyFile, keyFile());
      const [m] = (await reloaded) as [TlsMaterial];
      const after = await servedSerial(consume.port, pki.ca.ca, 'imprint.test');
      expect(after).not.toBe(before);
      expect(after.toLowerCase()).toBe(m.serialNumber.toLowerCase());
      // gRPC and metrics alike.
      expect((await failure(client(consume.port, { ca: pki.ca.ca, serverName: 'imprint.test' }).getTopic('x'))).code).toBe('NOT_FOUND');
      expect(await servedSerial(consume.metricsServer?.port ?? 0, pki.ca.ca, 'imprint.test', 'http/1.1')).toBe(after);
      // The expiry metric follows: the renewed certificate's notAfter, a day later than the first's.
      const renewedEnd = new Date(new crypto.X509Certificate(renewed.cert).validTo).getTime() / 1000;
      expect(renewedEnd).toBeGreaterThan(new Date(new crypto.X509Certificate(named.cert).validTo).getTime() / 1000);
      expect(await expiry()).toBe(renewedEnd);
    });
  });

  describe('binding a non-loopback address', () => {
    it('needs TLS or insecure; insecure logs a warning', async () => {
      const err = (() => {
        try {
          withDefaults({ host: '0.0.0.0' });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).message).toContain('host is not a loopback address: serving other machines needs TLS (--tls-cert and --tls-key');
      expect((err as InvalidArgumentError).message).toContain('--insecure');
      for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(withDefaults({ host }).insecure).toBe(false);
      expect(withDefaults({ host: '0.0.0.0', tls: { certFile: 'c.pem', keyFile: 'k.pem' } }).insecure).toBe(false);

      const lines: string[] = [];
      const destination: LogDestination = { write: (l: string) => void lines.push(l) };
      const s = await startImprintServer({ dataDir: tempDir(), host: '0.0.0.0', port: 0, insecure: true, log: createLogger({ format: 'json', destination }) });
      await s.stop({ drain: false });
      const warning = lines.map((l) => JSON.parse(l) as { level: string; msg: string; host?: string }).find((l) => l.level === 'warn');
      expect(warning).toMatchObject({ host: '0.0.0.0' });
      expect(warning?.msg).toContain('serving plaintext to other machines (insecure)');
    });
  });
});
