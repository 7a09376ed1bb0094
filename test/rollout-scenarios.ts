/**
 * The rollout story, end to end, shared by the stores (test/integration/rollout-scenarios.test.ts
 * on SQLite, test/backends/cassandra-rollout-scenarios.test.ts on Cassandra): a real all-role
 * server over the store with its rollout driver (ticking every 50 ms), and real watching
 * Subscribers in three groups: the canary cluster, region us-east-1 and everyone else (eu).
 * The policy is the README's: the canary, then one region, then everyone; bakes are short here
 * (the policy takes milliseconds) or long where an operator's verb moves the rollout instead.
 *
 * What a group did is what its subscribers swapped in (`updated` events, with when), so each
 * claim is about real consumers: a group swaps only once its step is applied (by the history's
 * times), pause holds, promote and promote --full widen at once, cancel puts everyone back,
 * a version the canary's validate refuses is rejected before anyone else loads it, a webhook
 * that fails rejects, and a pin wins over the rollout.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, Subscriber, type Subscription, type TopicChange, type UpdatedEvent } from '../client/index.js';
import { parseRolloutSteps, validateRolloutPolicy, type ConsumerIdentity, type Rollout, type RolloutPolicy, type Version } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer, type ImprintServer } from '../server/index.js';
import type { JanitorStore } from '../server/store/metadata-store.js';
import { directPointer, until } from './helpers.js';

export interface RolloutScenarioStore {
  readonly store: JanitorStore;
  /** Topic names start with it, so a store that is already running can run the suite again. */
  readonly prefix: string;
  cleanup(): Promise<void>;
}

type Group = 'canary' | 'us' | 'eu';
const GROUPS: readonly Group[] = ['canary', 'us', 'eu'];
const PER_GROUP = 2;

function identityOf(group: Group, i: number): ConsumerIdentity {
  const where = { canary: { cluster: 'canary', region: 'eu-west-1' }, us: { cluster: 'main', region: 'us-east-1' }, eu: { cluster: 'main', region: 'eu-west-1' } }[group];
  return { app: 'scorer', ...where, nodeId: `${group}-${i}`, labels: {} };
}

interface Consumer {
  readonly group: Group;
  readonly sub: Subscription<string>;
  /** Every version it swapped in, with when (this process's clock, which the server's is too). */
  readonly swaps: { version: Version; atMs: number }[];
}

const policy = (steps: string, extra: Partial<RolloutPolicy> = {}): RolloutPolicy => validateRolloutPolicy({ steps: parseRolloutSteps(steps), ...extra });

