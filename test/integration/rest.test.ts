/**
 * The REST/JSON API end to end against real servers: a topic's whole story over REST (its
 * answers read back as the gRPC client reads its own), bad inputs answered with the code and
 * field gRPC gives for the same input (both called), the route rule's 404/405/413/415, a role
 * that does not serve a service answering as gRPC does, bearer JWT authentication and access
 * control, the limiter's 429 with Retry-After, Watch as NDJSON, and /openapi.json checked
 * against the routes the server answers and the OpenAPI 3.1 schema.
 */
import http from 'node:http';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { sha256Hex } from '../../core/index.js';
import { recordFromWire, topicFromWire } from '../../proto/convert.js';
import type { GetVersionResponse__Output } from '../../proto/gen/imprint/v1/GetVersionResponse.js';
import type { ListVersionsResponse__Output } from '../../proto/gen/imprint/v1/ListVersionsResponse.js';
import type { PollResponse__Output } from '../../proto/gen/imprint/v1/PollResponse.js';
import type { PublishResponse__Output } from '../../proto/gen/imprint/v1/PublishResponse.js';
import type { WatchResponse__Output } from '../../proto/gen/imprint/v1/WatchResponse.js';
import { loadImprintProto } from '../../proto/loader.js';
import { FIELD_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import { combineAuthenticators, jwtAuthenticator, restMethods, type JwtAuthenticator } from '../../server/index.js';
import { directPointer, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { makeKey, signToken, writeJwks, type TestKey } from '../jwt-keys.js';
import { fromRestJson, restErrorOf, restPost, type RestAnswer } from '../rest-calls.js';

const baseOf = (t: TestServer) => `http://127.0.0.1:${t.server.http?.port ?? 0}`;

/** What a raw gRPC call (no client-side checks) answered: its value, or its code and the field its trailer names. */
type RawAnswer = { readonly ok: unknown } | { readonly code: string; readonly field?: string; readonly message: string };

function rawCall(client: grpc.Client, method: string, request: unknown, md = new grpc.Metadata()): Promise<RawAnswer> {
  // The generated stub's methods, by name: each a unary call of its own request type.
  const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (err: grpc.ServiceError | null, v: unknown) => void) => void>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return new Promise((resolve) => {
    fn.call(client, request, md, (err, v) => {
      if (!err) return resolve({ ok: v });
      const field = err.metadata?.get(FIELD_METADATA_KEY)[0];
      resolve({ code: grpc.status[err.code] ?? 'UNKNOWN', message: err.details, ...(typeof field === 'string' && { field }) });
    });
  });
}

/** A REST answer as a RawAnswer, to compare with gRPC's. */
function restAsRaw(a: RestAnswer): RawAnswer {
  if (a.status === 200) return { ok: a.json };
  const e = restErrorOf(a);
  return { code: e.code, message: e.message, ...(e.field !== undefined && { field: e.field }) };
}

function rawStubs(address: string) {
  const { proto } = loadImprintProto();
  const creds = grpc.credentials.createInsecure();
  return {
    publisher: new proto.imprint.v1.PublisherService(address, creds),
    consumer: new proto.imprint.v1.ConsumerService(address, creds),
    operator: new proto.imprint.v1.OperatorService(address, creds),
    close() {
      this.publisher.close();
      this.consumer.close();
      this.operator.close();
    },
  };
}

const PAYLOAD = Buffer.from('{"blocked":["10.0.0.1"]}');

describe('REST/JSON API on an all-role server', () => {
  let t: TestServer;
  let base: string;
  let raw: ReturnType<typeof rawStubs>;
  const post = (p: string, body?: unknown, headers?: Record<string, string>) => restPost(base, p, body, headers ? { headers } : {});

  beforeAll(async () => {
    t = await startTestServer({ httpPort: 0, batchPoll: { maxTopics: 5 } });
    base = baseOf(t);
    raw = rawStubs(t.address);
  });
  afterAll(async () => {
    raw?.close();
    await t?.stop();
  });

  it("tells a topic's whole story: every answer is the one the gRPC client reads", async () => {
    // 1. Create and update (snake_case and lowerCamelCase names both accepted).
    const created = await post('/v1/publisher/CreateTopic', { name: 'ip-reputation', owner: 'trust', expect_every_ms: '3600000' });
    expect(created.status).toBe(200);
    expect(created.headers['x-request-id']).toMatch(/.+/);
    expect(created.json).toMatchObject({ topic: { name: 'ip-reputation', owner: 'trust', expectEveryMs: '3600000', latestVersion: '0' } });
    const updated = await post('/v1/publisher/UpdateTopic', { name: 'ip-reputation', description: 'blocked addresses', maxStalenessMs: 7200000 });
    expect(updated.status).toBe(200);
    expect(topicFromWire(fromRestJson('imprint.v1.Topic', (updated.json as { topic: unknown }).topic))).toEqual(await t.client.getTopic('ip-reputation'));

    // 2. Publish a direct payload (base64), then widen its scopes.
    const published = await post('/v1/publisher/Publish', { topic: 'ip-reputation', metadata: { source: 'feed' }, pointer: { size: String(PAYLOAD.length), sha256: sha256Hex(PAYLOAD), direct: PAYLOAD.toString('base64') } });
    expect(published.status, published.text).toBe(200);
    const record = recordFromWire(fromRestJson<PublishResponse__Output>('imprint.v1.PublishResponse', published.json).record!);
    expect(record).toEqual(await t.client.getVersion('ip-reputation', 1n));
    expect(record.pointer).toMatchObject({ kind: 'direct', size: PAYLOAD.length, bytes: PAYLOAD });
    const scoped = await post('/v1/publisher/AddScopes', { topic: 'ip-reputation', version: '1', scopes: [{ match: { region: 'eu-west-1' } }] });
    expect(scoped.status, scoped.text).toBe(200);
    expect((await t.client.getVersion('ip-reputation', 1n)).scopes).toEqual([{}, { region: 'eu-west-1' }]);
    await t.client.publishPointer('ip-reputation', directPointer('v2'));

    // 3. Poll and BatchPoll.
    const polled = await post('/v1/consumer/Poll', { topic: 'ip-reputation', identity: { app: 'scorer' }, lastSeenVersion: '1' });
    expect(polled.status).toBe(200);
    const update = fromRestJson<PollResponse__Output>('imprint.v1.PollResponse', polled.json).update;
    expect(recordFromWire(update!.record!)).toEqual((await t.client.poll('ip-reputation', identity({ app: 'scorer' }), 1n)).record);
    const batch = await post('/v1/consumer/BatchPoll', { identity: { app: 'scorer' }, topics: [{ topic: 'ip-reputation', last_seen_version: 2 }, { topic: 'nope' }] });
    expect(batch.json).toMatchObject({ results: [{ topic: 'ip-reputation' }, { topic: 'nope', errorCode: 'NOT_FOUND' }] });
    expect((batch.json as { results: { update?: unknown }[] }).results[0]?.update).toBeUndefined();

    // 4. Pin and unpin; the poll follows the pin.
    const pinned = await post('/v1/operator/Pin', { topic: 'ip-reputation', version: '1', reason: 'bad data in v2', createdBy: 'oncall' });
    expect(pinned.status, pinned.text).toBe(200);
    expect(pinned.json).toMatchObject({ pin: { topic: 'ip-reputation', version: '1', reason: 'bad data in v2' } });
    expect((await post('/v1/consumer/Poll', { topic: 'ip-reputation', identity: { app: 'scorer' }, lastSeenVersion: '2' })).json).toMatchObject({ update: { pinned: true, record: { version: '1' } } });
    expect((await post('/v1/operator/ListPins', { topic: 'ip-reputation' })).json).toMatchObject({ pins: [{ version: '1' }] });
    const unpinned = await post('/v1/operator/Unpin', { topic: 'ip-reputation' });
    expect(unpinned.json).toMatchObject({ removed: { version: '1' } });

    // 5. Versions, latest-at, describe.
    const listed = fromRestJson<ListVersionsResponse__Output>('imprint.v1.ListVersionsResponse', (await post('/v1/consumer/ListVersions', { topic: 'ip-reputation' })).json);
    expect(listed.versions.map(recordFromWire)).toEqual((await t.client.listVersions('ip-reputation')).versions);
    const latestAt = await post('/v1/consumer/GetLatestAt', { topic: 'ip-reputation', identity: { app: 'scorer' }, atMs: String(record.publishedAtMs) });
    expect(latestAt.json).toMatchObject({ record: { version: '1' } });
    const got = fromRestJson<GetVersionResponse__Output>('imprint.v1.GetVersionResponse', (await post('/v1/consumer/GetVersion', { topic: 'ip-reputation', version: '2' })).json);
    expect(recordFromWire(got.record!)).toEqual(await t.client.getVersion('ip-reputation', 2n));
    const described = await post('/v1/operator/DescribeTopic', { name: 'ip-reputation' });
    expect(described.status, described.text).toBe(200);
    expect(described.json).toMatchObject({ topic: { name: 'ip-reputation', latestVersion: '2' } });

    // 6. Delete.
    const deleted = await post('/v1/publisher/DeleteTopic', { name: 'ip-reputation', reason: 'done' });
    expect(deleted.status).toBe(200);
    expect((deleted.json as { topic: { deletedAtMs: string } }).topic.deletedAtMs).not.toBe('0');
    const after = await post('/v1/consumer/GetTopic', { name: 'ip-reputation' });
    expect(topicFromWire(fromRestJson('imprint.v1.Topic', (after.json as { topic: unknown }).topic))).toEqual(await t.client.getTopic('ip-reputation'));
  });

  it('answers bad input with the code and field gRPC gives for the same input', async () => {
    await t.client.createTopic({ name: 'inputs', owner: 'trust' });
    const cases: { readonly what: string; readonly stub: 'publisher' | 'consumer'; readonly method: string; readonly body: Record<string, unknown>; readonly field: string }[] = [
      { what: 'a uint64 beyond 2^63-1', stub: 'consumer', method: 'Poll', body: { topic: 'inputs', identity: { app: 'a' }, lastSeenVersion: '18446744073709551615' }, field: 'last_seen_version' },
      // gRPC's encoder wraps -1 to 2^64-1 (and the service refuses it); REST refuses it as it reads it.
      { what: 'a negative uint64', stub: 'consumer', method: 'Poll', body: { topic: 'inputs', identity: { app: 'a' }, lastSeenVersion: '-1' }, field: 'last_seen_version' },
      { what: 'a bad sha256', stub: 'publisher', method: 'Publish', body: { topic: 'inputs', pointer: { size: '2', sha256: 'not-hex', direct: Buffer.from('hi').toString('base64') } }, field: 'pointer.sha256' },
      { what: 'a batch over the limit', stub: 'consumer', method: 'BatchPoll', body: { identity: { app: 'a' }, topics: Array.from({ length: 6 }, (_, i) => ({ topic: `t${i}` })) }, field: 'topics' },
      { what: 'no identity.app', stub: 'consumer', method: 'Poll', body: { topic: 'inputs', identity: { app: '' } }, field: 'identity.app' },
    ];
    for (const c of cases) {
      const overRest = restAsRaw(await post(`/v1/${c.stub}/${c.method}`, c.body));
      const request = c.method === 'Publish' ? { ...c.body, pointer: { ...(c.body['pointer'] as object), direct: Buffer.from('hi') } } : c.body;
      const overGrpc = await rawCall(raw[c.stub], c.method, request);
      expect(overRest, c.what).toMatchObject({ code: 'INVALID_ARGUMENT', field: c.field });
      if (c.what === 'a negative uint64') expect(overGrpc, c.what).toMatchObject({ code: 'INVALID_ARGUMENT', field: c.field });
      else expect(overRest, c.what).toEqual(overGrpc);
    }
    // Only REST can send these: gRPC's encoder drops unknown fields and coerces types.
    expect(restErrorOf(await post('/v1/consumer/Poll', { topic: 'inputs', identity: { app: 'a' }, lastSeen: 1 }))).toEqual({ code: 'INVALID_ARGUMENT', field: 'lastSeen', message: 'lastSeen is not a field of PollRequest' });
    expect(restErrorOf(await post('/v1/consumer/Poll', { topic: 'inputs', identity: { app: 'a', labels: { tier: 3 } } }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'identity.labels["tier"]' });
    expect(restErrorOf(await post('/v1/consumer/Poll', { topic: 'inputs', identity: { app: 'a' }, lastSeenVersion: 1.5 }))).toMatchObject({ field: 'last_seen_version' });
    expect(restErrorOf(await post('/v1/publisher/Publish', { topic: 'inputs', pointer: { size: 2, sha256: sha256Hex(Buffer.from('hi')), direct: 'aGk=', blob: { locations: [] } } }))).toMatchObject({ field: 'pointer.blob' });
    expect(restErrorOf(await post('/v1/consumer/Poll', '{"topic":'))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body' });
    expect(restErrorOf(await post('/v1/consumer/Poll', [1]))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body' });
  });

  it('gives gRPC callers the field too, in the x-imprint-field trailer (not when it cannot be metadata)', async () => {
    expect(await rawCall(raw.publisher, 'CreateTopic', { name: 'Bad Name!' })).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    const odd = await post('/v1/consumer/Poll', { topic: 'inputs', identity: { app: 'a', labels: { 'tièr': 3 } } });
    expect(odd.status).toBe(400);
    expect(restErrorOf(odd)).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('tièr') });
  });

  it('answers the route rule: an empty body is the empty message; unknown route 404, wrong method 405, too large 413, wrong type 415', async () => {
    const empty = await restPost(base, '/v1/consumer/ListTopics');
    expect(empty.status).toBe(200);
    expect(empty.json).toMatchObject({ topics: expect.any(Array) });
    const unknown = await post('/v1/consumer/Nope', {});
    expect(unknown.status).toBe(404);
    expect(restErrorOf(unknown)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('see /openapi.json') });
    expect((await post('/v1/nothing', {})).status).toBe(404);
    const get = await fetch(`${base}/v1/consumer/Poll`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const typed = await fetch(`${base}/v1/consumer/Poll`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(typed.status).toBe(415);
    expect(await typed.json()).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const huge = await post('/v1/consumer/Poll', { topic: 'x'.repeat(9 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(restErrorOf(huge)).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
  });

  it('streams Watch as NDJSON, one WatchResponse per line as sent, and sees a publish', async () => {
    await t.client.createTopic({ name: 'watched', owner: 'trust' });
    const lines: WatchResponse__Output[] = [];
    const seen = new Set<string>();
    let resolveSeen: () => void = () => {};
    const published = new Promise<void>((r) => (resolveSeen = r));
    const req = http.request(`${base}/v1/consumer/Watch`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    req.end(JSON.stringify({ identity: { app: 'watcher' }, topics: [{ topic: 'watched' }] }));
    const res = await response;
    try {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const msg = fromRestJson<WatchResponse__Output>('imprint.v1.WatchResponse', JSON.parse(buffered.slice(0, nl)));
          buffered = buffered.slice(nl + 1);
          lines.push(msg);
          const version = msg.result?.update?.record?.version;
          if (version) seen.add(version);
          if (version === '1') resolveSeen();
          // The first answer (nothing published yet) came: publish.
          if (lines.length === 1) void t.client.publishPointer('watched', directPointer('w'));
        }
      });
      await published;
      expect(lines[0]?.result).toMatchObject({ topic: 'watched', update: null });
      expect([...seen]).toEqual(['1']);
    } finally {
      req.destroy();
    }
    // The client went away: the server's stream is closed.
    await expect.poll(() => t.server.watchers?.stats().streams ?? 0, { timeout: 10_000 }).toBe(0);
  });

  it('/openapi.json documents every route the server answers, every documented route answers, and it is valid OpenAPI 3.1', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, { post?: unknown }> };
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // Every RPC gRPC serves (the loaded definition) is a documented route...
    const { def } = loadImprintProto();
    const grpcMethods = ['imprint.v1.PublisherService', 'imprint.v1.ConsumerService', 'imprint.v1.OperatorService'].flatMap((s) => Object.keys(def[s] as object).map((m) => `${s}/${m}`));
    expect(Object.keys(doc.paths)).toHaveLength(grpcMethods.length);
    for (const m of restMethods()) expect(doc.paths[m.path]?.post, m.path).toBeDefined();
    // ...and every documented route answers (its handler ran: not the 404 of no route).
    for (const p of Object.keys(doc.paths)) {
      const a = p.endsWith('/Watch') ? await post(p, { identity: { app: '' } }) : await post(p, {});
      expect(a.status, p).not.toBe(404);
      expect(a.json, p).toBeDefined();
    }
  });
});

describe('REST on a role that does not serve a service', () => {
  let consume: TestServer;
  let publish: TestServer;
  beforeAll(async () => {
    [consume, publish] = await Promise.all([startTestServer({ role: 'consume', httpPort: 0 }), startTestServer({ role: 'publish', httpPort: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([consume?.stop(), publish?.stop()]);
  });

  it('answers 501 UNIMPLEMENTED with the message gRPC gives, not 404', async () => {
    for (const [t, stub, method, body] of [
      [consume, 'publisher', 'CreateTopic', { name: 'x' }],
      [consume, 'operator', 'Pin', { topic: 'x' }],
      [publish, 'consumer', 'Poll', { topic: 'x', identity: { app: 'a' } }],
    ] as const) {
      const raw = rawStubs(t.address);
      try {
        const overGrpc = await rawCall(raw[stub], method, body);
        const overRest = await restPost(baseOf(t), `/v1/${stub}/${method}`, body);
        expect(overRest.status, `${stub}/${method}`).toBe(501);
        expect(restAsRaw(overRest)).toEqual(overGrpc);
      } finally {
        raw.close();
      }
    }
  });
});

describe('REST with the limiter', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ role: 'consume', httpPort: 0, metricsPort: 0, limiter: { initialLimit: 1, minLimit: 1, maxLimit: 1, minRetryAfterMs: 1500 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('throttles REST calls as gRPC ones: 429 with Retry-After from the retry hint, counted in the same metrics', async () => {
    const limiter = t.server.limiter;
    if (!limiter) throw new Error('no limiter on the consume role');
    // The application's one slot, taken as an in-flight call would.
    const held = limiter.tryAcquire('scorer', 1);
    expect(held.admitted).toBe(true);
    try {
      const a = await restPost(baseOf(t), '/v1/consumer/ListTopics', {}, { headers: { 'x-imprint-app': 'scorer' } });
      expect(a.status).toBe(429);
      expect(restErrorOf(a)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('scorer') });
      const ms = Number(a.headers[RETRY_AFTER_METADATA_KEY]);
      expect(ms).toBeGreaterThanOrEqual(1500);
      expect(a.headers['retry-after']).toBe(String(Math.ceil(ms / 1000)));
      // Another application is not held back.
      expect((await restPost(baseOf(t), '/v1/consumer/ListTopics', {}, { headers: { 'x-imprint-app': 'ranker' } })).status).toBe(200);
    } finally {
      if (held.admitted) held.release(1, true);
    }
    expect((await restPost(baseOf(t), '/v1/consumer/ListTopics', {}, { headers: { 'x-imprint-app': 'scorer' } })).status).toBe(200);
    const requests = await t.server.metrics?.registry.getSingleMetric('imprint_consume_requests_total')?.get();
    const count = (outcome: string) => requests?.values.find((v) => v.labels['method'] === 'ListTopics' && v.labels['outcome'] === outcome)?.value;
    expect({ ok: count('ok'), throttled: count('RESOURCE_EXHAUSTED') }).toEqual({ ok: 2, throttled: 1 });
  });
});

describe('REST with bearer JWT authentication and access control', () => {
  let key: TestKey;
  let jwt: JwtAuthenticator;
  let t: TestServer;
  const bearer = async (sub: string, apps?: string) => ({ authorization: `Bearer ${await signToken(key, { iss: 'https://issuer.test', aud: 'imprint', sub, ...(apps && { imprint_apps: apps }) })}` });

  beforeAll(async () => {
    key = await makeKey('k1');
    const file = path.join(tempDir(), 'jwks.json');
    writeJwks(file, key);
    jwt = jwtAuthenticator({ jwks: file, issuers: ['https://issuer.test'], audience: 'imprint' });
    const authenticate = combineAuthenticators({ bearer: jwt.authenticate });
    if (!authenticate) throw new Error('no authenticator');
    t = await startTestServer({ authenticate, httpPort: 0 });
    const owner = new ImprintClient({ address: t.address, token: await signToken(key, { iss: 'https://issuer.test', aud: 'imprint', sub: 'alice' }) });
    try {
      await owner.createTopic({ name: 'model', owner: 'trust' });
    } finally {
      owner.close();
    }
  });
  afterAll(async () => {
    await t?.stop();
    jwt?.close();
  });

  it('401 without a token, 403 on Publish for a consumer-only principal, 403 for an app the principal may not act as; the owner publishes', async () => {
    const base = baseOf(t);
    const publish = { topic: 'model', pointer: { size: 1, sha256: sha256Hex(Buffer.from('m')), direct: Buffer.from('m').toString('base64') } };
    const none = await restPost(base, '/v1/consumer/Poll', { topic: 'model', identity: { app: 'bob' } });
    expect(none.status).toBe(401);
    expect(restErrorOf(none).code).toBe('UNAUTHENTICATED');
    const bob = await restPost(base, '/v1/publisher/Publish', publish, { headers: await bearer('bob') });
    expect(bob.status).toBe(403);
    expect(restErrorOf(bob)).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('bob') });
    const asOther = await restPost(base, '/v1/consumer/Poll', { topic: 'model', identity: { app: 'bob' } }, { headers: { ...(await bearer('bob')), 'x-imprint-app': 'scorer' } });
    expect(asOther.status).toBe(403);
    expect(restErrorOf(asOther).message).toContain('x-imprint-app');
    expect((await restPost(base, '/v1/consumer/Poll', { topic: 'model', identity: { app: 'bob' } }, { headers: await bearer('bob') })).status).toBe(200);
    const alice = await restPost(base, '/v1/publisher/Publish', publish, { headers: await bearer('alice') });
    expect(alice.status, alice.text).toBe(200);
    // The history records the token's subject, as over gRPC.
    const history = await t.server.service.listHistory('model', 10, undefined);
    expect(history.changes.find((c) => c.kind === 'publish')?.by).toMatchObject({ principal: 'alice', authenticated: true });
  });

  it('documents bearer authentication in /openapi.json', async () => {
    const doc = (await (await fetch(`${baseOf(t)}/openapi.json`)).json()) as { security?: unknown; components: { securitySchemes?: unknown } };
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
  });
});
