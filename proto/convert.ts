/**
 * Translation between the wire types (proto/gen) and core's domain types, used by the
 * server and the client alike. Shapes the wire cannot express in the domain (a missing
 * payload, a malformed number) are INVALID_ARGUMENT errors naming the field.
 *
 * Every number of the contract is range-checked here, where the wire becomes the domain, with
 * the ranges core decides (core/validate.ts): the error names the wire field (snake_case, with
 * its path) and its range, and shows the value exactly as sent, before any store sees it.
 */
import {
  InvalidArgumentError,
  checkContractLimit,
  contractOf,
  type PublishStatus,
  MAX_PAYLOAD_SIZE,
  MAX_RETENTION,
  MAX_TIME_MS,
  MAX_VERSION,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  checkRange,
  validateGrant,
  type AccessAction,
  type Actor,
  type Grant,
  type Role,
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
  type Move,
  type Denial,
  type TopicConsumers,
  type Version,
  type VersionHeld,
  type VersionRecord,
  type VersionSignature,
  MAX_BAKE_MS,
  validateRolloutPolicy,
  type Rejection,
  type RejectStage,
  type Rollout,
  type RolloutGate,
  type RolloutPolicy,
  type RolloutProgress as CoreRolloutProgress,
  type RolloutState,
  type RolloutStep,
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
import type { PublishStatus as WirePublishStatus, PublishStatus__Output } from './gen/imprint/v1/PublishStatus.js';
import type { Signature as WireSignature, Signature__Output } from './gen/imprint/v1/Signature.js';
import type { VersionRecord as WireRecord, VersionRecord__Output } from './gen/imprint/v1/VersionRecord.js';
import type { TopicConsumers as WireTopicConsumers, TopicConsumers__Output } from './gen/imprint/v1/TopicConsumers.js';
import type { ConsumerMove as WireConsumerMove, ConsumerMove__Output } from './gen/imprint/v1/ConsumerMove.js';
import type { Denial as WireDenial, Denial__Output } from './gen/imprint/v1/Denial.js';
import type { TopicGrant as WireGrant, TopicGrant__Output } from './gen/imprint/v1/TopicGrant.js';
import type { Role__Output } from './gen/imprint/v1/Role.js';
import type { AccessAction__Output } from './gen/imprint/v1/AccessAction.js';
import type { RolloutGate__Output } from './gen/imprint/v1/RolloutGate.js';
import type { RolloutState__Output } from './gen/imprint/v1/RolloutState.js';
import type { RejectStage__Output } from './gen/imprint/v1/RejectStage.js';
import type { RolloutPolicy as WireRolloutPolicy, RolloutPolicy__Output } from './gen/imprint/v1/RolloutPolicy.js';
import type { Rollout as WireRollout, Rollout__Output } from './gen/imprint/v1/Rollout.js';
import type { RolloutProgress as WireRolloutProgress } from './gen/imprint/v1/RolloutProgress.js';
import type { Rejection as WireRejection, Rejection__Output } from './gen/imprint/v1/Rejection.js';

/** A uint64 or int64 as the loader gives it (a decimal string: longs are String), exactly, within [min, max]. */
function int64FromWire(v: string | number | undefined, field: string, min: bigint, max: bigint): bigint {
  const s = String(v ?? '0');
  if (!/^-?[0-9]{1,20}$/.test(s)) throw new InvalidArgumentError(field, `must be a whole number between ${min} and ${max}`, s);
  return checkRange(BigInt(s), field, min, max);
}

/** A version (uint64): 1 to 2^63-1; 0 too when `zeroOk` (last_seen_version: holds nothing). */
export function versionFromWire(v: string | undefined, field: string, zeroOk = false): Version {
  return int64FromWire(v, field, zeroOk ? 0n : 1n, MAX_VERSION);
}

/** A staleness contract limit (int64 expect_every_ms, max_staleness_ms): 0 (none) or 1 minute to 365 days (core/staleness.ts). */
export function contractMsFromWire(v: string | number | undefined, field: string): number {
  const s = String(v ?? '0');
  return checkContractLimit(/^-?[0-9]{1,20}$/.test(s) ? Number(s) : Number.NaN, field);
}

/** A payload size (uint64): 1 to 2^53-1. */
export function sizeFromWire(v: string | number | undefined, field: string): number {
  return Number(int64FromWire(v, field, 1n, BigInt(MAX_PAYLOAD_SIZE)));
}

/** A time in ms since the epoch (int64): 0 to MAX_TIME_MS. */
export function timeMsFromWire(v: string | number | undefined, field: string): number {
  return Number(int64FromWire(v, field, 0n, BigInt(MAX_TIME_MS)));
}

/** A page_size (uint32, ListVersions and ListHistory): 0 to 1000; 0 is the default page of 100. Returns the page's size. */
export function pageSizeFromWire(v: number, field = 'page_size'): number {
  return checkRange(v, field, 0, PAGE_SIZE_MAX, ` (0: ${PAGE_SIZE_DEFAULT})`) || PAGE_SIZE_DEFAULT;
}

/**
 * A page_token: empty for the first page, else where the previous page stopped (ListVersions:
 * a version; ListHistory: a change's seq), a whole number between 1 and 2^63-1.
 */
export function pageTokenFromWire(token: string, field = 'page_token'): bigint | undefined {
  if (token === '') return undefined;
  if (!/^[1-9][0-9]{0,19}$/.test(token)) throw new InvalidArgumentError(field, `must be empty or a token from a previous response (a whole number between 1 and ${MAX_VERSION})`, token);
  return checkRange(BigInt(token), field, 1n, MAX_VERSION, ' (a token from a previous response)');
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

export function retentionFromWire(r: Retention__Output | null | undefined, field = 'retention'): Retention {
  return {
    ...(r?.keepVersions !== undefined && r._keepVersions === 'keepVersions' && { keepVersions: checkRange(r.keepVersions, `${field}.keep_versions`, 1, MAX_RETENTION) }),
    ...(r?.keepDays !== undefined && r._keepDays === 'keepDays' && { keepDays: checkRange(r.keepDays, `${field}.keep_days`, 1, MAX_RETENTION) }),
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
  return pointerOf(p, field, false);
}

/**
 * `directOmitted`: the pointer of a BatchPoll update whose direct bytes were left out (size and
 * sha256, no payload) becomes a direct pointer with no bytes, which no reader accepts as the payload.
 */
function pointerOf(p: DataPointer__Output | null | undefined, field: string, directOmitted: boolean): DataPointer {
  if (!p) throw new InvalidArgumentError(field, 'is required');
  const size = sizeFromWire(p.size, `${field}.size`);
  if (directOmitted && p.payload === undefined) return { kind: 'direct', size, sha256: p.sha256, bytes: new Uint8Array(0) };
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

/** A signature as the wire carries it (bytes) to the domain's (base64); absent when not sent. Its shape is checked by validateNewVersion. */
export function signatureFromWire(s: Signature__Output | null | undefined): VersionSignature | undefined {
  return s ? { keyId: s.keyId, signature: s.signature.toString('base64') } : undefined;
}

export function signatureToWire(s: VersionSignature): WireSignature {
  return { keyId: s.keyId, signature: Buffer.from(s.signature, 'base64') };
}

/** Raw public keys (bytes on the wire) as the domain keeps them (base64); checked by the service. */
export function trustedKeysFromWire(keys: readonly Buffer[]): string[] {
  return keys.map((k) => k.toString('base64'));
}

export function trustedKeysToWire(keys: readonly string[] | undefined): Buffer[] {
  return (keys ?? []).map((k) => Buffer.from(k, 'base64'));
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
    ...(r.signature && { signature: signatureToWire(r.signature) }),
  };
}

export function recordFromWire(r: VersionRecord__Output): VersionRecord {
  return recordOf(r, false);
}

/**
 * The record of a BatchPoll update flagged `direct_omitted`: its pointer has the size and
 * sha256 but empty bytes; read the whole record with GetVersion before its payload.
 */
export function recordWithoutDirectFromWire(r: VersionRecord__Output): VersionRecord {
  return recordOf(r, true);
}

function recordOf(r: VersionRecord__Output, directOmitted: boolean): VersionRecord {
  const signature = signatureFromWire(r.signature);
  return {
    topic: r.topic,
    version: versionFromWire(r.version, 'record.version'),
    publishedAtMs: Number(r.publishedAtMs),
    metadata: { ...r.metadata },
    pointer: pointerOf(r.pointer, 'record.pointer', directOmitted),
    scopes: r.scopes.map(scopeFromWire),
    digest: r.digest,
    ...(signature && { signature }),
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
    expectEveryMs: t.expectEveryMs ?? 0,
    maxStalenessMs: t.maxStalenessMs ?? 0,
    deletedAtMs: t.deletedAtMs ?? 0,
    trustedKeys: trustedKeysToWire(t.trustedKeys),
    rolloutPolicy: t.rolloutPolicy ? rolloutPolicyToWire(t.rolloutPolicy) : null,
  };
}

export function topicFromWire(t: Topic__Output): Topic {
  return {
    name: t.name,
    owner: t.owner,
    description: t.description,
    retention: retentionFromWire(t.retention),
    createdAtMs: Number(t.createdAtMs),
    latestVersion: versionFromWire(t.latestVersion, 'topic.latest_version', true),
    ...contractOf(contractMsFromWire(t.expectEveryMs, 'topic.expect_every_ms'), contractMsFromWire(t.maxStalenessMs, 'topic.max_staleness_ms')),
    ...(Number(t.deletedAtMs) > 0 && { deletedAtMs: Number(t.deletedAtMs) }),
    ...(t.trustedKeys.length > 0 && { trustedKeys: trustedKeysFromWire(t.trustedKeys) }),
    ...(t.rolloutPolicy && t.rolloutPolicy.steps.length > 0 && { rolloutPolicy: rolloutPolicyFromWire(t.rolloutPolicy, 'topic.rollout_policy') }),
  };
}

export function publishStatusToWire(p: PublishStatus): WirePublishStatus {
  return { topic: p.topic, lastPublishMs: p.lastPublishMs ?? 0, overdueSinceMs: p.overdueSinceMs };
}

export function publishStatusFromWire(p: PublishStatus__Output): PublishStatus {
  const last = timeMsFromWire(p.lastPublishMs, 'publish_status.last_publish_ms');
  return { topic: p.topic, ...(last !== 0 && { lastPublishMs: last }), overdueSinceMs: timeMsFromWire(p.overdueSinceMs, 'publish_status.overdue_since_ms') };
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

/** The audit's consumers view as the wire carries it (core's TopicConsumers without the topic; versions are decimal strings). */
export type ConsumersView = Omit<TopicConsumers, 'topic' | 'untilMs'>;

export function consumersToWire(c: ConsumersView): WireTopicConsumers {
  const held = (v: VersionHeld) => ({ version: v.version, nodeCount: v.nodeCount, lastSeenMs: v.lastSeenMs });
  return {
    sinceMs: c.sinceMs,
    nodeCount: c.nodeCount,
    liveCount: c.liveCount,
    versions: c.versions.map(held),
    groups: c.groups.map((g) => ({ app: g.app, cluster: g.cluster, region: g.region, nodeCount: g.nodeCount, versions: g.versions.map(held), lastSeenMs: g.lastSeenMs })),
    lastSeenMs: c.lastSeenMs ?? 0,
    nodes: (c.nodes ?? []).map((n) => ({
      app: n.app,
      cluster: n.cluster,
      region: n.region,
      nodeId: n.nodeId,
      version: n.version,
      sinceMs: n.sinceMs ?? 0,
      lastSeenMs: n.lastSeenMs,
      live: n.live,
      pinned: n.pinned,
      replica: n.replica,
    })),
    foldedPolls: c.foldedPolls,
  };
}

/** `nodeListAsked`: the request asked for nodes (consumers_node_limit > 0), so an empty list is an answer. */
export function consumersFromWire(c: TopicConsumers__Output, nodeListAsked = false): ConsumersView {
  const held = (v: { version: string; nodeCount: number; lastSeenMs: string }) => ({ version: v.version, nodeCount: v.nodeCount, lastSeenMs: Number(v.lastSeenMs) });
  return {
    sinceMs: Number(c.sinceMs),
    nodeCount: c.nodeCount,
    liveCount: c.liveCount,
    versions: c.versions.map(held),
    groups: c.groups.map((g) => ({ app: g.app, cluster: g.cluster, region: g.region, nodeCount: g.nodeCount, versions: g.versions.map(held), lastSeenMs: Number(g.lastSeenMs) })),
    ...(Number(c.lastSeenMs) > 0 && { lastSeenMs: Number(c.lastSeenMs) }),
    ...((nodeListAsked || c.nodes.length > 0) && {
      nodes: c.nodes.map((n) => ({
        app: n.app,
        cluster: n.cluster,
        region: n.region,
        nodeId: n.nodeId,
        version: n.version,
        ...(Number(n.sinceMs) > 0 && { sinceMs: Number(n.sinceMs) }),
        lastSeenMs: Number(n.lastSeenMs),
        live: n.live,
        pinned: n.pinned,
        replica: n.replica,
      })),
    }),
    foldedPolls: Number(c.foldedPolls),
  };
}

export function moveToWire(m: Move): WireConsumerMove {
  return { atMs: m.atMs, app: m.app, cluster: m.cluster, region: m.region, nodeId: m.nodeId, fromVersion: m.from, toVersion: m.to, pinned: m.pinned, replica: m.replica, principal: m.principal ?? '' };
}

export function moveFromWire(m: ConsumerMove__Output): Move {
  return { atMs: Number(m.atMs), app: m.app, cluster: m.cluster, region: m.region, nodeId: m.nodeId, from: m.fromVersion, to: m.toVersion, pinned: m.pinned, replica: m.replica, ...(m.principal !== '' && { principal: m.principal }) };
}

export function denialToWire(d: Denial): WireDenial {
  return { atMs: d.atMs, principal: d.principal, action: d.action, method: d.method, app: d.app ?? '', count: d.count, replica: d.replica };
}

export function denialFromWire(d: Denial__Output): Denial {
  // The action as the server names it (a newer server may name one this client does not know).
  return { atMs: Number(d.atMs), principal: d.principal, action: d.action as AccessAction, method: d.method, ...(d.app !== '' && { app: d.app }), count: Number(d.count), replica: d.replica };
}

const CHANGE_KIND_TO_WIRE: Record<ChangeKind, ChangeKind__Output> = {
  'create-topic': 'CHANGE_KIND_CREATE_TOPIC',
  'update-topic': 'CHANGE_KIND_UPDATE_TOPIC',
  publish: 'CHANGE_KIND_PUBLISH',
  'add-scopes': 'CHANGE_KIND_ADD_SCOPES',
  pin: 'CHANGE_KIND_PIN',
  unpin: 'CHANGE_KIND_UNPIN',
  'delete-topic': 'CHANGE_KIND_DELETE_TOPIC',
  grant: 'CHANGE_KIND_GRANT',
  revoke: 'CHANGE_KIND_REVOKE',
  rollout: 'CHANGE_KIND_ROLLOUT',
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

const ROLE_TO_WIRE: Record<Role, Role__Output> = { owner: 'ROLE_OWNER', publisher: 'ROLE_PUBLISHER', operator: 'ROLE_OPERATOR', consumer: 'ROLE_CONSUMER' };
const ROLE_FROM_WIRE = new Map<string, Role>(Object.entries(ROLE_TO_WIRE).map(([k, w]) => [w, k as Role]));

const ACTION_TO_WIRE: Record<Exclude<AccessAction, 'create'>, AccessAction__Output> = {
  consume: 'ACCESS_ACTION_CONSUME',
  inspect: 'ACCESS_ACTION_INSPECT',
  publish: 'ACCESS_ACTION_PUBLISH',
  operate: 'ACCESS_ACTION_OPERATE',
  own: 'ACCESS_ACTION_OWN',
};

/** An action on a topic on the wire (`create` is not a topic's: it has no wire value). */
export function accessActionToWire(a: Exclude<AccessAction, 'create'>): AccessAction__Output {
  return ACTION_TO_WIRE[a];
}

export function grantToWire(g: Grant): WireGrant {
  return { role: ROLE_TO_WIRE[g.role], grantee: g.grantee };
}

/** A grant from the wire, checked: INVALID_ARGUMENT naming `field`.role or `field`.grantee (an unspecified role included). */
export function grantFromWire(g: TopicGrant__Output | null | undefined, field = 'grant'): Grant {
  if (!g) throw new InvalidArgumentError(field, 'is required (a role and a grantee)');
  return validateGrant({ role: ROLE_FROM_WIRE.get(String(g.role)) ?? String(g.role), grantee: g.grantee }, `${field}.`);
}

/** A grant as the CLI and the client read it back. */
export function grantFromWireOutput(g: TopicGrant__Output): Grant {
  return { role: ROLE_FROM_WIRE.get(String(g.role)) ?? 'consumer', grantee: g.grantee };
}

// ---- rollouts (core/rollout.ts) ----

const GATE_TO_WIRE: Record<RolloutGate, RolloutGate__Output> = { consumers: 'ROLLOUT_GATE_CONSUMERS', webhook: 'ROLLOUT_GATE_WEBHOOK' };
const GATE_FROM_WIRE = new Map<string, RolloutGate>(Object.entries(GATE_TO_WIRE).map(([k, w]) => [w, k as RolloutGate]));
const STATE_TO_WIRE: Record<RolloutState, RolloutState__Output> = {
  running: 'ROLLOUT_STATE_RUNNING',
  paused: 'ROLLOUT_STATE_PAUSED',
  completed: 'ROLLOUT_STATE_COMPLETED',
  cancelled: 'ROLLOUT_STATE_CANCELLED',
  superseded: 'ROLLOUT_STATE_SUPERSEDED',
};
const STATE_FROM_WIRE = new Map<string, RolloutState>(Object.entries(STATE_TO_WIRE).map(([k, w]) => [w, k as RolloutState]));
const STAGE_TO_WIRE: Record<RejectStage, RejectStage__Output> = { fetch: 'REJECT_STAGE_FETCH', verify: 'REJECT_STAGE_VERIFY', decode: 'REJECT_STAGE_DECODE', validate: 'REJECT_STAGE_VALIDATE' };
const STAGE_FROM_WIRE = new Map<string, RejectStage>(Object.entries(STAGE_TO_WIRE).map(([k, w]) => [w, k as RejectStage]));

/**
 * A rollout policy from the wire, checked whole by core (validateRolloutPolicy, errors naming
 * `field`.steps[i].percent and so on), with the wire's zeros read as the contract says
 * (percent 0: 100; webhook_timeout_ms 0: the default). Absent: undefined.
 */
export function rolloutPolicyFromWire(p: RolloutPolicy__Output | null | undefined, field = 'rollout_policy'): RolloutPolicy | undefined {
  if (!p) return undefined;
  const steps = p.steps.map((s, i): RolloutStep => {
    const f = `${field}.steps[${i}]`;
    const gates = s.gates.map((g, j) => {
      const gate = GATE_FROM_WIRE.get(g);
      if (!gate) throw new InvalidArgumentError(`${f}.gates[${j}]`, `must be one of ${Object.values(GATE_TO_WIRE).join(', ')}`, g);
      return gate;
    });
    return { scopes: s.scopes.map(scopeFromWire), percent: s.percent === 0 ? 100 : s.percent, bakeMs: Number(int64FromWire(s.bakeMs, `${f}.bake_ms`, 0n, BigInt(MAX_BAKE_MS))), gates };
  });
  const timeout = Number(int64FromWire(p.webhookTimeoutMs, `${field}.webhook_timeout_ms`, 0n, 60_000n));
  return validateRolloutPolicy(
    {
      steps,
      ...(p._minHoldingPercent === 'minHoldingPercent' && p.minHoldingPercent !== undefined && { minHoldingPercent: p.minHoldingPercent }),
      ...(p._maxRejections === 'maxRejections' && p.maxRejections !== undefined && { maxRejections: p.maxRejections }),
      ...(p.webhookUrl !== '' && { webhookUrl: p.webhookUrl }),
      ...(timeout !== 0 && { webhookTimeoutMs: timeout }),
    },
    field,
  );
}

export function rolloutPolicyToWire(p: RolloutPolicy): WireRolloutPolicy {
  return {
    steps: p.steps.map((s) => ({ scopes: s.scopes.map(scopeToWire), percent: s.percent, bakeMs: s.bakeMs, gates: s.gates.map((g) => GATE_TO_WIRE[g]) })),
    minHoldingPercent: p.minHoldingPercent,
    maxRejections: p.maxRejections,
    webhookUrl: p.webhookUrl ?? '',
    webhookTimeoutMs: p.webhookTimeoutMs,
  };
}

export function rolloutToWire(r: Rollout): WireRollout {
  return {
    topic: r.topic,
    version: r.version.toString(),
    policy: rolloutPolicyToWire(r.policy),
    state: STATE_TO_WIRE[r.state],
    step: r.step,
    stepStartedAtMs: r.stepStartedAtMs,
    bakeLeftMs: r.bakeLeftMs ?? 0,
    startedAtMs: r.startedAtMs,
    updatedAtMs: r.updatedAtMs,
    endedAtMs: r.endedAtMs ?? 0,
    reason: r.reason,
    rejected: r.rejected,
    webhookPassedStep: r.webhookPassedStep,
  };
}

export function rolloutFromWire(r: Rollout__Output, field = 'rollout'): Rollout {
  const state = STATE_FROM_WIRE.get(r.state);
  if (!state) throw new InvalidArgumentError(`${field}.state`, `must be one of ${Object.values(STATE_TO_WIRE).join(', ')}`, r.state);
  const policy = rolloutPolicyFromWire(r.policy, `${field}.policy`);
  if (!policy) throw new InvalidArgumentError(`${field}.policy`, 'is required');
  const bakeLeft = timeMsFromWire(r.bakeLeftMs, `${field}.bake_left_ms`);
  const ended = timeMsFromWire(r.endedAtMs, `${field}.ended_at_ms`);
  return {
    topic: r.topic,
    version: versionFromWire(r.version, `${field}.version`),
    policy,
    state,
    step: r.step,
    stepStartedAtMs: timeMsFromWire(r.stepStartedAtMs, `${field}.step_started_at_ms`),
    ...(state === 'paused' && { bakeLeftMs: bakeLeft }),
    startedAtMs: timeMsFromWire(r.startedAtMs, `${field}.started_at_ms`),
    updatedAtMs: timeMsFromWire(r.updatedAtMs, `${field}.updated_at_ms`),
    ...(ended !== 0 && { endedAtMs: ended }),
    reason: r.reason,
    rejected: r.rejected,
    webhookPassedStep: r.webhookPassedStep,
    revision: 0,
  };
}

export function rolloutProgressToWire(p: CoreRolloutProgress): WireRolloutProgress {
  return { reached: p.reached, holding: p.holding, rejections: p.rejections };
}

/** A consumer's rejection (PollRequest.rejected, TopicCursor.rejected) from the wire; absent: undefined. */
export function rejectionFromWire(r: Rejection__Output | null | undefined, field: string): Rejection | undefined {
  if (!r) return undefined;
  const stage = STAGE_FROM_WIRE.get(r.stage);
  if (!stage) throw new InvalidArgumentError(`${field}.stage`, `must be one of ${Object.values(STAGE_TO_WIRE).join(', ')}`, r.stage);
  if (r.reason.length > MAX_REJECTION_REASON) throw new InvalidArgumentError(`${field}.reason`, `must be at most ${MAX_REJECTION_REASON} characters`, r.reason.length);
  return { version: versionFromWire(r.version, `${field}.version`), stage, reason: r.reason };
}

export function rejectionToWire(r: Rejection): WireRejection {
  return { version: r.version.toString(), stage: STAGE_TO_WIRE[r.stage], reason: r.reason };
}

/** The longest reason a Rejection may carry. */
export const MAX_REJECTION_REASON = 1024;