export function rolloutScenarioSuite(name: string, open: () => Promise<RolloutScenarioStore>): void {
  describe(`rollouts end to end (${name})`, () => {
    let backing: RolloutScenarioStore;
    let server: ImprintServer;
    let admin: ImprintClient;
    const clients: ImprintClient[] = [];
    const subscribers: Subscriber[] = [];
    let webhook: http.Server;
    let webhookUrl = '';
    const webhookCalls: unknown[] = [];
    let n = 0;

    beforeAll(async () => {
      backing = await open();
      server = await startImprintServer({ role: 'all', port: 0, metadataStore: backing.store, log: silentLogger, rolloutDriver: { tickMs: 50 } });
      admin = new ImprintClient({ address: `127.0.0.1:${server.port}` });
      // The owner's own tests: a webhook that always says no.
      webhook = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          webhookCalls.push(JSON.parse(body));
          res.writeHead(500).end('the offline evaluation failed');
        });
      });
      await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
      webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/gate`;
    });

    afterAll(async () => {
      for (const s of subscribers) await s.close();
      for (const c of clients) c.close();
      admin?.close();
      await server?.stop();
      await new Promise((r) => webhook?.close(r));
      await backing?.cleanup();
    });

    /** A topic with the policy, its v1 published to everyone, and 2 watching subscribers per group holding it. */
    async function fleet(p: RolloutPolicy, validate?: (value: string) => boolean) {
      const topic = `${backing.prefix}rollout-${++n}`;
      await admin.createTopic({ name: topic, rolloutPolicy: p });
      await admin.publishPointer(topic, directPointer('v1'), { noRollout: true });
      const consumers: Consumer[] = [];
      for (const group of GROUPS) {
        for (let i = 0; i < PER_GROUP; i++) {
          const client = new ImprintClient({ address: `127.0.0.1:${server.port}` });
          clients.push(client);
          const subscriber = new Subscriber({ client, identity: identityOf(group, i), mode: 'watch' });
          subscribers.push(subscriber);
          const sub = subscriber.subscribe(topic, { decode: (b) => b.toString('utf8'), ...(validate && { validate }) });
          const c: Consumer = { group, sub, swaps: [] };
          sub.on('updated', (e: UpdatedEvent<string>) => c.swaps.push({ version: e.version, atMs: Date.now() }));
          consumers.push(c);
        }
      }
      await Promise.all(consumers.map((c) => c.sub.ready()));
      const holds = (version: Version, groups: readonly Group[] = GROUPS) => consumers.filter((c) => groups.includes(c.group)).every((c) => c.sub.version === version);
      const publish = async (text: string): Promise<Version> => (await admin.publishPointer(topic, directPointer(text))).version;
      const status = async (): Promise<Rollout> => (await admin.getRollout(topic)).rollout;
      const history = async (): Promise<TopicChange[]> => (await admin.listHistory(topic, { pageSize: 100 })).changes;
      /** Waits until the topic's newest rollout is in `state`. */
      const rolloutIs = async (state: Rollout['state'], ms = 30_000) => {
        const deadline = Date.now() + ms;
        for (;;) {
          const r = await status();
          if (r.state === state) return r;
          if (Date.now() > deadline || (r.state !== 'running' && r.state !== 'paused')) throw new Error(`the rollout of ${topic} is ${r.state} at step ${r.step}, not ${state}${r.reason ? ` (${r.reason})` : ''}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      };
      /** The versions a group's consumers ever swapped in. */
      const loaded = (group: Group) => new Set(consumers.filter((c) => c.group === group).flatMap((c) => c.swaps.map((s) => s.version)));
      return { topic, consumers, holds, publish, status, history, rolloutIs, loaded };
    }

    it('widens step by step: each group swaps only once its step is applied, and each step is applied once', async () => {
      const f = await fleet(policy('cluster=canary 3s gates=consumers; region=us-east-1 3s gates=consumers; * 0', { minHoldingPercent: 100 }));
      const v2 = await f.publish('v2');
      await f.rolloutIs('completed');
      await until('every consumer on v2', () => f.holds(v2));
      const entries = (await f.history()).filter((c) => c.kind === 'rollout' && c.version === v2);
      const actions = entries.map((c) => `${c.details['action']}:${c.details['step']}`).reverse();
      expect(actions).toEqual(['start:0', 'step:1', 'step:2', 'complete:2']);
      const at = (action: string, step: string) => entries.find((c) => c.details['action'] === action && c.details['step'] === step)?.atMs ?? NaN;
      const swappedAt = (group: Group) => Math.min(...f.consumers.filter((c) => c.group === group).map((c) => c.swaps.find((s) => s.version === v2)?.atMs ?? NaN));
      expect(swappedAt('canary')).toBeGreaterThanOrEqual(at('start', '0'));
      expect(swappedAt('us')).toBeGreaterThanOrEqual(at('step', '1'));
      expect(swappedAt('eu')).toBeGreaterThanOrEqual(at('step', '2'));
    });

    it('pause holds the rollout where it is, resume goes on with the bake it had left', async () => {
      const f = await fleet(policy('cluster=canary 1500ms; * 0'));
      const v2 = await f.publish('v2');
      await until('the canary on v2', () => f.holds(v2, ['canary']));
      const paused = await admin.pauseRollout(f.topic, 'checking the canary dashboards');
      expect(paused).toMatchObject({ state: 'paused', step: 0, reason: 'checking the canary dashboards' });
      // Longer than the bake it had left: a running rollout would have completed by now.
      await new Promise((r) => setTimeout(r, 2000));
      expect(await f.status()).toMatchObject({ state: 'paused', step: 0 });
      expect(f.holds(1n, ['us', 'eu'])).toBe(true);
      await admin.resumeRollout(f.topic);
      await f.rolloutIs('completed');
      await until('every consumer on v2', () => f.holds(v2));
    });

    it('promote applies the next step now, promote --full everything', async () => {
      const f = await fleet(policy('cluster=canary 1h; region=us-east-1 1h; * 1h'));
      const v2 = await f.publish('v2');
      await until('the canary on v2', () => f.holds(v2, ['canary']));
      expect(await admin.promoteRollout(f.topic)).toMatchObject({ state: 'running', step: 1 });
      await until('us-east-1 on v2', () => f.holds(v2, ['us']));
      expect(f.loaded('eu').has(v2)).toBe(false);
      expect(await admin.promoteRollout(f.topic, { full: true })).toMatchObject({ state: 'completed' });
      await until('every consumer on v2', () => f.holds(v2));
    });

    it('cancel mid-way puts every group back on what it had, and keeps the version and its history', async () => {
      const f = await fleet(policy('cluster=canary 1h; region=us-east-1 1h; * 1h'));
      const v2 = await f.publish('v2');
      await until('the canary on v2', () => f.holds(v2, ['canary']));
      await admin.promoteRollout(f.topic);
      await until('us-east-1 on v2', () => f.holds(v2, ['us']));
      expect(await admin.cancelRollout(f.topic, 'scores drifted')).toMatchObject({ state: 'cancelled', rejected: false, reason: 'scores drifted' });
      await until('every consumer back on v1', () => f.holds(1n), 10_000);
      expect(f.loaded('eu').has(v2)).toBe(false);
      expect((await admin.getVersion(f.topic, v2)).version).toBe(v2);
      expect((await f.history()).some((c) => c.kind === 'rollout' && c.details['action'] === 'cancel' && c.reason === 'scores drifted')).toBe(true);
    });

    it("the canary's validate refuses a version: the gate rejects it after step 1 and no other consumer ever loads it", async () => {
      const f = await fleet(policy('cluster=canary 5s gates=consumers; region=us-east-1 300ms gates=consumers; * 0'), (value) => !value.startsWith('bad'));
      const v2 = await f.publish('bad model');
      const r = await f.rolloutIs('cancelled');
      expect(r).toMatchObject({ rejected: true, step: 0 });
      expect(r.reason).toMatch(/rejected the version/);
      // Wait out what would have been step 1's bake and then some: nobody loads it.
      await new Promise((res) => setTimeout(res, 1000));
      for (const g of GROUPS) expect(f.loaded(g).has(v2)).toBe(false);
      expect(f.holds(1n)).toBe(true);
      const described = await admin.describeTopic(f.topic);
      expect(described.rollout).toMatchObject({ version: v2, state: 'cancelled', rejected: true });
    });

    it('a webhook gate that keeps failing rejects the rollout at the end of its bake, and the canary goes back', async () => {
      const f = await fleet(policy('cluster=canary 1s gates=webhook; * 0', { webhookUrl }));
      const v2 = await f.publish('v2');
      await until('the canary on v2', () => f.holds(v2, ['canary']));
      const r = await f.rolloutIs('cancelled');
      expect(r.rejected).toBe(true);
      expect(r.reason).toMatch(/500/);
      expect(webhookCalls.some((b) => (b as { topic?: string }).topic === f.topic)).toBe(true);
      await until('the canary back on v1', () => f.holds(1n), 10_000);
      expect(f.loaded('us').has(v2) || f.loaded('eu').has(v2)).toBe(false);
    });

    it('a pin wins over a running rollout, and the rollout serves again once it is removed', async () => {
      const f = await fleet(policy('cluster=canary 1h; * 1h'));
      const v2 = await f.publish('v2');
      await until('the canary on v2', () => f.holds(v2, ['canary']));
      await admin.pin(f.topic, 1n, { scope: { cluster: 'canary' }, reason: 'last known good' });
      await until('the canary pinned back to v1', () => f.holds(1n, ['canary']));
      await admin.unpin(f.topic, { cluster: 'canary' });
      await until('the canary on v2 again', () => f.holds(v2, ['canary']));
      expect(f.loaded('us').has(v2) || f.loaded('eu').has(v2)).toBe(false);
      await admin.cancelRollout(f.topic, 'done with this test');
    });
  });
}
