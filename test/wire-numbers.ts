/**
 * Every number of the contract, out of its range and at its edges, as raw gRPC requests (the
 * values exactly as a protoc-generated client sends them), for any store: the embedded suite
 * runs them on SQLite, the Cassandra project on Cassandra. Out of range: INVALID_ARGUMENT
 * naming the wire field, its range and the value as sent, and nothing changes. At the edge
 * of the range: the call is served (never INTERNAL from a store that cannot hold the number).
 */
import * as grpc from '@grpc/grpc-js';
import { expect } from 'vitest';
import { loadImprintProto } from '../proto/loader.js';

const V_MAX = '9223372036854775807'; // 2^63-1
const V_OVER = '9223372036854775808'; // 2^63
const U64_MAX = '18446744073709551615'; // 2^64-1
const SIZE_OVER = '9007199254740992'; // 2^53
const TIME_MAX = '8640000000000000';

const version = (field: string, got: string) => `${field} must be a whole number between 1 and ${V_MAX} (got ${got})`;
const lastSeen = (field: string, got: string) => `${field} must be a whole number between 0 and ${V_MAX} (got ${got})`;
const time = (field: string, got: string) => `${field} must be a whole number between 0 and ${TIME_MAX} (got ${got})`;
const retention = (field: string, got: number) => `${field} must be a whole number between 1 and 2147483647 (got ${got})`;
const size = (got: string) => `pointer.size must be a whole number between 1 and 9007199254740991 (got ${got})`;

type Service = 'PublisherService' | 'ConsumerService' | 'OperatorService';

export interface NumberCase {
  readonly name: string;
  readonly service: Service;
  readonly method: string;
  /** The request for the fixture topic `topic` (which has v1 and no pins). */
  readonly request: (topic: string) => object;
  /** Out of range: the exact INVALID_ARGUMENT message. In range: the status the call gets. */
  readonly expect: { readonly invalid: string } | { readonly code: grpc.status };
}

const app = { app: 'numbers' };
const blob = (sizeText: string) => ({ size: sizeText, sha256: 'a'.repeat(64), blob: { locations: [{ kind: 'BLOB_KIND_S3', region: 'us-east-1', bucket: 'b', key: 'k' }] } });

