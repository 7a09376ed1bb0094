/**
 * The file audit's summary snapshot (server/audit/file-summary.ts): format 2 (node keys once,
 * the folds as flat arrays), format 1 still read, a save paced to a bounded share of the event
 * loop, and a save amid changes that never writes a word under another node's key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consumersView, nodeKey, type HoldEvent, type HoldingEvent } from '../../core/index.js';
import { FileAuditSink } from '../../server/audit/file.js';
import { AuditFileSummary } from '../../server/audit/file-summary.js';
import { identity, tempDir } from '../helpers.js';

const T0 = Date.UTC(2026, 10, 29, 12);
const TOPICS = ['model-0', 'model-1', 'model-2', 'model-3', 'model-4', 'model-5', 'model-6'];

const hold = (i: number, o: { topic?: string; atMs?: number; version?: string; nodeId?: string } = {}): HoldEvent => ({
  kind: 'hold',
  atMs: o.atMs ?? T0 + i,
  topic: o.topic ?? 'model-0',
  identity: identity({ app: 'scorer', cluster: `c${i % 5}`, region: 'eu', nodeId: o.nodeId ?? `n${i}` }),
  replica: 'r1',
  version: o.version ?? '1',
  previous: '0',
  moved: true,
  pinned: false,
});

/** The events of `nodes` nodes x 7 topics, a move of some, and summaries. */
function fleet(nodes: number): HoldingEvent[] {
  const out: HoldingEvent[] = [];
  for (let i = 0; i < nodes; i++) for (const topic of TOPICS) out.push(hold(i, { topic }));
  for (let i = 0; i < nodes; i += 3) out.push({ ...hold(i, { topic: 'model-0', atMs: T0 + nodes + i, version: '2' }), previous: '1' });
  for (let c = 0; c < 5; c++) out.push({ kind: 'summary', atMs: T0 + 3 * nodes, topic: 'model-0', replica: 'r1', app: 'scorer', cluster: `c${c}`, region: 'eu', version: '2', nodeCount: 7, pinnedCount: 0, errorCount: 0, foldedPolls: 1, periodMs: 300_000 });
  return out;
}

const queries = [{ sinceMs: 0, nodeLimit: 10_000 }, { sinceMs: T0 + 1000, nodeLimit: 10_000, version: '2' }];

