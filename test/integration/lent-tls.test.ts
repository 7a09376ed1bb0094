/**
 * Lent payload URLs on a TLS server: the service serves them on its HTTPS port, under the same
 * certificate as its gRPC port, so a client that trusts the server's CA for its calls
 * (`tls.ca` / `tls.caFile`) trusts it for its payloads too: a Publisher with no blob store of
 * its own uploads over 1 MiB through the lent PUT URLs, and a Subscriber with none reads them
 * through the lent GET URLs, with no NODE_EXTRA_CA_CERTS.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, Publisher, Subscriber } from '../../client/index.js';
import { lentStores } from '../../client/lent.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { makePki, type TestPki } from '../../scripts/certs.js';
import { tempDir } from '../helpers.js';

describe('lent payload URLs over HTTPS', () => {
  let pki: TestPki;
  let server: ImprintServer;

  beforeAll(async () => {
    pki = await makePki(tempDir('imprint-pki-'));
    server = await startImprintServer({ dataDir: tempDir(), port: 0, httpPort: 0, log: silentLogger, tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile } });
  });
  afterAll(async () => {
    await server?.stop({ drain: false });
  });

  for (const how of ['ca', 'caFile'] as const) {
    it(`a 3 MiB payload goes up and comes down through them, the server's CA given as ${how}`, async () => {
      const tls = how === 'ca' ? { ca: pki.ca.ca } : { caFile: pki.ca.caFile };
      const client = new ImprintClient({ address: `127.0.0.1:${server.port}`, tls });
      const topic = `lent-tls-${how.toLowerCase()}`;
      const payload = crypto.randomBytes(3 * 1024 * 1024 + 5);
      try {
        await client.createTopic({ name: topic });
        const published = await new Publisher({ client }).publish(topic, payload);
        expect(published.pointer.kind).toBe('blob');
        const subscriber = new Subscriber({ client, identity: { app: 'tls-reader', cluster: 'c1', region: 'eu-west-1', nodeId: 'n1', labels: {} } });
        try {
          const sub = subscriber.subscribe(topic, { decode: (b) => b });
          await sub.ready();
          expect(sub.version).toBe(published.version);
          expect(Buffer.from(sub.current ?? []).equals(payload)).toBe(true);
        } finally {
          subscriber.close();
        }
        // The URLs are checked, not merely fetched: with another CA trusted, neither read path answers.
        const record = await client.getVersion(topic, published.version);
        const [store] = await lentStores({ getDownload: client.getDownload.bind(client), httpsCa: () => pki.otherCa.ca }, record);
        if (!store || record.pointer.kind !== 'blob') throw new Error('no lent store for the blob');
        const loc = record.pointer.locations[0]!;
        await expect(store.readInto(loc, { offset: 0, length: 10 }, Buffer.alloc(10))).rejects.toThrow(/certificate/);
        await expect(store.get(loc, { range: { offset: 0, length: 10 } })).rejects.toThrow(/certificate/);
      } finally {
        client.close();
      }
    });
  }
});
