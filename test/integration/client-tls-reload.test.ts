/**
 * A client given TLS files (tls.caFile, certFile, keyFile) reads them again when they change,
 * and its new connections use the new set: a real TLS server whose CA rotates (the server
 * restarted on the same port with a certificate of a new CA) is refused by a client that
 * still trusts only the old CA, and reached by the same client once its CA file holds both;
 * a bad file is left out and the last good set kept. A client certificate renewed in place is
 * sent on the next connection to an mTLS server. Certificates are made by the openssl CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, channelCredentials } from '../../client/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { eventually } from '../access-calls.js';
import { makeCa, type IssuedCert, type TestCa } from '../../scripts/certs.js';
import { tempDir } from '../helpers.js';

/** Writes `text` to `file` as a rotation does: a new file renamed into place. */
function replace(file: string, text: string): void {
  fs.writeFileSync(`${file}.new`, text);
  fs.renameSync(`${file}.new`, file);
}

const reachable = (c: ImprintClient) =>
  c.listTopics().then(
    () => true,
    () => false,
  );

describe('a client that reads its TLS files again when they change', () => {
  const dir = tempDir();
  let oldCa: TestCa;
  let newCa: TestCa;
  let oldServer: IssuedCert;
  let newServer: IssuedCert;
  const servers: ImprintServer[] = [];
  const clients: ImprintClient[] = [];

  beforeAll(async () => {
    [oldCa, newCa] = await Promise.all([makeCa(path.join(dir, 'old-ca'), 'Old CA'), makeCa(path.join(dir, 'new-ca'), 'New CA')]);
    [oldServer, newServer] = await Promise.all([oldCa.issue('server', { dns: ['localhost'], ips: ['127.0.0.1'] }), newCa.issue('server', { dns: ['localhost'], ips: ['127.0.0.1'] })]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop({ drain: false });
  });

  const serve = async (cert: IssuedCert, port: number, clientCaFile?: string) => {
    const s = await startImprintServer({ dataDir: tempDir(), port, log: silentLogger, tls: { certFile: cert.certFile, keyFile: cert.keyFile, ...(clientCaFile && { clientCaFile }) } });
    servers.push(s);
    return s;
  };
  const client = (c: ImprintClient) => (clients.push(c), c);

  it('the CA rotates: refused while the file trusts the old CA only, reached once it holds the new one; a bad file keeps the last good set', async () => {
    const caFile = path.join(dir, 'trusted-cas.pem');
    fs.writeFileSync(caFile, oldCa.ca);
    const first = await serve(oldServer, 0);
    const port = first.port;
    const reloading = client(new ImprintClient({ address: `127.0.0.1:${port}`, deadlineMs: 3_000, maxReconnectBackoffMs: 200, tls: { caFile, reloadMs: 20 } }));
    const fixed = client(new ImprintClient({ address: `127.0.0.1:${port}`, deadlineMs: 3_000, maxReconnectBackoffMs: 200, tls: { ca: oldCa.ca } }));
    expect(await reachable(reloading)).toBe(true);
    expect(await reachable(fixed)).toBe(true);

    // 1. The server moves to a certificate of the new CA (restarted on the same port): new connections.
    await first.stop({ drain: false });
    await serve(newServer, port);
    expect(await reachable(reloading)).toBe(false);
    expect(await reachable(fixed)).toBe(false);

    // 2. The client's CA file gets both CAs: it is read again, and the next connection is accepted.
    const reloaded = new Promise<void>((resolve) => reloading.tlsFiles?.once('reloaded', () => resolve()));
    replace(caFile, `${oldCa.ca}${newCa.ca}`);
    await reloaded;
    expect(reloading.tlsFiles?.reloads).toBe(1);
    await eventually('the reloading client reaches the server of the new CA', () => reachable(reloading));
    expect(await reachable(fixed)).toBe(false); // PEM contents are not read again

    // 3. A bad CA file is left out (reload-failed); the last good set stays.
    const failed = new Promise<unknown>((resolve) => reloading.tlsFiles?.once('reload-failed', resolve));
    replace(caFile, 'not a certificate');
    expect(await failed).toMatchObject({ field: 'tls.caFile' });
    expect([reloading.tlsFiles?.reloads, reloading.tlsFiles?.failedReloads]).toEqual([1, 1]);
    expect(await reachable(reloading)).toBe(true);
  }, 60_000);

  it('mTLS: a client certificate renewed in place (new key too) is sent on the next connection', async () => {
    // The renewed certificate is of the new CA, the only one the restarted server accepts: reaching it proves it was sent.
    const [c1, c2] = [await oldCa.issue('client-1', { cn: 'scorer' }), await newCa.issue('client-2', { cn: 'scorer' })];
    const certFile = path.join(dir, 'client.pem');
    const keyFile = path.join(dir, 'client-key.pem');
    fs.writeFileSync(certFile, c1.cert);
    fs.writeFileSync(keyFile, c1.key);
    const server = await serve(oldServer, 0, oldCa.caFile);
    const c = client(new ImprintClient({ address: `127.0.0.1:${server.port}`, deadlineMs: 3_000, maxReconnectBackoffMs: 200, tls: { caFile: oldCa.caFile, certFile, keyFile, reloadMs: 20 } }));
    expect(await reachable(c)).toBe(true);
    // The certificate first, then its key: the half-written pair is refused, the whole one taken.
    const failed = new Promise<unknown>((resolve) => c.tlsFiles?.once('reload-failed', resolve));
    replace(certFile, c2.cert);
    expect(await failed).toMatchObject({ field: 'tls.keyFile' });
    const reloaded = new Promise<void>((resolve) => c.tlsFiles?.once('reloaded', () => resolve()));
    replace(keyFile, c2.key);
    await reloaded;
    // A new connection (the server restarted on its port) shows the renewed certificate to the server.
    await servers.at(-1)?.stop({ drain: false });
    await serve(oldServer, server.port, newCa.caFile);
    await eventually('the client reconnects with its renewed certificate', () => reachable(c));
  }, 60_000);

  it('refuses file options that do not go together, naming them', () => {
    expect(() => channelCredentials({ ca: oldCa.ca, caFile: oldCa.caFile })).toThrow(/^tls\.ca cannot go with tls\.caFile, tls\.certFile or tls\.keyFile: give tls\.caFile instead/);
    expect(() => channelCredentials({ ca: oldCa.ca, reloadMs: 100 })).toThrow(/^tls\.reloadMs goes with tls\.caFile/);
    expect(() => channelCredentials({ caFile: oldCa.caFile, reloadMs: 5 })).toThrow(/^tls\.reloadMs must be a whole number of ms from 10 to 3600000/);
    expect(() => channelCredentials({ caFile: path.join(dir, 'nope.pem') })).toThrow(/^tls\.caFile must be a readable file/);
    expect(() => channelCredentials({ caFile: oldCa.caFile, certFile: oldServer.certFile })).toThrow(/^tls\.keyFile must be given with the other/);
  });
});