/** Every RPC with a number in its request, each number below, above and at the edges of its range. */
export const NUMBER_CASES: readonly NumberCase[] = [
  // PublisherService
  ...[0, 2147483648, 4294967295].flatMap((n): NumberCase[] => [
    { name: `CreateTopic retention.keep_versions ${n}`, service: 'PublisherService', method: 'CreateTopic', request: (t) => ({ name: `${t}-new`, retention: { keepVersions: n } }), expect: { invalid: retention('retention.keep_versions', n) } },
    { name: `CreateTopic retention.keep_days ${n}`, service: 'PublisherService', method: 'CreateTopic', request: (t) => ({ name: `${t}-new`, retention: { keepDays: n } }), expect: { invalid: retention('retention.keep_days', n) } },
    { name: `UpdateTopic retention.keep_versions ${n}`, service: 'PublisherService', method: 'UpdateTopic', request: (t) => ({ name: t, retention: { keepVersions: n } }), expect: { invalid: retention('retention.keep_versions', n) } },
    { name: `UpdateTopic retention.keep_days ${n}`, service: 'PublisherService', method: 'UpdateTopic', request: (t) => ({ name: t, retention: { keepDays: n } }), expect: { invalid: retention('retention.keep_days', n) } },
  ]),
  { name: 'CreateTopic retention at its maximum', service: 'PublisherService', method: 'CreateTopic', request: (t) => ({ name: `${t}-max`, retention: { keepVersions: 2147483647, keepDays: 2147483647 } }), expect: { code: grpc.status.OK } },
  ...['0', SIZE_OVER, V_OVER, U64_MAX].map((n): NumberCase => ({
    name: `Publish pointer.size ${n}`,
    service: 'PublisherService',
    method: 'Publish',
    request: (t) => ({ topic: t, pointer: blob(n) }),
    expect: { invalid: size(n) },
  })),
  ...['0', V_OVER, U64_MAX].map((n): NumberCase => ({
    name: `AddScopes version ${n}`,
    service: 'PublisherService',
    method: 'AddScopes',
    request: (t) => ({ topic: t, version: n, scopes: [{ match: { region: 'eu' } }] }),
    expect: { invalid: version('version', n) },
  })),
  { name: 'AddScopes version 2^63-1', service: 'PublisherService', method: 'AddScopes', request: (t) => ({ topic: t, version: V_MAX, scopes: [{ match: { region: 'eu' } }] }), expect: { code: grpc.status.NOT_FOUND } },
  // ConsumerService
  ...[V_OVER, U64_MAX].flatMap((n): NumberCase[] => [
    { name: `Poll last_seen_version ${n}`, service: 'ConsumerService', method: 'Poll', request: (t) => ({ topic: t, identity: app, lastSeenVersion: n }), expect: { invalid: lastSeen('last_seen_version', n) } },
    {
      name: `BatchPoll topics[1].last_seen_version ${n}`,
      service: 'ConsumerService',
      method: 'BatchPoll',
      request: (t) => ({ identity: app, topics: [{ topic: t, lastSeenVersion: '1' }, { topic: `${t}-other`, lastSeenVersion: n }] }),
      expect: { invalid: lastSeen('topics[1].last_seen_version', n) },
    },
  ]),
  { name: 'Poll last_seen_version 2^63-1', service: 'ConsumerService', method: 'Poll', request: (t) => ({ topic: t, identity: app, lastSeenVersion: V_MAX }), expect: { code: grpc.status.OK } },
  { name: 'BatchPoll last_seen_version 2^63-1', service: 'ConsumerService', method: 'BatchPoll', request: (t) => ({ identity: app, topics: [{ topic: t, lastSeenVersion: V_MAX }] }), expect: { code: grpc.status.OK } },
  ...['0', V_OVER, U64_MAX].map((n): NumberCase => ({ name: `GetVersion version ${n}`, service: 'ConsumerService', method: 'GetVersion', request: (t) => ({ topic: t, version: n }), expect: { invalid: version('version', n) } })),
  { name: 'GetVersion version 2^63-1', service: 'ConsumerService', method: 'GetVersion', request: (t) => ({ topic: t, version: V_MAX }), expect: { code: grpc.status.NOT_FOUND } },
  ...[1001, 4294967295].map((n): NumberCase => ({
    name: `ListVersions page_size ${n}`,
    service: 'ConsumerService',
    method: 'ListVersions',
    request: (t) => ({ topic: t, pageSize: n }),
    expect: { invalid: `page_size must be a whole number between 0 and 1000 (0: 100) (got ${n})` },
  })),
  ...[V_OVER, U64_MAX, '99999999999999999999'].map((n): NumberCase => ({
    name: `ListVersions page_token ${n}`,
    service: 'ConsumerService',
    method: 'ListVersions',
    request: (t) => ({ topic: t, pageToken: n }),
    expect: { invalid: `page_token must be a whole number between 1 and ${V_MAX} (a token from a previous response) (got ${n})` },
  })),
  ...['0', '-1', 'abc', '1000000000000000000000'].map((n): NumberCase => ({
    name: `ListVersions page_token ${JSON.stringify(n)}`,
    service: 'ConsumerService',
    method: 'ListVersions',
    request: (t) => ({ topic: t, pageToken: n }),
    expect: { invalid: `page_token must be empty or a token from a previous response (a whole number between 1 and ${V_MAX}) (got ${JSON.stringify(n)})` },
  })),
  { name: 'ListVersions page_token 2^63-1, page_size 1000', service: 'ConsumerService', method: 'ListVersions', request: (t) => ({ topic: t, pageToken: V_MAX, pageSize: 1000 }), expect: { code: grpc.status.OK } },
  ...['-1', '8640000000000001', V_MAX, '-9223372036854775808'].map((n): NumberCase => ({
    name: `GetLatestAt at_ms ${n}`,
    service: 'ConsumerService',
    method: 'GetLatestAt',
    request: (t) => ({ topic: t, identity: app, atMs: n }),
    expect: { invalid: time('at_ms', n) },
  })),
  { name: 'GetLatestAt at_ms at its maximum', service: 'ConsumerService', method: 'GetLatestAt', request: (t) => ({ topic: t, identity: app, atMs: TIME_MAX }), expect: { code: grpc.status.OK } },
  // OperatorService
  ...['0', V_OVER, U64_MAX].map((n): NumberCase => ({ name: `Pin version ${n}`, service: 'OperatorService', method: 'Pin', request: (t) => ({ topic: t, version: n }), expect: { invalid: version('version', n) } })),
  { name: 'Pin version 2^63-1', service: 'OperatorService', method: 'Pin', request: (t) => ({ topic: t, version: V_MAX }), expect: { code: grpc.status.NOT_FOUND } },
  ...['-1', '8640000000000001', V_MAX, '-9223372036854775808'].map((n): NumberCase => ({
    name: `DescribeTopic consumers_since_ms ${n}`,
    service: 'OperatorService',
    method: 'DescribeTopic',
    request: (t) => ({ name: t, consumersSinceMs: n }),
    expect: { invalid: time('consumers_since_ms', n) },
  })),
  { name: 'DescribeTopic consumers_since_ms at its maximum', service: 'OperatorService', method: 'DescribeTopic', request: (t) => ({ name: t, consumersSinceMs: TIME_MAX }), expect: { code: grpc.status.OK } },
];

