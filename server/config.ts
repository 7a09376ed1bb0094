/** The server's options, with every default in one place. */
import path from 'node:path';
import { InvalidArgumentError } from '../core/index.js';
import type { Logger } from './log.js';

export interface ServerOptions {
  /** Holds the SQLite database, the local blob directory and the audit file. @default "./imprint-data" */
  readonly dataDir?: string;
  /** @default "127.0.0.1" (use 0.0.0.0 to serve other machines) */
  readonly host?: string;
  /** 0 picks a free port (tests). @default 50051 */
  readonly port?: number;
  /** @default "sqlite" */
  readonly store?: 'sqlite';
  /** @default "file" */
  readonly audit?: 'file';
  /** @default a logger on stderr at level info */
  readonly log?: Logger;
  /** @default Date.now */
  readonly clock?: () => number;
}

export interface ResolvedServerOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly store: 'sqlite';
  readonly audit: 'file';
  readonly log?: Logger;
  readonly clock: () => number;
  readonly sqliteFile: string;
  readonly auditFile: string;
  readonly blobDir: string;
}

export const DEFAULT_PORT = 50051;

export function withDefaults(o: ServerOptions): ResolvedServerOptions {
  const dataDir = path.resolve(o.dataDir ?? 'imprint-data');
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('port', 'must be a whole number from 0 to 65535', port);
  const store = o.store ?? 'sqlite';
  if (store !== 'sqlite') throw new InvalidArgumentError('store', 'must be "sqlite" (cassandra comes with its adapter)', store);
  const audit = o.audit ?? 'file';
  if (audit !== 'file') throw new InvalidArgumentError('audit', 'must be "file"', audit);
  return {
    dataDir,
    host: o.host ?? '127.0.0.1',
    port,
    store,
    audit,
    ...(o.log && { log: o.log }),
    clock: o.clock ?? Date.now,
    sqliteFile: path.join(dataDir, 'imprint.db'),
    auditFile: path.join(dataDir, 'audit', 'events.jsonl'),
    blobDir: path.join(dataDir, 'blobs'),
  };
}
