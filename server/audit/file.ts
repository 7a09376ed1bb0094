/**
 * The embedded audit sink: JSON lines appended to a file, rotated by size and by UTC day,
 * keeping the newest `keepFiles` rotated files (file-rotation.ts). The lines of one turn of the
 * event loop go to the stream as one write (a sweep's summaries, or the moves after a
 * publish, come in bursts of thousands); a rotation happens between two writes, once the
 * earlier writes are on disk, so a line is never split, lost or written twice. When the disk
 * falls behind by more than `maxBufferedBytes`, events are dropped and counted (never
 * silently: stats() and a log line say so).
 *
 * The consumers view reads a summary kept as lines are written (file-summary.ts), not the
 * files; moves are read from the files whose events fall in the window. A restart reads the
 * summary's snapshot and the lines written after it, or, with no usable snapshot, every kept
 * file once.
 */
import fs from 'node:fs';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../../log/index.js';
import { ConsumersFold, consumersView, denialsOf, isDeniedEvent, movesOf, validateConsumersQuery, validateDenialsQuery, validateMovesQuery, type ConsumersQuery, type DeniedEvent, type DenialsPage, type DenialsQuery, type HoldingEvent, type MovesPage, type MovesQuery, type TopicConsumers } from '../../core/index.js';
import { auditEventCounters, type AuditEvent, type AuditEventCounters, type AuditSink, type AuditStats } from './audit-sink.js';
import { fileEventsOf, fileLinesOf } from './consumers.js';
import { AuditFiles, auditFileWithDefaults, utcDay, type AuditFileSettings } from './file-rotation.js';
import { AuditFileSummary, readEventsSync, type ReadCount, type SnapshotAt } from './file-summary.js';

export interface FileAuditSinkOptions extends AuditFileSettings {
  /** The file being written; rotated files and the summary go beside it. */
  readonly file: string;
  /** @default 16 MiB */
  readonly maxBufferedBytes?: number;
  /**
   * The summary is saved after this many bytes of lines, or after as many bytes of lines as the
   * summary last saved had when that is more (and at rotation and close): what a restart reads
   * again at most. A summary grows with the nodes it holds (about 80 bytes per node and topic:
   * 54 MB for 100k nodes x 7 topics) and is written whole, so saving it after every few MiB of
   * lines would cost many times what writing the lines did; this way it costs at most as much.
   * @default 16 MiB
   */
  readonly snapshotEveryBytes?: number;
  /** The clock that says the UTC day (rotation at midnight). @default Date.now */
  readonly clock?: () => number;
  readonly log?: Logger;
  /** Registers imprint_audit_events_{recorded,written,dropped}_total{sink="file"} on it. @default none */
  readonly registry?: Registry;
}

/** Why the file sink lost an event: the disk fell behind (refused by record), the file failed, or the sink was closed. */
const DROP_REASONS = ['buffer_full', 'write_failed', 'after_close'] as const;
type DropReason = (typeof DROP_REASONS)[number];

/** How the sink started: from the summary's snapshot and the lines after it, or by reading every kept file. */
export interface FileAuditStart {
  readonly from: 'snapshot' | 'scan';
  /** Bytes of audit lines read at start. */
  readonly bytesRead: number;
  /** Lines parsed at start. */
  readonly linesParsed: number;
}

export class FileAuditSink implements AuditSink {
  readonly name = 'file';
  readonly file: string;
  readonly start: FileAuditStart;
  private readonly files: AuditFiles;
  private readonly settings: Required<AuditFileSettings>;
  private readonly maxBuffered: number;
  private readonly snapshotEvery: number;
  private readonly clock: () => number;
  private readonly log: Logger;
  private summary: AuditFileSummary;
  private stream: fs.WriteStream;
  /** The UTC day the file being written was started, and its size (what was handed to the stream). */
  private activeDay: string;
  private activeBytes: number;
  private bytesSinceSnapshot = 0;
  /** The size of the summary last saved: the lines written before the next periodic save are at least as many bytes. */
  private snapshotBytes = 0;
  /** The summary being saved in pieces (saveInPieces), and whether another save was asked for meanwhile. */
  private saving: Promise<void> | undefined;
  private saveAgain = false;
  private recorded = 0;
  private dropped = 0;
  private written = 0;
  private readonly metrics: AuditEventCounters<DropReason> | undefined;
  private failed: Error | undefined;
  /** Events recorded and not yet handed to the stream (this turn's, or waiting for a rotation). */
  private pending: AuditEvent[] = [];
  private pendingLines: string[] = [];
  private pendingBytes = 0;
  private drainScheduled = false;
  /** A rotation waiting for the earlier writes to reach the disk. */
  private rotation: Promise<void> | undefined;
  private closed = false;

