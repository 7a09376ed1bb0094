/**
 * The poll scenarios as data (test/vectors/poll-scenarios.json) and how a store is seeded with
 * them: what test/poll-scenarios.ts runs on every role, method and store, and what
 * test/python-poll-scenarios-fixture.ts seeds for the Python client's suite (no vitest here,
 * so a plain tsx script can import it).
 */
import fs from 'node:fs';
import type { ConsumerIdentity, Scope } from '../core/index.js';
import type { MetadataStore, SqliteMetadataStore } from '../server/index.js';
import { directPointer } from './helpers.js';

export interface Scenario {
  readonly name: string;
  readonly topic: string;
  readonly identity: ConsumerIdentity;
  readonly lastSeen: bigint;
  /** What the answer is (a version, "none", or an error code), for a reader of the table. */
  readonly expect: string;
}

/** test/vectors/poll-scenarios.json as written: the seed, the scenarios and the all-topics BatchPoll (its "about" says what each field means). */
export interface ScenarioVectors {
  readonly identityDefaults: ConsumerIdentity;
  readonly topics: readonly {
    readonly name: string;
    readonly publishes?: readonly { readonly text: string; readonly scopes?: readonly Scope[] }[];
    readonly pins?: readonly { readonly scope: Scope; readonly version: string }[];
    readonly damaged?: readonly string[];
  }[];
  readonly scenarios: readonly { readonly name: string; readonly topic: string; readonly identity: Partial<ConsumerIdentity>; readonly lastSeen: string; readonly expect: string }[];
  readonly batchTopics: readonly string[];
  readonly batchAll: readonly string[];
}

/** The scenarios, shared with the Python client's suite (python/tests/test_poll_scenarios.py). */
export const VECTORS = JSON.parse(fs.readFileSync(new URL('vectors/poll-scenarios.json', import.meta.url), 'utf8')) as ScenarioVectors;

export const SCENARIOS: readonly Scenario[] = VECTORS.scenarios.map((s) => ({ ...s, identity: { ...VECTORS.identityDefaults, ...s.identity }, lastSeen: BigInt(s.lastSeen) }));

/** The topics SCENARIOS name that are valid names (for BatchPoll); all but no-such-topic exist. */
export const SCENARIO_TOPICS: readonly string[] = VECTORS.batchTopics;

/** A store the scenarios are written into, and how to alter a record behind its back (so it fails its check). */
export interface ScenarioStore {
  readonly store: MetadataStore;
  damage(topic: string, version: bigint): Promise<void>;
}

/** ScenarioStore.damage for the embedded SQLite store: the record's metadata changed under its digest. */
export function damageSqlite(store: SqliteMetadataStore): ScenarioStore['damage'] {
  return async (topic, version) => {
    store.database.prepare(`UPDATE versions SET metadata = '{"tampered":"yes"}' WHERE topic = ? AND version = ?`).run(topic, version);
  };
}

/**
 * Writes the scenarios' topics (named `prefix` + the scenario's topic), versions, pins and
 * damaged records, in the vectors' order. `now` must increase between calls (pin ties).
 */
export async function seedScenarios({ store, damage }: ScenarioStore, now: () => number, prefix = ''): Promise<void> {
  for (const t of VECTORS.topics) {
    const topic = prefix + t.name;
    await store.createTopic({ name: topic, owner: 'test', description: '', retention: {} }, now());
    for (const p of t.publishes ?? []) await store.publish({ topic, metadata: { text: p.text }, pointer: directPointer(p.text), scopes: [...(p.scopes ?? [{}])] }, now());
    for (const p of t.pins ?? []) await store.pin({ topic, scope: p.scope, version: BigInt(p.version), createdAtMs: now(), reason: 'test', createdBy: 'test' });
    for (const v of t.damaged ?? []) await damage(topic, BigInt(v));
  }
}
