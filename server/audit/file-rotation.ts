/**
 * The file audit's files: the one being written (`events.jsonl`), the rotated ones beside it
 * (`events.2026-11-29.1.jsonl`: the UTC day the file was started, then a number counting that
 * day's files from 1), and the summary snapshot (`events.summary.json`). Names sort into the
 * order the lines were written: by day, then by number.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkSetting } from '../../core/index.js';

/** Rotation of the file audit. */
export interface AuditFileSettings {
  /** The file being written is rotated before a write would take it past this size. @default 268435456 (256 MiB) */
  readonly maxFileBytes?: number;
  /** Rotated files kept beside the one being written; older ones are deleted, oldest first. @default 14 */
  readonly keepFiles?: number;
}

export const AUDIT_FILE_DEFAULTS: Required<AuditFileSettings> = { maxFileBytes: 256 * 1024 * 1024, keepFiles: 14 };

export function auditFileWithDefaults(o: AuditFileSettings = {}): Required<AuditFileSettings> {
  return {
    maxFileBytes: checkSetting(o.maxFileBytes ?? AUDIT_FILE_DEFAULTS.maxFileBytes, 'auditFiles.maxFileBytes', 'audit-file-max-bytes', 4096, 2 ** 40),
    keepFiles: checkSetting(o.keepFiles ?? AUDIT_FILE_DEFAULTS.keepFiles, 'auditFiles.keepFiles', 'audit-file-keep', 1, 10_000),
  };
}

/** The UTC day of a time, "2026-11-29". */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Names of one audit file's family, from the path of the file being written. */
export class AuditFiles {
  readonly dir: string;
  /** "events" of "events.jsonl". */
  private readonly stem: string;
  private readonly pattern: RegExp;

  constructor(readonly active: string) {
    this.dir = path.dirname(active);
    this.stem = path.basename(active).replace(/\.jsonl$/, '');
    this.pattern = new RegExp(`^${this.stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d+)\\.jsonl$`);
  }

  get snapshot(): string {
    return path.join(this.dir, `${this.stem}.summary.json`);
  }

  /** The rotated files on disk (names), oldest first. */
  rotated(): string[] {
    const found: { name: string; day: string; n: number }[] = [];
    for (const name of fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : []) {
      const m = this.pattern.exec(name);
      if (m) found.push({ name, day: m[1] as string, n: Number(m[2]) });
    }
    return found.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.n - b.n)).map((f) => f.name);
  }

  /** The name the file being written, started on `day`, takes when rotated: after the day's last. */
  nextName(day: string): string {
    let n = 0;
    for (const name of this.rotated()) {
      const m = this.pattern.exec(name);
      if (m && m[1] === day) n = Math.max(n, Number(m[2]));
    }
    return `${this.stem}.${day}.${n + 1}.jsonl`;
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }
}
