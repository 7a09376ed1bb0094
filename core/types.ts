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

export type ChangeKind = 'create-topic' | 'update-topic' | 'publish' | 'add-scopes' | 'pin' | 'unpin' | 'delete-topic' | 'grant' | 'revoke';

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
