/**
 * The bounds of one BatchPoll (DESIGN invariant 11: no request costs more than a bounded
 * amount of work and memory): the request is checked whole before any work, and the answer
 * is fitted to a byte budget.
 *
 * The budget counts each result exactly as it is sent (grpc-js, or the fast lane with
 * encodeBatchPollResponse, which writes the same bytes): a record by the contract's
 * own encoder (once per record object, see wireRecordOf), strings by their UTF-8 lengths, each
 * field with its framing. Beyond the budget a
 * record comes without its direct bytes (`direct_omitted`; the client reads it with
 * GetVersion), and a result that does not fit even so is left for another request (error_code
 * RESOURCE_EXHAUSTED). Room for leaving every later result out is kept as the results are
 * placed, so the whole answer stays within the budget; only the first result is never left
 * out (each answer makes progress), so a single record whose metadata and scopes alone
 * exceed the budget can still go over it.
 */
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, validatePollIdentity, validateTopicName, type ConsumerIdentity, type PollAnswer, type Rejection, type Version, type VersionRecord } from '../../core/index.js';
import { identityFromWire, recordToWire, rejectionFromWire, versionFromWire } from '../../proto/convert.js';
import type { BatchPollRequest__Output } from '../../proto/gen/imprint/v1/BatchPollRequest.js';
import type { TopicPollResult } from '../../proto/gen/imprint/v1/TopicPollResult.js';
import type { Update } from '../../proto/gen/imprint/v1/Update.js';
import type { VersionRecord as WireRecord } from '../../proto/gen/imprint/v1/VersionRecord.js';
import { wireType } from '../../proto/loader.js';
import type { Logger } from '../../log/index.js';
import { toServiceError } from './errors.js';

export interface BatchPollCursor {
  readonly topic: string;
  readonly lastSeen: Version;
  /** lastSeen as the request wrote it, for the Poller's observer (Poller.poll's `lastSeenText`: it checks the form). */
  readonly lastSeenText: string;
  /** The last version the consumer tried and could not load (rollout gates, server/poll/outcomes.ts). */
  readonly rejected?: Rejection;
}

/**
 * A BatchPoll (or Watch, or Report: the same fields) request as the domain sees it, or
 * INVALID_ARGUMENT naming the first wire field that breaks a rule: at most `maxTopics` topics,
 * each a valid name named once with a last_seen_version in range (and a rejected.version in
 * range, a stage, a reason of at most 1024 characters), and an identity that names its app.
 */
export function batchPollFromWire(req: Pick<BatchPollRequest__Output, 'identity' | 'topics'>, maxTopics: number): { identity: ConsumerIdentity; cursors: BatchPollCursor[] } {
  const topics = req.topics;
  const n = topics.length;
  if (n > maxTopics) throw new InvalidArgumentError('topics', `must name at most ${maxTopics} topics`, n);
  // Every poll of the fleet comes through here: the valid path builds no field names (they are
  // made only for the error), and a small batch finds a repeat by comparing, without a Map.
  const first = n > SMALL_BATCH ? new Map<string, number>() : undefined;
  const cursors: BatchPollCursor[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = topics[i] as BatchPollRequest__Output['topics'][number];
    const topic = t.topic;
    try {
      validateTopicName(topic);
    } catch {
      validateTopicName(topic, `topics[${i}].topic`);
    }
    const earlier = first ? first.get(topic) : earlierIndex(topics, topic, i);
    if (earlier !== undefined) throw new InvalidArgumentError(`topics[${i}].topic`, `must not repeat topics[${earlier}].topic`, topic);
    first?.set(topic, i);
    const rejected = t.rejected ? rejectionFromWire(t.rejected, `topics[${i}].rejected`) : undefined;
    const lastSeen = lastSeenFromWire(t.lastSeenVersion, i);
    const lastSeenText = t.lastSeenVersion;
    cursors[i] = rejected ? { topic, lastSeen, lastSeenText, rejected } : { topic, lastSeen, lastSeenText };
  }
  return { identity: validatePollIdentity(identityFromWire(req.identity)), cursors };
}