type Unary = (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => void;

/** Plain grpc-js stubs with default options, sending requests as given. */
export class RawStubs {
  private readonly clients: Record<Service, grpc.Client>;
  constructor(address: string) {
    const v1 = loadImprintProto().proto.imprint.v1;
    const creds = grpc.credentials.createInsecure();
    this.clients = {
      PublisherService: new v1.PublisherService(address, creds),
      ConsumerService: new v1.ConsumerService(address, creds),
      OperatorService: new v1.OperatorService(address, creds),
    };
  }

  /** The call's answer, or its status. */
  call(service: Service, method: string, request: object): Promise<{ code: grpc.status; details: string; res?: unknown }> {
    const client = this.clients[service] as unknown as Record<string, Unary>;
    return new Promise((resolve) => {
      client[method]?.call(client, request, { deadline: Date.now() + 30_000 }, (err, res) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '', res }));
    });
  }

  close(): void {
    for (const c of Object.values(this.clients)) c.close();
  }
}

/** What a reader can see of `topic`: the topic, every version, pins, the version count. */
export async function stateOf(stubs: RawStubs, topic: string): Promise<string> {
  const read = async (service: Service, method: string, request: object) => {
    const r = await stubs.call(service, method, request);
    expect(r.code, `${method}: ${r.details}`).toBe(grpc.status.OK);
    return r.res;
  };
  const described = (await read('OperatorService', 'DescribeTopic', { name: topic })) as { consumers: unknown };
  return JSON.stringify({
    topics: await read('ConsumerService', 'ListTopics', {}),
    versions: await read('ConsumerService', 'ListVersions', { topic, pageSize: 1000 }),
    pins: await read('OperatorService', 'ListPins', { topic }),
    described: { ...described, consumers: null },
  });
}

/** Runs one case against the fixture `topic`: its status and message, and that nothing changed when it is refused. */
export async function checkNumberCase(stubs: RawStubs, topic: string, c: NumberCase): Promise<void> {
  const before = await stateOf(stubs, topic);
  const got = await stubs.call(c.service, c.method, c.request(topic));
  if ('invalid' in c.expect) {
    expect({ code: grpc.status[got.code], details: got.details }).toEqual({ code: 'INVALID_ARGUMENT', details: c.expect.invalid });
    expect(await stateOf(stubs, topic)).toBe(before);
  } else {
    expect({ code: grpc.status[got.code], details: got.code === grpc.status.OK ? '' : got.details }).toMatchObject({ code: grpc.status[c.expect.code] });
  }
}
