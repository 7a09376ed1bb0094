/** Imprint's domain, as plain data. The wire types (proto/gen) are translated to these at the edges. */

/** A version number: 64-bit, strictly increasing per topic, assigned by the server. */
export type Version = bigint;

/** A selector of key=value pairs; the empty scope matches every consumer. */
export type Scope = Readonly<Record<string, string>>;

/** What a consumer is. Matched against scopes as the attributes app, cluster, region, node and its labels. */
export interface ConsumerIdentity {
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
  readonly nodeId: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Unset fields mean "no limit of that kind". */
export interface Retention {
  readonly keepVersions?: number;
  readonly keepDays?: number;
}

export interface Topic {
  readonly name: string;
  readonly owner: string;
  readonly description: string;
  readonly retention: Retention;
  readonly createdAtMs: number;
  /** Highest version published, 0n when none. */
  readonly latestVersion: Version;
  /** The staleness contract (staleness.ts): how often it is published, ms; absent: no expectation. */
  readonly expectEveryMs?: number;
  /** The staleness contract: how stale a consumer may be, ms; absent: no limit. */
  readonly maxStalenessMs?: number;
  /**
   * When the topic was deleted (DeleteTopic: a soft delete), ms since the epoch; absent while
   * it is live. A deleted topic answers no poll and takes no change; the janitor purges it
   * after its grace period, and only then is the name free again.
   */
  readonly deletedAtMs?: number;
  /**
   * The public keys a publish must be signed by (one of them), each the raw 32-byte Ed25519
   * key in base64 (signing.ts); absent or empty: signatures are not required.
   */
  readonly trustedKeys?: readonly string[];
  /** How a publish reaches consumers, step by step (rollout.ts); absent: at once. */
  readonly rolloutPolicy?: RolloutPolicy;
}

/** A publisher's Ed25519 signature over a version's signed digest (signing.ts). */
export interface VersionSignature {
  /** The signing key's id: the first 16 hex digits of the sha256 of its raw public key. */
  readonly keyId: string;
  /** The 64-byte signature, base64. */
  readonly signature: string;
}

export type BlobKind = 'file' | 's3';

export interface BlobLocation {
  readonly kind: BlobKind;
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
}

export type DataPointer =
  | { readonly kind: 'direct'; readonly size: number; readonly sha256: string; readonly bytes: Uint8Array }
  | { readonly kind: 'blob'; readonly size: number; readonly sha256: string; readonly locations: readonly BlobLocation[] };

/** What a publisher hands in; the store assigns the version and the time. */
export interface NewVersion {
  readonly topic: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly pointer: DataPointer;
  readonly scopes: readonly Scope[];
  /**
   * Chosen by the publisher, the same on every retry of one publish: a publish whose id the
   * topic has already recorded makes no new version. Absent or "": no retry protection.
   */
  readonly publishId?: string;
  /** The publisher's signature; required when the topic has trusted keys. */
  readonly signature?: VersionSignature;
  /**
   * Start a rollout of this version with this policy (the service passes the topic's policy
   * when the publish has no explicit scopes and no noRollout): the store writes the record with
   * no scopes and the rollout at its first step, superseding a running one (MetadataStore.publish).
   */
  readonly rollout?: RolloutPolicy;
}

export interface VersionRecord {
  readonly topic: string;
  readonly version: Version;
  readonly publishedAtMs: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly pointer: DataPointer;
  readonly scopes: readonly Scope[];
  /** sha256 of the immutable fields, written with the record (see digest.ts). */
  readonly digest: string;
  /** The publisher's signature, when it signed (not in the digest: it verifies on its own). */
  readonly signature?: VersionSignature;
}

export interface Pin {
  readonly topic: string;
  readonly scope: Scope;
  readonly version: Version;
  readonly createdAtMs: number;
  readonly reason: string;
  readonly createdBy: string;
}

/** The latest version published to one scope of a topic. */
export interface ScopeHead {
  readonly scope: Scope;
  readonly version: Version;
  /** When that scope was first attached to that version (for latest-at questions). */
  readonly sinceMs: number;
}

/**
 * Who made a change and from where, as the server knew it. Until callers authenticate,
 * `principal` is what the request claimed (a pin's created_by, a new topic's owner) and
 * `authenticated` is false; an authenticated caller's principal (mTLS, JWT) takes its place.
 */
export interface Actor {
  readonly principal: string;
  readonly authenticated: boolean;
  /** The caller's address as the transport saw it (grpc-js `getPeer()`, e.g. "10.0.0.7:53412"); "" when unknown. */
  readonly peer: string;
}

/** 'rollout': a rollout began, stepped, paused, resumed, was promoted, cancelled, rejected, completed or superseded (details.action, rollout.ts). */
export type ChangeKind = 'create-topic' | 'update-topic' | 'publish' | 'add-scopes' | 'pin' | 'unpin' | 'delete-topic' | 'grant' | 'revoke' | 'rollout';

/** One change to a topic, kept in its durable history, written with the change itself. */
export interface Change {
  readonly topic: string;
  /** Its place in the topic's history (assigned by the store; newer changes have larger numbers). */
  readonly seq: bigint;
  readonly kind: ChangeKind;
  readonly atMs: number;
  readonly by: Actor;
  /** The version published, scoped, pinned or unpinned; 0n for topic changes. */
  readonly version: Version;
  /** publish: its scopes; add-scopes: the scopes it attached; pin, unpin: the pin's scope. */
  readonly scopes: readonly Scope[];
  /** pin, delete-topic: why. */
  readonly reason: string;
  /** publish: its publish id ("" when it had none). */
  readonly publishId: string;
  /** create-topic, update-topic: the fields set (owner, description, keep_versions, keep_days, expect_every_ms, max_staleness_ms; "" for a limit removed). */
  readonly details: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------
// Rollout policies (the rules are in rollout.ts)

/** What a step checks before the rollout goes on. */
export type RolloutGate = 'consumers' | 'webhook';

export interface RolloutStep {
  /** Who the step adds: consumers matching any of these scopes ([{}]: everyone). 1 to 16 scopes. */
  readonly scopes: readonly Scope[];
  /** Of those, this percentage (1 to 100), by rolloutBucket. 100: all of them. */
  readonly percent: number;
  /** How long the step bakes before the gates decide and the next step is applied, ms (0 to 30 days). */
  readonly bakeMs: number;
  /** The gates the step must pass at the end of its bake (none: it passes when it has baked). */
  readonly gates: readonly RolloutGate[];
}

export interface RolloutPolicy {
  /** 1 to 20 steps, applied in order. After the last one the version is the latest for everyone. */
  readonly steps: readonly RolloutStep[];
  /**
   * The consumers gate: at the end of the step's bake, at least this percentage (0 to 100) of
   * the step's active consumers (nodes reached so far that asked for the topic since the
   * rollout began) hold the version. @default 90
   */
  readonly minHoldingPercent: number;
  /** The consumers gate: more rejections of the version than this (0 to 1000000) reject the rollout at once. @default 0 */
  readonly maxRejections: number;
  /** The webhook gate's URL (http or https); required when a step has a webhook gate. */
  readonly webhookUrl?: string;
  /** How long one webhook call may take, ms (100 to 60000). @default 5000 */
  readonly webhookTimeoutMs: number;
}