/** Up to this many topics a repeat is found by comparing names (at most 120 comparisons), past it with a Map. */
const SMALL_BATCH = 16;

/** The index of `topic`'s first appearance before `i`, if any. */
function earlierIndex(topics: BatchPollRequest__Output['topics'], topic: string, i: number): number | undefined {
  for (let j = 0; j < i; j++) if ((topics[j] as BatchPollRequest__Output['topics'][number]).topic === topic) return j;
  return undefined;
}

/** Up to 18 digits is always within 0..2^63-1: no range to check. */
const SHORT_VERSION = /^[0-9]{1,18}$/;

/**
 * A cursor's last_seen_version (versionFromWire's rule and error; its field name made only for
 * an error). Up to 15 digits (exact in a number) it is read digit by digit, and a version below
 * SMALL_VERSIONS (a topic's first versions, where most fleets are) is one bigint made once: a
 * bigint from a string, per topic of every poll, cost more than the rest of the cursor.
 */
function lastSeenFromWire(v: string, i: number): Version {
  if (typeof v === 'string' && v.length > 0 && v.length <= 15) {
    let n = 0;
    let k = 0;
    for (; k < v.length; k++) {
      const d = v.charCodeAt(k) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (k === v.length) return n < SMALL_VERSIONS ? (smallVersions[n] ??= BigInt(n)) : BigInt(n);
  }
  return typeof v === 'string' && SHORT_VERSION.test(v) ? BigInt(v) : versionFromWire(v, `topics[${i}].last_seen_version`, true);
}

const SMALL_VERSIONS = 4096;
const smallVersions: (bigint | undefined)[] = new Array<bigint | undefined>(SMALL_VERSIONS).fill(undefined);

/** The request's decoder grpc-js would use (proto-loader's: protobufjs decode, then toObject). */
const protoLoaderRequest = wireType('imprint.v1.BatchPollRequest');

/**
 * A BatchPollRequest (or a WatchRequest: the same fields) from its bytes, exactly as
 * proto-loader's deserializer gives it (defaults filled, uint64 as decimal strings, labels as a
 * plain object), at a fraction of its cost: no protobufjs message objects, no Long per version.
 * Bytes with anything else (a rejection, an unknown field, another wire type, a malformed
 * varint) go to proto-loader's deserializer whole, so the answer is always the contract's.
 */
export function decodeBatchPollRequest(bytes: Buffer): BatchPollRequest__Output {
  const plain = decodePlain(bytes);
  if (plain) return plain;
  return protoLoaderRequest.toObject(protoLoaderRequest.decode(bytes), PROTO_LOADER_OBJECT) as BatchPollRequest__Output;
}

/** proto-loader's toObject options (proto/loader.ts LOADER_OPTIONS). */
const PROTO_LOADER_OBJECT = { longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true } as const;

/** Thrown inside decodePlain when the bytes are not of the plain shape: the caller falls back. */
const NOT_PLAIN = Symbol('not plain');

function decodePlain(buf: Buffer): BatchPollRequest__Output | undefined {
  const r = { buf, at: 0 };
  let identity: BatchPollRequest__Output['identity'] = null;
  const topics: BatchPollRequest__Output['topics'] = [];
  try {
    while (r.at < buf.length) {
      const tag = readVarint32(r);
      const end = lengthEnd(r, tag);
      if (tag === 0x0a) identity = decodeIdentity(r, end);
      else if (tag === 0x12) topics.push(decodeCursor(r, end));
      else throw NOT_PLAIN;
    }
  } catch (err) {
    if (err === NOT_PLAIN) return undefined;
    throw err;
  }
  return { topics, identity };
}

type Reader = { buf: Buffer; at: number };

function decodeIdentity(r: Reader, end: number): NonNullable<BatchPollRequest__Output['identity']> {
  const id = { labels: {} as Record<string, string>, app: '', cluster: '', region: '', nodeId: '' };
  while (r.at < end) {
    const tag = readVarint32(r);
    const stop = lengthEnd(r, tag);
    if (tag === 0x0a) id.app = readString(r, stop, true);
    else if (tag === 0x12) id.cluster = readString(r, stop, true);
    else if (tag === 0x1a) id.region = readString(r, stop, true);
    // A node's id is its own: kept, it would only push the names many share out of the table.
    else if (tag === 0x22) id.nodeId = readString(r, stop, false);
    else if (tag === 0x2a) {
      // A labels map entry: key 1, value 2, either absent meaning "".
      let key = '';
      let value = '';
      while (r.at < stop) {
        const t = readVarint32(r);
        const e = lengthEnd(r, t);
        if (t === 0x0a) key = readString(r, e, true);
        else if (t === 0x12) value = readString(r, e, true);
        else throw NOT_PLAIN;
      }
      id.labels[key] = value;
    } else throw NOT_PLAIN;
  }
  if (r.at !== end) throw NOT_PLAIN;
  return id;
}

function decodeCursor(r: Reader, end: number): BatchPollRequest__Output['topics'][number] {
  const c: BatchPollRequest__Output['topics'][number] = { topic: '', lastSeenVersion: '0', rejected: null };
  while (r.at < end) {
    const tag = readVarint32(r);
    if (tag === 0x0a) c.topic = readString(r, lengthEnd(r, tag), true);
    else if (tag === 0x10) c.lastSeenVersion = readUint64(r);
    else throw NOT_PLAIN;
  }
  if (r.at !== end) throw NOT_PLAIN;
  return c;
}

/** For a length-delimited tag (wire type 2), where its bytes end; anything else is not plain. */
function lengthEnd(r: Reader, tag: number): number {
  if ((tag & 7) !== 2) return -1;
  const len = readVarint32(r);
  const end = r.at + len;
  if (end > r.buf.length) throw NOT_PLAIN;
  return end;
}

/**
 * A string field. The names a fleet repeats in every request (topics, apps, clusters, regions,
 * labels) are mostly the same few thousand: a short ASCII one is looked up by its bytes in a
 * small table of the strings made before (`intern`), which costs less than making it again
 * (Buffer.toString is a call into C++ per string), and gives the poll table's lookups a string
 * whose hash V8 has already computed. Anything else is decoded as UTF-8, as before.
 */
function readString(r: Reader, end: number, intern: boolean): string {
  if (end < 0) throw NOT_PLAIN;
  const { buf, at } = r;
  r.at = end;
  const len = end - at;
  if (len === 0) return '';
  if (!intern || len > MAX_INTERNED_CHARS) return buf.toString('utf8', at, end);
  let h = len;
  for (let k = at; k < end; k++) {
    const c = buf[k] as number;
    if (c >= 0x80) return buf.toString('utf8', at, end);
    h = Math.imul(h ^ c, 0x01000193);
  }
  const slot = (h ^ (h >>> 15)) & (INTERNED_SLOTS - 1);
  const known = interned[slot];
  if (known !== undefined && known.length === len) {
    let k = 0;
    while (k < len && known.charCodeAt(k) === buf[at + k]) k++;
    if (k === len) return known;
  }
  const text = buf.toString('latin1', at, end);
  interned[slot] = text;
  return text;
}

/** Strings longer than this are not looked up (names a fleet shares are short: topics, apps, regions). */
const MAX_INTERNED_CHARS = 64;
/** The table's slots (a power of two): a fleet's topics, apps, clusters and regions, with room to spare; at most 64 chars each, about 1 MiB at worst. */
const INTERNED_SLOTS = 8192;
/** Strings made before, by a hash of their bytes; a collision replaces (a slot holds the last one made). */
const interned: (string | undefined)[] = new Array<string | undefined>(INTERNED_SLOTS).fill(undefined);

/** A varint of at most 32 bits (tags, lengths), as protobufjs reads them; longer is not plain. */
function readVarint32(r: Reader): number {
  let n = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (r.at >= r.buf.length) throw NOT_PLAIN;
    const b = r.buf[r.at++] as number;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (n > 0x7fffffff) throw NOT_PLAIN;
      return n;
    }
  }
  throw NOT_PLAIN;
}

