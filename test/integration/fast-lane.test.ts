/**
 * The gRPC transport's fast lane (server/grpc/fast-lane.ts): Poll and BatchPoll answered off
 * Node's HTTP/2 streams give what grpc-js gives for the same state (messages, statuses, the
 * field and request-id metadata), every other call still reaches grpc-js, and a malformed or
 * hostile request gets grpc-js's own status at a bounded cost, leaving the server serving.
 */
import http2 from 'node:http2';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImprintProto } from '../../proto/loader.js';
import { FIELD_METADATA_KEY, REQUEST_ID_METADATA_KEY } from '../../proto/metadata-keys.js';
import { SqliteMetadataStore, addFastLane, fastLaneStats } from '../../server/index.js';
import { MemoryAuditSink, directPointer, startTestServer, tempDir, until, type TestServer } from '../helpers.js';
import { gcFunction } from '../payload-checks.js';

const scorer = { app: 'scorer', cluster: 'c1', region: 'eu', nodeId: 'n1', labels: {} };
const BATCH_POLL = '/imprint.v1.ConsumerService/BatchPoll';

interface Answer {
  code: grpc.status;
  details: string;
  value: unknown;
  field: string | undefined;
  requestId: string | undefined;
}

/** One unary call through a stock grpc-js client: the answer, its status and the metadata the server sent. */
function call(client: grpc.Client, method: string, request: unknown, md = new grpc.Metadata()): Promise<Answer> {
  return new Promise((resolve) => {
    let requestId: string | undefined;
    const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: unknown) => void) => grpc.ClientUnaryCall>)[method];
    const c = fn?.call(client, request, md, (err, value) => {
      resolve({ code: err ? err.code : grpc.status.OK, details: err ? err.details : '', value: value ?? null, field: err?.metadata.get(FIELD_METADATA_KEY)[0]?.toString(), requestId });
    });
    c?.on('metadata', (m) => (requestId = m.get(REQUEST_ID_METADATA_KEY)[0]?.toString()));
  });
}

/** A request written by hand on an HTTP/2 stream: the status grpc-js's rules give it (headers or trailers), and how many bytes of messages came back. */
function rawCall(address: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<{ status: string; message: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': BATCH_POLL, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let status: string | undefined;
    let message = '';
    let bytes = 0;
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) {
        status = String(h['grpc-status']);
        message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      }
    };
    req.on('response', read);
    req.on('trailers', read);
    req.on('data', (d: Buffer) => (bytes += d.length));
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ status: status ?? 'none', message, bytes });
    });
    req.end(body);
  });
}

