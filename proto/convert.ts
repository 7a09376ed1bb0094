/**
 * Translation between the wire types (proto/gen) and core's domain types, used by the
 * server and the client alike. Shapes the wire cannot express in the domain (a missing
 * payload, a malformed number) are INVALID_ARGUMENT errors naming the field.
 */
import {
  InvalidArgumentError,
  type Actor,
  type BlobKind,
  type Change,
  type ChangeKind,
  type BlobLocation,
  type ConsumerIdentity,
  type DataPointer,
  type Pin,
  type Retention,
  type Scope,
  type ScopeHead,
  type Topic,
  type Version,
  type VersionRecord,
} from '../core/index.js';
import type { BlobLocation__Output, BlobLocation as WireBlobLocation } from './gen/imprint/v1/BlobLocation.js';
import type { Change as WireChange, Change__Output } from './gen/imprint/v1/Change.js';
import type { ChangeKind__Output } from './gen/imprint/v1/ChangeKind.js';
import type { ConsumerIdentity as WireIdentity, ConsumerIdentity__Output } from './gen/imprint/v1/ConsumerIdentity.js';
import type { DataPointer as WirePointer, DataPointer__Output } from './gen/imprint/v1/DataPointer.js';
import type { Pin as WirePin, Pin__Output } from './gen/imprint/v1/Pin.js';
import type { Retention as WireRetention, Retention__Output } from './gen/imprint/v1/Retention.js';
import type { Scope as WireScope, Scope__Output } from './gen/imprint/v1/Scope.js';
import type { ScopeHead as WireScopeHead, ScopeHead__Output } from './gen/imprint/v1/ScopeHead.js';
import type { Topic as WireTopic, Topic__Output } from './gen/imprint/v1/Topic.js';
import type { VersionRecord as WireRecord, VersionRecord__Output } from './gen/imprint/v1/VersionRecord.js';
import type { TopicConsumers as WireTopicConsumers, TopicConsumers__Output } from './gen/imprint/v1/TopicConsumers.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** A uint64 on the wire (a decimal string with longs: String). 0 allowed only when `zeroOk`. */
export function versionFromWire(v: string | undefined, field: string, zeroOk = false): Version {
  const s = v ?? '0';
  if (!/^[0-9]{1,20}$/.test(s)) throw new InvalidArgumentError(field, 'must be a whole number', s);
  const n = BigInt(s);
  if (n > U64_MAX) throw new InvalidArgumentError(field, 'must fit in 64 bits', s);
  if (!zeroOk && n === 0n) throw new InvalidArgumentError(field, 'must be >= 1', s);
  return n;
}

export function scopeFromWire(s: Scope__Output | null | undefined): Scope {
  return { ...(s?.match ?? {}) };
}

export function scopeToWire(s: Scope): WireScope {
  return { match: { ...s } };
}

export function identityFromWire(id: ConsumerIdentity__Output | null | undefined): ConsumerIdentity {
  return { app: id?.app ?? '', cluster: id?.cluster ?? '', region: id?.region ?? '', nodeId: id?.nodeId ?? '', labels: { ...(id?.labels ?? {}) } };
}

export function identityToWire(id: ConsumerIdentity): WireIdentity {
  return { app: id.app, cluster: id.cluster, region: id.region, nodeId: id.nodeId, labels: { ...id.labels } };
}

export function retentionFromWire(r: Retention__Output | null | undefined): Retention {
  return {
    ...(r?.keepVersions !== undefined && r._keepVersions === 'keepVersions' && { keepVersions: r.keepVersions }),
    ...(r?.keepDays !== undefined && r._keepDays === 'keepDays' && { keepDays: r.keepDays }),
  };
}

export function retentionToWire(r: Retention): WireRetention {
  return { ...(r.keepVersions !== undefined && { keepVersions: r.keepVersions }), ...(r.keepDays !== undefined && { keepDays: r.keepDays }) };
}

