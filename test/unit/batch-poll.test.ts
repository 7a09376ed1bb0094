/** server/grpc/batch-poll.ts: the request checks and the response budget, against the contract's own encoder. */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MAX_DIRECT_BYTES, recordDigest, sha256Hex } from '../../core/index.js';
import { recordToWire, versionFromWire } from '../../proto/convert.js';
import type { BatchPollRequest__Output } from '../../proto/gen/imprint/v1/BatchPollRequest.js';
import type { TopicPollResult } from '../../proto/gen/imprint/v1/TopicPollResult.js';
import { loadImprintProto } from '../../proto/loader.js';
import { BATCH_POLL_DEFAULTS, DEFERRED_CODE, DEFERRED_MESSAGE, batchPollFromWire, batchPollWithDefaults, decodeBatchPollRequest, encodeBatchPollResponse, fitToBudget, toUpdate } from '../../server/index.js';

/** What grpc-js sends for a BatchPollResponse of `results`. */
function encodedBytes(results: TopicPollResult[]): number {
  const { def } = loadImprintProto();
  return (def['imprint.v1.BatchPollResponse'] as unknown as { serialize(x: unknown): Buffer }).serialize({ results }).length;
}

function result(topic: string, payload: Buffer, metadata: Record<string, string> = {}): TopicPollResult {
  const base = { topic, version: 1n, publishedAtMs: 1_700_000_000_000, metadata, pointer: { kind: 'direct' as const, size: payload.length, sha256: sha256Hex(payload), bytes: payload } };
  return { topic, update: { record: recordToWire({ ...base, scopes: [{}], digest: recordDigest(base) }), pinned: false }, errorCode: '', errorMessage: '' };
}
const noUpdate = (topic: string): TopicPollResult => ({ topic, update: null, errorCode: '', errorMessage: '' });
const failed = (topic: string): TopicPollResult => ({ topic, update: null, errorCode: 'NOT_FOUND', errorMessage: `topic "${topic}" does not exist (ünïcode)` });
const kind = (r: TopicPollResult) => (r.errorCode === DEFERRED_CODE ? 'deferred' : r.update?.directOmitted ? 'omitted' : r.update ? 'whole' : r.errorCode || 'none');

describe('fitToBudget', () => {
  const budget = BATCH_POLL_DEFAULTS.maxResponseBytes;

  it('leaves an answer within the budget as it is', () => {
    const results = [result('a', Buffer.from('x'.repeat(1000))), noUpdate('b'), failed('c')];
    expect(fitToBudget(results, budget)).toEqual(results);
  });

  it('10 records of 1 MiB: the first 3 whole, the rest without their bytes, the whole answer under the budget', () => {
    const results = Array.from({ length: 10 }, (_, i) => result(`t${i}`, Buffer.alloc(MAX_DIRECT_BYTES, i)));
    const fitted = fitToBudget(results, budget);
    expect(fitted.map(kind)).toEqual([...Array(3).fill('whole'), ...Array(7).fill('omitted')]);
    expect(encodedBytes(fitted)).toBeLessThanOrEqual(budget);
    expect(fitted[5]?.update?.record?.pointer).toEqual({ size: MAX_DIRECT_BYTES, sha256: sha256Hex(Buffer.alloc(MAX_DIRECT_BYTES, 5)) });
  });

  it.each([
    ['heavy metadata, 1 MiB payloads', 40, 2048, MAX_DIRECT_BYTES, 1_048_576, 'omitted,NOT_FOUND,none,deferred'],
    ['heavy metadata, 1 MiB payloads, the default budget', 40, 2048, MAX_DIRECT_BYTES, budget, 'whole,NOT_FOUND,none,omitted,deferred'],
    ['metadata alone over a small budget', 30, 4096, 10, 1_048_576, 'whole,NOT_FOUND,none,deferred'],
    ['a mix, the largest budget', 200, 4096, MAX_DIRECT_BYTES, 67_108_864, 'whole,NOT_FOUND,none,deferred'],
  ])('%s: within the budget to the byte, the first result always answered, what is left out asked for again', (_what, n, valueChars, payloadBytes, max, kinds) => {
    const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`k${k}`, 'é'.repeat(valueChars / 2)]));
    const results = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? failed(`t${i}`) : i % 5 === 4 ? noUpdate(`t${i}`) : result(`t${i}`, Buffer.alloc(payloadBytes, i), metadata)));
    const fitted = fitToBudget(results, max);
    expect(encodedBytes(fitted)).toBeLessThanOrEqual(max);
    expect(kind(fitted[0] as TopicPollResult)).not.toBe('deferred');
    expect(fitted.map((r) => r.topic)).toEqual(results.map((r) => r.topic));
    expect([...new Set(fitted.map(kind))].join(',')).toBe(kinds);
    for (const r of fitted.filter((x) => kind(x) === 'deferred')) expect(r).toEqual({ topic: r.topic, update: null, errorCode: DEFERRED_CODE, errorMessage: DEFERRED_MESSAGE });
  });

  it('counts to the byte (pinned flags, non-ASCII metadata, the same record in two answers): an answer exactly at the budget stays as it is, one byte less does not', () => {
    const pinned = (r: TopicPollResult): TopicPollResult => ({ ...r, update: { ...r.update, pinned: true } });
    const shared = result('s', Buffer.from('s'.repeat(700)));
    const results = [result('a', Buffer.from('x'.repeat(1000))), pinned(result('p', Buffer.from('y'.repeat(300)), { ü: 'ß€' })), shared, { ...shared, topic: 's2' }, pinned(result('d', Buffer.from('z'.repeat(500))))];
    const exact = encodedBytes(results);
    expect(fitToBudget(results, exact)).toEqual(results);
    expect(fitToBudget(results, exact - 1).map(kind)).toEqual(['whole', 'whole', 'whole', 'whole', 'omitted']);
  });

  it('keeps room to leave out each later result even where the whole answer would fit: three empty answers within a budget of their own size', () => {
    // A deferred result (its code and message) is larger than an empty answer: the room kept
    // for it decides, not the answer's size.
    const results = [noUpdate('a'), noUpdate('b'), noUpdate('c')];
    expect(fitToBudget(results, encodedBytes(results)).map(kind)).toEqual(['none', 'deferred', 'deferred']);
    expect(fitToBudget(results, 250)).toEqual(results);
  });

  it('only the first result may go over: alone, without its bytes', () => {
    const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`k${k}`, 'x'.repeat(4096)]));
    const fitted = fitToBudget([result('a', Buffer.alloc(10), metadata), result('b', Buffer.alloc(10), metadata)], 65_536);
    expect(fitted.map(kind)).toEqual(['omitted', 'deferred']);
  });

  it('room to leave out every one of the most topics a BatchPoll may name fits the smallest budget', () => {
    const most = Array.from({ length: 2000 }, (_, i) => noUpdate(`${String(i).padStart(4, '0')}${'t'.repeat(124)}`));
    const deferred = most.map((r) => ({ ...r, errorCode: DEFERRED_CODE, errorMessage: DEFERRED_MESSAGE }));
    expect(encodedBytes(deferred) / 2000).toBe(232);
    expect(encodedBytes(deferred)).toBeLessThan(1_048_576);
  });
});

