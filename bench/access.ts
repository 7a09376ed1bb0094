/**
 * access: Polls/s of a consume-role instance with an authenticator and per-topic access
 * control vs the same authenticator with access control off vs no authentication at all,
 * in one process and one run: 32 in flight, no update, median of 3 x 2 s, each variant
 * measured in every round. Target: authorization costs <= 10% (>= 0.9x the authenticator alone).
 *
 * The principal polls a topic with 6 grants whose match is its group's consumer grant, last
 * (the walk a real topic costs). The authenticator is a synchronous one that finds the
 * principal by its token in a Map (a real one caches per connection or token); every variant
 * sends the same metadata. The transport is a parameter (TRANSPORTS): the mTLS variant joins
 * it once TLS is in the server.
 */
import path from 'node:path';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { sha256Hex, UnauthenticatedError } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { loadImprintProto } from '../proto/loader.js';
import type { ConsumerServiceClient } from '../proto/gen/imprint/v1/ConsumerService.js';
import { AccessControl, FileAuditSink, SqliteMetadataStore, startImprintServer, type Authenticate, type Principal, type ServerOptions } from '../server/index.js';
import { throughput } from './consume-server.js';
import { tempDir } from './util.js';

/** How calls travel: the server's options for it and the client's credentials. */
interface Transport {
  readonly name: string;
  readonly server: Partial<ServerOptions>;
  readonly client: () => grpc.ChannelCredentials;
}
const TRANSPORTS: readonly Transport[] = [{ name: 'plaintext', server: {}, client: () => grpc.credentials.createInsecure() }];

const TOKEN = 'bench-token';
const principal: Principal = { name: 'spiffe://prod/ns/scoring/sa/node-7', groups: ['scoring'], apps: '*', via: 'jwt' };
const principals = new Map([[TOKEN, principal]]);
const authenticate: Authenticate = (call) => {
  const header = String(call.metadata.get('authorization')[0] ?? '');
  const p = principals.get(header.slice('Bearer '.length));
  if (!p) throw new UnauthenticatedError('unknown token');
  return p;
};

const dir = tempDir();
const seed = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
await seed.createTopic(
  {
    name: 'bench',
    owner: 'bench',
    description: '',
    retention: {},
    grants: [
      { role: 'owner', grantee: 'spiffe://prod/ns/ml/sa/owner' },
      { role: 'publisher', grantee: 'spiffe://prod/ns/ml/sa/trainer' },
      { role: 'operator', grantee: 'group:trust-oncall' },
      { role: 'consumer', grantee: 'group:fraud' },
      { role: 'consumer', grantee: 'group:risk' },
      { role: 'consumer', grantee: 'group:scoring' },
    ],
  },
  Date.now(),
);
const bytes = Buffer.from('x'.repeat(1000));
await seed.publish({ topic: 'bench', metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{}] }, Date.now());
await seed.close();

const v1 = loadImprintProto().proto.imprint.v1;
const request = { topic: 'bench', identity: { app: 'bench', cluster: 'c1', region: 'us-east-1', nodeId: 'n1' }, lastSeenVersion: '1' };

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;

// The decision alone, in process (what authorization adds to a poll, without the network's noise).
{
  const grants = (await (async () => {
    const s = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
    try {
      return await s.listGrants('bench');
    } finally {
      await s.close();
    }
  })());
  const access = new AccessControl();
  const n = 2_000_000;
  for (let i = 0; i < n / 10; i++) access.check(principal, 'consume', 'bench', grants);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) access.check(principal, 'consume', 'bench', grants);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`access      one decision (6 grants, the match last): ${ns.toFixed(0)} ns`);
}
for (const transport of TRANSPORTS) {
  // Three consume instances on the seeded store, each with its own file audit and metrics, as in production.
  const variants: Record<'none' | 'authn' | 'authz', Partial<ServerOptions>> = { none: {}, authn: { authenticate, access: 'off' }, authz: { authenticate } };
  const started = await Promise.all(
    Object.entries(variants).map(async ([name, v]) => {
      const audit = new FileAuditSink({ file: path.join(dir, `audit-${name}`, 'events.jsonl') });
      const server = await startImprintServer({ ...transport.server, ...v, role: 'consume', dataDir: dir, auditSink: audit, port: 0, log: silentLogger, metricsPort: 0 });
      const client = new v1.ConsumerService(`127.0.0.1:${server.port}`, transport.client()) as unknown as ConsumerServiceClient;
      return [name, { server, audit, client }] as const;
    }),
  );
  const parts = Object.fromEntries(started) as Record<keyof typeof variants, (typeof started)[number][1]>;
  const poll = (c: ConsumerServiceClient) => () =>
    new Promise<void>((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${TOKEN}`);
      c.Poll(request, md, (err, res) => (err || !res || res.update ? reject(err ?? new Error('expected no update')) : resolve()));
    });
  for (const p of Object.values(parts)) await throughput(poll(p.client), 32, 500);
  const rounds: Record<keyof typeof variants, number>[] = [];
  for (let i = 0; i < 3; i++) {
    const none = await throughput(poll(parts.none.client), 32, 2000);
    const authn = await throughput(poll(parts.authn.client), 32, 2000);
    const authz = await throughput(poll(parts.authz.client), 32, 2000);
    rounds.push({ none, authn, authz });
  }
  const r = { none: med(rounds.map((x) => x.none)), authn: med(rounds.map((x) => x.authn)), authz: med(rounds.map((x) => x.authz)) };
  const denied = parts.authz.server.service.access.denials.consume;
  console.log(
    `access      ${transport.name}: authentication + access control ${r.authz.toFixed(0)} polls/s | authentication alone ${r.authn.toFixed(0)} | none ${r.none.toFixed(0)} | ratio ${(r.authz / r.authn).toFixed(2)}x the authenticator alone (target >= 0.90x); authenticator alone ${(r.authn / r.none).toFixed(2)}x none  (consume role, 32 in flight, median of 3 x 2 s; ${denied} denied)`,
  );
  for (const p of Object.values(parts)) {
    p.client.close();
    await p.server.stop({ drain: false });
    await p.audit.close();
  }
}
fs.rmSync(dir, { recursive: true, force: true });
