/** Input rules for topics, metadata, pointers and versions. Each failure names the field and the rule. */
import { SNAPSHOT_PREFIX, validateTopicKey } from './blob-keys.js';
import { InvalidArgumentError } from './errors.js';
import { uniqueScopes, validateScope } from './scope.js';
import { KEY_ID, SIGNATURE_BYTES } from './signing.js';
import type { BlobLocation, DataPointer, NewVersion, Retention, Scope, VersionSignature } from './types.js';

/** Direct payloads travel inside the record; anything larger goes to a blob store. */
export const MAX_DIRECT_BYTES = 1024 * 1024;
export const MAX_METADATA_ENTRIES = 64;
export const MAX_METADATA_VALUE = 4096;
export const MAX_SCOPES_PER_VERSION = 256;

// The range of every number in the contract, decided here once; the .proto comments and the
// README state the same numbers, and the wire edge (proto/convert.ts) checks them.
/** A version: 1 to 2^63-1, since both stores hold signed 64-bit integers. 0 means "none" where the contract allows it. */
export const MAX_VERSION = 0x7fff_ffff_ffff_ffffn;
/** A payload size in bytes: 1 to 2^53-1, the largest a JavaScript number holds exactly. */
export const MAX_PAYLOAD_SIZE = Number.MAX_SAFE_INTEGER;
/** A time in ms since the epoch: 0 to the last millisecond a JavaScript Date holds (year 275760). */
export const MAX_TIME_MS = 8_640_000_000_000_000;
/** retention.keepVersions and keepDays: 1 to 2^31-1 (Cassandra's int is signed 32-bit). */
export const MAX_RETENTION = 2_147_483_647;
/** ListVersions' page size: 0 (the default, PAGE_SIZE_DEFAULT) to PAGE_SIZE_MAX. */
export const PAGE_SIZE_DEFAULT = 100;
export const PAGE_SIZE_MAX = 1000;

/** `value` when it lies in [min, max], else INVALID_ARGUMENT naming the field, the range and the value. */
export function checkRange<T extends number | bigint>(value: T, field: string, min: T, max: T, note = ''): T {
  if (!(value >= min && value <= max) || (typeof value === 'number' && !Number.isInteger(value))) {
    throw new InvalidArgumentError(field, `must be a whole number between ${min} and ${max}${note}`, value);
  }
  return value;
}

/**
 * A whole-number server setting in [min, max], else INVALID_ARGUMENT naming the option field,
 * the range, and the flag and environment variable that set it (`--watch-heartbeat-ms`,
 * `IMPRINT_WATCH_HEARTBEAT_MS`).
 */
export function checkSetting(value: number, field: string, flag: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(field, `must be a whole number from ${min} to ${max} (--${flag}, IMPRINT_${flag.toUpperCase().replaceAll('-', '_')})`, value);
  }
  return value;
}

const META_KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BUCKET = /^[A-Za-z0-9._/-]{1,1024}$/;
const PUBLISH_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Names a topic may not take: its objects' prefix would be the fallback snapshots' (see blob-keys.ts). */
export const RESERVED_TOPIC_NAMES: readonly string[] = [SNAPSHOT_PREFIX];

/**
 * Whether `name` may name a topic by its characters: 1-128 of a-z, 0-9, ".", "_" or "-",
 * starting with a letter or digit. A loop over char codes, not a regex: every topic-check of
 * every poll runs it (23k/s on a fleet's consume instance).
 */
function isTopicName(name: string): boolean {
  const n = name.length;
  if (n === 0 || n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) continue; // a-z, 0-9
    if (i > 0 && (c === 46 || c === 95 || c === 45)) continue; // ".", "_", "-" after the first
    return false;
  }
  return true;
}

export function validateTopicName(name: string, field = 'topic'): string {
  if (!isTopicName(name)) {
    throw new InvalidArgumentError(field, 'must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit', name);
  }
  // A list scan, not a Set: a Set would hash the name (fresh off the wire) to find it is not one.
  if (RESERVED_TOPIC_NAMES.includes(name)) throw new InvalidArgumentError(field, 'is reserved (the fallback snapshots live under that prefix)', name);
  return name;
}

/**
 * Where a janitor writes (and readers look for) fallback snapshots. Any prefix but the default
 * must start with a segment no topic can be named (such as "_snapshots"), so that no topic's
 * objects and no topic's record can ever be the snapshots'.
 */
export function validateSnapshotPrefix(prefix: string, field = 'prefix'): string {
  const segments = prefix.split('/');
  const first = segments[0] ?? '';
  if (segments.some((s) => s === '' || s === '.' || s === '..') || (prefix !== SNAPSHOT_PREFIX && isTopicName(first) && !RESERVED_TOPIC_NAMES.includes(first))) {
    throw new InvalidArgumentError(field, `must be "${SNAPSHOT_PREFIX}" or path segments whose first no topic can be named (e.g. "_snapshots"), with no empty, "." or ".." segment`, prefix);
  }
  return prefix;
}

export function validateRetention(r: Retention, field = 'retention'): Retention {
  for (const k of ['keepVersions', 'keepDays'] as const) {
    const v = r[k];
    if (v !== undefined) checkRange(v, `${field}.${k}`, 1, MAX_RETENTION);
  }
  return r;
}

export function validateText(value: string, field: string, max: number): string {
  if (value.length > max) throw new InvalidArgumentError(field, `must be at most ${max} characters`, `${value.length} characters`);
  return value;
}

