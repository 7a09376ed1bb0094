/**
 * The file audit's rotation (by size, by UTC day with an injected clock, keeping N files, no
 * line lost or written twice) and its summary: the consumers view it answers equals core's
 * consumersView over every line ever recorded, through rotations and restarts, and a restart
 * reads only the lines after the saved summary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, consumersView, movesOf, type GoneEvent, type HoldEvent, type HoldingEvent } from '../../core/index.js';
import { FileAuditSink, readAuditFile } from '../../server/audit/file.js';
import type { AuditEvent } from '../../server/audit/audit-sink.js';
import { identity, seededRandom, tempDir } from '../helpers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 29, 12);

const hold = (i: number, o: { nodeId?: string; version?: string; previous?: string; atMs?: number; topic?: string } = {}): HoldingEvent => {
  const version = o.version ?? '1';
  const previous = o.previous ?? '0';
  return { kind: 'hold', atMs: o.atMs ?? T0 + i, topic: o.topic ?? 'model', identity: identity({ app: 'scorer', nodeId: o.nodeId ?? `n${i}` }), replica: 'r1', version, previous, moved: version !== previous, pinned: false };
};

/** Every line of the sink's files, oldest file first. */
const allLines = (sink: FileAuditSink): AuditEvent[] => sink.auditFiles().flatMap((f) => readAuditFile(f));
const nodeIds = (events: AuditEvent[]) => events.map((e) => (e.kind === 'summary' || e.kind === 'denied' ? '' : e.identity.nodeId));

describe('file audit rotation', () => {
  it('rotates before a write would pass maxFileBytes; every line once, in order, across the files', async () => {
    const dir = tempDir();
    const sink = new FileAuditSink({ file: path.join(dir, 'events.jsonl'), maxFileBytes: 4096, keepFiles: 1000 });
    const recorded: HoldingEvent[] = [];
    // Bursts of several turns' lines, some while a rotation waits for the disk.
    for (let turn = 0; turn < 40; turn++) {
      for (let j = 0; j < 7; j++) {
        const e = hold(turn * 7 + j);
        expect(sink.record(e)).toBe(true);
        recorded.push(e);
      }
      if (turn % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    await sink.flush();
    const files = sink.auditFiles();
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(fs.statSync(f).size).toBeLessThanOrEqual(4096);
    expect(files.slice(0, -1).map((f) => path.basename(f))).toEqual(files.slice(0, -1).map((_, i) => `events.2026-11-29.${i + 1}.jsonl`.replace('2026-11-29', new Date().toISOString().slice(0, 10))));
    expect(nodeIds(allLines(sink))).toEqual(nodeIds(recorded));
    await sink.close();
  });

  it('rotates at UTC midnight (injected clock): the day file is named after the day it holds', async () => {
    const dir = tempDir();
    let now = Date.UTC(2026, 10, 29, 23, 59);
    const sink = new FileAuditSink({ file: path.join(dir, 'events.jsonl'), clock: () => now });
    sink.record(hold(1));
    await sink.flush();
    now += 2 * 60_000; // 00:01 on the 30th
    sink.record(hold(2));
    await sink.flush();
    expect(sink.auditFiles().map((f) => path.basename(f))).toEqual(['events.2026-11-29.1.jsonl', 'events.jsonl']);
    expect(nodeIds(readAuditFile(path.join(dir, 'events.2026-11-29.1.jsonl')))).toEqual(['n1']);
    expect(nodeIds(readAuditFile(path.join(dir, 'events.jsonl')))).toEqual(['n2']);
    await sink.close();
  });

  it('keeps keepFiles rotated files, deleting the oldest; what is kept is the newest lines', async () => {
    const dir = tempDir();
    const sink = new FileAuditSink({ file: path.join(dir, 'events.jsonl'), maxFileBytes: 4096, keepFiles: 2 });
    const recorded: HoldingEvent[] = [];
    for (let i = 0; i < 200; i++) {
      recorded.push(hold(i));
      sink.record(hold(i));
      await new Promise((r) => setImmediate(r));
    }
    await sink.flush();
    const files = sink.auditFiles();
    expect(files.length).toBe(3);
    const kept = nodeIds(allLines(sink));
    expect(kept).toEqual(nodeIds(recorded).slice(-kept.length));
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).length).toBe(3);
    await sink.close();
  });

  it('rejects bad settings naming the option and the flag', () => {
    const file = path.join(tempDir(), 'events.jsonl');
    expect(() => new FileAuditSink({ file, maxFileBytes: 10 })).toThrow(InvalidArgumentError);
    expect(() => new FileAuditSink({ file, maxFileBytes: 10 })).toThrow(/auditFiles\.maxFileBytes.*--audit-file-max-bytes/);
    expect(() => new FileAuditSink({ file, keepFiles: 0 })).toThrow(/auditFiles\.keepFiles.*--audit-file-keep/);
  });
});

