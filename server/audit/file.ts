/**
 * The embedded audit sink: JSON lines appended to one file. The lines of one turn of the
 * event loop go to the stream as one write (a sweep's summaries, or the moves after a
 * publish, come in bursts of thousands). When the disk falls behind by more
 * than `maxBufferedBytes`, events are dropped and counted (never silently: stats() and a log
 * line say so).
 */
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger, type Logger } from '../../log/index.js';
import type { ConsumersQuery, MovesPage, MovesQuery, TopicConsumers } from '../../core/index.js';
import type { AuditEvent, AuditSink, AuditStats } from './audit-sink.js';
import { consumersFromFile, movesFromFile } from './consumers.js';

export interface FileAuditSinkOptions {
  readonly file: string;
  /** @default 16 MiB */
  readonly maxBufferedBytes?: number;
  readonly log?: Logger;
}

export class FileAuditSink implements AuditSink {
  readonly name = 'file';
  readonly file: string;
  private readonly stream: fs.WriteStream;
  private readonly maxBuffered: number;
  private readonly log: Logger;
  private recorded = 0;
  private dropped = 0;
  private failed: Error | undefined;
  /** Lines recorded in this turn of the event loop, written together by `drain`. */
  private pending: string[] = [];
  private pendingBytes = 0;
  private drainScheduled = false;

  constructor(opts: FileAuditSinkOptions) {
    this.file = opts.file;
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    // Fail at start-up, not on the first event, when the file cannot be written.
    fs.closeSync(fs.openSync(opts.file, 'a'));
    this.stream = fs.createWriteStream(opts.file, { flags: 'a' });
    this.maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.log = opts.log ?? silentLogger;
    this.stream.on('error', (err) => {
      this.failed = err;
      this.log.error('audit file write failed; events are dropped from now on', { file: opts.file, err });
    });
  }

  record(event: AuditEvent): boolean {
    if (this.failed || this.stream.writableEnded || this.stream.writableLength + this.pendingBytes > this.maxBuffered) {
      this.dropped++;
      return false;
    }
    this.recorded++;
    const line = `${JSON.stringify(event)}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
    return true;
  }

  /** Writes the pending lines as one chunk. */
  private readonly drain = (): void => {
    this.drainScheduled = false;
    if (this.pending.length === 0) return;
    if (this.failed || this.stream.writableEnded) {
      // The file cannot take them (any more): dropped, and counted as such.
      this.recorded -= this.pending.length;
      this.dropped += this.pending.length;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const text = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.stream.write(text);
  };

  stats(): AuditStats {
    return { recorded: this.recorded, dropped: this.dropped };
  }

  flush(): Promise<void> {
    this.drain();
    if (this.failed || this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.stream.write('', () => resolve()));
  }

  close(): Promise<void> {
    this.drain();
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }

  /** Consumers of `topic` from this sink's file (what was recorded so far is written first). */
  async consumers(topic: string, query: ConsumersQuery): Promise<TopicConsumers> {
    if (!this.stream.writableEnded) await this.flush();
    return consumersFromFile(this.file, topic, query);
  }

  /** Moves of `topic`'s nodes from this sink's file (what was recorded so far is written first). */
  async moves(topic: string, query: MovesQuery): Promise<MovesPage> {
    if (!this.stream.writableEnded) await this.flush();
    return movesFromFile(this.file, topic, query);
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
