/**
 * The file audit's summary: per topic the ConsumersFold (core: exactly what the consumers view
 * needs, per node and replica; all topics' folds number their nodes in one NodeTable, so a
 * node's key is kept once), and per file the range of event times it holds (so moves are read
 * only from the files of a window). Kept in memory as events are written, and saved beside the
 * files (`events.summary.json`) at each rotation, every `snapshotEveryBytes` of lines and at
 * close, with the offset it covers in the file being written: a restart reads the snapshot and
 * only the lines after that offset.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ConsumersFold, JsonBytes, NodeTable, type ConsumersFoldData, type GoneEvent, type HoldEvent, type HoldingEvent, type SummaryEvent } from '../../core/index.js';
import { isHoldingEvent } from './consumers.js';

/** Event times in one file. */
export interface TimeRange {
  minAtMs: number;
  maxAtMs: number;
}

/**
 * What the snapshot file holds. Format 2: the node keys once (`nodes`, by number), and per topic
 * the fold's columns as flat arrays of numbers and strings (ConsumersFoldData without its own
 * `nodes`): about 80 bytes per node and topic. Format 1 (every word and move as its event,
 * identity and all: about 300 bytes per node and topic, and three times the CPU to write or more) is
 * still read, so an upgraded instance starts from the summary it left rather than reading
 * every kept file again.
 */
interface SnapshotData {
  readonly format: 1 | 2;
  /** The UTC day the file being written was started. */
  readonly activeDay: string;
  /** Bytes of the file being written the summary covers. */
  readonly activeOffset: number;
  /** The newest rotated file when it was written (a rotation after it makes it stale). */
  readonly newestRotated: string | null;
  /** Per rotated file name, and "" for the file being written. */
  readonly ranges: Record<string, TimeRange>;
  /** Format 2: node keys by number (null: a free number), what the topics' words and moves number. */
  readonly nodes?: readonly (string | null)[];
  readonly topics: Record<string, ConsumersFoldData | FoldDataV1>;
}

/** A fold in a format 1 snapshot: its latest words and moves as events (a move that is also a word: where to find it). */
interface FoldDataV1 {
  readonly words: readonly (HoldEvent | GoneEvent)[];
  readonly moves: readonly (HoldEvent | { readonly wordOf: string; readonly node: string })[];
  readonly summaries: readonly SummaryEvent[];
}

/** Where a snapshot stops: the file being written, how much of it, and the newest rotated file. */
export interface SnapshotAt {
  readonly activeDay: string;
  readonly activeOffset: number;
  readonly newestRotated: string | undefined;
}

/** Items (node keys, words, moves) per piece of a snapshot: about 30 KB of JSON, well under a millisecond. */
const SAVE_PIECE_ITEMS = 500;

/**
 * How a save in pieces shares the event loop: it works at most `sliceMs` in one turn, then
 * waits `pauseMs` (a timer: requests, I/O and timers run meanwhile) before the next, so it never
 * takes more than sliceMs / (sliceMs + pauseMs) of the thread, however large the summary: it
 * takes longer in wall time instead.
 */
export interface SavePace {
  readonly sliceMs: number;
  readonly pauseMs: number;
}

/** At most 4 ms at a time and a fifth of the thread: the 700k node-topics of the seed's fleet in about 3 s of wall time. */
export const SAVE_PACE: SavePace = { sliceMs: 4, pauseMs: 16 };

/** What a save in pieces did. */
export interface SaveStats {
  readonly bytes: number;
  /** Turns of the event loop it worked in. */
  readonly turns: number;
  /** Time it worked (the sum of its turns), and its longest turn, ms. */
  readonly busyMs: number;
  readonly longestTurnMs: number;
  /** From start to the file renamed into place, ms. */
  readonly wallMs: number;
}

export class AuditFileSummary {
  /** Every topic's fold numbers its nodes here: a node's key once, not once per topic. */
  readonly nodes: NodeTable;
  readonly folds = new Map<string, ConsumersFold>();
  /** Per rotated file name; "" is the file being written. */
  readonly ranges = new Map<string, TimeRange>();

  constructor(nodes: NodeTable = new NodeTable()) {
    this.nodes = nodes;
  }