/** A uint64 varint as its decimal string (protobufjs with longs: String). */
function readUint64(r: Reader): string {
  let n = 0;
  for (let shift = 0; shift < 49; shift += 7) {
    if (r.at >= r.buf.length) throw NOT_PLAIN;
    const b = r.buf[r.at++] as number;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return String(n);
  }
  // Past 2^49: exact in a bigint, up to the 10 bytes a varint may have.
  let big = BigInt(n);
  for (let shift = 49n; shift < 70n; shift += 7n) {
    if (r.at >= r.buf.length) throw NOT_PLAIN;
    const b = r.buf[r.at++] as number;
    // A tenth byte carries one bit of the 64; more is for protobufjs to judge.
    if (shift === 63n && b > 1) throw NOT_PLAIN;
    big += BigInt(b & 0x7f) << shift;
    if (b < 0x80) return big.toString();
  }
  throw NOT_PLAIN;
}

export function toUpdate(a: PollAnswer): Update | null {
  if (!a.record) return null;
  return a.rolledBack ? { record: wireRecordOf(a.record), pinned: a.pinned, rolledBack: true } : { record: wireRecordOf(a.record), pinned: a.pinned };
}

/**
 * A record's wire form, made once per record object and shared by every answer that carries
 * it: a consume instance serves one VersionRecord object to every consumer of that version, so
 * a version announced to thousands is converted (and measured, recordBytes) once, not once per
 * answer. Records are immutable and a wire form is never changed once made (withoutDirect
 * copies what it changes).
 */