describe('file audit summary snapshot', () => {
  it("is format 2: each node's key once for all its topics, no event objects, under 100 bytes per node and topic; a restart answers the same", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const events = fleet(2000);
    const sink = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 10 });
    for (const e of events) sink.record(e);
    await sink.close();
    const text = fs.readFileSync(path.join(dir, 'events.summary.json'), 'utf8');
    const data = JSON.parse(text) as { format: number; nodes: (string | null)[]; topics: Record<string, { words: unknown[] }> };
    expect(data.format).toBe(2);
    expect(data.nodes).toHaveLength(2000);
    expect(Object.keys(data.topics)).toEqual(TOPICS);
    expect(text).not.toContain('"identity"');
    expect(text.length / (2000 * 7)).toBeLessThan(100);

    const again = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 10 });
    expect(again.start).toEqual({ from: 'snapshot', bytesRead: 0, linesParsed: 0 });
    for (const topic of TOPICS) for (const q of queries) expect(await again.consumers(topic, q)).toEqual(consumersView(topic, q, events));
    await again.close();
  });

  it('reads a format 1 snapshot (every word and move as its event), so an upgraded instance starts from it', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const events = fleet(300);
    const sink = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 10 });
    for (const e of events) sink.record(e);
    await sink.close();
    // What the summary of those lines was in format 1: the latest word per node (moves that are one: where to find it).
    const topics: Record<string, unknown> = {};
    for (const topic of TOPICS) {
      const words = new Map<string, HoldEvent>();
      const summaries = [];
      for (const e of events) {
        if (e.topic !== topic) continue;
        if (e.kind === 'hold') words.set(nodeKey(e.identity), e);
        if (e.kind === 'summary') summaries.push(e);
      }
      const moves = [...words.entries()].map(([node, e], i) => (i % 2 === 0 ? { wordOf: e.replica, node } : e));
      topics[topic] = { words: [...words.values()], moves, summaries };
    }
    const snapshot = path.join(dir, 'events.summary.json');
    const activeOffset = fs.statSync(file).size;
    fs.writeFileSync(snapshot, JSON.stringify({ format: 1, activeDay: JSON.parse(fs.readFileSync(snapshot, 'utf8')).activeDay, activeOffset, newestRotated: null, ranges: { '': { minAtMs: T0, maxAtMs: T0 + 900 } }, topics }));

    const again = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 10 });
    expect(again.start).toEqual({ from: 'snapshot', bytesRead: 0, linesParsed: 0 });
    for (const topic of TOPICS) for (const q of queries) expect(await again.consumers(topic, q)).toEqual(consumersView(topic, q, events));
    await again.close();
  });

  it('a save in pieces is paced: the event loop is busy well under half of the time it takes, in short turns', async () => {
    const summary = new AuditFileSummary();
    for (const e of fleet(15_000)) summary.add(e); // 105k node-topics
    const file = path.join(tempDir(), 'events.summary.json');
    const before = performance.eventLoopUtilization();
    const saved = await summary.saveInPieces(file, { activeDay: '2026-11-29', activeOffset: 0, newestRotated: undefined }, { sliceMs: 2, pauseMs: 18 });
    const busy = performance.eventLoopUtilization(before).utilization;
    // Paced at a tenth of the thread; unpaced (a piece per setImmediate) it took all of it.
    expect(busy).toBeLessThan(0.5);
    expect(saved.turns).toBeGreaterThan(3);
    expect(saved.longestTurnMs).toBeLessThan(50);
    expect(saved.bytes).toBe(fs.statSync(file).size);
    const loaded = AuditFileSummary.load(file, { newestRotated: undefined, activeSize: 0 });
    expect(loaded?.summary.folds.get('model-0')?.view('model-0', queries[0] ?? { sinceMs: 0 })).toEqual(summary.folds.get('model-0')?.view('model-0', queries[0] ?? { sinceMs: 0 }));
  });

  it("amid changes between its pieces (nodes pruned, new ones numbered), never writes a word under another node's key", async () => {
    const summary = new AuditFileSummary();
    for (let i = 0; i < 5000; i++) summary.add(hold(i, { atMs: i < 2500 ? T0 : T0 + 1000 }));
    const fold = summary.folds.get('model-0');
    if (!fold) throw new Error('no fold');
    const file = path.join(tempDir(), 'events.summary.json');
    // One piece (500 items) per turn, 20 ms apart: the node keys take 10 turns, then the words.
    const saving = summary.saveInPieces(file, { activeDay: '2026-11-29', activeOffset: 0, newestRotated: undefined }, { sliceMs: 0, pauseMs: 20 });
    while (!(fs.existsSync(`${file}.tmp`) && fs.statSync(`${file}.tmp`).size > 0)) await new Promise((r) => setTimeout(r, 1));
    // While the keys are being written: the first 2500 nodes go, 2500 others come, holding another version.
    fold.prune(T0 + 1);
    for (let i = 0; i < 2500; i++) summary.add(hold(i, { nodeId: `m${i}`, atMs: T0 + 2000, version: '9' }));
    const saved = await saving;
    expect(saved.turns).toBeGreaterThan(10);
    const loaded = AuditFileSummary.load(file, { newestRotated: undefined, activeSize: 0 });
    const view = loaded?.summary.folds.get('model-0')?.view('model-0', { sinceMs: 0, nodeLimit: 10_000 });
    // The new nodes come after the save's offset (a restart reads their lines again); no word of theirs under an old key.
    expect(view?.versions).toEqual([{ version: '1', nodeCount: 2500, lastSeenMs: T0 + 1000 }]);
    expect(view?.nodes?.every((n) => Number(n.nodeId.slice(1)) >= 2500 && n.nodeId.startsWith('n'))).toBe(true);
    expect(loaded?.summary.nodes.size).toBe(2500);
  });
});
