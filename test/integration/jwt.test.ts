/**
 * Bearer JWT principals against a real server, with real signatures (keys made at test time):
 * a valid token's subject is the principal the history records; each way a token fails is
 * UNAUTHENTICATED with its reason and counted by it; a token is verified once and then served
 * from the cache; a rotated JWKS file and a JWKS URL with a new key; the apps a principal may
 * act as (identity.app, x-imprint-app) on Poll, BatchPoll, Watch and GetLatestAt. The client
 * sends its token as metadata on a plaintext channel.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { createLogger } from '../../log/index.js';
import { combineAuthenticators, jwtAuthenticator, startImprintServer, type JwtAuthenticator, type JwtOptions } from '../../server/index.js';
import { directPointer, failure, identity, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { jwksOf, makeKey, signToken, writeJwks, type TestKey, type TokenClaims } from '../jwt-keys.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'imprint';

/** A server whose only way in is a bearer JWT checked by `jwt`. */
async function serverWith(jwt: JwtAuthenticator): Promise<TestServer> {
  const authenticate = combineAuthenticators({ bearer: jwt.authenticate });
  if (!authenticate) throw new Error('no authenticator');
  return startTestServer({ authenticate, metricsPort: 0 });
}

/** Runs `fn` with a client that sends `token` (and names `app`), closing it after. */
async function withClient<T>(ts: TestServer, token: string | (() => Promise<string>), fn: (c: ImprintClient) => Promise<T>, app?: string): Promise<T> {
  const client = new ImprintClient({ address: ts.address, token, ...(app !== undefined && { app }) });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function authFailures(ts: TestServer, reason: string): Promise<number> {
  const m = await ts.server.metrics?.registry.getSingleMetric('imprint_auth_failures_total')?.get();
  return m?.values.find((v) => v.labels['reason'] === reason)?.value ?? NaN;
}

describe('bearer JWTs from a JWKS file', () => {
  let key: TestKey;
  let jwt: JwtAuthenticator;
  let ts: TestServer;
  const token = (claims: TokenClaims = {}, k: TestKey = key) => signToken(k, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims });

  beforeAll(async () => {
    key = await makeKey('k1');
    const file = path.join(tempDir(), 'jwks.json');
    writeJwks(file, key);
    jwt = jwtAuthenticator({ jwks: file, issuers: ['https://other-issuer.test', ISSUER], audience: AUDIENCE });
    ts = await serverWith(jwt);
    await withClient(ts, await token({ imprint_apps: '*' }), async (c) => {
      await c.createTopic({ name: 'model', owner: 'trust' });
      await c.publishPointer('model', directPointer('v1'));
    });
  });
  afterAll(async () => {
    await ts?.stop();
    jwt?.close();
  });

  it("records the token's subject as the principal in the history", async () => {
    // alice created the topic, so she owns it; bob pins as the operator she makes him.
    await withClient(ts, await token({ sub: 'alice' }), (c) => c.grantAccess('model', { role: 'operator', grantee: 'bob' }));
    await withClient(ts, await token({ sub: 'bob' }), (c) => c.pin('model', 1n, { reason: 'hold', createdBy: 'mallory' }));
    const history = await ts.server.service.listHistory('model', 10, undefined);
    const by = Object.fromEntries(history.changes.map((c) => [c.kind, c.by]));
    expect(by['create-topic']).toMatchObject({ principal: 'alice', authenticated: true });
    expect(by['publish']).toMatchObject({ principal: 'alice', authenticated: true });
    expect(by['pin']).toMatchObject({ principal: 'bob', authenticated: true });
  });

  it('accepts a token that expired within the clock skew (30 s)', async () => {
    const t = await token({ expiresIn: -10 });
    expect((await withClient(ts, t, (c) => c.getTopic('model'))).name).toBe('model');
  });

  const other = makeKey('k1');
  const unknown = makeKey('k-unknown');
  it.each<[string, () => Promise<string>, string, RegExp]>([
    ['expired', () => token({ expiresIn: -120 }), 'expired', /bearer token refused: expired at \d{4}-/],
    ['not yet valid', () => token({ notBeforeIn: 600 }), 'not_yet_valid', /not valid before \d{4}-/],
    ['for another audience', () => token({ aud: 'billing' }), 'wrong_audience', /its audience "billing" is not "imprint"/],
    ['from an unknown issuer', () => token({ iss: 'https://evil.test' }), 'unknown_issuer', /unknown issuer "https:\/\/evil.test" \(accepted: "https:\/\/other-issuer.test", "https:\/\/issuer.test"\)/],
    ['signed by a key the JWKS does not have', async () => token({}, await unknown), 'unknown_key', /no key in the JWKS matches its key id "k-unknown"/],
    ['signed by another key under a known kid', async () => token({}, await other), 'bad_signature', /its signature does not verify/],
    ['not a JWT', () => Promise.resolve('not.a-jwt.at-all'), 'malformed', /not a well-formed signed JWT/],
    [
      'signed with a shared secret (HS256)',
      () => new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime('1h').sign(new TextEncoder().encode('a-secret-anyone-could-guess-32by')),
      'algorithm',
      /its algorithm "HS256" is not accepted/,
    ],
    ['without a subject', () => token({ sub: undefined }), 'claims', /its "sub" claim \(the principal's name\) is missing/],
  ])('refuses a token %s: UNAUTHENTICATED with the reason, counted by it', async (_what, make, reason, message) => {
    const before = await authFailures(ts, reason);
    const err = await failure(withClient(ts, await make(), (c) => c.getTopic('model')));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.message).toMatch(message);
    expect(await authFailures(ts, reason)).toBe(before + 1);
  });

  it('refuses a call without a token, saying what it accepts', async () => {
    const before = await authFailures(ts, 'missing');
    const err = await failure(ts.client.getTopic('model'));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.message).toContain('no credentials: send a bearer token');
    expect(await authFailures(ts, 'missing')).toBe(before + 1);
  });

  it('verifies a token once: later calls, from a token function too, are answered from the cache', async () => {
    const t = await token({ sub: 'cached' });
    const before = jwt.stats();
    let asked = 0;
    await withClient(
      ts,
      async () => {
        asked++;
        return t;
      },
      async (c) => {
        for (let i = 0; i < 50; i++) await c.poll('model', identity({ app: 'cached' }), 0n);
      },
    );
    const after = jwt.stats();
    expect(asked).toBe(50);
    expect(after.verified - before.verified).toBe(1);
    expect(after.cacheHits - before.cacheHits).toBe(49);
  });

  it("fails the call UNAUTHENTICATED, sending nothing, when the client's token function throws", async () => {
    const err = await failure(
      withClient(
        ts,
        () => Promise.reject(new Error('the token service is down')),
        (c) => c.getTopic('model'),
      ),
    );
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.message).toContain("the client's token function failed: the token service is down");
  });

  describe('the apps a principal may act as', () => {
    const scorer = () => token({ sub: 'svc-scorer', imprint_apps: ['scorer', 'scorer-canary'] });

    it('admits the apps its token lists, as identity.app and x-imprint-app', async () => {
      const t = await scorer();
      await withClient(ts, t, async (c) => {
        expect((await c.poll('model', identity({ app: 'scorer' }), 0n)).record?.version).toBe(1n);
        expect((await c.batchPoll(identity({ app: 'scorer-canary' }), [{ topic: 'model', lastSeen: 0n }]))[0]?.record?.version).toBe(1n);
        expect((await c.latestAt('model', identity({ app: 'scorer' }), Date.now()))?.version).toBe(1n);
      }, 'scorer');
    });

    it('refuses a spoofed identity.app PERMISSION_DENIED naming the principal, the app and the topic, on Poll, BatchPoll, Watch and GetLatestAt', async () => {
      const t = await scorer();
      await withClient(ts, t, async (c) => {
        const poll = await failure(c.poll('model', identity({ app: 'billing' }), 0n));
        expect(poll.code).toBe('PERMISSION_DENIED');
        expect(poll.message).toContain('permission denied: "svc-scorer" may not act as app "billing" (identity.app) on topic "model" (it may act as: "scorer", "scorer-canary")');
        const batch = await failure(c.batchPoll(identity({ app: 'billing' }), [{ topic: 'model', lastSeen: 0n }, { topic: 'other', lastSeen: 0n }]));
        expect(batch.code).toBe('PERMISSION_DENIED');
        expect(batch.message).toContain('"svc-scorer" may not act as app "billing" (identity.app) (for all 2 topics of the request;');
        const watch = await failure((async () => {
          for await (const _ of c.watch(identity({ app: 'billing' }), [{ topic: 'model', lastSeen: 0n }])) return;
        })());
        expect(watch.code).toBe('PERMISSION_DENIED');
        const at = await failure(c.latestAt('model', identity({ app: 'billing' }), Date.now()));
        expect(at.code).toBe('PERMISSION_DENIED');
      });
      // Counted in the request metrics like any other refusal (Watch is a stream: not in them).
      const requests = await ts.server.metrics?.registry.getSingleMetric('imprint_consume_requests_total')?.get();
      const denied = (method: string) => requests?.values.find((v) => v.labels['method'] === method && v.labels['outcome'] === 'PERMISSION_DENIED')?.value;
      expect([denied('Poll'), denied('BatchPoll'), denied('GetLatestAt')]).toEqual([1, 1, 1]);
    });

    it('refuses a spoofed x-imprint-app on any call', async () => {
      const t = await scorer();
      await withClient(ts, t, async (c) => {
        const poll = await failure(c.poll('model', identity({ app: 'scorer' }), 0n));
        expect(poll.code).toBe('PERMISSION_DENIED');
        expect(poll.message).toContain('"svc-scorer" may not act as app "billing" (x-imprint-app) on topic "model"');
        expect((await failure(c.getTopic('model'))).code).toBe('PERMISSION_DENIED');
        expect((await failure(c.listMoves('model'))).code).toBe('PERMISSION_DENIED');
      }, 'billing');
      // Counted in the request metrics like any other refusal, Consumer and Operator alike.
      const count = async (name: string, method: string) =>
        (await ts.server.metrics?.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels['method'] === method && v.labels['outcome'] === 'PERMISSION_DENIED')?.value;
      expect([await count('imprint_consume_requests_total', 'GetTopic'), await count('imprint_requests_total', 'ListMoves')]).toEqual([1, 1]);
    });

    it('without the apps claim, a principal may act only as the app named as itself; "*" as any', async () => {
      await withClient(ts, await token({ sub: 'scorer' }), async (c) => {
        expect((await c.poll('model', identity({ app: 'scorer' }), 0n)).record?.version).toBe(1n);
        expect((await failure(c.poll('model', identity({ app: 'billing' }), 0n))).message).toContain('it may act as: "scorer"');
      });
      await withClient(ts, await token({ sub: 'ops', imprint_apps: '*' }), async (c) => {
        expect((await c.poll('model', identity({ app: 'anything' }), 0n)).record?.version).toBe(1n);
      }, 'console');
    });
  });
});