describe('encodeBatchPollResponse', () => {
  const protoLoader = (res: unknown): Buffer => (loadImprintProto().def['imprint.v1.BatchPollResponse'] as unknown as { serialize(x: unknown): Buffer }).serialize(res);
  const big = result('big', Buffer.alloc(MAX_DIRECT_BYTES, 7), { 'ключ': 'значение ✓' });
  const shared = result('shared', Buffer.from('the same record object in two answers'));
  const cases: [string, { results?: TopicPollResult[] }][] = [
    ['no results', { results: [] }],
    ['no results field', {}],
    ['nothing new, a failure, a deferred topic', { results: [noUpdate('a'), failed('b'), fitToBudget([noUpdate('x'), big, big], 1024 * 1024)[2] as TopicPollResult] }],
    ['records: small, pinned, rolled back, with metadata in any script', { results: [result('r', Buffer.from('weights')), { ...shared, update: { ...shared.update, pinned: true, rolledBack: true } }, shared, result('m', Buffer.from('m'), { 'ü': '日本', '': '' })] }],
    ['a record of 1 MiB whole and one without its bytes', { results: fitToBudget([big, big, big, big, big], 3 * 1024 * 1024) }],
    ['max staleness: 0, a number, a large one, a decimal string', { results: [{ ...noUpdate('s0'), maxStalenessMs: 0 }, { ...noUpdate('s1'), maxStalenessMs: 300_000 }, { ...noUpdate('s2'), maxStalenessMs: 2 ** 45 + 3 }, { ...noUpdate('s3'), maxStalenessMs: '86400000' }] }],
    ['what it leaves to protobufjs: a negative, a non-canonical string, a non-string topic', { results: [{ ...noUpdate('n'), maxStalenessMs: -1 }, { ...noUpdate('z'), maxStalenessMs: '007' }, { ...noUpdate('t'), topic: 12 as unknown as string }] }],
  ];
  it.each(cases)('%s: the bytes proto-loader writes', (_what, res) => {
    const ours = encodeBatchPollResponse(res);
    expect(ours.equals(protoLoader(res))).toBe(true);
    // Twice: the second from the records' kept encodings.
    expect(encodeBatchPollResponse(res).equals(ours)).toBe(true);
  });

  it('fitToBudget counts each result as it is written, max staleness included', () => {
    const results = Array.from({ length: 5 }, (_, i) => ({ ...result(`t${i}`, Buffer.from('x'.repeat(300))), maxStalenessMs: 10 ** (i * 3) }));
    const size = encodeBatchPollResponse({ results }).length;
    expect(fitToBudget(results, size)).toEqual(results);
    expect(fitToBudget(results, size - 1).map(kind)).toEqual(['whole', 'whole', 'whole', 'whole', 'omitted']);
  });
});