  constructor(opts: FileAuditSinkOptions) {
    this.file = opts.file;
    this.settings = auditFileWithDefaults(opts);
    this.maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.snapshotEvery = opts.snapshotEveryBytes ?? 16 * 1024 * 1024;
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.files = new AuditFiles(opts.file);
    fs.mkdirSync(this.files.dir, { recursive: true });
    // Fail at start-up, not on the first event, when the file cannot be written.
    fs.closeSync(fs.openSync(opts.file, 'a'));
    this.metrics = opts.registry && auditEventCounters(opts.registry, 'file', DROP_REASONS);
    // 1. Files beyond what is kept go (--audit-file-keep was lowered).
    const deleted = this.deleteOld();
    // 2. The summary: the snapshot and the lines after it, or every kept file.
    const count: ReadCount = { bytes: 0, lines: 0 };
    const rotated = this.files.rotated();
    let activeSize = fs.statSync(opts.file).size;
    const snap = AuditFileSummary.load(this.files.snapshot, { newestRotated: rotated.at(-1), activeSize });
    if (snap) {
      this.summary = snap.summary;
      this.activeDay = snap.activeDay;
      readEventsSync(opts.file, snap.activeOffset, (e) => this.summary.add(e), count);
    } else {
      this.summary = new AuditFileSummary();
      for (const name of rotated) readEventsSync(this.files.path(name), 0, (e) => this.summary.add(e, name), count);
      readEventsSync(opts.file, 0, (e) => this.summary.add(e), count);
      this.activeDay = utcDay(this.clock());
    }
    if (deleted.length > 0) this.summary.forget(deleted, rotated);
    this.start = { from: snap ? 'snapshot' : 'scan', bytesRead: count.bytes, linesParsed: count.lines };
    // 3. A line cut short by a crash is ended, so the next line is not glued to it.
    if (activeSize > 0 && !endsWithNewline(opts.file, activeSize)) {
      fs.appendFileSync(opts.file, '\n');
      activeSize++;
    }
    this.activeBytes = activeSize;
    this.saveSummary(true);
    this.stream = this.open();
  }

  private open(): fs.WriteStream {
    const stream = fs.createWriteStream(this.file, { flags: 'a' });
    stream.on('error', (err) => {
      this.failed = err;
      this.log.error('audit file write failed; events are dropped from now on', { file: this.file, err });
    });
    return stream;
  }

  record(event: AuditEvent): boolean {
    if (this.failed || this.closed || this.stream.writableLength + this.pendingBytes > this.maxBuffered) {
      this.dropped++;
      this.metrics?.dropped[this.failed ? 'write_failed' : this.closed ? 'after_close' : 'buffer_full'].inc();
      return false;
    }
    this.recorded++;
    this.metrics?.recorded.inc();
    const line = `${JSON.stringify(event)}\n`;
    this.pending.push(event);
    this.pendingLines.push(line);
    this.pendingBytes += line.length;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
    return true;
  }