/** A gRPC message frame: flag, length, bytes. */
function frame(bytes: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

describe('the fast lane answers Poll, BatchPoll and Report as grpc-js does', () => {
  let store: SqliteMetadataStore;
  let fast: TestServer;
  let slow: TestServer;
  const clients: grpc.Client[] = [];
  let stubs: { fast: grpc.Client; slow: grpc.Client; gzip: grpc.Client };
  const encode = (req: unknown) => (loadImprintProto().proto.imprint.v1.ConsumerService.service.BatchPoll.requestSerialize as (r: unknown) => Buffer)(req);

  beforeAll(async () => {
    store = SqliteMetadataStore.open({ file: path.join(tempDir(), 'imprint.db') });
    await store.createTopic({ name: 'model', owner: 'o', description: '', retention: {} }, Date.now());
    await store.publish({ topic: 'model', metadata: { k: 'v' }, pointer: directPointer('weights'), scopes: [{}] }, Date.now());
    await store.createTopic({ name: 'other', owner: 'o', description: '', retention: {} }, Date.now());
    // Two all-role servers over one store: one with the fast lane (the default), one without.
    fast = await startTestServer({ metadataStore: store, auditSink: new MemoryAuditSink() });
    slow = await startTestServer({ metadataStore: store, auditSink: new MemoryAuditSink(), fastLane: false });
    const { ConsumerService } = loadImprintProto().proto.imprint.v1;
    const make = (address: string, options: grpc.ChannelOptions = {}) => {
      const c = new ConsumerService(address, grpc.credentials.createInsecure(), options);
      clients.push(c);
      return c;
    };
    // A client that compresses what it sends (gzip): the fast lane leaves those to grpc-js.
    stubs = { fast: make(fast.address), slow: make(slow.address), gzip: make(fast.address, { 'grpc.default_compression_algorithm': 2 }) };
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await fast.stop();
    await slow.stop();
    store.close();
  });

  const cases: [string, string, unknown][] = [
    ['a BatchPoll with a new version, one held, and a missing topic', 'BatchPoll', { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '0' }, { topic: 'other', lastSeenVersion: '0' }, { topic: 'gone', lastSeenVersion: '3' }] }],
    ['a BatchPoll that holds the newest already', 'BatchPoll', { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '1' }] }],
    ['a BatchPoll with a bad topic name (INVALID_ARGUMENT naming the field)', 'BatchPoll', { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '0' }, { topic: 'bad name!', lastSeenVersion: '0' }] }],
    ['a BatchPoll without an app', 'BatchPoll', { identity: { ...scorer, app: '' }, topics: [{ topic: 'model', lastSeenVersion: '0' }] }],
    ['a Poll with a new version', 'Poll', { topic: 'model', identity: scorer, lastSeenVersion: '0' }],
    ['a Poll of a missing topic (NOT_FOUND)', 'Poll', { topic: 'gone', identity: scorer, lastSeenVersion: '0' }],
    ['a Poll with a version out of range', 'Poll', { topic: 'model', identity: scorer, lastSeenVersion: '-5' }],
    ['a Report of a version held and one rejected', 'Report', { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '1' }, { topic: 'other', lastSeenVersion: '0', rejected: { version: '1', stage: 'REJECT_STAGE_DECODE', reason: 'bad bytes' } }] }],
    ['a Report without an app', 'Report', { identity: { ...scorer, app: '' }, topics: [{ topic: 'model', lastSeenVersion: '1' }] }],
  ];
  it.each(cases)('%s', async (_what, method, request) => {
    const before = fastLaneStats.answered;
    const md = new grpc.Metadata();
    md.set(REQUEST_ID_METADATA_KEY, 'req-1');
    const viaLane = await call(stubs.fast, method, request, md);
    expect(fastLaneStats.answered).toBe(before + 1);
    const viaGrpcJs = await call(stubs.slow, method, request, md);
    expect(fastLaneStats.answered).toBe(before + 1);
    expect(viaLane).toEqual(viaGrpcJs);
    // The request id comes back in the response's headers, error or not.
    expect(viaLane.requestId).toBe('req-1');
  });

  it('an answer’s headers are its status, content type and request id, and no date (gRPC clients read none; Node would make one per answer)', async () => {
    const session = http2.connect(`http://${fast.address}`);
    try {
      const req = session.request({ ':method': 'POST', ':path': BATCH_POLL, 'content-type': 'application/grpc', te: 'trailers', [REQUEST_ID_METADATA_KEY]: 'req-2' });
      const headers = new Promise<http2.IncomingHttpHeaders>((resolve) => req.once('response', resolve));
      req.resume();
      req.end(frame(encode({ identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '1' }] })));
      // Its own names only (Node adds a symbol of sensitive headers).
      expect(Object.fromEntries(Object.entries(await headers))).toEqual({ ':status': 200, 'content-type': 'application/grpc+proto', [REQUEST_ID_METADATA_KEY]: 'req-2' });
      await new Promise((resolve) => req.once('close', resolve));
    } finally {
      session.close();
    }
  });

  it('a Watch stream sends what grpc-js’s sends, and a watcher going away closes it on the server', async () => {
    const request = { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '0' }, { topic: 'other', lastSeenVersion: '0' }, { topic: 'gone', lastSeenVersion: '0' }] };
    /** The stream's first `n` messages (heartbeats left out: their times differ), then cancels it. */
    const firstMessages = (client: grpc.Client, n: number): Promise<unknown[]> =>
      new Promise((resolve, reject) => {
        const got: unknown[] = [];
        const c = (client as unknown as { Watch(r: unknown): grpc.ClientReadableStream<{ result?: unknown }> }).Watch(request);
        c.on('data', (m) => {
          if (!m.result) return;
          got.push(m);
          if (got.length === n) {
            c.cancel();
            resolve(got);
          }
        });
        c.on('error', (err: grpc.ServiceError) => {
          if (err.code !== grpc.status.CANCELLED) reject(err);
        });
      });
    const before = fastLaneStats.streams;
    const viaLane = await firstMessages(stubs.fast, 3);
    expect(fastLaneStats.streams).toBe(before + 1);
    const viaGrpcJs = await firstMessages(stubs.slow, 3);
    expect(fastLaneStats.streams).toBe(before + 1);
    expect(viaLane).toEqual(viaGrpcJs);
    expect(viaLane).toHaveLength(3);
    // The cancelled stream is gone from the server's Watch streams.
    await until('the server to close the cancelled stream', () => fast.server.watchers?.stats().streams === 0);
  });

  it('every other call, and a compressed request, is grpc-js’s', async () => {
    const before = fastLaneStats.answered;
    const topic = await call(stubs.fast, 'GetTopic', { name: 'model' });
    expect(topic.code).toBe(grpc.status.OK);
    const request = { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '0' }] };
    const gzipped = await call(stubs.gzip, 'BatchPoll', request);
    expect(fastLaneStats.answered).toBe(before);
    expect(gzipped.code).toBe(grpc.status.OK);
    // The same answer (each with a request id of its own).
    expect(gzipped.value).toEqual((await call(stubs.fast, 'BatchPoll', request)).value);
    expect(fastLaneStats.answered).toBe(before + 1);
  });

  it('a malformed request gets grpc-js’s status, and the server goes on serving', async () => {
    const request = encode({ identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '0' }] });
    const raw = (body: Buffer, headers: http2.OutgoingHttpHeaders = {}) => rawCall(fast.address, body, headers);
    // A well-formed one, written by hand, for contrast: OK and one message back.
    const ok = await raw(frame(request));
    expect(ok.status).toBe('0');
    expect(ok.bytes).toBeGreaterThan(5);
    expect(await raw(Buffer.alloc(0))).toMatchObject({ status: String(grpc.status.UNIMPLEMENTED), message: expect.stringContaining('no request message'), bytes: 0 });
    expect(await raw(Buffer.concat([frame(request), frame(request)]))).toMatchObject({ status: String(grpc.status.UNIMPLEMENTED), message: expect.stringContaining('second request message') });
    expect(await raw(frame(request, 1))).toMatchObject({ status: String(grpc.status.INTERNAL), message: expect.stringContaining('compressed') });
    expect(await raw(frame(request).subarray(0, 10))).toMatchObject({ status: String(grpc.status.INTERNAL), message: expect.stringContaining('cut short') });
    expect(await raw(frame(Buffer.from([0xff, 0xff, 0xff])))).toMatchObject({ status: String(grpc.status.INTERNAL), message: expect.stringContaining('Error deserializing request') });
    expect(await raw(frame(request), { 'grpc-timeout': 'soon' })).toMatchObject({ status: String(grpc.status.INTERNAL), message: expect.stringContaining('grpc-timeout') });
    // Over the 8 MiB a request may be: refused without keeping it.
    expect(await raw(frame(Buffer.alloc(9 * 1024 * 1024)))).toMatchObject({ status: String(grpc.status.RESOURCE_EXHAUSTED), message: expect.stringContaining('larger than max') });
    expect((await call(stubs.fast, 'BatchPoll', { identity: scorer, topics: [{ topic: 'model', lastSeenVersion: '0' }] })).code).toBe(grpc.status.OK);
  });
});