describe('a rotated JWKS file', () => {
  it('takes the new key at once and refuses the old key after the rotation, cached tokens too', async () => {
    const [k1, k2] = [await makeKey('2026-01'), await makeKey('2026-02')];
    const file = path.join(tempDir(), 'jwks.json');
    writeJwks(file, k1);
    const jwt = jwtAuthenticator({ jwks: file, issuers: [ISSUER], audience: AUDIENCE, jwksFileIntervalMs: 100 });
    const ts = await serverWith(jwt);
    try {
      const old = await signToken(k1, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' });
      const fresh = await signToken(k2, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' });
      await withClient(ts, old, (c) => c.listTopics());
      // The old token is in the cache now; the key set is replaced by one with only the new key.
      const reloaded = new Promise((resolve) => jwt.once('jwks-reloaded', resolve));
      writeJwks(file, k2);
      // A token with the new key id works at once: the file is looked at again for a kid it lacks.
      await withClient(ts, fresh, (c) => c.listTopics());
      await reloaded;
      const err = await failure(withClient(ts, old, (c) => c.listTopics()));
      expect(err.code).toBe('UNAUTHENTICATED');
      expect(err.message).toContain('no key in the JWKS matches its key id "2026-01"');
      expect(jwt.stats().jwksReloads).toBe(1);
    } finally {
      await ts.stop();
      jwt.close();
    }
  });

  it('keeps the previous keys when the changed file is not a JWKS', async () => {
    const k1 = await makeKey('k1');
    const file = path.join(tempDir(), 'jwks.json');
    writeJwks(file, k1);
    const jwt = jwtAuthenticator({ jwks: file, issuers: [ISSUER], audience: AUDIENCE, jwksFileIntervalMs: 100 });
    try {
      const failed = new Promise((resolve) => jwt.once('jwks-reload-failed', resolve));
      const fs = await import('node:fs');
      fs.writeFileSync(`${file}.tmp`, '{"keys": [');
      fs.renameSync(`${file}.tmp`, file);
      await failed;
      const principal = await jwt.principalOfToken(await signToken(k1, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' }));
      expect(principal).toEqual({ name: 'alice', groups: [], apps: ['alice'], via: 'jwt' });
    } finally {
      jwt.close();
    }
  });
});

describe('bearer JWTs from a JWKS URL', () => {
  let keys: TestKey[];
  let requests = 0;
  let jwksServer: http.Server;
  let url: string;

  beforeAll(async () => {
    keys = [await makeKey('u1')];
    jwksServer = http.createServer((req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwksOf(...keys)));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it('fetches the keys once for many calls and tokens, and again for a token with a new key id', async () => {
    const jwt = jwtAuthenticator({ jwks: url, issuers: [ISSUER], audience: AUDIENCE, jwksCooldownMs: 0 });
    const ts = await serverWith(jwt);
    try {
      const [u1] = keys as [TestKey];
      for (const sub of ['alice', 'bob', 'carol']) {
        const t = await signToken(u1, { iss: ISSUER, aud: AUDIENCE, sub, groups: ['trust', 'ops'] });
        await withClient(ts, t, async (c) => {
          for (let i = 0; i < 20; i++) await c.listTopics();
        });
      }
      expect(requests).toBe(1);
      expect(jwt.stats()).toMatchObject({ verified: 3, cacheHits: 57 });
      // The issuer rotates: a token signed with the new key fetches the set again.
      const u2 = await makeKey('u2');
      keys = [u1, u2];
      const t2 = await signToken(u2, { iss: ISSUER, aud: AUDIENCE, sub: 'dave', groups: 'trust ops' });
      expect(await jwt.principalOfToken(t2)).toEqual({ name: 'dave', groups: ['trust', 'ops'], apps: ['dave'], via: 'jwt' });
      await withClient(ts, t2, (c) => c.listTopics());
      expect(requests).toBe(2);
    } finally {
      await ts.stop();
      jwt.close();
    }
  });

  it('answers UNAVAILABLE, counted as such, when the JWKS URL cannot be fetched', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const jwt = jwtAuthenticator({ jwks: `http://127.0.0.1:${port}/jwks.json`, issuers: [ISSUER], audience: AUDIENCE });
    const ts = await serverWith(jwt);
    try {
      const t = await signToken(keys[0] as TestKey, { iss: ISSUER, aud: AUDIENCE, sub: 'alice' });
      const err = await failure(withClient(ts, t, (c) => c.getTopic('model')));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toContain(`the JWKS at http://127.0.0.1:${port}/jwks.json could not be fetched`);
      expect(await authFailures(ts, 'unavailable')).toBe(1);
    } finally {
      await ts.stop();
      jwt.close();
    }
  });
});

describe('request logs and options', () => {
  it("carry the call's principal in its request log lines", async () => {
    const key = await makeKey('k1');
    const file = path.join(tempDir(), 'jwks.json');
    writeJwks(file, key);
    const jwt = jwtAuthenticator({ jwks: file, issuers: [ISSUER], audience: AUDIENCE });
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'info', format: 'json', destination: { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) } });
    const authenticate = combineAuthenticators({ bearer: jwt.authenticate });
    const server = await startImprintServer({ dataDir: tempDir(), port: 0, log, ...(authenticate && { authenticate }) });
    const client = new ImprintClient({ address: `127.0.0.1:${server.port}`, token: await signToken(key, { iss: ISSUER, aud: AUDIENCE, sub: 'carol' }) });
    try {
      expect((await failure(client.getTopic('ghost'))).code).toBe('NOT_FOUND');
      await client.createTopic({ name: 'logged', owner: 'o' });
      expect((await failure(client.poll('logged', identity({ app: 'billing' }), 0n))).code).toBe('PERMISSION_DENIED');
      const created = lines.find((l) => l['msg'] === 'topic created');
      expect(created).toMatchObject({ method: 'CreateTopic', topic: 'logged', principal: 'carol' });
      const denied = lines.find((l) => l['method'] === 'Poll' && l['msg'] === 'request failed');
      expect(denied).toMatchObject({ principal: 'carol', app: 'billing', outcome: 'PERMISSION_DENIED' });
    } finally {
      client.close();
      await server.stop();
      jwt.close();
    }
  });

  it.each<[string, Partial<JwtOptions>, string]>([
    ['no issuer', { issuers: [] }, 'issuers must name at least one issuer'],
    ['an empty audience', { audience: ' ' }, 'audience must be a non-empty string'],
    ['a symmetric algorithm', { algorithms: ['ES256', 'HS256'] }, 'algorithms must list asymmetric algorithms'],
    ['a clock skew past 10 minutes', { clockToleranceMs: 600_001 }, 'clockToleranceMs must be a whole number of milliseconds, 0-600000'],
    ['a JWKS file that does not exist', { jwks: '/nonexistent/jwks.json' }, 'jwks must be a readable JWKS file'],
  ])('refuses %s, naming the option', (_what, patch, message) => {
    expect(() => jwtAuthenticator({ jwks: 'https://issuer.test/jwks.json', issuers: [ISSUER], audience: AUDIENCE, ...patch })).toThrow(message);
  });
});

describe('Watch streams on a server with principals', () => {
  it('counts --watch-max-streams-per-app per principal, not per app claimed', async () => {
    const key = await makeKey('k1');
    const file = path.join(tempDir(), 'jwks.json');
    writeJwks(file, key);
    const jwt = jwtAuthenticator({ jwks: file, issuers: [ISSUER], audience: AUDIENCE });
    const authenticate = combineAuthenticators({ bearer: jwt.authenticate });
    if (!authenticate) throw new Error('no authenticator');
    const ts = await startTestServer({ authenticate, watch: { maxStreamsPerApp: 1 } });
    const as = async (sub: string) => new ImprintClient({ address: ts.address, token: await signToken(key, { iss: ISSUER, aud: AUDIENCE, sub, imprint_apps: ['scorer'] }) });
    const [alice, alice2, bob] = [await as('alice'), await as('alice'), await as('bob')];
    const stop = new AbortController();
    try {
      await withClient(ts, await signToken(key, { iss: ISSUER, aud: AUDIENCE, sub: 'admin', imprint_apps: '*' }), (c) => c.createTopic({ name: 'watched', owner: 'o' }));
      /** The first answer of a Watch as `c`, the stream left open (until `stop`). */
      const firstAnswer = (c: ImprintClient) => {
        const it = c.watch(identity({ app: 'scorer' }), [{ topic: 'watched', lastSeen: 0n }], { signal: stop.signal });
        return it.next();
      };
      expect((await firstAnswer(alice)).value).toMatchObject({ kind: 'result', topic: 'watched' });
      // Bob claims the same app: his own share of streams.
      expect((await firstAnswer(bob)).value).toMatchObject({ kind: 'result', topic: 'watched' });
      // Alice's second stream is over her bound.
      const err = await failure(firstAnswer(alice2));
      expect(err.code).toBe('RESOURCE_EXHAUSTED');
    } finally {
      stop.abort();
      for (const c of [alice, alice2, bob]) c.close();
      await ts.stop();
      jwt.close();
    }
  });
});