  /** Writes the pending lines as one chunk, or starts a rotation first. */
  private readonly drain = (): void => {
    this.drainScheduled = false;
    if (this.pending.length === 0 || this.rotation) return;
    if (this.failed) {
      // The file cannot take them (any more): dropped, and counted as such.
      this.recorded -= this.pending.length;
      this.dropped += this.pending.length;
      this.metrics?.dropped.write_failed.inc(this.pending.length);
      this.takePending();
      return;
    }
    // 1. A new day starts a new file; so do lines that would take the file past maxFileBytes
    //    (as many whole lines as fit go first; a file takes at least one line).
    if (this.activeBytes === 0) this.activeDay = utcDay(this.clock());
    else if (utcDay(this.clock()) !== this.activeDay) {
      this.rotation = this.rotate();
      return;
    }
    let take = 0;
    let bytes = 0;
    for (const line of this.pendingLines) {
      const b = Buffer.byteLength(line);
      if (this.activeBytes + bytes + b > this.settings.maxFileBytes && (take > 0 || this.activeBytes > 0)) break;
      take++;
      bytes += b;
    }
    if (take === 0) {
      this.rotation = this.rotate();
      return;
    }
    // 2. Those lines go to the stream as one write, and into the summary.
    const lines = this.pendingLines.splice(0, take);
    for (const e of this.pending.splice(0, take)) if (e.kind !== 'denied') this.summary.add(e);
    this.pendingBytes -= lines.reduce((n, l) => n + l.length, 0);
    const n = lines.length;
    this.stream.write(n === 1 ? (lines[0] as string) : lines.join(''), (err) => {
      if (err) {
        // Lost after all (the stream's 'error' handler logs it); what follows is refused.
        this.failed ??= err;
        this.recorded -= n;
        this.dropped += n;
        this.metrics?.dropped.write_failed.inc(n);
        return;
      }
      this.written += n;
      this.metrics?.written.inc(n);
    });
    this.activeBytes += bytes;
    this.bytesSinceSnapshot += bytes;
    if (this.bytesSinceSnapshot >= Math.max(this.snapshotEvery, this.snapshotBytes)) this.saveSummary();
    // 3. What did not fit goes to the next file.
    if (this.pending.length > 0) this.rotation = this.rotate();
  };

  private takePending(): AuditEvent[] {
    const events = this.pending;
    this.pending = [];
    this.pendingLines = [];
    this.pendingBytes = 0;
    return events;
  }

  /**
   * 1. waits until what was written is on disk (the stream ends); 2. renames the file to its
   * rotated name; 3. deletes rotated files beyond `keepFiles`, oldest first, and forgets what
   * only they held; 4. saves the summary; 5. opens the file anew and writes what waited.
   */
  private async rotate(): Promise<void> {
    const old = this.stream;
    await new Promise<void>((resolve) => old.end(() => resolve()));
    try {
      const name = this.files.nextName(this.activeDay);
      fs.renameSync(this.file, this.files.path(name));
      this.summary.rotated(name);
      this.summary.forget(this.deleteOld(), this.files.rotated());
      this.activeDay = utcDay(this.clock());
      this.activeBytes = 0;
      this.saveSummary();
      this.stream = this.open();
    } catch (err) {
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.log.error('audit file rotation failed; events are dropped from now on', { file: this.file, err });
    } finally {
      this.rotation = undefined;
    }
    this.drain();
  }

  /** Deletes rotated files beyond `keepFiles`, oldest first; returns their names. */
  private deleteOld(): string[] {
    const rotated = this.files.rotated();
    const deleted = rotated.slice(0, Math.max(0, rotated.length - this.settings.keepFiles));
    for (const name of deleted) fs.rmSync(this.files.path(name), { force: true });
    return deleted;
  }

  /**
   * Saves the summary: at once (`now`: at start, before any request, and at close), else in
   * pieces between other work, one save at a time (asked again while one runs, it runs once
   * more after it, from the state then).
   */
  private saveSummary(now = false): void {
    this.bytesSinceSnapshot = 0;
    if (now) {
      this.trySave(() => {
        this.snapshotBytes = this.summary.save(this.files.snapshot, this.snapshotAt());
      });
      return;
    }
    if (this.saving) {
      this.saveAgain = true;
      return;
    }
    this.saving = (async () => {
      do {
        this.saveAgain = false;
        const at = this.snapshotAt();
        await this.trySave(async () => {
          const saved = await this.summary.saveInPieces(this.files.snapshot, at);
          this.snapshotBytes = saved.bytes;
          this.log.debug('audit summary saved', { file: this.files.snapshot, ...saved });
        });
      } while (this.saveAgain);
      this.saving = undefined;
    })();
  }