  add(e: HoldingEvent, file = ''): void {
    let fold = this.folds.get(e.topic);
    if (!fold) {
      fold = new ConsumersFold(this.nodes);
      this.folds.set(e.topic, fold);
    }
    fold.add(e);
    const r = this.ranges.get(file);
    if (!r) this.ranges.set(file, { minAtMs: e.atMs, maxAtMs: e.atMs });
    else {
      r.minAtMs = Math.min(r.minAtMs, e.atMs);
      r.maxAtMs = Math.max(r.maxAtMs, e.atMs);
    }
  }

  /** The latest event time folded, or -Infinity. */
  get maxAtMs(): number {
    let max = -Infinity;
    for (const r of this.ranges.values()) max = Math.max(max, r.maxAtMs);
    return max;
  }

  /** The file being written was renamed to `name`. */
  rotated(name: string): void {
    const r = this.ranges.get('');
    this.ranges.delete('');
    if (r) this.ranges.set(name, r);
  }

  /** Rotated files were deleted: forget their ranges, and what only they could show (ConsumersFold.prune). */
  forget(deleted: readonly string[], kept: readonly string[]): void {
    for (const name of deleted) this.ranges.delete(name);
    if (deleted.length === 0) return;
    let cutoff = Infinity;
    for (const name of [...kept, '']) cutoff = Math.min(cutoff, this.ranges.get(name)?.minAtMs ?? Infinity);
    if (cutoff === Infinity) return;
    for (const [topic, fold] of this.folds) {
      fold.prune(cutoff);
      if (fold.empty) this.folds.delete(topic);
    }
  }

