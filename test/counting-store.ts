/**
 * A MetadataStore that delegates to a real one and counts each call per method and topic.
 * Gates hold chosen calls until released (to catch a refresh half-way, or to keep requests
 * in flight), and a failure can be armed for a method: tests observe instead of sleeping.
 */
import type { Actor, Change, ConsumerOutcome, Grant, NewVersion, Pin, RestorePlan, Rollout, Scope, ScopeHead, SnapshotOrigin, Topic, Version, VersionRecord } from '../core/index.js';
import type { FeedCursor, FeedPage } from '../server/store/change-feed.js';
import type { MetadataStore, NewTopic, PollState, Published, RolloutChange, TopicPatch } from '../server/store/metadata-store.js';

export type StoreMethod = Exclude<keyof MetadataStore, 'name'>;

export interface Gate {
  /** Resolves when the first matching call is waiting at the gate. */
  readonly reached: Promise<void>;
  /** Matching calls waiting now. */
  readonly waiting: number;
  /** Lets every waiting call (and later ones) through, and removes the gate. */
  release(): void;
}

interface GateState {
  readonly method: StoreMethod;
  readonly topic: string | undefined;
  waiting: number;
  readonly opened: Promise<void>;
  open: () => void;
  reach: () => void;
}

export class CountingStore implements MetadataStore {
  readonly name: string;
  private readonly counts = new Map<string, number>();
  private gates: GateState[] = [];
  private failures = new Map<StoreMethod, Error>();

  constructor(readonly inner: MetadataStore) {
    this.name = inner.name;
  }

  /** Calls of `method` so far (for one topic when given). */
  count(method: StoreMethod, topic?: string): number {
    return this.counts.get(topic === undefined ? method : `${method}\u0000${topic}`) ?? 0;
  }

  /** Holds calls of `method` (on `topic` when given) until the gate is released. */
  gate(method: StoreMethod, topic?: string): Gate {
    let open!: () => void;
    let reach!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const reached = new Promise<void>((r) => (reach = r));
    const g: GateState = { method, topic, waiting: 0, opened, open, reach };
    this.gates.push(g);
    return {
      reached,
      get waiting() {
        return g.waiting;
      },
      release: () => {
        this.gates = this.gates.filter((x) => x !== g);
        g.open();
      },
    };
  }

  /** Makes every call of `method` reject with `error` until cleared with undefined. */
  failWith(method: StoreMethod, error: Error | undefined): void {
    if (error) this.failures.set(method, error);
    else this.failures.delete(method);
  }

  private async enter(method: StoreMethod, topic?: string): Promise<void> {
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
    if (topic !== undefined) this.counts.set(`${method}\u0000${topic}`, (this.counts.get(`${method}\u0000${topic}`) ?? 0) + 1);
    const g = this.gates.find((x) => x.method === method && (x.topic === undefined || x.topic === topic));
    if (g) {
      g.waiting++;
      g.reach();
      await g.opened;
      g.waiting--;
    }
    const failure = this.failures.get(method);
    if (failure) throw failure;
  }

