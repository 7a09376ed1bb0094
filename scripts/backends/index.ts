/**
 * Entry point for starting the real backends (see README.md beside this file).
 *
 *   const b = await startBackends(['cassandra', 'elasticsearch', 's3'], { s3Instances: 2 });
 *   Object.assign(process.env, b.env);   // IMPRINT_CASSANDRA / IMPRINT_ELASTICSEARCH / IMPRINT_S3
 *   ...
 *   await b.stop();
 *
 * Env overrides (when set, nothing is started for that backend; its handle's stop() is a no-op):
 *   IMPRINT_CASSANDRA=host:port
 *   IMPRINT_ELASTICSEARCH=http://host:port
 *   IMPRINT_S3=http://host:port[,http://host:port]
 */
import { cassandra } from './cassandra.js';
import { elasticsearch } from './elasticsearch.js';
import { createContext } from './launcher.js';
import type { BackendModule, BackendName, LaunchContext, RunningBackend } from './launcher.js';
import { s3 } from './s3.js';

export { cassandra, cqlQuerySingleText, cqlReleaseVersion, CASSANDRA_SUPERUSER, CASSANDRA_VERSION, type CqlLogin } from './cassandra.js';
export { elasticsearch, ES_AUDIT_ROLE, ES_VERSION } from './elasticsearch.js';
export { s3, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION, MINIO_VERSION } from './s3.js';
export { createContext, defaultCacheDir, findJdk17, makeTestPki } from './launcher.js';
export type { BackendModule, BackendName, BackendSecurity, LaunchContext, RunningBackend, StartOptions, TestPki } from './launcher.js';

export const backends: Readonly<Record<BackendName, BackendModule>> = { cassandra, elasticsearch, s3 };
export const BACKEND_NAMES: readonly BackendName[] = ['cassandra', 'elasticsearch', 's3'];

export function isBackendName(x: string): x is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(x);
}

/** Env var that points tests at an already running backend (and that startBackends sets in `env`). */
export const ENV_VARS: Readonly<Record<BackendName, string>> = {
  cassandra: 'IMPRINT_CASSANDRA',
  elasticsearch: 'IMPRINT_ELASTICSEARCH',
  s3: 'IMPRINT_S3',
};

export interface StartBackendsOptions {
  /** Default: createContext() (cache in $IMPRINT_BACKENDS_CACHE or ~/.cache/imprint-backends). */
  ctx?: LaunchContext;
  /** How many S3 servers to start when 's3' is requested (e.g. 2 for two regions). Default 1. */
  s3Instances?: number;
  /** Env to read overrides from. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface StartedBackends {
  cassandra?: RunningBackend;
  elasticsearch?: RunningBackend;
  /** One handle per S3 server (empty if 's3' was not requested). */
  s3: RunningBackend[];
  /** Every handle, in start order. */
  all: RunningBackend[];
  /** IMPRINT_CASSANDRA / IMPRINT_ELASTICSEARCH / IMPRINT_S3 for what was requested. */
  env: Record<string, string>;
  /** Stops everything that this call started (in parallel); no-op for env overrides. */
  stop(): Promise<void>;
}

function external(name: BackendName, host: string, port: number, endpoint: string): RunningBackend {
  return { name, host, port, endpoint, pid: 0, workDir: '', stop: async () => undefined };
}

function parseHostPort(value: string, varName: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value.trim());
  if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`${varName} must be host:port, got "${value}"`);
  return { host: m[1], port: Number(m[2]) };
}

function parseUrl(value: string, varName: string): URL {
  try {
    const u = new URL(value.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw new Error(`${varName} must be an http://host:port URL, got "${value}"`);
  }
}

function urlBackend(name: BackendName, value: string, varName: string): RunningBackend {
  const u = parseUrl(value, varName);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return external(name, u.hostname, port, value.trim().replace(/\/+$/, ''));
}

/** Handles from the env overrides, or undefined if the override for `name` is not set. */
export function backendsFromEnv(name: BackendName, env: NodeJS.ProcessEnv = process.env): RunningBackend[] | undefined {
  const varName = ENV_VARS[name];
  const value = env[varName];
  if (value === undefined || value.trim() === '') return undefined;
  switch (name) {
    case 'cassandra': {
      const { host, port } = parseHostPort(value, varName);
      return [external(name, host, port, `${host}:${port}`)];
    }
    case 'elasticsearch':
      return [urlBackend(name, value, varName)];
    case 's3':
      return value
        .split(',')
        .filter((v) => v.trim() !== '')
        .map((v) => urlBackend(name, v, varName));
  }
}

/**
 * Prefetches (sequentially: they share ~/.m2 and the Go caches) then starts the requested
 * backends in parallel, honouring env overrides. If any start fails, the ones already
 * started are stopped before the error is rethrown.
 */
export async function startBackends(
  names: readonly BackendName[],
  opts: StartBackendsOptions = {},
): Promise<StartedBackends> {
  const ctx = opts.ctx ?? createContext();
  const env = opts.env ?? process.env;
  const wanted = [...new Set(names)];
  for (const n of wanted) if (!isBackendName(n)) throw new Error(`unknown backend "${String(n)}"`);
  const s3Instances = Math.max(1, opts.s3Instances ?? 1);

  const fromEnv = new Map<BackendName, RunningBackend[]>();
  for (const n of wanted) {
    const b = backendsFromEnv(n, env);
    if (b) {
      fromEnv.set(n, b);
      ctx.log(`${n}: using ${ENV_VARS[n]}=${env[ENV_VARS[n]] ?? ''} (not starting one)`);
    }
  }
  const toStart = wanted.filter((n) => !fromEnv.has(n));
  for (const n of toStart) await backends[n].fetch(ctx);

  const jobs: Array<{ name: BackendName; p: Promise<RunningBackend> }> = [];
  for (const n of toStart) {
    const count = n === 's3' ? s3Instances : 1;
    for (let i = 0; i < count; i++) jobs.push({ name: n, p: backends[n].start(ctx) });
  }
  const settled = await Promise.allSettled(jobs.map((j) => j.p));
  const started: RunningBackend[] = [];
  const errors: unknown[] = [];
  for (const r of settled) {
    if (r.status === 'fulfilled') started.push(r.value);
    else errors.push(r.reason);
  }
  if (errors.length > 0) {
    await Promise.allSettled(started.map((b) => b.stop()));
    const first = errors[0];
    if (errors.length === 1) throw first;
    throw new AggregateError(errors, `${errors.length} backends failed to start; first: ${first instanceof Error ? first.message : String(first)}`);
  }

  const byName = (n: BackendName): RunningBackend[] => [...(fromEnv.get(n) ?? []), ...started.filter((b) => b.name === n)];
  const result: StartedBackends = {
    s3: byName('s3'),
    all: [...[...fromEnv.values()].flat(), ...started],
    env: {},
    stop: async () => {
      const res = await Promise.allSettled(started.map((b) => b.stop()));
      const failed = res.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason as unknown), 'stopping backends failed');
    },
  };
  const c = byName('cassandra')[0];
  const e = byName('elasticsearch')[0];
  if (c) {
    result.cassandra = c;
    result.env[ENV_VARS.cassandra] = c.endpoint;
  }
  if (e) {
    result.elasticsearch = e;
    result.env[ENV_VARS.elasticsearch] = e.endpoint;
  }
  if (result.s3.length > 0) result.env[ENV_VARS.s3] = result.s3.map((b) => b.endpoint).join(',');
  return result;
}