describe('decodeBatchPollRequest', () => {
  const service = () => loadImprintProto().def['imprint.v1.ConsumerService'] as unknown as Record<'BatchPoll' | 'Watch', { requestSerialize(x: unknown): Buffer; requestDeserialize(b: Buffer): unknown }>;
  const wire = (req: unknown) => service().BatchPoll.requestSerialize(req);
  const protoLoader = (bytes: Buffer): unknown => {
    try {
      return service().BatchPoll.requestDeserialize(bytes);
    } catch (err) {
      return { threw: (err as Error).message };
    }
  };
  const ours = (bytes: Buffer): unknown => {
    try {
      return decodeBatchPollRequest(bytes);
    } catch (err) {
      return { threw: (err as Error).message };
    }
  };
  const identity = { app: 'scorer', cluster: 'c1', region: 'eu-west-1', nodeId: 'node-0042', labels: { tier: 'gold', ключ: '日本' } };
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['an identity and 7 topics', wire({ identity, topics: Array.from({ length: 7 }, (_, i) => ({ topic: `topic-${i}`, lastSeenVersion: String(i * 1000) })) })],
    ['defaults left out on the wire', wire({ identity: {}, topics: [{}, { topic: 't' }, { lastSeenVersion: '3' }] })],
    ['versions at every size, up to 2^64-1', wire({ topics: ['1', '127', '128', '16384', String(2 ** 49 - 1), String(2 ** 49), String(2 ** 53 + 1), '9223372036854775807', '18446744073709551615'].map((v) => ({ topic: 'v', lastSeenVersion: v })) })],
    ['a rejection (left to protobufjs)', wire({ identity, topics: [{ topic: 't', lastSeenVersion: '2', rejected: { version: '3', stage: 'VERIFY', reason: 'sha256 mismatch' } }] })],
    ['an identity twice (the last one wins)', Buffer.concat([wire({ identity }), wire({ identity: { app: 'other' } })])],
    ['an unknown field (left to protobufjs)', Buffer.concat([wire({ identity }), Buffer.from([0x18, 0x05])])],
    ['cut short', wire({ identity, topics: [{ topic: 'topic-1', lastSeenVersion: '7' }] }).subarray(0, 20)],
    ['a length past the end', Buffer.from([0x12, 0x7f, 0x0a, 0x01, 0x61])],
    ['invalid UTF-8 in a topic', Buffer.from([0x12, 0x05, 0x0a, 0x03, 0xff, 0xfe, 0x61])],
    ['an 11-byte varint', Buffer.from([0x12, 0x0c, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a 10-byte varint past 64 bits', Buffer.from([0x12, 0x0b, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])],
  ];
  it.each(cases)('%s: what proto-loader gives', (_what, bytes) => {
    expect(ours(bytes)).toEqual(protoLoader(bytes));
  });

  it('names past what its table of names holds (slots shared and replaced): what proto-loader gives, every time', () => {
    // 12k distinct topic names of equal length, each asked twice: many share a slot, so a
    // name found in a slot must be checked byte by byte, not by its length or hash.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 12_000; i += 500) {
        const bytes = wire({ identity: { app: `app-${i % 7}` }, topics: Array.from({ length: 500 }, (_, k) => ({ topic: `t${String(i + k).padStart(6, '0')}`, lastSeenVersion: '1' })) });
        expect(ours(bytes)).toEqual(protoLoader(bytes));
      }
    }
  });

  it('random requests, byte strings and their cuts: what proto-loader gives, every time', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const req = { identity: rnd() < 0.9 ? { app: `a${i}`, nodeId: rnd() < 0.5 ? '' : `n${i}`, labels: rnd() < 0.3 ? { k: String(i) } : {} } : undefined, topics: Array.from({ length: Math.floor(rnd() * 9) }, (_, k) => ({ topic: `t${k}`, lastSeenVersion: String(Math.floor(rnd() * 2 ** 40)) })) };
      const bytes = wire(req);
      expect(ours(bytes)).toEqual(protoLoader(bytes));
      const cut = bytes.subarray(0, Math.floor(rnd() * bytes.length));
      expect(ours(cut)).toEqual(protoLoader(cut));
      const noise = Buffer.from(Array.from({ length: Math.floor(rnd() * 24) }, () => Math.floor(rnd() * 256)));
      expect(ours(noise)).toEqual(protoLoader(noise));
    }
  });
});