/** Random hold, gone and summary events of 2 topics, 3 replicas, 40 nodes, with ties on the millisecond. */
function randomEvents(seed: number, n: number): HoldingEvent[] {
  const r = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: HoldingEvent[] = [];
  let t = T0;
  for (let i = 0; i < n; i++) {
    t += pick([0, 0, 1, 500, 60_000]);
    const topic = pick(['model', 'rules']);
    const replica = pick(['r1', 'r2', 'r3']);
    const id = identity({ app: pick(['scorer', 'ranker']), cluster: pick(['c1', 'c2']), nodeId: `n${Math.floor(r() * 40)}` });
    const version = String(1 + Math.floor(r() * 4));
    const kind = r();
    if (kind < 0.6) {
      const previous = r() < 0.5 ? version : String(Math.floor(r() * 4));
      out.push({ kind: 'hold', atMs: t, topic, identity: id, replica, version, previous, moved: previous !== version, pinned: r() < 0.2 });
    } else if (kind < 0.8) {
      out.push({ kind: 'gone', atMs: t, topic, identity: id, replica, version, seenMs: t - Math.floor(r() * 120_000) });
    } else {
      out.push({ kind: 'summary', atMs: t, topic, replica, app: id.app, cluster: id.cluster, region: id.region, version, nodeCount: Math.floor(r() * 3), pinnedCount: 0, errorCount: 0, foldedPolls: Math.floor(r() * 2), periodMs: 60_000 });
    }
  }
  return out;
}