const KIND_FROM_WIRE: Record<string, BlobKind | undefined> = { BLOB_KIND_FILE: 'file', BLOB_KIND_S3: 's3' };
const KIND_TO_WIRE: Record<BlobKind, 'BLOB_KIND_FILE' | 'BLOB_KIND_S3'> = { file: 'BLOB_KIND_FILE', s3: 'BLOB_KIND_S3' };

function locationFromWire(l: BlobLocation__Output, field: string): BlobLocation {
  const kind = KIND_FROM_WIRE[l.kind];
  if (!kind) throw new InvalidArgumentError(`${field}.kind`, 'must be BLOB_KIND_FILE or BLOB_KIND_S3', l.kind);
  return { kind, region: l.region, bucket: l.bucket, key: l.key };
}

function locationToWire(l: BlobLocation): WireBlobLocation {
  return { kind: KIND_TO_WIRE[l.kind], region: l.region, bucket: l.bucket, key: l.key };
}

export function pointerFromWire(p: DataPointer__Output | null | undefined, field = 'pointer'): DataPointer {
  if (!p) throw new InvalidArgumentError(field, 'is required');
  const size = Number(p.size);
  if (p.payload === 'direct' && p.direct) return { kind: 'direct', size, sha256: p.sha256, bytes: p.direct };
  if (p.payload === 'blob' && p.blob) {
    return { kind: 'blob', size, sha256: p.sha256, locations: p.blob.locations.map((l, i) => locationFromWire(l, `${field}.blob.locations[${i}]`)) };
  }
  throw new InvalidArgumentError(`${field}.payload`, 'must be direct bytes or blob locations');
}

export function pointerToWire(p: DataPointer): WirePointer {
  return p.kind === 'direct'
    ? { size: p.size, sha256: p.sha256, direct: Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength) }
    : { size: p.size, sha256: p.sha256, blob: { locations: p.locations.map(locationToWire) } };
}

export function recordToWire(r: VersionRecord): WireRecord {
  return {
    topic: r.topic,
    version: r.version.toString(),
    publishedAtMs: r.publishedAtMs,
    metadata: { ...r.metadata },
    pointer: pointerToWire(r.pointer),
    scopes: r.scopes.map(scopeToWire),
    digest: r.digest,
  };
}

export function recordFromWire(r: VersionRecord__Output): VersionRecord {
  return {
    topic: r.topic,
    version: versionFromWire(r.version, 'record.version'),
    publishedAtMs: Number(r.publishedAtMs),
    metadata: { ...r.metadata },
    pointer: pointerFromWire(r.pointer, 'record.pointer'),
    scopes: r.scopes.map(scopeFromWire),
    digest: r.digest,
  };
}

export function topicToWire(t: Topic): WireTopic {
  return {
    name: t.name,
    owner: t.owner,
    description: t.description,
    retention: retentionToWire(t.retention),
    createdAtMs: t.createdAtMs,
    latestVersion: t.latestVersion.toString(),
  };
}

export function topicFromWire(t: Topic__Output): Topic {
  return {
    name: t.name,
    owner: t.owner,
    description: t.description,
    retention: retentionFromWire(t.retention),
    createdAtMs: Number(t.createdAtMs),
    latestVersion: versionFromWire(t.latestVersion, 'topic.latestVersion', true),
  };
}

export function pinToWire(p: Pin): WirePin {
  return {
    topic: p.topic,
    scope: scopeToWire(p.scope),
    version: p.version.toString(),
    createdAtMs: p.createdAtMs,
    reason: p.reason,
    createdBy: p.createdBy,
  };
}

export function pinFromWire(p: Pin__Output): Pin {
  return {
    topic: p.topic,
    scope: scopeFromWire(p.scope),
    version: versionFromWire(p.version, 'pin.version'),
    createdAtMs: Number(p.createdAtMs),
    reason: p.reason,
    createdBy: p.createdBy,
  };
}

export function headToWire(h: ScopeHead): WireScopeHead {
  return { scope: scopeToWire(h.scope), version: h.version.toString() };
}

export function headFromWire(h: ScopeHead__Output): Omit<ScopeHead, 'sinceMs'> {
  return { scope: scopeFromWire(h.scope), version: versionFromWire(h.version, 'head.version') };
}

