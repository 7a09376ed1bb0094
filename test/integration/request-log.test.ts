/**
 * Request-scoped logs (issue 18, Logs): every line written while a gRPC call is handled carries
 * its method, topic (a BatchPoll: the count), app and request id; the id is the caller's
 * x-request-id when sane, else a new one, and comes back in the response metadata. Answers
 * are logged at debug, failures at warn, changes at info.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../../log/index.js';
import { loadImprintProto } from '../../proto/loader.js';
import { APP_METADATA_KEY, REQUEST_ID_METADATA_KEY } from '../../proto/metadata-keys.js';
import { startImprintServer, type ImprintServer } from '../../server/index.js';
import { tempDir } from '../helpers.js';

type Line = Record<string, unknown>;
type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => grpc.ClientUnaryCall;

/** A server logging JSON at `level` into the returned lines. */
async function serverLogging(level: LogLevel): Promise<{ server: ImprintServer; lines: Line[]; call: Caller; close(): Promise<void> }> {
  const lines: Line[] = [];
  const log = createLogger({ level, format: 'json', destination: { write: (s: string) => lines.push(JSON.parse(s) as Line) } });
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, log });
  const v1 = loadImprintProto().proto.imprint.v1;
  const creds = grpc.credentials.createInsecure();
  const address = `127.0.0.1:${server.port}`;
  const clients = { PublisherService: new v1.PublisherService(address, creds), ConsumerService: new v1.ConsumerService(address, creds), OperatorService: new v1.OperatorService(address, creds) };
  const call: Caller = (service, method, request, headers = {}) => {
    const client = clients[service] as unknown as Record<string, Unary>;
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    return new Promise((resolve) => {
      let requestId: string | undefined;
      const c = client[method]?.call(client, request, md, { deadline: Date.now() + 30_000 }, (err) => resolve({ code: err ? err.code : grpc.status.OK, requestId }));
      c?.on('metadata', (m) => (requestId = String(m.get(REQUEST_ID_METADATA_KEY)[0])));
    });
  };
  return {
    server,
    lines,
    call,
    close: async () => {
      for (const c of Object.values(clients)) c.close();
      await server.stop();
    },
  };
}

type Caller = (
  service: 'PublisherService' | 'ConsumerService' | 'OperatorService',
  method: string,
  request: object,
  headers?: Record<string, string>,
) => Promise<{ code: grpc.status; requestId: string | undefined }>;

describe('request-scoped logs, at level info', () => {
  let s: Awaited<ReturnType<typeof serverLogging>>;
  beforeAll(async () => {
    s = await serverLogging('info');
    expect((await s.call('PublisherService', 'CreateTopic', { name: 'model', owner: 'team' })).code).toBe(grpc.status.OK);
  });
  afterAll(() => s.close());

  it("a failing request's line carries method, topic, app and the caller's request id, which comes back to it", async () => {
    s.lines.length = 0;
    // An unknown scope key: INVALID_ARGUMENT, a failure (warn).
    const got = await s.call('ConsumerService', 'Poll', { topic: 'model', identity: { app: 'scorer', nodeId: 'n1', cluster: 'bad cluster' }, lastSeenVersion: '0' }, { [REQUEST_ID_METADATA_KEY]: 'trace-42.a:b_c' });
    expect(got).toEqual({ code: grpc.status.INVALID_ARGUMENT, requestId: 'trace-42.a:b_c' });
    expect(s.lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'request failed', method: 'Poll', topic: 'model', app: 'scorer', requestId: 'trace-42.a:b_c', outcome: 'INVALID_ARGUMENT' })]);
  });

  it('a request id that is not sane (too long, spaces) is replaced by a new one, sent back and logged', async () => {
    s.lines.length = 0;
    const ids = new Set<string | undefined>();
    for (const sent of ['has spaces in it', 'x'.repeat(129), undefined]) {
      const got = await s.call('OperatorService', 'Pin', { topic: 'model', scope: {}, version: '9', reason: 'r', createdBy: 'me' }, { ...(sent && { [REQUEST_ID_METADATA_KEY]: sent }), [APP_METADATA_KEY]: 'ops-console' });
      expect(got.code).toBe(grpc.status.NOT_FOUND);
      expect(got.requestId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
      ids.add(got.requestId);
    }
    expect(ids.size).toBe(3);
    // NOT_FOUND is part of normal work: no line at info.
    expect(s.lines).toEqual([]);
    const got = await s.call('PublisherService', 'UpdateTopic', { name: 'model', description: 'x'.repeat(100_000) }, { [APP_METADATA_KEY]: 'ops-console' });
    expect(got.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(s.lines).toEqual([expect.objectContaining({ level: 'warn', method: 'UpdateTopic', topic: 'model', app: 'ops-console', requestId: got.requestId })]);
  });

  it('a change is logged at info with who and what, in its request scope', async () => {
    s.lines.length = 0;
    const bytes = Buffer.from('payload');
    const sha256 = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    const got = await s.call('PublisherService', 'Publish', { topic: 'model', pointer: { direct: bytes, size: String(bytes.length), sha256 } }, { [APP_METADATA_KEY]: 'trainer' });
    expect(got.code).toBe(grpc.status.OK);
    expect(s.lines).toEqual([expect.objectContaining({ level: 'info', msg: 'published', method: 'Publish', topic: 'model', app: 'trainer', requestId: got.requestId, version: 1, peer: expect.stringContaining('127.0.0.1') })]);
  });

  it('successful polls write nothing at info; a BatchPoll carries the count of its topics, not their names', async () => {
    s.lines.length = 0;
    const identity = { app: 'scorer', nodeId: 'n1' };
    for (let i = 0; i < 20; i++) expect((await s.call('ConsumerService', 'Poll', { topic: 'model', identity, lastSeenVersion: '0' })).code).toBe(grpc.status.OK);
    expect(s.lines).toEqual([]);
    const got = await s.call('ConsumerService', 'BatchPoll', { identity, topics: [{ topic: 'model', lastSeenVersion: '0' }, { topic: 'bad name!', lastSeenVersion: '0' }, { topic: 'model', lastSeenVersion: '0' }] });
    expect(got.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(s.lines).toEqual([expect.objectContaining({ level: 'warn', method: 'BatchPoll', topics: 3, app: 'scorer', requestId: got.requestId })]);
    expect(s.lines[0]).not.toHaveProperty('topic');
  });
});

describe('request-scoped logs, at level debug', () => {
  let s: Awaited<ReturnType<typeof serverLogging>>;
  beforeAll(async () => (s = await serverLogging('debug')));
  afterAll(() => s.close());

  it('every answer is logged at debug with its outcome; NOT_FOUND and throttling are not failures', async () => {
    s.lines.length = 0;
    const got = await s.call('ConsumerService', 'GetTopic', { name: 'nope' }, { [REQUEST_ID_METADATA_KEY]: 'r1' });
    expect(got).toEqual({ code: grpc.status.NOT_FOUND, requestId: 'r1' });
    expect(s.lines).toEqual([expect.objectContaining({ level: 'debug', msg: 'request answered', method: 'GetTopic', topic: 'nope', app: '(unknown)', requestId: 'r1', outcome: 'NOT_FOUND', durationMs: expect.any(Number) })]);
  });
});
