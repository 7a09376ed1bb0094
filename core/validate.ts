/** Input rules for topics, metadata, pointers and versions. Each failure names the field and the rule. */
import { InvalidArgumentError } from './errors.js';
import { uniqueScopes, validateScope } from './scope.js';
import type { BlobLocation, DataPointer, NewVersion, Retention, Scope } from './types.js';

/** Direct payloads travel inside the record; anything larger goes to a blob store. */
export const MAX_DIRECT_BYTES = 1024 * 1024;
export const MAX_METADATA_ENTRIES = 64;
export const MAX_METADATA_VALUE = 4096;
export const MAX_SCOPES_PER_VERSION = 256;

const TOPIC = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const META_KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const BUCKET = /^[A-Za-z0-9._/-]{1,1024}$/;
const PUBLISH_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function validateTopicName(name: string, field = 'topic'): string {
  if (!TOPIC.test(name)) {
    throw new InvalidArgumentError(field, 'must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit', name);
  }
  return name;
}

export function validateRetention(r: Retention, field = 'retention'): Retention {
  for (const k of ['keepVersions', 'keepDays'] as const) {
    const v = r[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InvalidArgumentError(`${field}.${k}`, 'must be a whole number >= 1', v);
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
  if (!Number.isSafeInteger(p.size) || p.size < 1) throw new InvalidArgumentError(`${field}.size`, 'must be >= 1 (an empty payload is not a dataset)', p.size);
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

/** A whole publish; no scopes means the empty scope (every consumer). */
export function validateNewVersion(v: NewVersion): NewVersion {
  validateTopicName(v.topic);
  validateMetadata(v.metadata);
  validatePointer(v.pointer);
  validatePublishId(v.publishId ?? '');
  const scopes = validateScopes(v.scopes);
  return { ...v, scopes: scopes.length === 0 ? [{}] : scopes };
}

export function parseVersion(text: string, field = 'version'): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new InvalidArgumentError(field, 'must be a whole number >= 1', text);
  const v = BigInt(text);
  if (v < 1n || v > 0xffff_ffff_ffff_ffffn) throw new InvalidArgumentError(field, 'must be between 1 and 2^64-1', text);
  return v;
}