export function validateMetadata(md: Readonly<Record<string, string>>, field = 'metadata'): Readonly<Record<string, string>> {
  const entries = Object.entries(md);
  if (entries.length > MAX_METADATA_ENTRIES) throw new InvalidArgumentError(field, `must have at most ${MAX_METADATA_ENTRIES} entries`, entries.length);
  for (const [k, v] of entries) {
    if (!META_KEY.test(k)) throw new InvalidArgumentError(field, 'keys must be 1-128 of [A-Za-z0-9._:/-], starting with a letter or digit', k);
    if (v.length > MAX_METADATA_VALUE) throw new InvalidArgumentError(`${field}.${k}`, `must be at most ${MAX_METADATA_VALUE} characters`, `${v.length} characters`);
  }
  return md;
}

export function validateSha256(sha: string, field: string): string {
  if (!SHA256.test(sha)) throw new InvalidArgumentError(field, 'must be 64 lowercase hex digits', sha);
  return sha;
}

export function validateLocation(loc: BlobLocation, field: string): BlobLocation {
  if (loc.kind !== 'file' && loc.kind !== 's3') throw new InvalidArgumentError(`${field}.kind`, 'must be "file" or "s3"', loc.kind);
  if (!BUCKET.test(loc.bucket)) throw new InvalidArgumentError(`${field}.bucket`, 'must be 1-1024 characters of [A-Za-z0-9._/-]', loc.bucket);
  if (loc.key.length === 0 || loc.key.length > 1024 || loc.key.split('/').includes('..')) {
    throw new InvalidArgumentError(`${field}.key`, 'must be 1-1024 characters with no ".." segment', loc.key);
  }
  if (loc.kind === 's3' && loc.region === '') throw new InvalidArgumentError(`${field}.region`, 'must be set for s3 locations');
  return loc;
}

/**
 * The pointer rules. For direct bytes the size and sha256 are checked against the bytes
 * by the caller (it owns the hashing); here, the shapes.
 */
export function validatePointer(p: DataPointer, field = 'pointer'): DataPointer {
  validateSha256(p.sha256, `${field}.sha256`);
  checkRange(p.size, `${field}.size`, 1, MAX_PAYLOAD_SIZE, ' (an empty payload is not a dataset)');
  if (p.kind === 'direct') {
    if (p.bytes.length === 0) throw new InvalidArgumentError(`${field}.direct`, 'must not be empty');
    if (p.bytes.length > MAX_DIRECT_BYTES) {
      throw new InvalidArgumentError(`${field}.direct`, `must be at most ${MAX_DIRECT_BYTES} bytes (1 MiB); publish larger payloads to a blob store`, `${p.bytes.length} bytes`);
    }
    if (p.bytes.length !== p.size) throw new InvalidArgumentError(`${field}.size`, `must equal the length of the direct bytes (${p.bytes.length})`, p.size);
  } else {
    if (p.locations.length === 0) throw new InvalidArgumentError(`${field}.blob.locations`, 'must name at least one location');
    const regions = new Set<string>();
    p.locations.forEach((loc, i) => {
      validateLocation(loc, `${field}.blob.locations[${i}]`);
      if (regions.has(loc.region)) throw new InvalidArgumentError(`${field}.blob.locations[${i}].region`, 'must be unique (one location per region)', loc.region);
      regions.add(loc.region);
    });
  }
  return p;
}

export function validateScopes(scopes: readonly Scope[], field = 'scopes'): Scope[] {
  if (scopes.length > MAX_SCOPES_PER_VERSION) throw new InvalidArgumentError(field, `must have at most ${MAX_SCOPES_PER_VERSION} entries`, scopes.length);
  scopes.forEach((s, i) => validateScope(s, `${field}[${i}]`));
  return uniqueScopes(scopes);
}

/** A publish id: "" (none) or 1-128 characters of A-Z a-z 0-9 . _ : - */
export function validatePublishId(id: string, field = 'publish_id'): string {
  if (id !== '' && !PUBLISH_ID.test(id)) throw new InvalidArgumentError(field, 'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-" (or empty: no retry protection)', id);
  return id;
}

/** A whole publish; no scopes means the empty scope (every consumer). A blob's keys must be the topic's own. */
export function validateNewVersion(v: NewVersion): NewVersion {
  validateTopicName(v.topic);
  validateMetadata(v.metadata);
  const p = validatePointer(v.pointer);
  if (p.kind === 'blob') p.locations.forEach((loc, i) => validateTopicKey(v.topic, loc.key, `pointer.blob.locations[${i}].key`));
  validatePublishId(v.publishId ?? '');
  if (v.signature) validateSignatureShape(v.signature);
  const scopes = validateScopes(v.scopes);
  return { ...v, scopes: scopes.length === 0 ? [{}] : scopes };
}

/** A version written in decimal (the CLI's arguments): 1 to MAX_VERSION. */
export function parseVersion(text: string, field = 'version'): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new InvalidArgumentError(field, `must be a whole number between 1 and ${MAX_VERSION}`, text);
  return checkRange(BigInt(text), field, 1n, MAX_VERSION);
}

/** A signature's shape (whether it verifies is signing.ts's signatureProblem): a key id and 64 bytes. */
export function validateSignatureShape(s: VersionSignature, field = 'signature'): VersionSignature {
  if (!KEY_ID.test(s.keyId)) throw new InvalidArgumentError(`${field}.key_id`, 'must be 16 lowercase hex digits (the start of the sha256 of the raw public key)', s.keyId);
  const bytes = Buffer.from(s.signature, 'base64');
  if (bytes.length !== SIGNATURE_BYTES) throw new InvalidArgumentError(`${field}.signature`, `must be ${SIGNATURE_BYTES} bytes (an Ed25519 signature)`, `${bytes.length} bytes`);
  return s;
}