const wireRecords = new WeakMap<VersionRecord, WireRecord>();
/** Encoded bytes of the wire records measured so far. */
const wireRecordBytes = new WeakMap<WireRecord, number>();

function wireRecordOf(r: VersionRecord): WireRecord {
  let wire = wireRecords.get(r);
  if (!wire) {
    wire = recordToWire(r);
    wireRecords.set(r, wire);
  }
  return wire;
}

/** A topic's answer as a BatchPoll (and Watch) result. */
export function answeredResult(topic: string, answer: PollAnswer): TopicPollResult {
  return { topic, update: toUpdate(answer), errorCode: '', errorMessage: '', maxStalenessMs: answer.maxStalenessMs ?? 0 };
}

/** A topic the Poller could not answer, as a per-topic error of a BatchPoll (and Watch) result. */
export function failedResult(topic: string, err: unknown, method: string, log: Logger): TopicPollResult {
  const status = toServiceError(err, method, log);
  return { topic, update: null, errorCode: grpc.status[status.code ?? grpc.status.INTERNAL], errorMessage: status.details ?? '' };
}

/** The per-topic answer of a result left for another request. */
export const DEFERRED_CODE = 'RESOURCE_EXHAUSTED';
export const DEFERRED_MESSAGE = 'not answered: the response reached its size budget; ask again for this topic';

/** `results` (in request order) within `maxBytes` on the wire, as the module comment says. */
export function fitToBudget(results: TopicPollResult[], maxBytes: number): TopicPollResult[] {
  // Most answers are far below the budget: when every result fits whole even with room kept for
  // leaving each out (the larger of the two, result by result), no result is touched, and the
  // placing below (arrays and a copy per request) is not needed to say so.
  let worst = 0;
  for (let i = 0; i < results.length && worst <= maxBytes; i++) {
    const r = results[i] as TopicPollResult;
    const topicBytes = stringBytes(r.topic);
    worst += Math.max(framed(resultBytes(r, topicBytes)), framed((r.topic == null ? stringBytes('') : topicBytes) + DEFERRED_ERROR_BYTES));
  }
  if (worst <= maxBytes) return results;
  const deferredBytes = results.map((r) => framed(stringBytes(r.topic ?? '') + DEFERRED_ERROR_BYTES));
  let reserve = deferredBytes.reduce((a, b) => a + b, 0);
  let used = 0;
  return results.map((r, i) => {
    reserve -= deferredBytes[i] ?? 0;
    const room = maxBytes - used - reserve;
    let out = r;
    let size = framed(resultBytes(r));
    if (size > room) {
      const stripped = withoutDirect(r);
      if (stripped) {
        out = stripped;
        size = framed(resultBytes(stripped));
      }
      if (size > room && i > 0) {
        out = deferred(r.topic ?? '');
        size = deferredBytes[i] ?? 0;
      }
    }
    used += size;
    return out;
  });
}