  async createTopic(topic: NewTopic, nowMs: number, by?: Actor): Promise<Topic> {
    await this.enter('createTopic', topic.name);
    return this.inner.createTopic(topic, nowMs, by);
  }
  async updateTopic(name: string, patch: TopicPatch, nowMs: number, by?: Actor): Promise<Topic> {
    await this.enter('updateTopic', name);
    return this.inner.updateTopic(name, patch, nowMs, by);
  }
  async deleteTopic(name: string, reason: string, nowMs: number, by?: Actor): Promise<Topic> {
    await this.enter('deleteTopic', name);
    return this.inner.deleteTopic(name, reason, nowMs, by);
  }
  async getTopic(name: string): Promise<Topic | undefined> {
    await this.enter('getTopic', name);
    return this.inner.getTopic(name);
  }
  async listTopics(): Promise<Topic[]> {
    await this.enter('listTopics');
    return this.inner.listTopics();
  }
  async publish(version: NewVersion, nowMs: number, by?: Actor): Promise<Published> {
    await this.enter('publish', version.topic);
    return this.inner.publish(version, nowMs, by);
  }
  async addScopes(topic: string, version: Version, scopes: readonly Scope[], nowMs: number, by?: Actor): Promise<VersionRecord> {
    await this.enter('addScopes', topic);
    return this.inner.addScopes(topic, version, scopes, nowMs, by);
  }
  async getVersion(topic: string, version: Version): Promise<VersionRecord | undefined> {
    await this.enter('getVersion', topic);
    return this.inner.getVersion(topic, version);
  }
  async listVersions(topic: string, opts: { below?: Version; limit: number }): Promise<VersionRecord[]> {
    await this.enter('listVersions', topic);
    return this.inner.listVersions(topic, opts);
  }
  async countVersions(topic: string): Promise<number> {
    await this.enter('countVersions', topic);
    return this.inner.countVersions(topic);
  }
  async scopeHeads(topic: string, atMs?: number): Promise<ScopeHead[]> {
    await this.enter('scopeHeads', topic);
    return this.inner.scopeHeads(topic, atMs);
  }
  async pollState(topic: string): Promise<PollState | undefined> {
    await this.enter('pollState', topic);
    return this.inner.pollState(topic);
  }
  async pin(pin: Pin, by?: Actor): Promise<Pin> {
    await this.enter('pin', pin.topic);
    return this.inner.pin(pin, by);
  }
  async unpin(topic: string, scope: Scope, nowMs: number, by?: Actor): Promise<Pin | undefined> {
    await this.enter('unpin', topic);
    return this.inner.unpin(topic, scope, nowMs, by);
  }
  async listGrants(topic: string): Promise<Grant[]> {
    await this.enter('listGrants', topic);
    return this.inner.listGrants(topic);
  }
  async grant(topic: string, grant: Grant, nowMs: number, by?: Actor): Promise<boolean> {
    await this.enter('grant', topic);
    return this.inner.grant(topic, grant, nowMs, by);
  }
  async revoke(topic: string, grant: Grant, nowMs: number, by?: Actor): Promise<boolean> {
    await this.enter('revoke', topic);
    return this.inner.revoke(topic, grant, nowMs, by);
  }
  async listPins(topic: string): Promise<Pin[]> {
    await this.enter('listPins', topic);
    return this.inner.listPins(topic);
  }

  async restoreTopic(plan: RestorePlan, origin: SnapshotOrigin, nowMs: number, by?: Actor): Promise<Topic> {
    await this.enter('restoreTopic', plan.topic.name);
    return this.inner.restoreTopic(plan, origin, nowMs, by);
  }
  async getRollout(topic: string, version: Version): Promise<Rollout | undefined> {
    await this.enter('getRollout', topic);
    return this.inner.getRollout(topic, version);
  }
  async listRollouts(topic: string, opts: { below?: Version; limit: number }): Promise<Rollout[]> {
    await this.enter('listRollouts', topic);
    return this.inner.listRollouts(topic, opts);
  }
  async activeRollouts(): Promise<Rollout[]> {
    await this.enter('activeRollouts');
    return this.inner.activeRollouts();
  }
  async changeRollout(change: RolloutChange, nowMs: number, by?: Actor): Promise<Rollout | undefined> {
    await this.enter('changeRollout', change.next.topic);
    return this.inner.changeRollout(change, nowMs, by);
  }
  async recordOutcomes(outcomes: readonly ConsumerOutcome[]): Promise<void> {
    await this.enter('recordOutcomes');
    return this.inner.recordOutcomes(outcomes);
  }
  async listOutcomes(topic: string, version: Version): Promise<ConsumerOutcome[]> {
    await this.enter('listOutcomes', topic);
    return this.inner.listOutcomes(topic, version);
  }
  async listHistory(topic: string, opts: { below?: bigint; limit: number }): Promise<Change[]> {
    await this.enter('listHistory', topic);
    return this.inner.listHistory(topic, opts);
  }
  async feedHead(): Promise<FeedCursor> {
    await this.enter('feedHead');
    return this.inner.feedHead();
  }
  async readFeed(after: FeedCursor, opts: { limit: number }): Promise<FeedPage> {
    await this.enter('readFeed');
    return this.inner.readFeed(after, opts);
  }
  async close(): Promise<void> {
    await this.inner.close();
  }
}
