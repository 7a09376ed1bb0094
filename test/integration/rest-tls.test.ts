/**
 * The REST/JSON API over HTTPS: with TLS (the server's certificate, no client certificate),
 * and with mTLS, where the principal is the client certificate's name as over gRPC (the HTTPS
 * server asks for a certificate; a request without a verified one is 401), from node's
 * https.request and from curl.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { certificateAuthenticator, combineAuthenticators, startImprintServer, type ImprintServer } from '../../server/index.js';
import { makePki, type IssuedCert, type TestPki } from '../../scripts/certs.js';
import { tempDir } from '../helpers.js';
import { restErrorOf, restPost } from '../rest-calls.js';

const run = promisify(execFile);

describe('REST over HTTPS', () => {
  let pki: TestPki;
  let scorer: IssuedCert;
  let stranger: IssuedCert;
  let mtls: ImprintServer;
  let tlsOnly: ImprintServer;
  const baseOf = (s: ImprintServer) => `https://127.0.0.1:${s.http?.port ?? 0}`;

  beforeAll(async () => {
    pki = await makePki(tempDir('imprint-pki-'));
    [scorer, stranger] = await Promise.all([pki.ca.issue('client-uri', { uris: ['spiffe://imprint.test/scorer'] }), pki.otherCa.issue('client-other', { uris: ['spiffe://imprint.test/scorer'] })]);
    const tls = { certFile: pki.server.certFile, keyFile: pki.server.keyFile };
    [mtls, tlsOnly] = await Promise.all([
      startImprintServer({
        dataDir: tempDir(),
        port: 0,
        httpPort: 0,
        log: silentLogger,
        tls: { ...tls, clientCaFile: pki.ca.caFile },
        authenticate: combineAuthenticators({ certificate: certificateAuthenticator() }),
      }),
      startImprintServer({ dataDir: tempDir(), port: 0, httpPort: 0, log: silentLogger, tls }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await mtls?.stop({ drain: false });
    await tlsOnly?.stop({ drain: false });
  });

  it('TLS: answers over HTTPS with the server certificate', async () => {
    expect(tlsOnly.http?.scheme).toBe('https');
    const a = await restPost(baseOf(tlsOnly), '/v1/publisher/CreateTopic', { name: 'over-tls', owner: 'trust' }, { ca: pki.ca.ca });
    expect(a.status, a.text).toBe(200);
    expect(a.json).toMatchObject({ topic: { name: 'over-tls' } });
  });

  it("mTLS: the principal is the client certificate's name, as over gRPC", async () => {
    const a = await restPost(baseOf(mtls), '/v1/publisher/CreateTopic', { name: 'over-mtls', owner: 'claimed' }, { ca: pki.ca.ca, cert: scorer.cert, key: scorer.key });
    expect(a.status, a.text).toBe(200);
    const history = await mtls.service.listHistory('over-mtls', 10, undefined);
    expect(history.changes[0]?.by).toMatchObject({ principal: 'spiffe://imprint.test/scorer', authenticated: true });
  });

  it('mTLS: a request without a certificate, or with one the client CA did not sign, is 401', async () => {
    const none = await restPost(baseOf(mtls), '/v1/consumer/ListTopics', {}, { ca: pki.ca.ca });
    expect(none.status).toBe(401);
    expect(restErrorOf(none)).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('requires a client certificate its CA signed (mTLS)') });
    const other = await restPost(baseOf(mtls), '/v1/consumer/ListTopics', {}, { ca: pki.ca.ca, cert: stranger.cert, key: stranger.key });
    expect(other.status).toBe(401);
  });

  it('mTLS with no authenticator (the transport alone, like the gRPC handshake): REST without a verified certificate is 401, with one it answers', async () => {
    const transportOnly = await startImprintServer({ dataDir: tempDir(), port: 0, httpPort: 0, log: silentLogger, tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.caFile } });
    try {
      const none = await restPost(baseOf(transportOnly), '/v1/consumer/ListTopics', {}, { ca: pki.ca.ca });
      expect([none.status, restErrorOf(none).code]).toEqual([401, 'UNAUTHENTICATED']);
      const other = await restPost(baseOf(transportOnly), '/v1/consumer/ListTopics', {}, { ca: pki.ca.ca, cert: stranger.cert, key: stranger.key });
      expect(other.status).toBe(401);
      const good = await restPost(baseOf(transportOnly), '/v1/consumer/ListTopics', {}, { ca: pki.ca.ca, cert: scorer.cert, key: scorer.key });
      expect(good.status, good.text).toBe(200);
    } finally {
      await transportOnly.stop({ drain: false });
    }
  });

  it('curl alone: publish a direct payload and poll it over mTLS', async () => {
    const curl = (path: string, body: unknown) =>
      run('curl', ['-sS', '--fail-with-body', '--cacert', pki.ca.caFile, '--cert', scorer.certFile, '--key', scorer.keyFile, '-H', 'content-type: application/json', '-d', JSON.stringify(body), `${baseOf(mtls)}${path}`]);
    await curl('/v1/publisher/CreateTopic', { name: 'by-curl', owner: 'trust' });
    const payload = Buffer.from('hello from curl');
    const published = JSON.parse((await curl('/v1/publisher/Publish', { topic: 'by-curl', pointer: { size: payload.length, sha256: sha256Hex(payload), direct: payload.toString('base64') } })).stdout) as { record: { version: string } };
    expect(published.record.version).toBe('1');
    const polled = JSON.parse((await curl('/v1/consumer/Poll', { topic: 'by-curl', identity: { app: 'spiffe://imprint.test/scorer' } })).stdout) as { update: { record: { pointer: { direct: string } } } };
    expect(Buffer.from(polled.update.record.pointer.direct, 'base64').toString()).toBe('hello from curl');
  });
});
