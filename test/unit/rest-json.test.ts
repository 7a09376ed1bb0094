/**
 * The REST API's JSON mapping (server/http/contract.ts): a JSON body becomes exactly the
 * object grpc-js hands a handler for the same message (compared with proto-loader's own
 * serialize and deserialize), under both field names; what is not the message is refused
 * naming the field; answers are the proto3 JSON mapping.
 */
import type * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { ImprintError } from '../../core/index.js';
import { loadImprintProto } from '../../proto/loader.js';
import { restMethods, type RestMethod } from '../../server/index.js';

const method = (path: string): RestMethod => {
  const m = restMethods().find((x) => x.path === path);
  if (!m) throw new Error(`no route ${path}`);
  return m;
};

/** What grpc-js hands a handler when a client sends `request` (proto-loader's serialize, then deserialize). */
function overGrpc(m: RestMethod, request: object): unknown {
  const def = loadImprintProto().def[m.serviceName] as protoLoader.ServiceDefinition;
  const d = def[m.method];
  if (!d) throw new Error(`no ${m.method}`);
  return d.requestDeserialize(d.requestSerialize(request));
}

function refusal(fn: () => unknown): { field?: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ImprintError) return { ...('field' in err && { field: String(err.field) }), message: err.message };
    throw err;
  }
  throw new Error('not refused');
}

describe('REST JSON requests', () => {
  it('are the objects grpc-js hands the handlers, whichever field names the body uses', () => {
    const publish = method('/v1/publisher/Publish');
    const bytes = Buffer.from('hello');
    const wire = { topic: 't', metadata: { a: 'b' }, pointer: { size: '5', sha256: 'ab', direct: bytes }, scopes: [{ match: { region: 'eu' } }], publishId: 'p1', noRollout: true };
    const expected = overGrpc(publish, wire);
    const camel = { topic: 't', metadata: { a: 'b' }, pointer: { size: 5, sha256: 'ab', direct: bytes.toString('base64') }, scopes: [{ match: { region: 'eu' } }], publishId: 'p1', noRollout: true };
    const snake = { topic: 't', metadata: { a: 'b' }, pointer: { size: '5', sha256: 'ab', direct: bytes.toString('base64url').replace(/=+$/, '') }, scopes: [{ match: { region: 'eu' } }], publish_id: 'p1', no_rollout: true };
    expect(publish.parse(camel)).toEqual(expected);
    expect(publish.parse(snake)).toEqual(expected);
  });

  it('keep proto3 optional fields unset when absent, set when sent (UpdateTopic)', () => {
    const update = method('/v1/publisher/UpdateTopic');
    expect(update.parse({ name: 't' })).toEqual(overGrpc(update, { name: 't' }));
    expect(update.parse({ name: 't', owner: '', expectEveryMs: '0' })).toEqual(overGrpc(update, { name: 't', owner: '', expectEveryMs: '0' }));
    expect(update.parse({ name: 't', owner: '' })).not.toEqual(update.parse({ name: 't' }));
  });

  it('take no body as the empty message, null as the default, enums by name or number', () => {
    const poll = method('/v1/consumer/Poll');
    expect(poll.parse(undefined)).toEqual(overGrpc(poll, {}));
    expect(poll.parse({ topic: null, identity: null })).toEqual(overGrpc(poll, {}));
    const rollout = method('/v1/publisher/CreateTopic');
    const gates = { name: 't', rolloutPolicy: { steps: [{ percent: 10, gates: ['ROLLOUT_GATE_CONSUMERS'] }] } };
    expect(rollout.parse(gates)).toEqual(overGrpc(rollout, gates));
    expect(rollout.parse({ name: 't', rolloutPolicy: { steps: [{ percent: 10, gates: [1] }] } })).toEqual(overGrpc(rollout, gates));
  });

  it('are refused naming the field (its proto path) when they are not the message', () => {
    const poll = method('/v1/consumer/Poll');
    const batch = method('/v1/consumer/BatchPoll');
    const publish = method('/v1/publisher/Publish');
    expect(refusal(() => poll.parse({ topic: 't', nope: 1 }))).toEqual({ field: 'nope', message: 'nope is not a field of PollRequest' });
    expect(refusal(() => poll.parse([]))).toMatchObject({ field: 'body' });
    expect(refusal(() => poll.parse({ topic: 5 }))).toMatchObject({ field: 'topic' });
    expect(refusal(() => poll.parse({ lastSeenVersion: '1', last_seen_version: '1' }))).toMatchObject({ field: 'last_seen_version' });
    expect(refusal(() => poll.parse({ lastSeenVersion: '18446744073709551616' }))).toMatchObject({ field: 'last_seen_version' });
    expect(refusal(() => poll.parse({ lastSeenVersion: -1 }))).toMatchObject({ field: 'last_seen_version' });
    expect(refusal(() => poll.parse({ lastSeenVersion: 2 ** 60 }))).toMatchObject({ field: 'last_seen_version' });
    expect(refusal(() => poll.parse({ identity: { labels: [] } }))).toMatchObject({ field: 'identity.labels' });
    expect(refusal(() => batch.parse({ topics: [{ topic: 'a' }, { topic: 'b', lastSeenVersion: 'x' }] }))).toMatchObject({ field: 'topics[1].last_seen_version' });
    expect(refusal(() => batch.parse({ topics: {} }))).toMatchObject({ field: 'topics' });
    expect(refusal(() => publish.parse({ pointer: { direct: 'not base64!' } }))).toMatchObject({ field: 'pointer.direct' });
    expect(refusal(() => publish.parse({ pointer: { direct: 'aGk=', blob: {} } }))).toMatchObject({ field: 'pointer.blob' });
    expect(refusal(() => publish.parse({ noRollout: 'yes' }))).toMatchObject({ field: 'no_rollout' });
    expect(refusal(() => method('/v1/publisher/CreateTopic').parse({ rolloutPolicy: { steps: [{ gates: ['NOPE'] }] } }))).toMatchObject({ field: 'rollout_policy.steps[0].gates[0]' });
  });
});

describe('REST JSON answers', () => {
  it('are the proto3 JSON mapping: lowerCamelCase, 64-bit integers as strings, bytes base64, defaults written', () => {
    const getVersion = method('/v1/consumer/GetVersion');
    const json = getVersion.toJson({ record: { topic: 't', version: '7', publishedAtMs: '1700000000000', metadata: {}, scopes: [], pointer: { size: '2', sha256: 'ab', direct: Buffer.from('hi') }, digest: 'd' } });
    expect(json).toEqual({
      record: { topic: 't', version: '7', publishedAtMs: '1700000000000', metadata: {}, scopes: [], pointer: { size: '2', sha256: 'ab', direct: 'aGk=' }, digest: 'd', signature: null },
    });
  });
});