const VersionRecordType = wireType('imprint.v1.VersionRecord');

/**
 * The encoded bytes of one result. The encoder grpc-js uses (protobufjs) writes every field
 * the object has, empty strings and false included, and leaves out only null and undefined.
 */
function resultBytes(r: TopicPollResult, topicBytes = stringBytes(r.topic)): number {
  const m = r.maxStalenessMs;
  const staleness = m == null ? 0 : 1 + varintBytes(typeof m === 'object' ? Number(m.toString()) : Number(m));
  return topicBytes + (r.update == null ? 0 : framed(updateBytes(r.update))) + stringBytes(r.errorCode) + stringBytes(r.errorMessage) + staleness;
}

/** An Update's fields: its record (by the contract's encoder, once per wire record), and the flags (a tag and a byte each). */
function updateBytes(u: Update): number {
  return (u.record == null ? 0 : framed(recordBytes(u.record))) + (u.pinned == null ? 0 : 2) + (u.directOmitted == null ? 0 : 2) + (u.rolledBack == null ? 0 : 2);
}

function recordBytes(wire: WireRecord): number {
  let bytes = wireRecordBytes.get(wire);
  if (bytes === undefined) {
    bytes = encodedRecord(wire).length;
    wireRecordBytes.set(wire, bytes);
  }
  return bytes;
}

/** Records up to this size keep their encoding (a few per version the table serves); larger ones (direct bytes) are encoded per answer. */
const KEEP_ENCODED_BYTES = 64 * 1024;
const wireRecordEncoded = new WeakMap<WireRecord, Uint8Array>();

/** A wire record as the contract's encoder writes it, kept per record object when small. */
function encodedRecord(wire: WireRecord): Uint8Array {
  let bytes = wireRecordEncoded.get(wire);
  if (bytes === undefined) {
    bytes = VersionRecordType.encode(VersionRecordType.fromObject(wire)).finish();
    if (bytes.length <= KEEP_ENCODED_BYTES) wireRecordEncoded.set(wire, bytes);
  }
  return bytes;
}

const BatchPollResponseType = wireType('imprint.v1.BatchPollResponse');

/**
 * A BatchPollResponse as bytes, exactly as proto-loader's serializer (protobufjs's fromObject
 * and encode) writes it, at a fraction of its cost: the results are written straight into one
 * buffer, each record from its kept encoding (one per record object, as its size is). Every
 * field the object has is written, empty strings, false and 0 included; null and undefined are
 * left out, as protobufjs does. A result of another shape (a field of another type) goes to
 * protobufjs whole, so the bytes are always the contract's.
 */
export function encodeBatchPollResponse(res: { results?: readonly TopicPollResult[] | null }): Buffer {
  const results = res.results ?? [];
  const sizes: number[] = new Array(results.length);
  let total = 0;
  for (let i = 0; i < results.length; i++) {
    const size = plainResultBytes(results[i] as TopicPollResult);
    if (size < 0) return Buffer.from(BatchPollResponseType.encode(BatchPollResponseType.fromObject(res)).finish());
    sizes[i] = size;
    total += framed(size);
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as TopicPollResult;
    out[at++] = 0x0a;
    at = writeVarint(out, at, sizes[i] as number);
    if (r.topic != null) at = writeString(out, at, 0x0a, r.topic);
    const u = r.update;
    if (u != null) {
      out[at++] = 0x12;
      at = writeVarint(out, at, updateBytes(u));
      if (u.record != null) {
        const record = encodedRecord(u.record);
        out[at++] = 0x0a;
        at = writeVarint(out, at, record.length);
        out.set(record, at);
        at += record.length;
      }
      if (u.pinned != null) at = writeFlag(out, at, 0x10, u.pinned);
      if (u.directOmitted != null) at = writeFlag(out, at, 0x18, u.directOmitted);
      if (u.rolledBack != null) at = writeFlag(out, at, 0x20, u.rolledBack);
    }
    if (r.errorCode != null) at = writeString(out, at, 0x1a, r.errorCode);
    if (r.errorMessage != null) at = writeString(out, at, 0x22, r.errorMessage);
    if (r.maxStalenessMs != null) {
      out[at++] = 0x28;
      at = writeVarint(out, at, Number(r.maxStalenessMs));
    }
  }
  return out;
}

