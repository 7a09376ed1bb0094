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
