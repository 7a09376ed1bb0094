/**
 * Ranged GETs read straight into the destination (client/range-get.ts) and the stores that use
 * them through readInto: hand-written node:net servers (real sockets) for what a server may get
 * wrong (short and long bodies, a wrong Content-Range, chunked, a reset, an idle socket closed
 * under us), keep-alive reuse and abort counted in sockets; fetchPayload through LentBlobStore
 * byte for byte at part boundaries; and the service's own lent URLs. The same reads from MinIO:
 * test/backends/s3-ranged-fetch.test.ts.
 */
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ImprintClient, Publisher, fetchPayload } from '../../client/index.js';
import { LentBlobStore, LentUrlError, lentStores } from '../../client/lent.js';
import { RangeGetError, RangeGetter } from '../../client/range-get.js';
import { DataIntegrityError, UnavailableError, recordDigest, sha256Hex, type BlobLocation, type VersionRecord } from '../../core/index.js';
import { makePki } from '../../scripts/certs.js';
import { startTestServer, tempDir, until } from '../helpers.js';

const KiB = 1024;

interface RawServer {
  readonly url: URL;
  /** Sockets accepted so far. */
  opened(): number;
  /** Sockets open now. */
  open(): number;
  close(): Promise<void>;
}

/**
 * A node:net server that gives every request head to `answer` with the request's number on its
 * socket (0 for the first) and its number on the server.
 */