/** A result's encoded bytes when every field is of the type the answers here use, else -1 (protobufjs encodes it). */
function plainResultBytes(r: TopicPollResult): number {
  if ((r.topic != null && typeof r.topic !== 'string') || (r.errorCode != null && typeof r.errorCode !== 'string') || (r.errorMessage != null && typeof r.errorMessage !== 'string')) return -1;
  const u = r.update;
  if (u != null && ((u.pinned != null && typeof u.pinned !== 'boolean') || (u.directOmitted != null && typeof u.directOmitted !== 'boolean') || (u.rolledBack != null && typeof u.rolledBack !== 'boolean'))) return -1;
  const m = r.maxStalenessMs;
  // A whole number of ms in varint's safe range (an answer's; anything else is protobufjs's to encode).
  if (m != null && !((typeof m === 'number' || typeof m === 'string') && Number.isSafeInteger(Number(m)) && Number(m) >= 0 && String(Number(m)) === String(m))) return -1;
  return resultBytes(r);
}

function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 128) {
    out[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/**
 * A string field. A short ASCII one (every name and code here) is written byte by byte after a
 * one-byte length: cheaper than asking Buffer its UTF-8 length and then writing it (two calls
 * into C++ per string). Any other goes the general way.
 */
function writeString(out: Buffer, at: number, tag: number, text: string): number {
  out[at++] = tag;
  const chars = text.length;
  if (chars < 128) {
    let k = 0;
    for (; k < chars; k++) {
      const c = text.charCodeAt(k);
      if (c >= 0x80) break;
      out[at + 1 + k] = c;
    }
    if (k === chars) {
      out[at] = chars;
      return at + 1 + chars;
    }
  }
  const len = Buffer.byteLength(text);
  at = writeVarint(out, at, len);
  return at + out.write(text, at, len, 'utf8');
}

function writeFlag(out: Buffer, at: number, tag: number, on: boolean): number {
  out[at++] = tag;
  out[at++] = on ? 1 : 0;
  return at;
}

function stringBytes(text: string | null | undefined): number {
  // Most results' error_code and error_message are empty: no call into Buffer for those.
  return text == null ? 0 : text.length === 0 ? 2 : framed(Buffer.byteLength(text));
}
/** A deferred result's error_code and error_message. */
const DEFERRED_ERROR_BYTES = stringBytes(DEFERRED_CODE) + stringBytes(DEFERRED_MESSAGE);

/** A field's bytes inside its message: its tag (one byte: fields 1-15), its length and itself. */
function framed(bytes: number): number {
  return 1 + varintBytes(bytes) + bytes;
}

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

/** The result with its record's direct bytes left out (size and sha256 stay), or undefined when it has none. */
function withoutDirect(r: TopicPollResult): TopicPollResult | undefined {
  const record = r.update?.record;
  const pointer = record?.pointer;
  if (!r.update || !record || !pointer?.direct) return undefined;
  return { ...r, update: { ...r.update, record: { ...record, pointer: { size: pointer.size, sha256: pointer.sha256 } }, directOmitted: true } };
}

function deferred(topic: string): TopicPollResult {
  return { topic, update: null, errorCode: DEFERRED_CODE, errorMessage: DEFERRED_MESSAGE };
}