describe('file audit summary', () => {
  for (const seed of [1, 2, 3]) {
    it(`answers what consumersView and movesOf answer over every line, through rotations (size and day) and restarts (seed ${seed})`, async () => {
      const dir = tempDir();
      const file = path.join(dir, 'events.jsonl');
      let now = T0;
      const open = () => new FileAuditSink({ file, maxFileBytes: 8192, keepFiles: 10_000, snapshotEveryBytes: 4096, clock: () => now });
      const events = randomEvents(seed, 3000);
      let sink = open();
      const r = seededRandom(seed + 100);
      for (let i = 0; i < events.length; i++) {
        expect(sink.record(events[i] as HoldingEvent)).toBe(true);
        if (r() < 0.05) await new Promise((res) => setImmediate(res));
        if (i % 700 === 350) now += DAY; // past midnight
        if (i === 1000) {
          await sink.close(); // a clean restart
          sink = open();
          expect(sink.start.from).toBe('snapshot');
        }
        if (i === 2000) {
          await sink.flush(); // a restart without close: the lines after the last saved summary are read again
          sink = open();
          expect(sink.start.from).toBe('snapshot');
        }
      }
      await sink.flush();
      expect(sink.auditFiles().length).toBeGreaterThan(10);
      const last = (events.at(-1) as HoldingEvent).atMs;
      for (const topic of ['model', 'rules', 'none']) {
        for (const q of [{ sinceMs: 0, nodeLimit: 10_000 }, { sinceMs: T0 + (last - T0) / 2, nodeLimit: 10_000 }, { sinceMs: last - 100_000, nodeLimit: 10_000, version: '2' }, { sinceMs: T0, untilMs: T0 + (last - T0) / 3, nodeLimit: 10_000 }, { sinceMs: last + 1 }]) {
          expect(await sink.consumers(topic, q)).toEqual(consumersView(topic, q, events));
        }
        for (const q of [{ sinceMs: 0, limit: 1000 }, { sinceMs: T0 + (last - T0) / 2, untilMs: last - 1000, limit: 1000 }, { sinceMs: 0, nodeId: 'n7' }]) {
          expect(await sink.moves(topic, q)).toEqual(movesOf(topic, q, events));
        }
      }
      await sink.close();
    });
  }

  // Without summaries here: the prune assumes a replica's summaries count a node it still tracks every period
  // (what Holdings do), which random summaries do not; with them, a hold last seen before the cutoff could be
  // brought forward by a later summary of its replica.
  it('with files deleted, still answers as consumersView over every line for windows from the oldest kept event on, and forgets older nodes', async () => {
    const dir = tempDir();
    const events = randomEvents(7, 3000).filter((e): e is HoldEvent | GoneEvent => e.kind !== 'summary').map((e) => ({ ...e, identity: { ...e.identity, nodeId: `${e.identity.nodeId}-${Math.floor((e.atMs - T0) / 600_000)}` } }));
    const sink = new FileAuditSink({ file: path.join(dir, 'events.jsonl'), maxFileBytes: 8192, keepFiles: 3 });
    for (const e of events) {
      sink.record(e);
      await new Promise((res) => setImmediate(res));
    }
    await sink.flush();
    const oldestKept = Math.min(...allLines(sink).map((e) => e.atMs));
    const last = (events.at(-1) as HoldingEvent).atMs;
    for (const sinceMs of [oldestKept, (oldestKept + last) / 2]) {
      const q = { sinceMs, nodeLimit: 10_000 };
      expect(await sink.consumers('model', q)).toEqual(consumersView('model', q, events));
    }
    const everSeen = new Set(events.map((e) => `${e.topic}/${e.identity.nodeId}`)).size;
    expect(sink.summaryNodes()).toBeLessThan(everSeen / 2);
    await sink.close();
  });

  it('saves the summary after as many bytes of lines as it last had (never whole after every few lines), and a restart reads no more than that', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const sink = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 100, snapshotEveryBytes: 1024 });
    // 2000 nodes, 20 at a time, each 20 written (about 5 KiB, past snapshotEveryBytes) and any save due done before the next.
    for (let i = 0; i < 2000; i++) {
      sink.record(hold(i));
      if (i % 20 === 19) await sink.flush();
    }
    // and then it dies: no close
    const linesBytes = fs.statSync(file).size;
    const summaryBytes = fs.statSync(path.join(dir, 'events.summary.json')).size;

    const again = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 100, snapshotEveryBytes: 1024 });
    expect(again.start.from).toBe('snapshot');
    // Saved after every write (5 KiB), a restart would read one write's lines at most.
    expect(again.start.bytesRead).toBeGreaterThan(4 * 5 * 1024);
    expect(again.start.bytesRead).toBeLessThanOrEqual(Math.max(1024, summaryBytes) + 5 * 1024);
    expect(again.start.bytesRead).toBeLessThan(linesBytes);
    expect((await again.consumers('model', { sinceMs: 0 })).nodeCount).toBe(2000);
    await again.close();
    await sink.close();
  });

  it('saves a large summary in pieces, with other work between them, and a restart reads it whole', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const sink = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 100, snapshotEveryBytes: 1024 });
    for (let i = 0; i < 5000; i++) sink.record(hold(i)); // one write, then one save of 5000 nodes
    const tmp = path.join(dir, 'events.summary.json.tmp');
    let turnsWhileSaving = 0;
    let done = false;
    const watch = () => {
      if (done) return;
      if (fs.existsSync(tmp)) turnsWhileSaving++;
      setImmediate(watch);
    };
    setImmediate(watch);
    await sink.flush();
    done = true;
    // Saved at once, the half-written file would never be there between two turns.
    expect(turnsWhileSaving).toBeGreaterThan(1);
    expect(fs.existsSync(tmp)).toBe(false);
    const again = new FileAuditSink({ file, maxFileBytes: 1 << 30, keepFiles: 100 });
    expect(again.start).toEqual({ from: 'snapshot', bytesRead: 0, linesParsed: 0 });
    expect((await again.consumers('model', { sinceMs: 0, nodeLimit: 10_000 })).nodeCount).toBe(5000);
    await again.close();
    await sink.close();
  });

  it('a restart reads only the lines after the saved summary; without it, every kept file once', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    const first = new FileAuditSink({ file, maxFileBytes: 8192, keepFiles: 100 });
    for (let i = 0; i < 1000; i++) first.record(hold(i));
    await first.close();
    expect(first.auditFiles().length).toBeGreaterThan(5);

    // (large files from now on: no rotation saves the summary after the next 10 lines)
    const second = new FileAuditSink({ file, maxFileBytes: 1 << 20, keepFiles: 100 });
    expect(second.start).toEqual({ from: 'snapshot', bytesRead: 0, linesParsed: 0 });
    for (let i = 1000; i < 1010; i++) second.record(hold(i, { atMs: T0 + 5000 }));
    await second.flush(); // and then it dies: no close, no summary saved after these 10 lines

    const third = new FileAuditSink({ file, maxFileBytes: 1 << 20, keepFiles: 100 });
    expect(third.start).toMatchObject({ from: 'snapshot', linesParsed: 10 });
    expect((await third.consumers('model', { sinceMs: 0 })).nodeCount).toBe(1010);
    await third.close();
    await second.close();

    fs.rmSync(path.join(dir, 'events.summary.json'));
    const fourth = new FileAuditSink({ file, maxFileBytes: 8192, keepFiles: 100 });
    expect(fourth.start).toMatchObject({ from: 'scan', linesParsed: 1010 });
    expect((await fourth.consumers('model', { sinceMs: 0 })).nodeCount).toBe(1010);
    await fourth.close();
  });
});