async function rawServer(answer: (socket: net.Socket, head: string, onSocket: number, onServer: number) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  let opened = 0;
  let requests = 0;
  const server = net.createServer((s) => {
    opened++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let pending = '';
    let onSocket = 0;
    s.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        answer(s, head, onSocket++, requests++);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/blob?sig=x`),
    opened: () => opened,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The first and last byte a request head asks for. */
function rangeOf(head: string): [number, number] {
  const m = /\r\nRange: bytes=(\d+)-(\d+)/i.exec(head);
  if (!m) throw new Error(`no range in ${head}`);
  return [Number(m[1]), Number(m[2])];
}

/** An honest answer for `bytes`: 206 with the bytes asked (fewer where the object ends), 416 past the end. */
function honest(bytes: Buffer, socket: net.Socket, head: string): void {
  const [a, b] = rangeOf(head);
  if (a >= bytes.length) return void socket.write(`HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */${bytes.length}\r\nContent-Length: 0\r\n\r\n`);
  const body = bytes.subarray(a, Math.min(b + 1, bytes.length));
  socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${a}-${a + body.length - 1}/${bytes.length}\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
}

const head206 = (a: number, length: number, total: number, extra = ''): string => `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${a}-${a + length - 1}/${total}\r\nContent-Length: ${length}\r\n${extra}\r\n`;

/** A blob record of `bytes` at one location of a lent store. */
function recordOf(bytes: Buffer, loc: BlobLocation): VersionRecord {
  const fields = { topic: 'model', version: 1n, publishedAtMs: 0, metadata: {}, pointer: { kind: 'blob' as const, size: bytes.length, sha256: sha256Hex(bytes), locations: [loc] } };
  return { ...fields, scopes: [{}], digest: recordDigest(fields) };
}

const loc: BlobLocation = { kind: 's3', region: 'r1', bucket: 'b', key: 'model/1' };

describe('ranged GETs into the destination', () => {
  const servers: RawServer[] = [];
  const getters: RangeGetter[] = [];
  const serve = async (answer: Parameters<typeof rawServer>[0]): Promise<RawServer> => {
    const s = await rawServer(answer);
    servers.push(s);
    return s;
  };
  const getter = (): RangeGetter => {
    const g = new RangeGetter();
    getters.push(g);
    return g;
  };
  afterEach(async () => {
    for (const g of getters.splice(0)) g.close();
    for (const s of servers.splice(0)) await s.close();
  });

  it('reads ranges byte for byte, every read landing in place, over one kept-alive socket', async () => {
    const bytes = randomBytes(300 * KiB);
    const server = await serve((s, head) => honest(bytes, s, head));
    const g = getter();
    for (const [offset, length] of [[0, 1], [0, 100 * KiB], [100 * KiB, 200 * KiB], [299 * KiB, 2 * KiB]] as const) {
      const dest = Buffer.alloc(length);
      let told = 0;
      const answer = await g.get({ url: server.url, range: { offset, length }, dest, onBytes: (n) => (told += n) });
      const want = bytes.subarray(offset, offset + length);
      expect(answer).toEqual({ kind: 'body', length: want.length });
      expect(told).toBe(want.length);
      expect(dest.subarray(0, want.length).equals(want)).toBe(true);
    }
    // Past the end: 416, no bytes.
    expect(await g.get({ url: server.url, range: { offset: bytes.length, length: 1 }, dest: Buffer.alloc(1) })).toMatchObject({ kind: 'refused', status: 416 });
    expect([server.opened(), g.connections]).toEqual([1, 1]);
  });

  it('reads into a buffer over a SharedArrayBuffer (the hash worker\'s)', async () => {
    const bytes = randomBytes(2 * 1024 * KiB);
    const server = await serve((s, head) => honest(bytes, s, head));
    const dest = Buffer.from(new SharedArrayBuffer(bytes.length));
    expect(await getter().get({ url: server.url, range: { offset: 0, length: bytes.length }, dest })).toEqual({ kind: 'body', length: bytes.length });
    expect(dest.equals(bytes)).toBe(true);
  });

  it('over TLS: decrypted straight into the destination, the server checked against the CAs given', async () => {
    const pki = await makePki(tempDir());
    const bytes = randomBytes(600 * KiB);
    const server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
      const [a, b] = rangeOf(`\r\nRange: ${req.headers.range ?? ''}`);
      res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${bytes.length}`, 'content-length': b - a + 1 });
      res.end(bytes.subarray(a, b + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}/blob`);
      const g = new RangeGetter({ ca: pki.ca.ca });
      getters.push(g);
      const dest = Buffer.from(new SharedArrayBuffer(500 * KiB));
      expect(await g.get({ url, range: { offset: 100 * KiB, length: 500 * KiB }, dest })).toEqual({ kind: 'body', length: 500 * KiB });
      expect(dest.equals(bytes.subarray(100 * KiB))).toBe(true);
      // Node's CAs do not know this one.
      await expect(getter().get({ url, range: { offset: 0, length: 10 }, dest })).rejects.toThrow(/cannot be reached: .*(self-signed|unable to verify|issuer)/i);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a pooled socket the server closed while idle: the request is sent again, once, on a new socket', async () => {
    const bytes = randomBytes(10 * KiB);
    // The first request is answered; later ones on that socket find it closed (as a server's
    // keep-alive timeout does, racing the request). A new socket is answered unless `refuseAll`.
    let refuseAll = false;
    const server = await serve((s, head, onSocket) => {
      if (onSocket > 0 || refuseAll) return void s.destroy();
      honest(bytes, s, head);
    });
    const g = getter();
    const dest = Buffer.alloc(KiB);
    await g.get({ url: server.url, range: { offset: 0, length: KiB }, dest });
    expect(await g.get({ url: server.url, range: { offset: KiB, length: KiB }, dest })).toEqual({ kind: 'body', length: KiB });
    expect(dest.equals(bytes.subarray(KiB, 2 * KiB))).toBe(true);
    expect(server.opened()).toBe(2);
    // Once only: a new socket that fails too is the answer.
    refuseAll = true;
    await expect(g.get({ url: server.url, range: { offset: 0, length: KiB }, dest })).rejects.toThrow(/closed the connection before answering/);
    expect(server.opened()).toBe(3);
  });

  it('refuses what is not the range asked: a short body then close, a longer one, a wrong Content-Range, a chunked body, a reset', async () => {
    const bytes = randomBytes(8 * KiB);
    const cases: { what: string; answer: (s: net.Socket) => void; error: RegExp }[] = [
      { what: 'short', answer: (s) => s.end(Buffer.concat([Buffer.from(head206(0, 4 * KiB, bytes.length)), bytes.subarray(0, 1000)])), error: /closed the connection after 1000 of 4096 body bytes/ },
      { what: 'longer', answer: (s) => s.write(Buffer.concat([Buffer.from(head206(0, 4 * KiB, bytes.length)), bytes.subarray(0, 4 * KiB + 1)])), error: /sent more than the 4096 bytes of its Content-Length/ },
      { what: 'content-range', answer: (s) => s.write(Buffer.concat([Buffer.from(head206(1, 4 * KiB, bytes.length)), bytes.subarray(1, 4 * KiB + 1)])), error: /Content-Range "bytes 1-4096\/8192"/ },
      { what: 'chunked', answer: (s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'x'.repeat(1024)}\r\n0\r\n\r\n`), error: /Transfer-Encoding \(chunked\)/ },
      { what: 'no length', answer: (s) => s.end(`HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(100)}`), error: /no Content-Length/ },
      {
        what: 'reset',
        answer: (s) => {
          s.write(Buffer.concat([Buffer.from(head206(0, 4 * KiB, bytes.length)), bytes.subarray(0, 1000)]));
          setImmediate(() => s.resetAndDestroy());
        },
        error: /ECONNRESET|closed the connection after 1000 of 4096/,
      },
      { what: 'not http', answer: (s) => s.write('SSH-2.0-OpenSSH\r\n\r\n'), error: /not HTTP\/1\.1/ },
    ];
    for (const c of cases) {
      const server = await serve((s) => c.answer(s));
      const g = getter();
      const err = await g.get({ url: server.url, range: { offset: 0, length: 4 * KiB }, dest: Buffer.alloc(4 * KiB) }).catch((e: unknown) => e);
      expect(err, c.what).toBeInstanceOf(RangeGetError);
      expect((err as Error).message, c.what).toMatch(c.error);
      await until(`${c.what}: the socket closed`, () => g.openSockets === 0 && server.open() === 0);
    }
  });

  it('a body longer than the destination is not read: its length is the answer, and the socket is not kept', async () => {
    const bytes = randomBytes(8 * KiB);
    const server = await serve((s, head) => honest(bytes, s, head));
    const g = getter();
    let told = 0;
    expect(await g.get({ url: server.url, range: { offset: 0, length: 4 * KiB + 1 }, dest: Buffer.alloc(4 * KiB), onBytes: (n) => (told += n) })).toEqual({ kind: 'body', length: 4 * KiB + 1 });
    expect(told).toBe(0);
    await until('the socket closed', () => g.openSockets === 0 && server.open() === 0);
  });

  it('an abort mid-body fails the read with its reason and closes its socket; nothing is kept', async () => {
    const bytes = randomBytes(64 * KiB);
    // Half the body, then silence.
    const server = await serve((s) => s.write(Buffer.concat([Buffer.from(head206(0, bytes.length, bytes.length)), bytes.subarray(0, 32 * KiB)])));
    const g = getter();
    const abort = new AbortController();
    let told = 0;
    const read = g.get({
      url: server.url,
      range: { offset: 0, length: bytes.length },
      dest: Buffer.alloc(bytes.length),
      signal: abort.signal,
      onBytes: (n) => {
        told += n;
        if (told >= 32 * KiB) abort.abort(new Error('caller gave up'));
      },
    });
    await expect(read).rejects.toThrow('caller gave up');
    await until('every socket closed', () => g.openSockets === 0 && server.open() === 0);
  });

  it('an error status is an answer with the start of its body; through a lent store, the error a lent URL gives', async () => {
    const status = { code: 404, text: 'NoSuchKey' };
    const server = await serve((s) => s.write(`HTTP/1.1 ${status.code} X\r\nContent-Length: ${status.text.length}\r\n\r\n${status.text}`));
    expect(await getter().get({ url: server.url, range: { offset: 0, length: 10 }, dest: Buffer.alloc(10) })).toEqual({ kind: 'refused', status: 404, text: 'NoSuchKey' });
    const store = new LentBlobStore(loc, server.url.href);
    await expect(store.readInto(loc, { offset: 0, length: 10 }, Buffer.alloc(10))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    Object.assign(status, { code: 403, text: 'expired' });
    const denied = await store.readInto(loc, { offset: 0, length: 10 }, Buffer.alloc(10)).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(LentUrlError);
    expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', message: 'GET of model/1 in region r1: HTTP 403 expired' });
    Object.assign(status, { code: 503, text: 'slow down' });
    await expect(store.readInto(loc, { offset: 0, length: 10 }, Buffer.alloc(10))).rejects.toBeInstanceOf(UnavailableError);
  });

  it('fetchPayload through a lent store: byte for byte at part boundaries, 1 byte, empty; an object longer or shorter than its pointer refused', async () => {
    const object = { bytes: Buffer.alloc(0) };
    const server = await serve((s, head) => honest(object.bytes, s, head));
    const store = new LentBlobStore(loc, server.url.href);
    for (const size of [0, 1, 1023, 1024, 1025, 3 * 1024 + 1, 64 * KiB]) {
      object.bytes = randomBytes(size);
      const got = await fetchPayload(recordOf(object.bytes, loc), [store], { partSize: 1024, partConcurrency: 3 });
      expect(got.equals(object.bytes), `size ${size}`).toBe(true);
    }
    const pointer = randomBytes(4 * KiB + 10);
    // The last part asks one byte more: an object one byte longer than the pointer is refused.
    object.bytes = Buffer.concat([pointer, Buffer.from([7])]);
    await expect(fetchPayload(recordOf(pointer, loc), [store], { partSize: 1024 })).rejects.toThrow(/larger than its pointer's 4106 bytes/);
    object.bytes = pointer.subarray(0, pointer.length - 1);
    await expect(fetchPayload(recordOf(pointer, loc), [store], { partSize: 1024 })).rejects.toBeInstanceOf(DataIntegrityError);
  });
});

describe('lent URLs of the service, read into place', () => {
  it('fetchPayload through GetDownload reads a published payload byte for byte, in parts of 1 KiB and whole', async () => {
    const t = await startTestServer({ httpPort: 0 });
    try {
      await t.client.createTopic({ name: 'model' });
      const client: ImprintClient = t.client;
      const bytes = randomBytes(1024 * KiB + 1025);
      const published = await new Publisher({ client }).publish('model', bytes);
      const record = await client.getVersion('model', published.version);
      for (const partSize of [1024, 8 * 1024 * KiB]) {
        const got = await fetchPayload(record, [], { partSize, lent: (r) => lentStores(client, r) });
        expect(got.equals(bytes), `parts of ${partSize}`).toBe(true);
      }
    } finally {
      await t.stop();
    }
  });
});
