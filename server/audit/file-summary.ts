/**
 * The file audit's summary: per topic the ConsumersFold (core: exactly what the consumers view
 * needs, per node and replica), and per file the range of event times it holds (so moves
 * are read only from the files of a window). Kept in memory as events are written, and saved
 * beside the files (`events.summary.json`) at each rotation, every `snapshotEveryBytes` of
 * lines and at close, with the offset it covers in the file being written: a restart reads the
 * snapshot and only the lines after that offset.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ConsumersFold, type ConsumersFoldData, type HoldingEvent } from '../../core/index.js';
import { isHoldingEvent } from './consumers.js';

/** Event times in one file. */
export interface TimeRange {
  minAtMs: number;
  maxAtMs: number;
}

/** What the snapshot file holds. */
interface SnapshotData {
  readonly format: 1;
  /** The UTC day the file being written was started. */
  readonly activeDay: string;
  /** Bytes of the file being written the summary covers. */
  readonly activeOffset: number;
  /** The newest rotated file when it was written (a rotation after it makes it stale). */
  readonly newestRotated: string | null;
  /** Per rotated file name, and "" for the file being written. */
  readonly ranges: Record<string, TimeRange>;
  readonly topics: Record<string, ConsumersFoldData>;
}

/** Where a snapshot stops: the file being written, how much of it, and the newest rotated file. */
export interface SnapshotAt {
  readonly activeDay: string;
  readonly activeOffset: number;
  readonly newestRotated: string | undefined;
}

/** Events per piece of a snapshot written in pieces (about 300 KB of JSON, a few ms). */
const SAVE_PIECE_EVENTS = 1000;

export class AuditFileSummary {
  readonly folds = new Map<string, ConsumersFold>();
  /** Per rotated file name; "" is the file being written. */
  readonly ranges = new Map<string, TimeRange>();

  add(e: HoldingEvent, file = ''): void {
    let fold = this.folds.get(e.topic);
    if (!fold) {
      fold = new ConsumersFold();
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
   * Writes the snapshot as `save` does, a piece of at most SAVE_PIECE_EVENTS events per turn of
   * the event loop: a summary of 700k nodes is about 216 MB of JSON, seconds of work that would
   * otherwise stall every request. What is added meanwhile may be in it too; a restart reads
   * the lines after `at.activeOffset` again all the same, and folding an event twice changes
   * nothing.
   */
  async saveInPieces(file: string, at: SnapshotAt): Promise<number> {
    const handle = await fs.promises.open(`${file}.tmp`, 'w');
    let bytes = 0;
    try {
      for (const piece of this.snapshotPieces(at)) {
        bytes += (await handle.write(piece)).bytesWritten;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await handle.close();
    }
    await fs.promises.rename(`${file}.tmp`, file);
    return bytes;
  }

  /** The snapshot's JSON (SnapshotData) in pieces of at most SAVE_PIECE_EVENTS events. */
  private *snapshotPieces(at: SnapshotAt): Generator<string> {
    const head: Omit<SnapshotData, 'topics'> = { format: 1, activeDay: at.activeDay, activeOffset: at.activeOffset, newestRotated: at.newestRotated ?? null, ranges: Object.fromEntries(this.ranges) };
    yield `${JSON.stringify(head).slice(0, -1)},"topics":{`;
    let sep = '';
    for (const [topic, fold] of this.folds) {
      yield `${sep}${JSON.stringify(topic)}:`;
      yield* fold.jsonPieces(SAVE_PIECE_EVENTS);
      sep = ',';
    }
    yield '}}';
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
    if (data.format !== 1 || (data.newestRotated ?? undefined) !== files.newestRotated || !(data.activeOffset <= files.activeSize)) return undefined;
    const summary = new AuditFileSummary();
    for (const [name, r] of Object.entries(data.ranges)) summary.ranges.set(name, { ...r });
    for (const [topic, d] of Object.entries(data.topics)) summary.folds.set(topic, ConsumersFold.fromJSON(d));
    return { summary, activeDay: data.activeDay, activeOffset: data.activeOffset };
  }
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
