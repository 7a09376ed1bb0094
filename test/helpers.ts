/** Shared test plumbing: temp dirs, a real server on port 0, and small builders. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImprintClient } from '../client/index.js';
import { ImprintError, sha256Hex, type ConsumerIdentity, type DataPointer } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer, type AuditEvent, type AuditSink, type AuditStats, type ImprintServer, type PollObserver, type ServerOptions } from '../server/index.js';

export function tempDir(prefix = 'imprint-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestServer {
  readonly server: ImprintServer;
  readonly client: ImprintClient;
  readonly address: string;
  readonly dataDir: string;
  /** Stops the server and closes the client (the data dir stays for restarts). */
  stop(): Promise<void>;
}

/**
 * A real Imprint server on a free port with its own data dir (or the one given, for restarts),
 * with any other server option: ready-made parts (`metadataStore`, `auditSink`; they stay
 * open after stop), a role. `blobStores`: the regions its publishes' blob pointers are checked
 * against (default: the local store of its data dir), i.e. the stores the test's publishers
 * write to.
 */
export async function startTestServer(opts: Omit<ServerOptions, 'port' | 'log'> = {}): Promise<TestServer> {
  const { dataDir = tempDir(), ...rest } = opts;
  const server = await startImprintServer({ ...rest, dataDir, port: 0, log: silentLogger });
  const address = `127.0.0.1:${server.port}`;
  const client = new ImprintClient({ address });
  return {
    server,
    client,
    address,
    dataDir,
    async stop() {
      client.close();
      await server.stop();
    },
  };
}

/** An AuditSink that keeps every event in memory. */
export class MemoryAuditSink implements AuditSink {
  readonly name = 'memory';
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): boolean {
    this.events.push(event);
    return true;
  }
  stats(): AuditStats {
    return { recorded: this.events.length, dropped: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** One poll as a Poller tells its observer, with the outcome it implies. */
export interface ObservedPoll {
  readonly topic: string;
  readonly identity: ConsumerIdentity;
  readonly lastSeen: string;
  readonly holds: string;
  readonly pinned: boolean;
  /** update: it was given another version; no-update: it keeps its own; error: the poll failed. */
  readonly outcome: 'update' | 'no-update' | 'error';
}

/** A PollObserver that keeps every poll a Poller answered (unit tests of what is observed). */
export class MemoryPollObserver implements PollObserver {
  readonly polls: ObservedPoll[] = [];
  observe(topic: string, identity: ConsumerIdentity, lastSeen: string, holds: string, pinned: boolean, error = false): void {
    this.polls.push({ topic, identity, lastSeen, holds, pinned, outcome: error ? 'error' : holds !== lastSeen ? 'update' : 'no-update' });
  }
}

export function directPointer(text: string | Uint8Array): DataPointer {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
}

export function identity(partial: Partial<ConsumerIdentity> = {}): ConsumerIdentity {
  return { app: 'test-app', cluster: '', region: '', nodeId: '', labels: {}, ...partial };
}

/** The typed error a call fails with (the test fails if it succeeds or throws something untyped). */
export async function failure(p: Promise<unknown>): Promise<ImprintError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ImprintError) return err;
    throw new Error(`expected an ImprintError, got ${String(err)}`);
  }
  throw new Error('expected the call to fail');
}

/**
 * Asks `get` every 10 ms until it gives a value (not undefined or false) and returns it; fails
 * naming `what` after `ms` (generous: the machine is shared).
 */
export async function eventually<T>(what: string, get: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One sample's value from Prometheus text: the series of `name` with exactly these labels. */
export function metricSample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

/** Waits until `ok()` holds, checking every 10 ms; fails naming `what` after `ms` (generous: the machine is shared). */
export async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A seeded random source (mulberry32), numbers in [0, 1): a failing run can be played again from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
