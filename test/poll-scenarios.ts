/**
 * The poll scenarios every role (all, consume), every store (SQLite, Cassandra) and every
 * poll method (Poll, BatchPoll, Watch's first answers over gRPC; Poll and BatchPoll over REST)
 * must answer alike: scopes, labels, pins (most
 * specific wins, ties go to the newest), records failing their consistency check, unknown
 * topics and bad input. The scenarios, their seed and their answers are data,
 * test/vectors/poll-scenarios.json, which the Python client's suite runs too
 * (python/tests/test_poll_scenarios.py). `pollScenarioSuite` runs them against real servers
 * started with startImprintServer on one store; each store's test file calls it.
 *
 * A new way of asking joins by adding an entry to POLL_METHODS: every scenario is then asked
 * through it too, on every role and store, and must give the same answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchPollResult, ImprintClient } from '../client/index.js';
import { ImprintError, type VersionRecord } from '../core/index.js';
import type { AuditEvent, Role } from '../server/index.js';
import { identityToWire, recordFromWire } from '../proto/convert.js';
import type { BatchPollResponse__Output } from '../proto/gen/imprint/v1/BatchPollResponse.js';
import type { PollResponse__Output } from '../proto/gen/imprint/v1/PollResponse.js';
import type { Update__Output } from '../proto/gen/imprint/v1/Update.js';
import { MemoryAuditSink, identity, startTestServer, type TestServer } from './helpers.js';
import { SCENARIOS, SCENARIO_TOPICS, VECTORS, seedScenarios, type Scenario, type ScenarioStore } from './poll-scenario-vectors.js';
import { fromRestJson, restErrorOf, restPost } from './rest-calls.js';

export { SCENARIOS, SCENARIO_TOPICS, VECTORS, damageSqlite, seedScenarios, type Scenario, type ScenarioStore, type ScenarioVectors } from './poll-scenario-vectors.js';

/** What a poll came to, comparable across roles, stores and methods: the whole answer, or the error code. */
export async function outcome(p: Promise<{ record?: VersionRecord; pinned: boolean }> | { record?: VersionRecord; pinned: boolean }): Promise<unknown> {
  try {
    const { record, pinned } = await p;
    return record ? { record, pinned } : { pinned };
  } catch (err) {
    if (err instanceof ImprintError) return { error: err.code };
    throw err;
  }
}

/** "v3", "v1 pinned", "none", "none (pinned)", or an error code. */
export function describeOutcome(o: unknown): string {
  if (typeof o !== 'object' || o === null) return String(o);
  if ('error' in o) return String(o.error);
  const a = o as { record?: VersionRecord; pinned: boolean };
  if (!a.record) return a.pinned ? 'none (pinned)' : 'none';
  return `v${a.record.version}${a.pinned ? ' pinned' : ''}`;
}

/** A server as the poll methods reach it: its gRPC client, and its REST API's base URL. */
export interface PollTarget {
  readonly client: ImprintClient;
  readonly rest: string;
}

/** One way of asking a server a scenario's question: its outcome for the scenario's topic (named `prefix` + s.topic). */
export interface PollMethod {
  readonly name: string;
  ask(target: PollTarget, s: Scenario, prefix: string): Promise<unknown>;
}

/** A BatchPoll result as a poll's outcome. */
const batchOutcome = (r: BatchPollResult | undefined): unknown => (r?.error ? { error: r.error.code } : outcome({ ...(r?.record && { record: r.record }), pinned: r?.pinned ?? false }));

export const POLL_METHODS: readonly PollMethod[] = [
  { name: 'Poll', ask: ({ client }, s, prefix) => outcome(client.poll(prefix + s.topic, s.identity, s.lastSeen)) },
  {
    // The scenario's topic asked next to every other scenario topic (those holding v1).
    name: 'BatchPoll',
    ask: async ({ client }, s, prefix) => {
      const topic = prefix + s.topic;
      const cursors = SCENARIO_TOPICS.filter((t) => t !== s.topic).map((t) => ({ topic: prefix + t, lastSeen: 1n }));
      cursors.push({ topic, lastSeen: s.lastSeen });
      let results: BatchPollResult[];
      try {
        results = await client.batchPoll(s.identity, cursors);
      } catch (err) {
        if (err instanceof ImprintError) return { error: err.code };
        throw err;
      }
      return batchOutcome(results.find((r) => r.topic === topic));
    },
  },
  {
    // The same request as BatchPoll's, as a Watch: the scenario topic's first answer on the stream.
    name: 'Watch',
    ask: async ({ client }, s, prefix) => {
      const topic = prefix + s.topic;
      const cursors = SCENARIO_TOPICS.filter((t) => t !== s.topic).map((t) => ({ topic: prefix + t, lastSeen: 1n }));
      cursors.push({ topic, lastSeen: s.lastSeen });
      const stop = new AbortController();
      try {
        for await (const e of client.watch(s.identity, cursors, { signal: stop.signal })) {
          if (e.kind === 'result' && e.topic === topic) {
            expect(e.initial).toBe(true);
            return batchOutcome(e);
          }
        }
        throw new Error(`the Watch stream ended without an answer for ${topic}`);
      } catch (err) {
        if (err instanceof ImprintError) return { error: err.code };
        throw err;
      } finally {
        stop.abort();
      }
    },
  },
  {
    // Poll over the REST/JSON API: the JSON answer read back as gRPC's, then as the client reads it.
    name: 'REST Poll',
    ask: async ({ rest }, s, prefix) => {
      const a = await restPost(rest, '/v1/consumer/Poll', { topic: prefix + s.topic, identity: identityToWire(s.identity), lastSeenVersion: s.lastSeen.toString() });
      if (a.status !== 200) return { error: restErrorOf(a).code };
      return updateOutcome(fromRestJson<PollResponse__Output>('imprint.v1.PollResponse', a.json).update);
    },
  },
  {
    // BatchPoll's request over the REST/JSON API (snake_case field names, as the proto3 JSON mapping lets a caller send).
    name: 'REST BatchPoll',
    ask: async ({ rest }, s, prefix) => {
      const topic = prefix + s.topic;
      const cursors = SCENARIO_TOPICS.filter((t) => t !== s.topic).map((t) => ({ topic: prefix + t, last_seen_version: '1' }));
      cursors.push({ topic, last_seen_version: s.lastSeen.toString() });
      const a = await restPost(rest, '/v1/consumer/BatchPoll', { identity: identityToWire(s.identity), topics: cursors });
      if (a.status !== 200) return { error: restErrorOf(a).code };
      const r = fromRestJson<BatchPollResponse__Output>('imprint.v1.BatchPollResponse', a.json).results.find((x) => x.topic === topic);
      return r?.errorCode ? { error: r.errorCode } : updateOutcome(r?.update ?? null);
    },
  },
];

