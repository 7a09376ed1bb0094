/** Retention decisions: which versions of a topic the janitor may purge. */
import { scopeKey } from './scope.js';
import type { Pin, Retention, Scope, Version } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionCandidate {
  readonly version: Version;
  readonly publishedAtMs: number;
  readonly scopes: readonly Scope[];
}

export interface RetentionInput {
  readonly retention: Retention;
  readonly versions: readonly RetentionCandidate[];
  readonly pins: readonly Pin[];
  /** Versions that must stay for another reason (e.g. the target of a running rollout). */
  readonly protectedVersions?: readonly Version[];
  readonly nowMs: number;
}

export type KeepReason = 'within-retention' | 'latest-of-scope' | 'pinned' | 'protected';

/**
 * Splits versions into kept (with the first reason that keeps each) and purgeable, newest
 * first. A version is kept while any rule keeps it: inside keepVersions, younger than keepDays
 * (no limit set: everything is within retention), the latest of any scope, pinned, or protected.
 */
export function retentionDecision(input: RetentionInput): { keep: Map<Version, KeepReason>; purge: Version[] } {
  const { retention, nowMs } = input;
  const newestFirst = [...input.versions].sort((a, b) => (a.version > b.version ? -1 : a.version < b.version ? 1 : 0));
  const pinned = new Set(input.pins.map((p) => p.version));
  const protectedSet = new Set(input.protectedVersions ?? []);
  const latestOfScope = new Set<Version>();
  const seenScopes = new Set<string>();
  for (const v of newestFirst) {
    for (const s of v.scopes) {
      const k = scopeKey(s);
      if (!seenScopes.has(k)) {
        seenScopes.add(k);
        latestOfScope.add(v.version);
      }
    }
  }
  const noLimit = retention.keepVersions === undefined && retention.keepDays === undefined;
  const keep = new Map<Version, KeepReason>();
  const purge: Version[] = [];
  newestFirst.forEach((v, i) => {
    const withinCount = retention.keepVersions !== undefined && i < retention.keepVersions;
    const withinDays = retention.keepDays !== undefined && nowMs - v.publishedAtMs < retention.keepDays * DAY_MS;
    const reason: KeepReason | undefined =
      noLimit || withinCount || withinDays
        ? 'within-retention'
        : latestOfScope.has(v.version)
          ? 'latest-of-scope'
          : pinned.has(v.version)
            ? 'pinned'
            : protectedSet.has(v.version)
              ? 'protected'
              : undefined;
    if (reason) keep.set(v.version, reason);
    else purge.push(v.version);
  });
  return { keep, purge };
}