describe('toUpdate', () => {
  it('converts a record once: every answer carrying the same record object shares its wire form, equal to a fresh conversion', () => {
    const payload = Buffer.from('model');
    const base = { topic: 't', version: 7n, publishedAtMs: 1_700_000_000_000, metadata: { build: '7' }, pointer: { kind: 'direct' as const, size: payload.length, sha256: sha256Hex(payload), bytes: payload } };
    const record = { ...base, scopes: [{}], digest: recordDigest(base) };
    const first = toUpdate({ record, pinned: false });
    const again = toUpdate({ record, pinned: true });
    expect(again?.record).toBe(first?.record);
    expect(first?.record).toEqual(recordToWire(record));
    expect([first?.pinned, again?.pinned]).toEqual([false, true]);
    // Another object with the same contents is converted on its own.
    expect(toUpdate({ record: { ...record }, pinned: false })?.record).not.toBe(first?.record);
  });
});

describe('batchPollFromWire', () => {
  const app = { app: 'scorer', cluster: '', region: '', nodeId: '', labels: {} };
  const req = (topics: [string, string][], identity: BatchPollRequest__Output['identity'] = app): BatchPollRequest__Output => ({ identity, topics: topics.map(([topic, lastSeenVersion]) => ({ topic, lastSeenVersion, rejected: null })) });

  it('gives the domain request', () => {
    expect(batchPollFromWire(req([['a', '0'], ['b', '9223372036854775807']]), 2)).toEqual({ identity: app, cursors: [{ topic: 'a', lastSeen: 0n, lastSeenText: '0' }, { topic: 'b', lastSeen: 9223372036854775807n, lastSeenText: '9223372036854775807' }] });
  });

  it('reads every last_seen_version as versionFromWire does: the same version, or the same error naming the topic', () => {
    const texts = ['0', '1', '007', '4095', '4096', '999999999999999', '1000000000000000', '123456789012345678', '9223372036854775807', '9223372036854775808', '18446744073709551615', '', '-1', '1a', 'a1', '1.5', ' 1', '1e3', '0x10', '٣'];
    for (const text of texts) {
      const ours = (() => {
        try {
          return batchPollFromWire(req([['a', '1'], ['b', text]]), 2).cursors[1]?.lastSeen;
        } catch (err) {
          return (err as Error).message;
        }
      })();
      const theirs = (() => {
        try {
          return versionFromWire(text, 'topics[1].last_seen_version', true);
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect([text, ours]).toEqual([text, theirs]);
    }
  });

  it.each<[string, BatchPollRequest__Output, string]>([
    ['one topic too many', req([['a', '0'], ['b', '0'], ['c', '0']]), 'topics must name at most 2 topics (got 3)'],
    ['a duplicate', req([['a', '0'], ['a', '1']]), 'topics[1].topic must not repeat topics[0].topic (got "a")'],
    ['a duplicate in a batch of more than 16', req([...Array.from({ length: 20 }, (_, i): [string, string] => [`t${i}`, '0']), ['t3', '1']]), 'topics[20].topic must not repeat topics[3].topic (got "t3")'],
    ['a bad name', req([['a', '0'], ['', '1']]), 'topics[1].topic must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit (got "")'],
    ['a version out of range', req([['a', '9223372036854775808']]), 'topics[0].last_seen_version must be a whole number between 0 and 9223372036854775807 (got 9223372036854775808)'],
    ['no app', req([['a', '0']], { ...app, app: '' }), 'identity.app is required: name the application that polls (audit and per-application limits count by it)'],
  ])('refuses %s', (_what, r, message) => {
    const max = r.topics.length > 16 ? r.topics.length : 2;
    expect(() => batchPollFromWire(r, max)).toThrow(InvalidArgumentError);
    expect(() => batchPollFromWire(r, max)).toThrow(message);
  });
});

describe('batchPollWithDefaults', () => {
  it('fills the defaults and refuses bounds out of range, naming the option and the flag', () => {
    expect(batchPollWithDefaults()).toEqual({ maxTopics: 500, maxResponseBytes: 4 * 1024 * 1024 - 64 * 1024 });
    expect(() => batchPollWithDefaults({ maxTopics: 2001 })).toThrow('batchPoll.maxTopics must be a whole number from 1 to 2000 (--batch-poll-max-topics, IMPRINT_BATCH_POLL_MAX_TOPICS) (got 2001)');
    expect(() => batchPollWithDefaults({ maxResponseBytes: 1_048_575 })).toThrow('batchPoll.maxResponseBytes must be a whole number from 1048576 to 67108864');
  });
});
