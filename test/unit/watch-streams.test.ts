/**
 * Watch streams (server/poll/watch.ts) over a Poller on an in-memory PollSource whose heads
 * and pins the test changes, a PollChangeHub the test speaks into, and a sink that records
 * what a stream sends (and can say its buffer is full): first answers in order, each poll
 * observed (the audit's holdings hear it), pushes coalesced and observed once per burst, never
 * older unless pinned, backpressure keeping only the newest answer, the periodic check, the
 * bounds, and close().
 */
import { describe, expect, it } from 'vitest';
import { ImprintError, recordDigest, sha256Hex, verdictOf, type PollSource, type PollView, type Pin, type ScopeHead, type VersionRecord } from '../../core/index.js';
import { PollChangeHub, Poller, Watchers, type WatchOptions, type WatchOutcome, type WatchSink } from '../../server/index.js';
import { MemoryPollObserver, identity, until } from '../helpers.js';

function rec(topic: string, version: bigint): VersionRecord {
  const bytes = Buffer.from(`${topic} v${version}`);
  const base = { topic, version, publishedAtMs: 1000, metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes } };
  return { ...base, scopes: [{}], digest: recordDigest(base) };
}

/** Topics whose head the test moves: each holds versions 1..head. */
class Topics {
  readonly views = new Map<string, PollView>();
  set(topic: string, head: bigint, pins: Pin[] = []): void {
    const heads: ScopeHead[] = head > 0n ? [{ scope: {}, version: head, sinceMs: 0 }] : [];
    this.views.set(topic, { heads, pins });
  }
  source(): PollSource {
    return {
      state: (topic) => this.views.get(topic),
      record: (topic, _v, version) => verdictOf(topic, version, rec(topic, version)),
      versionsBelow: (topic, below, limit) => Array.from({ length: Math.min(limit, Number(below) - 1) }, (_, i) => rec(topic, below - BigInt(i + 1))),
    };
  }
}

/** What a stream sent, as "topic vN", "topic vN pinned", "topic none", "topic CODE"; heartbeats as "heartbeat". */
class Sink implements WatchSink {
  readonly sent: string[] = [];
  ended: ImprintError | undefined;
  /** The next sends answer false (a full buffer) while set. */
  full = false;
  result(topic: string, o: WatchOutcome): boolean {
    if ('error' in o) this.sent.push(`${topic} ${o.error instanceof ImprintError ? o.error.code : 'INTERNAL'}`);
    else this.sent.push(`${topic} ${o.answer.record ? `v${o.answer.record.version}${o.answer.pinned ? ' pinned' : ''}` : 'none'}`);
    return !this.full;
  }
  heartbeat(): boolean {
    this.sent.push('heartbeat');
    return !this.full;
  }
  end(err: ImprintError): void {
    this.ended = err;
  }
}

function setup(options: WatchOptions = {}) {
  const topics = new Topics();
  topics.set('a', 1n);
  topics.set('b', 2n);
  const observed = new MemoryPollObserver();
  const poller = new Poller({ source: topics.source(), observer: observed });
  const hub = new PollChangeHub();
  // Timers far away unless a test asks for them; its first audit at about 1.5 intervals.
  const watchers = new Watchers({ poller, changes: hub, options: { heartbeatMs: 600_000, auditIntervalMs: 86_400_000, ...options }, random: () => 0.999 });
  const open = (app = 'app', cursors = [{ topic: 'a', lastSeen: 0n }, { topic: 'b', lastSeen: 2n }, { topic: 'ghost', lastSeen: 0n }]) => {
    const sink = new Sink();
    return { sink, stream: watchers.open(app, identity({ app }), cursors, sink) };
  };
  return { topics, observed, hub, watchers, open };
}

