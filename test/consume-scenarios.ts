/**
 * Poll scenarios the consume role must answer exactly as ImprintService does: scopes, labels,
 * pins (most specific wins, ties go to the newest), records failing their consistency check,
 * unknown topics and bad input. `seedScenarios` writes them into a real SQLite store.
 */
import { ImprintError, type ConsumerIdentity, type Scope } from '../core/index.js';
import type { AuditEvent, AuditSink, AuditStats } from '../server/audit/audit-sink.js';
import type { SqliteMetadataStore } from '../server/store/sqlite.js';
import { directPointer, identity } from './helpers.js';

export interface Scenario {
  readonly name: string;
  readonly topic: string;
  readonly identity: ConsumerIdentity;
  readonly lastSeen: bigint;
  /** What the answer is (a version, "none", or an error code), for a reader of the table. */
  readonly expect: string;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'plain: holds nothing', topic: 'plain', identity: identity(), lastSeen: 0n, expect: 'v2' },
  { name: 'plain: holds the latest', topic: 'plain', identity: identity(), lastSeen: 2n, expect: 'none' },
  { name: 'plain: holds an older one', topic: 'plain', identity: identity(), lastSeen: 1n, expect: 'v2' },
  { name: 'plain: holds one ahead of the latest', topic: 'plain', identity: identity(), lastSeen: 5n, expect: 'none' },
  { name: 'scoped: app and region', topic: 'scoped', identity: identity({ app: 'scorer', region: 'us-east-1' }), lastSeen: 0n, expect: 'v3' },
  { name: 'scoped: region only', topic: 'scoped', identity: identity({ region: 'eu-west-1' }), lastSeen: 0n, expect: 'v2' },
  { name: 'scoped: matches only the empty scope', topic: 'scoped', identity: identity({ app: 'other', region: 'ap-south-1' }), lastSeen: 0n, expect: 'v1' },
  { name: 'scoped: cluster beats region by version', topic: 'scoped', identity: identity({ cluster: 'canary', region: 'eu-west-1' }), lastSeen: 0n, expect: 'v4' },
  { name: 'scoped: a label', topic: 'scoped', identity: identity({ labels: { tier: 'gold' } }), lastSeen: 1n, expect: 'v5' },
  { name: 'pinned: back to the pinned version', topic: 'pinned', identity: identity(), lastSeen: 3n, expect: 'v1 pinned' },
  { name: 'pinned: holds the pinned version', topic: 'pinned', identity: identity(), lastSeen: 1n, expect: 'none (pinned)' },
  { name: 'pinned: a scoped pin is more specific', topic: 'pinned', identity: identity({ region: 'eu-west-1' }), lastSeen: 0n, expect: 'v2 pinned' },
  { name: 'pinned: app pin', topic: 'pinned', identity: identity({ app: 'scorer' }), lastSeen: 0n, expect: 'v3 pinned' },
  { name: 'pinned: tie of specificity goes to the newest pin', topic: 'pinned', identity: identity({ app: 'scorer', cluster: 'c1' }), lastSeen: 3n, expect: 'v1 pinned' },
  { name: 'guarded: bad latest, consumer with data', topic: 'guarded', identity: identity(), lastSeen: 2n, expect: 'none' },
  { name: 'guarded: bad latest, consumer without data', topic: 'guarded', identity: identity(), lastSeen: 0n, expect: 'v2' },
  { name: 'guarded2: two bad, consumer without data', topic: 'guarded2', identity: identity(), lastSeen: 0n, expect: 'v1' },
  { name: 'guarded2: two bad, consumer with data', topic: 'guarded2', identity: identity(), lastSeen: 1n, expect: 'none' },
  { name: 'empty topic', topic: 'empty', identity: identity(), lastSeen: 0n, expect: 'none' },
  { name: 'unknown topic', topic: 'no-such-topic', identity: identity(), lastSeen: 0n, expect: 'NOT_FOUND' },
  { name: 'bad topic name', topic: 'Bad Name!', identity: identity(), lastSeen: 0n, expect: 'INVALID_ARGUMENT' },
  { name: 'label reusing an identity field', topic: 'plain', identity: identity({ labels: { app: 'x' } }), lastSeen: 0n, expect: 'INVALID_ARGUMENT' },
  { name: 'no identity.app', topic: 'plain', identity: identity({ app: '' }), lastSeen: 0n, expect: 'INVALID_ARGUMENT' },
];

/** Topics named in SCENARIOS that exist (for BatchPoll). */
export const SCENARIO_TOPICS = ['plain', 'scoped', 'pinned', 'guarded', 'guarded2', 'empty', 'no-such-topic'] as const;

/** Writes the scenarios' topics, versions, pins and damaged records. `now` must increase between calls (pin ties). */
export async function seedScenarios(store: SqliteMetadataStore, now: () => number): Promise<void> {
  const topic = (name: string) => store.createTopic({ name, owner: 'test', description: '', retention: {} }, now());
  const publish = (t: string, text: string, scopes: Scope[] = [{}]) => store.publish({ topic: t, metadata: { text }, pointer: directPointer(text), scopes }, now());
  const pin = (t: string, scope: Scope, version: bigint) => store.pin({ topic: t, scope, version, createdAtMs: now(), reason: 'test', createdBy: 'test' });
  const damage = (t: string, version: bigint) =>
    store.database.prepare(`UPDATE versions SET metadata = '{"tampered":"yes"}' WHERE topic = ? AND version = ?`).run(t, version);

  await topic('plain');
  await publish('plain', 'p1');
  await publish('plain', 'p2');

  await topic('scoped');
  await publish('scoped', 's1');
  await publish('scoped', 's2', [{ region: 'eu-west-1' }]);
  await publish('scoped', 's3', [{ app: 'scorer', region: 'us-east-1' }]);
  await publish('scoped', 's4', [{ cluster: 'canary' }]);
  await publish('scoped', 's5', [{ tier: 'gold' }]);

  await topic('pinned');
  for (const t of ['q1', 'q2', 'q3']) await publish('pinned', t);
  await pin('pinned', {}, 1n);
  await pin('pinned', { region: 'eu-west-1' }, 2n);
  await pin('pinned', { app: 'scorer' }, 3n);
  await pin('pinned', { cluster: 'c1' }, 1n);

  await topic('guarded');
  for (const t of ['g1', 'g2', 'g3']) await publish('guarded', t);
  damage('guarded', 3n);

  await topic('guarded2');
  for (const t of ['h1', 'h2', 'h3']) await publish('guarded2', t);
  damage('guarded2', 2n);
  damage('guarded2', 3n);

  await topic('empty');
}

/** What a poll came to, comparable across implementations: the whole answer, or the error code. */
export async function outcome(p: Promise<{ record?: unknown; pinned: boolean }>): Promise<unknown> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ImprintError) return { error: err.code };
    throw err;
  }
}

/** An AuditSink that keeps every event in memory. */
export class MemoryAuditSink implements AuditSink {
  readonly name = 'memory';
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.events.push(event);
  }
  stats(): AuditStats {
    return { recorded: this.events.length, dropped: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
