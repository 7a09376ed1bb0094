/**
 * The embedded audit sink: JSON lines appended to one file. The lines of one turn of the
 * event loop go to the stream as one write (a sweep's summaries, or the moves after a
 * publish, come in bursts of thousands). When the disk falls behind by more
 * than `maxBufferedBytes`, events are dropped and counted (never silently: stats() and a log
 * line say so).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Counter, type Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log.js';
import type { ConsumersQuery, MovesPage, MovesQuery, TopicConsumers } from '../../core/index.js';
import type { AuditEvent, AuditSink, AuditStats } from './audit-sink.js';
import { consumersFromFile, movesFromFile } from './consumers.js';

export interface FileAuditSinkOptions {
  readonly file: string;
  /** @default 16 MiB */
  readonly maxBufferedBytes?: number;
  readonly log?: Logger;
  /** Registers imprint_audit_events_{recorded,written,dropped}_total{sink="file"} on it. @default none */
  readonly registry?: Registry;
}

/** Why the file sink lost an event: the disk fell behind (refused by record), the file failed, or the sink was closed. */
type DropReason = 'buffer_full' | 'write_failed' | 'after_close';

interface FileSinkMetrics {
  readonly recorded: Counter.Internal;
  readonly written: Counter.Internal;
  readonly dropped: Record<DropReason, Counter.Internal>;
}

export class FileAuditSink implements AuditSink {
  readonly name = 'file';
  readonly file: string;
  private readonly stream: fs.WriteStream;
  private readonly maxBuffered: number;
  private readonly log: Logger;
  private recorded = 0;
  private dropped = 0;
  private written = 0;
  private readonly metrics: FileSinkMetrics | undefined;
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
    this.metrics = opts.registry && fileSinkMetrics(opts.registry);
    this.stream.on('error', (err) => {
      this.failed = err;
      this.log.error('audit file write failed; events are dropped from now on', { file: opts.file, err });
    });
  }

  record(event: AuditEvent): boolean {
    if (this.failed || this.stream.writableEnded || this.stream.writableLength + this.pendingBytes > this.maxBuffered) {
      this.dropped++;
      this.metrics?.dropped[this.failed ? 'write_failed' : this.stream.writableEnded ? 'after_close' : 'buffer_full'].inc();
      return false;
    }
    this.recorded++;
    this.metrics?.recorded.inc();
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
      this.metrics?.dropped[this.failed ? 'write_failed' : 'after_close'].inc(this.pending.length);
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const text = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
    const lines = this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.stream.write(text, (err) => {
      if (err) {
        // Lost after all (the stream's 'error' handler logs it); what follows is refused.
        this.failed ??= err;
        this.recorded -= lines;
        this.dropped += lines;
        this.metrics?.dropped.write_failed.inc(lines);
        return;
      }
      this.written += lines;
      this.metrics?.written.inc(lines);
    });
  };

  stats(): AuditStats {
    return { recorded: this.recorded, dropped: this.dropped, written: this.written };
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

/** The file sink's counters, under the Elasticsearch sink's names (sink="file"), every series at 0 from the start. */
function fileSinkMetrics(registry: Registry): FileSinkMetrics {
  const labels = { sink: 'file' };
  const recorded = new Counter({ name: 'imprint_audit_events_recorded_total', help: 'Audit events accepted into the buffer', labelNames: ['sink'], registers: [registry] });
  const written = new Counter({ name: 'imprint_audit_events_written_total', help: 'Audit events acknowledged by the backend', labelNames: ['sink'], registers: [registry] });
  const dropped = new Counter({
    name: 'imprint_audit_events_dropped_total',
    help: 'Audit events lost: buffer_full and after_close (refused by record), rejected (by the backend), closed (still buffered at close), write_failed (the audit file could not be written)',
    labelNames: ['sink', 'reason'],
    registers: [registry],
  });
  const zero = (c: Counter.Internal): Counter.Internal => {
    c.inc(0);
    return c;
  };
  return {
    recorded: zero(recorded.labels(labels)),
    written: zero(written.labels(labels)),
    dropped: {
      buffer_full: zero(dropped.labels({ ...labels, reason: 'buffer_full' })),
      write_failed: zero(dropped.labels({ ...labels, reason: 'write_failed' })),
      after_close: zero(dropped.labels({ ...labels, reason: 'after_close' })),
    },
  };
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
