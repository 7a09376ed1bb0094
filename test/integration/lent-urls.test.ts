/**
 * Lent payload URLs against the embedded local blob store, through a real server: a caller
 * with only gRPC and plain fetch() publishes and fetches a payload; the service's own URLs
 * check the bytes, expire, and name one object; the calls are checked and authorized like
 * Publish and GetVersion; and the TypeScript client without a blob store uses them.
 * test/backends/s3-lent-urls.test.ts tells the same story against MinIO.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, Publisher, Subscriber } from '../../client/index.js';
import { sha256Hex } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { authenticate, caller, clientsFor, closeClients } from '../access-calls.js';
import { failure, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';

const bytes = randomBytes(3 * 1024 * 1024);
const sha256 = sha256Hex(bytes);

describe('lent payload URLs on the embedded local store', () => {
  let t: TestServer;
  /** Added to the server's clock: a test moves time past an expiry without sleeping. */
  let skew = 0;

  beforeAll(async () => {
    t = await startTestServer({ httpPort: 0, clock: () => Date.now() + skew });
    for (const name of ['model', 'other', 'small']) await t.client.createTopic({ name });
  });
  afterAll(async () => {
    await t.stop();
  });

  const put = (url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> => fetch(url, { method: 'PUT', body, headers });

  it('publishes 3 MB through BeginUpload, a plain PUT and Publish, and fetches it through GetDownload and a plain GET, byte for byte', async () => {
    // 1. Upload.
    const lent = await t.client.beginUpload('model', bytes.length, sha256);
    expect(lent.targets).toHaveLength(1);
    const [target] = lent.targets;
    expect(target?.multipart).toBe(false);
    expect(lent.pointer.locations[0]?.key).toMatch(/^model\/\d{4}-\d{2}-\d{2}T\d{9}Z-[0-9a-f-]{36}$/);
    expect(lent.expiresAtMs).toBeGreaterThan(Date.now());
    const part = target?.parts[0];
    expect(part?.url.startsWith(`http://127.0.0.1:${t.server.http?.port}/blobs/`)).toBe(true);
    const res = await put(part?.url ?? '', bytes);
    expect(res.status).toBe(200);
    // 2. Publish the pointer as given.
    const published = await t.client.publishPointer('model', lent.pointer);
    // 3. Download.
    const down = await t.client.getDownload('model', published.version);
    expect([down.size, down.sha256, down.urls.map((u) => u.region)]).toEqual([bytes.length, sha256, ['local']]);
    const got = await fetch(down.urls[0]?.url ?? '');
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    // 4. A range, and HEAD.
    const ranged = await fetch(down.urls[0]?.url ?? '', { headers: { range: 'bytes=1000-1999' } });
    expect([ranged.status, ranged.headers.get('content-range')]).toEqual([206, `bytes 1000-1999/${bytes.length}`]);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
    const tail = await fetch(down.urls[0]?.url ?? '', { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    const past = await fetch(down.urls[0]?.url ?? '', { headers: { range: `bytes=${bytes.length}-` } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${bytes.length}`]);
    const head = await fetch(down.urls[0]?.url ?? '', { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(bytes.length)]);
  });

  it('refuses a PUT of other bytes (400 naming sha256 or size, nothing stored), and then the Publish of its pointer: no version', async () => {
    const lent = await t.client.beginUpload('model', bytes.length, sha256);
    const url = lent.targets[0]?.parts[0]?.url ?? '';
    const other = Buffer.from(bytes);
    other[12345] = (other[12345] ?? 0) ^ 0xff;
    const wrong = await put(url, other);
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'sha256' });
    const short = await put(url, bytes.subarray(1));
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'size' });
    const before = (await t.client.listVersions('model')).versions.length;
    const err = await failure(t.client.publishPointer('model', lent.pointer));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/must name an object that exists/);
    expect((await t.client.listVersions('model')).versions.length).toBe(before);
  });

  it('answers 403 to an expired URL', async () => {
    const lent = await t.client.beginUpload('model', bytes.length, sha256);
    skew += 16 * 60 * 1000; // past the default 15-minute expiry
    try {
      const res = await put(lent.targets[0]?.parts[0]?.url ?? '', bytes);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toMatch(/expired at/);
    } finally {
      skew -= 16 * 60 * 1000;
    }
  });

  it('answers 403 to a tampered URL, and a URL for one key cannot write another or be used to read', async () => {
    const lent = await t.client.beginUpload('model', 10, sha256Hex(Buffer.from('0123456789')));
    const url = new URL(lent.targets[0]?.parts[0]?.url ?? '');
    const tampered = new URL(url);
    tampered.searchParams.set('size', '11');
    expect((await put(tampered.toString(), Buffer.from('01234567890'))).status).toBe(403);
    const badSig = new URL(url);
    const sig = url.searchParams.get('sig') ?? '';
    badSig.searchParams.set('sig', `${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`); // another first character, whatever it was
    expect((await put(badSig.toString(), Buffer.from('0123456789'))).status).toBe(403);
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace(/\/model\/[^/]+$/, '/model/chosen-by-caller');
    expect((await put(otherKey.toString(), Buffer.from('0123456789'))).status).toBe(403);
    const otherTopic = new URL(url);
    otherTopic.pathname = otherTopic.pathname.replace('/model/', '/other/');
    otherTopic.searchParams.set('topic', 'other');
    expect((await put(otherTopic.toString(), Buffer.from('0123456789'))).status).toBe(403);
    // The PUT URL is not a GET URL.
    expect((await fetch(url)).status).toBe(403);
  });

  it('answers no URLs for a direct payload', async () => {
    const v = await t.client.publishPointer('small', { kind: 'direct', size: 2, sha256: sha256Hex(Buffer.from('hi')), bytes: Buffer.from('hi') });
    const down = await t.client.getDownload('small', v.version);
    expect([down.urls, down.size, down.expiresAtMs]).toEqual([[], 2, 0]);
  });

  it('checks its input like Publish, naming the wire field, and refuses deleted or unknown topics', async () => {
    const bad: [Promise<unknown>, string, RegExp][] = [
      [t.client.beginUpload('model', bytes.length, 'ABC'), 'INVALID_ARGUMENT', /^sha256 must be 64 lowercase hex digits/],
      [t.client.beginUpload('model', 0, sha256), 'INVALID_ARGUMENT', /^size /],
      [t.client.beginUpload('model', bytes.length, sha256, 1024), 'INVALID_ARGUMENT', /^part_size /],
      [t.client.beginUpload('Not A Topic', bytes.length, sha256), 'INVALID_ARGUMENT', /^topic /],
      [t.client.beginUpload('nope', bytes.length, sha256), 'FAILED_PRECONDITION', /cannot begin an upload to topic "nope": it does not exist/],
      [t.client.getDownload('model', 999n), 'NOT_FOUND', /version 999/],
    ];
    for (const [p, code, message] of bad) {
      const err = await failure(p);
      expect([err.code, err.message]).toEqual([code, expect.stringMatching(message)]);
    }
    await t.client.createTopic({ name: 'gone' });
    await t.client.deleteTopic('gone', 'test');
    const gone = await failure(t.client.beginUpload('gone', bytes.length, sha256));
    expect([gone.code, gone.message]).toEqual(['FAILED_PRECONDITION', expect.stringMatching(/deleted/)]);
  });

  it("refuses to complete another topic's upload or a forged upload_id", async () => {
    const lent = await t.client.beginUpload('model', bytes.length, sha256);
    const other = await failure(t.client.completeUpload('other', lent.uploadId, []));
    expect([other.code, other.message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/^upload_id must be an upload begun for topic "other"/)]);
    const [body] = lent.uploadId.split('.');
    const forged = await failure(t.client.completeUpload('model', `${body}.AAAA`, []));
    expect([forged.code, forged.message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/^upload_id must be a BeginUpload answer's upload_id/)]);
  });

  it('the TypeScript client without a blob store publishes and subscribes 3 MB through the lent URLs', async () => {
    const client = new ImprintClient({ address: t.address });
    const subscriber = new Subscriber({ client, identity: identity({ app: 'lent' }), intervalMs: 100 });
    try {
      const progress: number[] = [];
      const published = await new Publisher({ client }).publish('model', bytes, { onProgress: (p) => progress.push(p.bytes) });
      expect(published.pointer.kind).toBe('blob');
      expect(progress.at(-1)).toBe(bytes.length);
      const sub = subscriber.subscribe('model', { decode: (b) => b });
      await sub.ready();
      expect(sub.version).toBe(published.version);
      expect(Buffer.from(sub.current ?? []).equals(bytes)).toBe(true);
      // A file path and a stream take the same road.
      const fromStream = await new Publisher({ client }).publish('model', (await import('node:stream')).Readable.from([bytes.subarray(0, 2_000_000), bytes.subarray(2_000_000)]));
      expect((await subscriber.downloadVersion('model', fromStream.version)).bytes.equals(bytes)).toBe(true);
    } finally {
      subscriber.close();
      client.close();
    }
  });
});

describe('lent payload URLs: where they cannot be lent, and who may ask', () => {
  it('a local store without an HTTP server answers FAILED_PRECONDITION naming --http-port', async () => {
    const t = await startTestServer();
    try {
      await t.client.createTopic({ name: 'model' });
      const err = await failure(t.client.beginUpload('model', bytes.length, sha256));
      expect([err.code, err.message]).toEqual(['FAILED_PRECONDITION', expect.stringMatching(/--http-port/)]);
    } finally {
      await t.stop();
    }
  });

  it('instances sharing a secret (--lend-secret-file) and a blob directory serve one another\'s URLs; another secret answers 403', async () => {
    const blobs = tempDir();
    const secret = Buffer.from('a-secret-shared-by-instances');
    const { LocalBlobStore } = await import('../../client/index.js');
    const store = (): InstanceType<typeof LocalBlobStore> => new LocalBlobStore({ root: blobs });
    const a = await startTestServer({ httpPort: 0, blobStores: [store()], lend: { secret } });
    const b = await startTestServer({ httpPort: 0, blobStores: [store()], lend: { secret }, metadataStore: a.server.store });
    const c = await startTestServer({ httpPort: 0, blobStores: [store()], metadataStore: a.server.store });
    try {
      await a.client.createTopic({ name: 'model' });
      const lent = await a.client.beginUpload('model', bytes.length, sha256);
      const url = new URL(lent.targets[0]?.parts[0]?.url ?? '');
      const at = (s: TestServer): string => Object.assign(new URL(url), { port: String(s.server.http?.port) }).toString();
      expect((await fetch(at(c), { method: 'PUT', body: bytes })).status).toBe(403);
      expect((await fetch(at(b), { method: 'PUT', body: bytes })).status).toBe(200);
      expect((await b.client.publishPointer('model', lent.pointer)).version).toBe(1n);
    } finally {
      for (const s of [c, b, a]) await s.stop();
    }
  });

  describe('access control', () => {
    let server: ImprintServer;
    let clients: ReturnType<typeof clientsFor>;
    let rpc: ReturnType<typeof caller>;
    const topic = 'acl-lent';
    beforeAll(async () => {
      server = await startImprintServer({ dataDir: tempDir(), port: 0, httpPort: 0, log: silentLogger, authenticate, access: { consume: 'owners' } });
      clients = clientsFor(server.port);
      rpc = caller(clients);
      expect((await rpc('PublisherService', 'CreateTopic', { name: topic }, 'alice')).code).toBe(grpc.status.OK);
      expect((await rpc('OperatorService', 'GrantAccess', { topic, grant: { role: 'ROLE_CONSUMER', grantee: 'con' } }, 'alice')).code).toBe(grpc.status.OK);
    });
    afterAll(async () => {
      if (clients) closeClients(clients);
      await server?.stop({ drain: false });
    });

    it('BeginUpload and CompleteUpload need publish; GetDownload needs consume', async () => {
      const begin = { topic, size: bytes.length, sha256 };
      const denied = await rpc('PublisherService', 'BeginUpload', begin, 'con');
      expect([denied.code, denied.details]).toEqual([grpc.status.PERMISSION_DENIED, expect.stringMatching(/con.*publish.*acl-lent/)]);
      const ok = await rpc('PublisherService', 'BeginUpload', begin, 'alice');
      expect(ok.code).toBe(grpc.status.OK);
      const complete = await rpc('PublisherService', 'CompleteUpload', { topic, uploadId: ok.res['uploadId'] }, 'con');
      expect(complete.code).toBe(grpc.status.PERMISSION_DENIED);
      const url = ((ok.res['targets'] as { parts: { url: string }[] }[])[0]?.parts[0]?.url) ?? '';
      expect((await fetch(url, { method: 'PUT', body: bytes })).status).toBe(200);
      const published = await rpc('PublisherService', 'Publish', { topic, pointer: ok.res['pointer'] }, 'alice');
      expect(published.code).toBe(grpc.status.OK);
      const version = (published.res['record'] as { version: string }).version;
      expect((await rpc('ConsumerService', 'GetDownload', { topic, version }, 'con')).code).toBe(grpc.status.OK);
      expect((await rpc('ConsumerService', 'GetDownload', { topic, version }, 'eve')).code).toBe(grpc.status.PERMISSION_DENIED);
    });
  });
});