  /**
   * Writes the snapshot (to a temporary file first, so a crash leaves the old one or the new
   * one whole), all at once; returns its size in bytes.
   */
  save(file: string, at: SnapshotAt): number {
    const fd = fs.openSync(`${file}.tmp`, 'w');
    let bytes = 0;
    try {
      for (const piece of this.snapshotPieces(at)) bytes += fs.writeSync(fd, piece);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(`${file}.tmp`, file);
    return bytes;
  }

  /**
   * Writes the snapshot as `save` does, paced (`pace`, SAVE_PACE by default): pieces for at
   * most `sliceMs` in one turn, written, then a pause of `pauseMs` before the next turn. A
   * summary of 700k node-topics is then a fifth of the thread for a few seconds, not all of it
   * (its write in pieces of 1000 events, one per turn, took 96% of a core while it ran). What is
   * added meanwhile may be in it too; a restart reads the lines after `at.activeOffset` again
   * all the same, and folding an event twice changes nothing.
   */
  async saveInPieces(file: string, at: SnapshotAt, pace: SavePace = SAVE_PACE): Promise<SaveStats> {
    const started = performance.now();
    const handle = await fs.promises.open(`${file}.tmp`, 'w');
    const pieces = this.snapshotPieces(at);
    let bytes = 0;
    let turns = 0;
    let busyMs = 0;
    let longestTurnMs = 0;
    try {
      for (let done = false; !done; ) {
        const t0 = performance.now();
        const out: Uint8Array[] = [];
        do {
          const r = pieces.next();
          if (r.done) done = true;
          else out.push(r.value);
        } while (!done && performance.now() - t0 < pace.sliceMs);
        const took = performance.now() - t0;
        turns++;
        busyMs += took;
        longestTurnMs = Math.max(longestTurnMs, took);
        bytes += (await handle.writev(out)).bytesWritten;
        if (!done) await new Promise((resolve) => setTimeout(resolve, pace.pauseMs));
      }
    } finally {
      // A save that failed half way lets its NodeTable reuse freed numbers again.
      pieces.return(undefined);
      await handle.close();
    }
    await fs.promises.rename(`${file}.tmp`, file);
    return { bytes, turns, busyMs, longestTurnMs, wallMs: performance.now() - started };
  }

  /**
   * The snapshot's JSON (SnapshotData, format 2) as UTF-8, in pieces of at most
   * SAVE_PIECE_ITEMS items: the node keys first, then each topic's fold with the nodes
   * numbered then (a node new since is left out: its lines are after `at.activeOffset`, read
   * again by a restart).
   */
  private *snapshotPieces(at: SnapshotAt): Generator<Uint8Array> {
    const release = this.nodes.hold();
    try {
      const w = new JsonBytes();
      const head: Omit<SnapshotData, 'topics' | 'nodes'> = { format: 2, activeDay: at.activeDay, activeOffset: at.activeOffset, newestRotated: at.newestRotated ?? null, ranges: Object.fromEntries(this.ranges) };
      w.raw(`${JSON.stringify(head).slice(0, -1)},"nodes":[`);
      const listed = this.nodes.length;
      for (let n = 0; n < listed; n++) {
        const key = this.nodes.key(n);
        w.raw((n > 0 ? ',' : '') + (key === null ? 'null' : JSON.stringify(key)));
        if ((n + 1) % SAVE_PIECE_ITEMS === 0) yield w.take();
      }
      w.raw('],"topics":{');
      let sep = '';
      for (const [topic, fold] of this.folds) {
        w.raw(`${sep}${JSON.stringify(topic)}:`);
        yield w.take();
        yield* fold.jsonBytes(SAVE_PIECE_ITEMS, listed);
        sep = ',';
      }
      w.raw('}}');
      yield w.take();
    } finally {
      release();
    }
  }

  /**
   * The summary a snapshot holds, and where it stopped; undefined when there is none, it cannot
   * be read, or it does not match the files (`newestRotated` differs: a rotation it did not
   * see; the file being written is shorter than it covers: lines it counted were lost).
   */
  static load(file: string, files: { newestRotated: string | undefined; activeSize: number }): { summary: AuditFileSummary; activeDay: string; activeOffset: number } | undefined {
    let data: SnapshotData;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8')) as SnapshotData;
    } catch {
      return undefined;
    }
    if ((data.format !== 1 && data.format !== 2) || (data.newestRotated ?? undefined) !== files.newestRotated || !(data.activeOffset <= files.activeSize)) return undefined;
    const summary = new AuditFileSummary(data.format === 2 ? NodeTable.fromKeys(data.nodes ?? []) : undefined);
    for (const [name, r] of Object.entries(data.ranges)) summary.ranges.set(name, { ...r });
    for (const [topic, d] of Object.entries(data.topics)) {
      summary.folds.set(topic, data.format === 2 ? ConsumersFold.fromJSON(d as ConsumersFoldData, summary.nodes) : foldOfV1(d as FoldDataV1, summary.nodes));
    }
    // Nodes listed by a save and pruned before their words were written.
    summary.nodes.dropUnreferenced();
    return { summary, activeDay: data.activeDay, activeOffset: data.activeOffset };
  }
}

/**
 * A format 1 fold as a fold: its words and moves folded as the events they are (the fold keeps
 * the latest of each, so folding them in any order gives the fold that wrote them).
 */
function foldOfV1(d: FoldDataV1, nodes: NodeTable): ConsumersFold {
  const f = new ConsumersFold(nodes);
  for (const e of d.words) f.add(e);
  for (const m of d.moves) if (!('wordOf' in m)) f.add(m);
  for (const s of d.summaries) f.add(s);
  return f;
}

/** What reading lines back cost. */
export interface ReadCount {
  bytes: number;
  lines: number;
}

/**
 * Calls `each` with every holding event in `file` from byte `offset` on, in order (lines that
 * are not holding events, or cut short, are skipped); returns the file's size. Synchronous:
 * the sink reads at start, before it writes.
 */
export function readEventsSync(file: string, offset: number, each: (e: HoldingEvent) => void, count: ReadCount): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    // Up to the size it has now: never past it (a device such as /dev/full never ends).
    const end = fs.fstatSync(fd).size;
    let pos = offset;
    let rest = '';
    const decoder = new StringDecoder('utf8');
    while (pos < end) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      pos += n;
      count.bytes += n;
      const text = rest + decoder.write(buf.subarray(0, n));
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') continue;
        count.lines++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        if (isHoldingEvent(parsed)) each(parsed);
      }
    }
    return pos;
  } finally {
    fs.closeSync(fd);
  }
}
