/**
 * TLS from the command line: `imprint serve` with --tls-cert, --tls-key and --tls-client-ca
 * (mTLS, the principal from the client certificate), the client commands and `imprint health`
 * with --tls-ca, --tls-cert, --tls-key, --tls-server-name, metrics over HTTPS, grpcurl over TLS
 * with a client certificate, and the rule that a non-loopback --host needs TLS or --insecure
 * (serve and the janitor's metrics listener).
 */
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import https from 'node:https';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGrpcurl } from '../../scripts/tools.js';
import { makePki, type IssuedCert, type TestPki } from '../../scripts/certs.js';
import { CLI, runCli, startServe, stopProcess, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

const run = promisify(execFile);

describe('imprint with TLS', () => {
  let pki: TestPki;
  let scorer: IssuedCert;
  let serve: ServeProcess;
  const clientFlags = () => ['-a', serve.address, '--tls-ca', pki.ca.caFile, '--tls-cert', scorer.certFile, '--tls-key', scorer.keyFile];

  beforeAll(async () => {
    pki = await makePki(tempDir('imprint-pki-'));
    scorer = await pki.ca.issue('scorer', { uris: ['spiffe://imprint.test/scorer'] });
    serve = await startServe(tempDir(), ['--tls-cert', pki.server.certFile, '--tls-key', pki.server.keyFile, '--tls-client-ca', pki.ca.caFile, '--metrics-port', '0']);
  }, 120_000);
  afterAll(async () => {
    await serve?.stop();
  });

  it('serves mTLS: client commands present their certificate, and the history names its principal', async () => {
    expect(serve.output()).toContain('tls       mTLS: certificate');
    const created = await runCli([...clientFlags(), 'topic', 'create', 'tls-cli', '--owner', 'someone']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const history = await runCli([...clientFlags(), '--json', 'history', 'tls-cli']);
    expect(history.code).toBe(0);
    // The create, and the grants it starts with (its creator the owner, everyone a consumer), all by the certificate's principal.
    const changes = JSON.parse(history.stdout) as { kind: string; by: unknown }[];
    expect(changes.map((c) => c.kind).sort()).toEqual(['create-topic', 'grant', 'grant']);
    for (const c of changes) expect(c.by).toMatchObject({ principal: 'spiffe://imprint.test/scorer', authenticated: true });
    // The same flags from the environment.
    const env = { IMPRINT_ADDRESS: serve.address, IMPRINT_TLS_CA: pki.ca.caFile, IMPRINT_TLS_CERT: scorer.certFile, IMPRINT_TLS_KEY: scorer.keyFile };
    expect((await runCli(['health'], env)).stdout.trim()).toBe('SERVING');
  });

  it('is refused without the CA, without a client certificate, and for a name the certificate does not carry', async () => {
    const plain = await runCli(['-a', serve.address, 'health', '--timeout-ms', '3000']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('UNAVAILABLE');
    const noCert = await runCli(['-a', serve.address, '--tls-ca', pki.ca.caFile, 'topic', 'describe', 'tls-cli']);
    expect(noCert.code).toBe(1);
    expect(noCert.stderr).toContain('certificate required');
    const wrongName = await runCli([...clientFlags(), '--tls-server-name', 'not-the-server.test', 'health', '--timeout-ms', '3000']);
    expect(wrongName.code).toBe(1);
    const rightName = await runCli([...clientFlags(), '--tls-server-name', 'imprint.test', 'health']);
    expect(rightName.stdout.trim()).toBe('SERVING');
    const halfPair = await runCli(['-a', serve.address, '--tls-cert', scorer.certFile, 'health']);
    expect(halfPair.code).toBe(2);
    expect(halfPair.stderr).toContain('--tls-key must be given with the other (--tls-cert and --tls-key)');
  });

  it('refuses to start with TLS files that do not load, naming the flag', async () => {
    const mismatched = await runCli(['--data-dir', tempDir(), '--tls-cert', pki.server.certFile, '--tls-key', scorer.keyFile, 'serve', '--port', '0']);
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain("imprint: invalid argument: tls-key must be the private key of --tls-cert's certificate");
    const missing = await runCli(['--data-dir', tempDir(), '--tls-cert', '/nonexistent/server.pem', '--tls-key', scorer.keyFile, 'serve', '--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('imprint: invalid argument: tls-cert must be a readable PEM file: ENOENT');
    const notCa = await runCli(['--data-dir', tempDir(), '--tls-cert', pki.server.certFile, '--tls-key', pki.server.keyFile, 'serve', '--port', '0', '--tls-client-ca', scorer.keyFile]);
    expect(notCa.code).toBe(2);
    expect(notCa.stderr).toContain('imprint: invalid argument: tls-client-ca must hold PEM CA certificates');
    const caOnly = await runCli(['--data-dir', tempDir(), 'serve', '--port', '0', '--tls-client-ca', pki.ca.caFile]);
    expect(caOnly.code).toBe(2);
    expect(caOnly.stderr).toContain('--tls-client-ca needs --tls-cert and --tls-key');
  });

  it('serves metrics over HTTPS', async () => {
    expect(serve.metricsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      https.get(serve.metricsUrl as string, { ca: pki.ca.ca }, (res) => resolve(res.resume().statusCode)).on('error', reject);
    });
    expect(status).toBe(200);
  });

  it("serves the janitor's metrics and /healthz over HTTPS on a non-loopback host", async () => {
    const proc = spawn(process.execPath, [CLI, '--data-dir', tempDir(), '--tls-cert', pki.server.certFile, '--tls-key', pki.server.keyFile, 'janitor', '--snapshot-every', '1h', '--host', '0.0.0.0', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const port = await new Promise<number>((resolve, reject) => {
        const onData = (b: Buffer) => {
          output += b.toString();
          const m = /"metrics":"https:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(output);
          if (m?.[1]) resolve(Number(m[1]));
        };
        proc.stdout.on('data', onData);
        proc.stderr.on('data', onData);
        proc.on('exit', (code) => reject(new Error(`janitor exited with ${code}:\n${output}`)));
      });
      const status = await new Promise<number | undefined>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: '/healthz', ca: pki.ca.ca }, (res) => resolve(res.resume().statusCode)).on('error', reject);
      });
      expect(status).toBe(200);
      // Its certificate's end, as a metric.
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/metrics', ca: pki.ca.ca }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      const end = new Date(new crypto.X509Certificate(pki.server.cert).validTo).getTime() / 1000;
      expect(body).toContain(`\nimprint_tls_certificate_expiry_timestamp_seconds ${end}\n`);
    } finally {
      expect(await stopProcess(proc)).toBe(0);
    }
  });

  it('answers grpcurl over TLS with a client certificate: list and GetTopic', async () => {
    const grpcurl = await ensureGrpcurl();
    const tlsArgs = ['-cacert', pki.ca.caFile, '-cert', scorer.certFile, '-key', scorer.keyFile];
    const services = (await run(grpcurl, [...tlsArgs, serve.address, 'list'])).stdout.trim().split('\n');
    expect(services).toEqual(expect.arrayContaining(['imprint.v1.ConsumerService', 'imprint.v1.PublisherService', 'imprint.v1.OperatorService']));
    const topic = JSON.parse((await run(grpcurl, [...tlsArgs, '-d', '{"name":"tls-cli"}', serve.address, 'imprint.v1.ConsumerService/GetTopic'])).stdout) as { topic: { name: string } };
    expect(topic.topic.name).toBe('tls-cli');
    await expect(run(grpcurl, ['-cacert', pki.ca.caFile, serve.address, 'list'])).rejects.toThrow();
  }, 600_000);
});

describe('a non-loopback host without TLS', () => {
  it('serve exits 2 naming the flags; with --insecure it serves and warns', async () => {
    const refused = await runCli(['--data-dir', tempDir(), 'serve', '--port', '0', '--host', '0.0.0.0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('imprint: invalid argument: host is not a loopback address: serving other machines needs TLS (--tls-cert and --tls-key, IMPRINT_TLS_CERT and IMPRINT_TLS_KEY) or, to serve them plaintext, an explicit --insecure (IMPRINT_INSECURE=true) (got "0.0.0.0")');
    const s = await startServe(tempDir(), ['--host', '0.0.0.0'], { IMPRINT_INSECURE: 'true' });
    try {
      expect(s.output()).toContain('serving plaintext to other machines (insecure)');
      expect(s.output()).toContain('tls       OFF on a non-loopback address (--insecure)');
    } finally {
      await s.stop();
    }
  });

  it("the janitor's metrics listener exits 2 the same way", async () => {
    const refused = await runCli(['--data-dir', tempDir(), 'janitor', '--host', '0.0.0.0', '--metrics-port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('host is not a loopback address');
  });
});