describe('Watch streams', () => {
  it('first answer every topic in request order, each observed once, as a BatchPoll would', () => {
    const { open, observed } = setup();
    const { sink } = open();
    expect(sink.sent).toEqual(['a v1', 'b none', 'ghost NOT_FOUND']);
    expect(observed.polls.map((e) => `${e.topic} ${e.outcome}`)).toEqual(['a update', 'b no-update', 'ghost error']);
  });

  it('push a changed answer once per burst (ten words in the window: the newest answer once), observed once: the node moved', async () => {
    const { open, topics, hub, observed, watchers } = setup();
    const { sink } = open();
    for (let v = 2n; v <= 11n; v++) {
      topics.set('a', v);
      hub.notify('a');
    }
    await until('the push', () => sink.sent.length > 3);
    expect(sink.sent.slice(3)).toEqual(['a v11']);
    expect(observed.polls.slice(3).map((e) => `${e.topic} ${e.lastSeen}->${e.holds}`)).toEqual(['a 1->11']);
    expect(watchers.stats().pushes).toBe(1);
  });

  it('send nothing for a word that does not change the answer; an error that clears is sent', async () => {
    const { open, topics, hub } = setup();
    const { sink } = open();
    hub.notify('b'); // b's answer is still "none"
    hub.notify('ghost'); // still NOT_FOUND
    topics.set('ghost', 0n); // created, nothing published: "none" replaces the error
    hub.notify('ghost');
    await until('the push', () => sink.sent.length > 3);
    expect(sink.sent.slice(3)).toEqual(['ghost none']);
    topics.set('b', 3n);
    hub.notify('b');
    await until('the push', () => sink.sent.length > 4);
    expect(sink.sent.slice(4)).toEqual(['b v3']);
  });

  it('never older unless pinned: a pin sends the older version pinned, the unpin the latest again', async () => {
    const { open, topics, hub } = setup();
    const { sink } = open('app', [{ topic: 'b', lastSeen: 2n }]);
    topics.set('b', 2n, [{ topic: 'b', scope: {}, version: 1n, createdAtMs: 1, reason: '', createdBy: '' }]);
    hub.notify('b');
    await until('the pin', () => sink.sent.length > 1);
    topics.set('b', 2n);
    hub.notify('b');
    await until('the unpin', () => sink.sent.length > 2);
    expect(sink.sent).toEqual(['b none', 'b v1 pinned', 'b v2']);
  });

  it('a full buffer holds the sends; once drained each marked topic goes out once, with its newest answer', async () => {
    const { open, topics, hub } = setup();
    const { sink, stream } = open();
    sink.full = true;
    topics.set('a', 2n);
    hub.notify('a');
    await until('the push that fills the buffer', () => sink.sent.length > 3);
    for (let v = 3n; v <= 6n; v++) {
      topics.set('a', v);
      hub.notify('a');
      topics.set('b', v);
      hub.notify('b');
    }
    // Nothing goes out while it is full (the words above were all given before this wait).
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.sent.slice(3)).toEqual(['a v2']);
    sink.full = false;
    stream.drained();
    await until('the drained sends', () => sink.sent.length > 5);
    expect(sink.sent.slice(3)).toEqual(['a v2', 'a v6', 'b v6']);
  });

  it('follow a stream of many topics (found by a map beyond 16) and versions beyond 2^53 to the last digit', async () => {
    const { topics, hub, watchers, observed } = setup();
    const big = 2n ** 60n;
    const names = Array.from({ length: 20 }, (_, i) => `t${i}`);
    for (const t of names) topics.set(t, 1n);
    topics.set('t17', big + 5n);
    const sink = new Sink();
    watchers.open('app', identity({ app: 'app' }), names.map((topic) => ({ topic, lastSeen: topic === 't17' ? big + 1n : 1n })), sink);
    expect(sink.sent[17]).toBe(`t17 v${big + 5n}`);
    expect(observed.polls[17]).toMatchObject({ topic: 't17', lastSeen: `${big + 1n}`, holds: `${big + 5n}` });
    topics.set('t17', big + 6n);
    hub.notify('t17');
    topics.set('t19', 2n);
    hub.notify('t19');
    await until('the pushes', () => sink.sent.length > 21);
    expect(sink.sent.slice(20)).toEqual([`t17 v${big + 6n}`, 't19 v2']);
    // What the watcher held when asked again: the version sent, exactly (not a rounded double).
    expect(observed.polls.slice(20).map((e) => `${e.topic} ${e.lastSeen}->${e.holds}`)).toEqual([`t17 ${big + 5n}->${big + 6n}`, 't19 1->2']);
  });

  it('heartbeats every heartbeatMs, and asks every topic again every auditIntervalMs (the holdings see the node still there)', async () => {
    const { open, observed } = setup({ heartbeatMs: 100, auditIntervalMs: 1000 });
    const { sink, stream } = open();
    await until('two heartbeats', () => sink.sent.filter((s) => s === 'heartbeat').length >= 2);
    await until('the periodic check', () => observed.polls.length >= 6, 5_000);
    expect(observed.polls.slice(3, 6).map((e) => `${e.topic} ${e.outcome} holds ${e.holds}`)).toEqual(['a no-update holds 1', 'b no-update holds 2', 'ghost error holds 0']);
    // Nothing new to send: the check's answers are the ones already sent.
    expect(sink.sent.filter((s) => s !== 'heartbeat')).toEqual(['a v1', 'b none', 'ghost NOT_FOUND']);
    stream.cancelled();
  });

  it('bounds streams per instance and per application: RESOURCE_EXHAUSTED with a retry hint; an ended stream frees its place', () => {
    const { open, watchers } = setup({ maxStreams: 3, maxStreamsPerApp: 2 });
    const first = open('a');
    open('a');
    const refusedApp = (() => {
      try {
        open('a');
      } catch (err) {
        return err;
      }
    })();
    expect(refusedApp).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryAfterMs: 5000, message: expect.stringContaining('--watch-max-streams-per-app') });
    open('b');
    expect(() => open('c')).toThrow(/this instance has 3 watch streams open, its limit \(--watch-max-streams\); retry after 5000 ms/);
    expect(watchers.stats()).toMatchObject({ streams: 3, refused: { instance: 1, app: 1 } });
    first.stream.cancelled();
    expect(watchers.streamsOf('a')).toBe(1);
    open('c');
    expect(watchers.stats().streams).toBe(3);
  });

  it('close() ends every stream UNAVAILABLE, stops its words, and refuses new streams', () => {
    const { open, watchers, hub, topics } = setup();
    const { sink } = open();
    watchers.close();
    expect(sink.ended?.code).toBe('UNAVAILABLE');
    expect(watchers.stats().streams).toBe(0);
    expect(hub.listenerCount).toBe(0);
    topics.set('a', 5n);
    hub.notify('a');
    expect(() => open()).toThrow(/stopping/);
  });
});