/** A wire Update as a poll's outcome (what the client makes of it). */
function updateOutcome(u: Update__Output | null): unknown {
  return outcome(u?.record ? { record: recordFromWire(u.record), pinned: u.pinned } : { pinned: false });
}

/** The roles that answer polls. */
export const POLLING_ROLES: readonly Role[] = ['all', 'consume'];

const FIXED_CLOCK = () => 1_700_000_000_000;

/**
 * Every scenario, through every method of POLL_METHODS, against a server of every role of
 * POLLING_ROLES serving the store `open` gives (handed in: the servers leave it open): the
 * same answer everywhere, the one the scenario expects; the same audit events and the same
 * count of records that failed their check on every role.
 */
export function pollScenarioSuite(storeName: string, open: () => Promise<ScenarioStore & { readonly prefix?: string; cleanup(): Promise<void> }>): void {
  describe(`poll scenarios (${storeName}): every role and every poll method give the same answers`, () => {
    let opened: Awaited<ReturnType<typeof open>>;
    let prefix = '';
    const servers = new Map<Role, { readonly t: TestServer; readonly audit: MemoryAuditSink }>();
    const serverOf = (role: Role) => {
      const s = servers.get(role);
      if (!s) throw new Error(`no ${role} server`);
      return s;
    };
    const targetOf = (role: Role): PollTarget => {
      const { t } = serverOf(role);
      return { client: t.client, rest: `http://127.0.0.1:${t.server.http?.port ?? 0}` };
    };

    beforeAll(async () => {
      opened = await open();
      prefix = opened.prefix ?? '';
      let now = 1_700_000_000_000;
      await seedScenarios(opened, () => ++now, prefix);
      // Seeded first, so the consume role's first refresh (before it serves) has every topic.
      for (const role of POLLING_ROLES) {
        const audit = new MemoryAuditSink();
        servers.set(role, { t: await startTestServer({ role, metadataStore: opened.store, auditSink: audit, clock: FIXED_CLOCK, httpPort: 0 }), audit });
      }
    });
    afterAll(async () => {
      for (const { t } of servers.values()) await t.stop();
      await opened?.cleanup();
    });

    it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, s) => {
      const answers: { readonly by: string; readonly outcome: unknown }[] = [];
      for (const role of POLLING_ROLES) {
        for (const method of POLL_METHODS) answers.push({ by: `${role} ${method.name}`, outcome: await method.ask(targetOf(role), s, prefix) });
      }
      const [reference, ...others] = answers;
      // The wire says "pinned" only with an update: a pinned "none" reads as "none".
      expect(describeOutcome(reference?.outcome), reference?.by).toBe(s.expect.replace('none (pinned)', 'none'));
      for (const a of others) expect(a.outcome, a.by).toEqual(reference?.outcome);
    });

    it('a BatchPoll of every scenario topic at once gets the same answers on every role', async () => {
      const cursors = SCENARIO_TOPICS.map((t) => ({ topic: prefix + t, lastSeen: 0n }));
      const answers = await Promise.all(POLLING_ROLES.map((role) => serverOf(role).t.client.batchPoll(identity(), cursors)));
      expect(answers[0]?.map((r) => (r.error ? r.error.code : describeOutcome(r)))).toEqual(VECTORS.batchAll);
      for (const a of answers) expect(a).toEqual(answers[0]);
    });

    it('records the same audit events (but for the replica that saw them) and counts the same integrity failures on every role', () => {
      // Topics of one BatchPoll are answered concurrently: compare the events as multisets.
      const sorted = (events: readonly AuditEvent[]) => events.map(({ replica: _replica, ...e }) => JSON.stringify(e)).sort();
      const [first, ...others] = POLLING_ROLES.map((role) => serverOf(role));
      // At least one hold event per scenario topic that exists (its first sight; the unknown one has none); moves on top.
      expect(first?.audit.events.filter((e) => e.kind === 'hold').length).toBeGreaterThanOrEqual(SCENARIO_TOPICS.length - 1);
      for (const o of others) expect(sorted(o.audit.events)).toEqual(sorted(first?.audit.events ?? []));
      const failures = POLLING_ROLES.map((role) => serverOf(role).t.server.poller?.integrityFailures);
      expect(failures[0]).toBeGreaterThan(0);
      expect(new Set(failures).size).toBe(1);
    });
  });
}
