/**
 * Every topic's PublishStatus (core/staleness.ts), for the live topics with an expectEveryMs: what
 * ListTopics answers and imprint_topic_publish_overdue exports. The consume role reads its
 * poll table (no store read); the all and publish roles read the store, at most once per
 * `maxAgeMs` however often they are asked (a scrape or a ListTopics in between answers from
 * the last read, with the overdue decided again at the time asked).
 */
import { lastPublishMs, publishOverdue, type PublishStatus, type Topic } from '../core/index.js';
import type { MetadataStore, PollState } from './store/metadata-store.js';

export interface PublishStatusSource {
  /** One status per topic with an expectEveryMs, by topic name. */
  statuses(): Promise<readonly PublishStatus[]>;
}

/** What a status is decided from: the topic and its latest publish (undefined: none). */
interface Published {
  readonly topic: Topic;
  readonly lastPublishMs: number | undefined;
}

function statusesOf(topics: Iterable<Published>, nowMs: number): PublishStatus[] {
  const out: PublishStatus[] = [];
  for (const { topic, lastPublishMs: last } of topics) {
    if (topic.expectEveryMs === undefined) continue;
    out.push({ topic: topic.name, ...(last !== undefined && { lastPublishMs: last }), overdueSinceMs: publishOverdue(topic, last, nowMs) });
  }
  return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

const published = (s: PollState): Published => ({ topic: s.topic, lastPublishMs: lastPublishMs(s.topic, s.heads) });

/** The consume role's: from the poll table's entries as they stand. */
export function tablePublishStatus(table: { entries(): Iterable<PollState> }, clock: () => number = Date.now): PublishStatusSource {
  return {
    statuses: async () => {
      const topics: Published[] = [];
      for (const e of table.entries()) if (e.topic.expectEveryMs !== undefined) topics.push(published(e));
      return statusesOf(topics, clock());
    },
  };
}

export interface StorePublishStatusOptions {
  readonly store: MetadataStore;
  /** The store is read again when its last read is older than this, ms. @default 30000 */
  readonly maxAgeMs?: number;
  /** Topics read at once. @default 8 */
  readonly concurrency?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** The all and publish roles': listTopics, then the poll state of each topic with an expectEveryMs, at most once per maxAgeMs. */
export class StorePublishStatus implements PublishStatusSource {
  private readonly store: MetadataStore;
  private readonly maxAgeMs: number;
  private readonly concurrency: number;
  private readonly clock: () => number;
  private last: { readonly atMs: number; readonly topics: readonly Published[] } | undefined;
  private reading: Promise<readonly Published[]> | undefined;
  /** Store reads of every topic made (tests). */
  reads = 0;

  constructor(o: StorePublishStatusOptions) {
    this.store = o.store;
    this.maxAgeMs = o.maxAgeMs ?? 30_000;
    this.concurrency = o.concurrency ?? 8;
    this.clock = o.clock ?? Date.now;
  }

  async statuses(): Promise<readonly PublishStatus[]> {
    const now = this.clock();
    const topics = this.last && now - this.last.atMs < this.maxAgeMs ? this.last.topics : await (this.reading ??= this.read().finally(() => (this.reading = undefined)));
    return statusesOf(topics, this.clock());
  }

  private async read(): Promise<readonly Published[]> {
    const atMs = this.clock();
    this.reads++;
    const todo = (await this.store.listTopics()).filter((t) => t.expectEveryMs !== undefined && t.deletedAtMs === undefined);
    const out: Published[] = [];
    const worker = async () => {
      for (let t = todo.shift(); t; t = todo.shift()) {
        const state = await this.store.pollState(t.name);
        if (state) out.push(published(state));
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    this.last = { atMs, topics: out };
    return out;
  }
}