/** The audit sink's consumers view, on the wire (versions are decimal strings there too). */
export interface ConsumersView {
  readonly sinceMs: number;
  readonly nodeCount: number;
  readonly versions: readonly { readonly version: string; readonly nodeCount: number; readonly lastSeenMs: number }[];
  readonly groups: readonly {
    readonly app: string;
    readonly cluster: string;
    readonly nodeCount: number;
    readonly versions: readonly { readonly version: string; readonly nodeCount: number; readonly lastSeenMs: number }[];
    readonly lastSeenMs: number;
  }[];
  readonly lastSeenMs?: number;
}

export function consumersToWire(c: ConsumersView): WireTopicConsumers {
  const held = (v: ConsumersView['versions'][number]) => ({ version: v.version, nodeCount: v.nodeCount, lastSeenMs: v.lastSeenMs });
  return {
    sinceMs: c.sinceMs,
    nodeCount: c.nodeCount,
    versions: c.versions.map(held),
    groups: c.groups.map((g) => ({ app: g.app, cluster: g.cluster, nodeCount: g.nodeCount, versions: g.versions.map(held), lastSeenMs: g.lastSeenMs })),
    lastSeenMs: c.lastSeenMs ?? 0,
  };
}

export function consumersFromWire(c: TopicConsumers__Output): ConsumersView {
  const held = (v: { version: string; nodeCount: number; lastSeenMs: string }) => ({ version: v.version, nodeCount: v.nodeCount, lastSeenMs: Number(v.lastSeenMs) });
  return {
    sinceMs: Number(c.sinceMs),
    nodeCount: c.nodeCount,
    versions: c.versions.map(held),
    groups: c.groups.map((g) => ({ app: g.app, cluster: g.cluster, nodeCount: g.nodeCount, versions: g.versions.map(held), lastSeenMs: Number(g.lastSeenMs) })),
    ...(Number(c.lastSeenMs) > 0 && { lastSeenMs: Number(c.lastSeenMs) }),
  };
}

const CHANGE_KIND_TO_WIRE: Record<ChangeKind, ChangeKind__Output> = {
  'create-topic': 'CHANGE_KIND_CREATE_TOPIC',
  'update-topic': 'CHANGE_KIND_UPDATE_TOPIC',
  publish: 'CHANGE_KIND_PUBLISH',
  'add-scopes': 'CHANGE_KIND_ADD_SCOPES',
  pin: 'CHANGE_KIND_PIN',
  unpin: 'CHANGE_KIND_UNPIN',
};
const CHANGE_KIND_FROM_WIRE = new Map(Object.entries(CHANGE_KIND_TO_WIRE).map(([k, w]) => [w, k as ChangeKind]));

export function changeToWire(c: Change): WireChange {
  return {
    topic: c.topic,
    kind: CHANGE_KIND_TO_WIRE[c.kind],
    atMs: c.atMs,
    by: { principal: c.by.principal, authenticated: c.by.authenticated, peer: c.by.peer },
    version: c.version.toString(),
    scopes: c.scopes.map(scopeToWire),
    reason: c.reason,
    publishId: c.publishId,
    details: { ...c.details },
  };
}

/** A change as the server sent it (its `seq` stays on the server: pages go by page_token). */
export function changeFromWire(c: Change__Output): Omit<Change, 'seq'> {
  const kind = CHANGE_KIND_FROM_WIRE.get(c.kind);
  if (!kind) throw new InvalidArgumentError('change.kind', 'must be a known change kind', c.kind);
  const by: Actor = { principal: c.by?.principal ?? '', authenticated: c.by?.authenticated ?? false, peer: c.by?.peer ?? '' };
  return {
    topic: c.topic,
    kind,
    atMs: Number(c.atMs),
    by,
    version: versionFromWire(c.version, 'change.version', true),
    scopes: c.scopes.map(scopeFromWire),
    reason: c.reason,
    publishId: c.publishId,
    details: { ...c.details },
  };
}