  private snapshotAt(): SnapshotAt {
    return { activeDay: this.activeDay, activeOffset: this.activeBytes, newestRotated: this.files.rotated().at(-1) };
  }

  private async trySave(save: () => void | Promise<void>): Promise<void> {
    try {
      await save();
    } catch (err) {
      // Only a restart's speed depends on it: it reads the kept files again.
      this.log.warn('cannot save the audit summary; a restart reads the audit files again', { file: this.files.snapshot, err });
    }
  }

  stats(): AuditStats {
    return { recorded: this.recorded, dropped: this.dropped, written: this.written };
  }

  /** Files of the audit, oldest first (paths): the rotated ones kept, then the one being written. */
  auditFiles(): string[] {
    return [...this.files.rotated().map((n) => this.files.path(n)), this.file];
  }

  /** Nodes the summary holds, over all topics. */
  summaryNodes(): number {
    let n = 0;
    for (const f of this.summary.folds.values()) n += f.nodes;
    return n;
  }

  /** What was recorded is written, and the summary saved if a save was running or due. */
  async flush(): Promise<void> {
    await this.writeOut();
    await this.saving;
  }

  /** What was recorded is written (a summary being saved may still be). */
  private async writeOut(): Promise<void> {
    this.drain();
    while (this.rotation) {
      await this.rotation;
      this.drain();
    }
    if (this.failed || this.stream.writableLength === 0) return;
    await new Promise<void>((resolve) => this.stream.write('', () => resolve()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    if (!this.failed) this.saveSummary(true);
  }

  /**
   * Consumers of `topic` (what was recorded so far is written first): from the summary; with
   * `untilMs` at or before the latest event, from the kept files' events before it.
   */
  async consumers(topic: string, query: ConsumersQuery): Promise<TopicConsumers> {
    validateConsumersQuery(query);
    if (!this.closed) await this.writeOut();
    if (query.untilMs === undefined || query.untilMs > this.summary.maxAtMs) {
      return (this.summary.folds.get(topic) ?? new ConsumersFold()).view(topic, query);
    }
    return consumersView(topic, query, await this.eventsOf(topic, -Infinity, query.untilMs));
  }

  /** Moves of `topic`'s nodes, from the kept files with events in the window (what was recorded so far is written first). */
  async moves(topic: string, query: MovesQuery): Promise<MovesPage> {
    validateMovesQuery(query);
    if (!this.closed) await this.writeOut();
    return movesOf(topic, query, await this.eventsOf(topic, query.sinceMs, query.untilMs));
  }

  /**
   * The calls refused on `topic`, from every kept file (what was recorded so far is written
   * first). Denials are few (one per principal, action and topic a minute at most), but the
   * files hold the holding events too: this reads them all, as a moves query over the whole
   * retention would.
   */
  async denials(topic: string, query: DenialsQuery): Promise<DenialsPage> {
    validateDenialsQuery(query);
    if (!this.closed) await this.writeOut();
    const events: DeniedEvent[] = [];
    for (const file of this.auditFiles()) for await (const e of fileLinesOf(file, topic, isDeniedEvent)) events.push(e);
    return denialsOf(topic, query, events);
  }

  /** The events of `topic` in the files holding events in [sinceMs, untilMs), oldest file first. */
  private async eventsOf(topic: string, sinceMs: number, untilMs: number | undefined): Promise<HoldingEvent[]> {
    const events: HoldingEvent[] = [];
    for (const [name, file] of [...this.files.rotated().map((n) => [n, this.files.path(n)] as const), ['', this.file] as const]) {
      const r = this.summary.ranges.get(name);
      if (!r || r.maxAtMs < sinceMs || (untilMs !== undefined && r.minAtMs >= untilMs)) continue;
      for await (const e of fileEventsOf(file, topic)) events.push(e);
    }
    return events;
  }
}

function endsWithNewline(file: string, size: number): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a JSON-lines audit file back (tests, and the consumers view). */
export function readAuditFile(file: string): AuditEvent[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent);
}