/**
 * A grpc.Server whose only method is BatchPoll in the fast lane, served by `handler` with
 * `deserialize` for the request, on a port of its own; stopped by `stop`.
 */
async function fastLaneOnly(handler: grpc.handleUnaryCall<unknown, unknown>, deserialize: (b: Buffer) => unknown = (b) => b): Promise<{ address: string; stop: () => void }> {
  const server = new grpc.Server();
  addFastLane(server, [{ path: BATCH_POLL, kind: 'unary', deserialize, serialize: () => Buffer.alloc(0), handler }], { maxReceiveBytes: 1024 });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

describe('a handler that throws in the fast lane', () => {
  it('ends its call INTERNAL and leaves the process and the server serving', async () => {
    const lane = await fastLaneOnly(() => {
      throw new Error('broken on purpose');
    });
    try {
      for (let i = 0; i < 2; i++) expect(await rawCall(lane.address, frame(Buffer.from('x')))).toMatchObject({ status: String(grpc.status.INTERNAL), message: 'the handler failed: broken on purpose' });
    } finally {
      lane.stop();
    }
  });
});

describe('a call the fast lane answered', () => {
  it('is let go by its stream: a closed stream that lives on holds neither the call nor its request', async () => {
    const gc = gcFunction();
    let stream: object | undefined;
    let request: WeakRef<object> | undefined;
    // The request is a megabyte of its own, so that what keeps it is plain to see.
    const lane = await fastLaneOnly((c, callback) => {
      // The test keeps the server's stream alive, as a promoted stream lives on until a mark-compact.
      stream = (c as unknown as { stream: object }).stream;
      request = new WeakRef(c.request as object);
      callback(null, {});
    }, () => ({ bytes: new Uint8Array(1 << 20) }));
    try {
      expect(await rawCall(lane.address, frame(Buffer.from('x')))).toMatchObject({ status: String(grpc.status.OK) });
      expect(stream).toBeDefined();
      await until('the request collected', () => {
        gc();
        return request?.deref() === undefined;
      }, 5000);
    } finally {
      lane.stop();
    }
  });
});

describe('a stream the fast lane served', () => {
  it('drops its listeners once closed: its listener table, kept on by something, keeps nothing of the stream', async () => {
    const gc = gcFunction();
    let stream: (object & { _events?: object }) | undefined;
    let events: object | undefined;
    const lane = await fastLaneOnly((c, callback) => {
      stream = (c as unknown as { stream: object & { _events?: object } }).stream;
      events = stream._events;
      callback(null, {});
    });
    try {
      expect(await rawCall(lane.address, frame(Buffer.from('x')))).toMatchObject({ status: String(grpc.status.OK) });
      // The test keeps the stream's listener table (Node's `_events`, as it was while the call ran),
      // as V8 does when it has allocated the table in the old generation: a scavenge takes it as
      // live until the next mark-compact. What the table's listeners reach must not include the stream.
      expect(events).toBeDefined();
      const ref = new WeakRef(stream as object);
      stream = undefined;
      await until('the stream collected while its old listener table is kept', () => {
        gc();
        return ref.deref() === undefined;
      }, 5000);
      expect(Object.values(events as object).filter((l) => l !== undefined)).toEqual([]);
    } finally {
      lane.stop();
    }
  });
});
