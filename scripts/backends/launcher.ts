/**
 * Shared machinery for starting real backend servers (Cassandra, Elasticsearch, an
 * S3-compatible server) as plain processes, without Docker.
 *
 * Only Node built-ins are used. Each backend module (cassandra.ts, elasticsearch.ts, s3.ts)
 * implements {@link BackendModule}; index.ts wires them together.
 *
 * Conventions:
 *  - Cache: `$IMPRINT_BACKENDS_CACHE` or `~/.cache/imprint-backends`. Anything downloaded or
 *    built goes there once, built in a temp dir next to its final place and renamed in, under
 *    a lock, so concurrent fetches never see a half-written install.
 *  - Work dirs: a fresh `mkdtemp` under `os.tmpdir()` per started server (config, data, the
 *    server's stdout/stderr in `server.log`), removed on stop.
 *  - Processes are spawned detached (own process group) so that Ctrl-C in a terminal reaches
 *    only our launcher, which then stops them in order; stop() signals the whole group
 *    (SIGTERM, then SIGKILL after a grace period). A process 'exit' hook SIGKILLs any group
 *    still alive if the Node process exits without stopping them (it cannot help if Node
 *    itself is SIGKILLed).
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export type BackendName = 'cassandra' | 'elasticsearch' | 's3';

export interface LaunchContext {
  /** Root of the download/build cache. */
  readonly cacheDir: string;
  /** Progress messages (default: stderr with a `[backends]` prefix). */
  readonly log: (msg: string) => void;
}

export interface StartOptions {
  /** Main port (CQL native port / ES http port / S3 port). Default: a free port. */
  port?: number;
  /**
   * Security on (Cassandra, Elasticsearch): a CA made at start (openssl), TLS with a server
   * certificate it signed, and logins required (see each backend). The handle's `security` says
   * how to connect. Default: off (plaintext, no logins), as the shared test servers run.
   */
  secure?: boolean;
}

/** How to connect to a backend started with `secure`: the CA, a client certificate, a login. */
export interface BackendSecurity {
  /** PEM of the CA that signed the server's certificate (and the client certificate). */
  readonly caFile: string;
  /** A client certificate (PEM) and its key, signed by the CA (CN imprint-client). */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A user with every privilege. */
  readonly username: string;
  readonly password: string;
  /** Every user and password there is (Elasticsearch: also `imprint`, with only the audit sink's role). */
  readonly users: Readonly<Record<string, string>>;
}

export interface BackendModule {
  readonly name: BackendName;
  /** Downloads/builds the server into the cache dir if not there yet (idempotent, locked). */
  fetch(ctx: LaunchContext): Promise<void>;
  /** Writes config into a fresh work dir, starts the process, waits until ready, returns a handle. */
  start(ctx: LaunchContext, opts?: StartOptions): Promise<RunningBackend>;
}

export interface RunningBackend {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** e.g. "127.0.0.1:9042" or "http://127.0.0.1:9200" */
  readonly endpoint: string;
  readonly pid: number;
  readonly workDir: string;
  /** Set when started with `secure`. */
  readonly security?: BackendSecurity;
  stop(): Promise<void>;
}

export const LOOPBACK = '127.0.0.1';

export function defaultCacheDir(): string {
  return process.env['IMPRINT_BACKENDS_CACHE'] ?? path.join(os.homedir(), '.cache', 'imprint-backends');
}

export function createContext(opts: Partial<LaunchContext> = {}): LaunchContext {
  return {
    cacheDir: opts.cacheDir ?? defaultCacheDir(),
    log: opts.log ?? ((msg: string) => process.stderr.write(`[backends] ${msg}\n`)),
  };
}

// ---------------------------------------------------------------------------------------------
// Ports

/**
 * Picks `count` distinct free TCP ports on 127.0.0.1 by binding port 0 (all sockets held open
 * together so the kernel hands out distinct ports), then releasing them. There is an inherent
 * race until the server binds; start() callers get a clear error from the server log if it hits.
 */
export async function freePorts(count: number, host = LOOPBACK): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      srv.listen({ port: 0, host, exclusive: true });
      await once(srv, 'listening');
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') throw new Error('unexpected server address');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export async function freePort(host = LOOPBACK): Promise<number> {
  const [p] = await freePorts(1, host);
  if (p === undefined) throw new Error('no port');
  return p;
}

/** True if something accepts a TCP connection at host:port within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Waits until nothing accepts connections on host:port any more (port released). */
export async function waitPortFree(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await canConnect(host, port, 500)) {
    if (Date.now() > deadline) throw new Error(`port ${host}:${port} still accepts connections`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Last `maxLines` lines of a (log) file, '' if missing. */
export async function tailFile(file: string, maxLines = 40): Promise<string> {
  return (await readTail(file, 64 * 1024)).split('\n').slice(-maxLines).join('\n');
}

async function readTail(file: string, maxBytes: number): Promise<string> {
  try {
    const fh = await fsp.open(file, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** For error messages: the first error-looking lines of a log, then its last lines. */
export async function logSummary(file: string): Promise<string> {
  const text = await readTail(file, 512 * 1024);
  const lines = text.split('\n');
  const errors = lines.filter((l) => /\b(ERROR|FATAL)\b|^Caused by|Exception:|^Error:/.test(l)).slice(0, 8);
  const tail = lines.slice(-30).join('\n');
  const keep = process.env['IMPRINT_BACKENDS_KEEP_WORKDIR'] === '1';
  return (
    `${errors.length > 0 ? `First error lines of ${file}:\n${errors.join('\n')}\n` : ''}` +
    `Last lines of ${file}${keep ? '' : ' (work dir removed; IMPRINT_BACKENDS_KEEP_WORKDIR=1 keeps it)'}:\n${tail}`
  );
}

export async function fileContains(file: string, needle: string): Promise<boolean> {
  try {
    return (await fsp.readFile(file, 'utf8')).includes(needle);
  } catch {
    return false;
  }
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
          reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${tail}`));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** Minimal HTTP request to a loopback server (no keep-alive). */
export function httpRequest(
  url: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number; ca?: Buffer } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? https.request : http.request;
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: { connection: 'close', ...opts.headers }, agent: false, ...(opts.ca && { ca: opts.ca }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------
// JDK 17

let jdk17Cache: string | undefined;

/**
 * Finds a JDK 17 home explicitly: `$IMPRINT_JAVA17_HOME` if set, else the first directory in
 * /usr/lib/jvm whose `release` file says JAVA_VERSION="17...". Never relies on PATH (the
 * machines also carry a Temurin 25, on which Cassandra 5.0 refuses to start).
 */
export function findJdk17(): string {
  if (jdk17Cache !== undefined) return jdk17Cache;
  const candidates: string[] = [];
  const override = process.env['IMPRINT_JAVA17_HOME'];
  if (override) candidates.push(override);
  const root = '/usr/lib/jvm';
  try {
    for (const e of fs.readdirSync(root).sort()) candidates.push(path.join(root, e));
  } catch {
    /* no /usr/lib/jvm */
  }
  for (const dir of candidates) {
    try {
      const release = fs.readFileSync(path.join(dir, 'release'), 'utf8');
      if (/^JAVA_VERSION="17[."]/m.test(release) && fs.existsSync(path.join(dir, 'bin', 'java'))) {
        jdk17Cache = fs.realpathSync(dir);
        return jdk17Cache;
      }
    } catch {
      /* not a JDK */
    }
  }
  throw new Error(
    `No JDK 17 found (looked at ${override ? '$IMPRINT_JAVA17_HOME and ' : ''}${root}/*/release). ` +
      'Install it with `apt-get install -y openjdk-17-jdk-headless` or set IMPRINT_JAVA17_HOME.',
  );
}

// ---------------------------------------------------------------------------------------------
// Cache: lock + atomic install

/**
 * Runs fn while holding an exclusive lock (a directory created with mkdir, which is atomic).
 * A lock whose owner pid is gone is taken over.
 */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  await fsp.mkdir(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      await fsp.mkdir(lockDir);
      await fsp.writeFile(path.join(lockDir, 'owner'), `${process.pid}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(await fsp.readFile(path.join(lockDir, 'owner'), 'utf8').catch(() => ''), 10);
      let ownerAlive = true;
      if (Number.isFinite(owner)) {
        ownerAlive = pidAlive(owner);
      } else {
        // Owner file not written yet (or lost): stale only if the dir is old.
        const st = await fsp.stat(lockDir).catch(() => undefined);
        ownerAlive = st !== undefined && Date.now() - st.mtimeMs < 60_000;
      }
      if (!ownerAlive) {
        await fsp.rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockDir} (held by pid ${owner})`);
      if (!announced) {
        process.stderr.write(`[backends] waiting for lock ${lockDir} (pid ${owner})\n`);
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lockDir, { recursive: true, force: true });
  }
}

/**
 * Ensures `finalDir` exists and is complete. If not, takes a lock, calls `build(tmpDir)` to fill
 * a fresh temp dir beside it, writes a `.complete` marker and renames it into place.
 * Returns true if it built, false if it was already there.
 */
export async function ensureCached(finalDir: string, build: (tmpDir: string) => Promise<void>): Promise<boolean> {
  const marker = path.join(finalDir, '.complete');
  if (await exists(marker)) return false;
  return withLock(`${finalDir}.lock`, async () => {
    if (await exists(marker)) return false; // another process finished while we waited
    await fsp.rm(finalDir, { recursive: true, force: true }); // leftover without marker
    // Temp dirs of builds that died (we hold the lock, so nobody else is building).
    const base = path.basename(finalDir);
    for (const e of await fsp.readdir(path.dirname(finalDir))) {
      if (e.startsWith(`${base}.tmp-`)) await fsp.rm(path.join(path.dirname(finalDir), e), { recursive: true, force: true });
    }
    const tmpDir = `${finalDir}.tmp-${process.pid}-${Date.now()}`;
    await fsp.mkdir(tmpDir, { recursive: true });
    try {
      await build(tmpDir);
      await fsp.writeFile(path.join(tmpDir, '.complete'), `${new Date().toISOString()}\n`);
      await fsp.rename(tmpDir, finalDir);
    } catch (err) {
      await fsp.rm(tmpDir, { recursive: true, force: true });
      throw err;
    }
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Work dirs and processes

export async function makeWorkDir(name: string): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `imprint-${name}-`));
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while any process of the group (pgid) exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code/signal once the direct child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns a server detached in its own process group with stdout+stderr appended to `logFile`.
 */
export function spawnServer(opts: {
  cmd: string;
  args: readonly string[];
  logFile: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}): SpawnedServer {
  const fd = fs.openSync(opts.logFile, 'a');
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  };
  if (opts.uid !== undefined) spawnOpts.uid = opts.uid;
  if (opts.gid !== undefined) spawnOpts.gid = opts.gid;
  let child: ChildProcess;
  try {
    child = spawn(opts.cmd, [...opts.args], spawnOpts);
  } finally {
    fs.closeSync(fd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      fs.appendFileSync(opts.logFile, `\n[launcher] spawn error: ${err.message}\n`);
      resolve({ code: -1, signal: null });
    });
  });
  if (child.pid === undefined) {
    throw new Error(`failed to spawn ${opts.cmd}`);
  }
  // Don't keep the Node event loop alive just for the server.
  child.unref();
  const pid = child.pid;
  liveGroups.add(pid);
  installExitHook();
  void exited.then(() => {
    if (!groupAlive(pid)) liveGroups.delete(pid);
  });
  return { child, pid, logFile: opts.logFile, exited };
}

/**
 * Stops a process group led by `pid`: SIGTERM, then SIGKILL after `graceMs`; resolves once no
 * process of the group is left (bounded).
 */
export async function stopProcessGroup(pid: number, graceMs = 20_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  if (groupAlive(pid) || pidAlive(pid)) {
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while ((groupAlive(pid) || pidAlive(pid)) && Date.now() < deadline) await sleep(100);
    if (groupAlive(pid) || pidAlive(pid)) {
      signal('SIGKILL');
      const killDeadline = Date.now() + 5000;
      while ((groupAlive(pid) || pidAlive(pid)) && Date.now() < killDeadline) await sleep(50);
    }
  }
  liveGroups.delete(pid);
}

/**
 * Polls `check` until it returns true, the process exits, or `timeoutMs` passes. On failure
 * throws an error that includes the tail of the server log.
 */
export async function waitUntilReady(opts: {
  what: string;
  server: SpawnedServer;
  check: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
}): Promise<void> {
  const { server } = opts;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void server.exited.then((e) => {
    exitInfo = e;
  });
  const start = Date.now();
  const deadline = start + opts.timeoutMs;
  let lastErr: unknown;
  for (;;) {
    if (exitInfo !== undefined) {
      throw new Error(
        `${opts.what} exited before becoming ready (code ${exitInfo.code}, signal ${exitInfo.signal}).\n` +
          (await logSummary(server.logFile)),
      );
    }
    try {
      if (await opts.check()) return;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${opts.what} not ready after ${Math.round(opts.timeoutMs / 1000)} s` +
          `${lastErr instanceof Error ? ` (last check error: ${lastErr.message})` : ''}.\n` +
          (await logSummary(server.logFile)),
      );
    }
    await sleep(opts.intervalMs ?? 500);
  }
}

/**
 * Builds the RunningBackend handle; stop() is idempotent, stops the process group, waits for
 * the port to be released and removes the work dir (kept if IMPRINT_BACKENDS_KEEP_WORKDIR=1).
 */
export function runningBackend(opts: {
  name: string;
  host: string;
  port: number;
  endpoint: string;
  server: SpawnedServer;
  workDir: string;
  security?: BackendSecurity;
  graceMs?: number;
  /** Extra cleanup after the process is gone (e.g. a chowned dir). */
  afterStop?: () => Promise<void>;
}): RunningBackend {
  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    host: opts.host,
    port: opts.port,
    endpoint: opts.endpoint,
    pid: opts.server.pid,
    workDir: opts.workDir,
    ...(opts.security && { security: opts.security }),
    stop(): Promise<void> {
      stopping ??= (async () => {
        await stopProcessGroup(opts.server.pid, opts.graceMs);
        await waitPortFree(opts.host, opts.port).catch(() => undefined);
        await opts.afterStop?.();
        if (process.env['IMPRINT_BACKENDS_KEEP_WORKDIR'] !== '1') {
          await fsp.rm(opts.workDir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

/** Starts a server and, if readiness fails, stops it and removes its work dir before rethrowing. */
export async function startAndWait(opts: {
  what: string;
  server: SpawnedServer;
  workDir: string;
  check: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs?: number;
}): Promise<void> {
  try {
    await waitUntilReady(opts);
  } catch (err) {
    await stopProcessGroup(opts.server.pid, 5000);
    if (process.env['IMPRINT_BACKENDS_KEEP_WORKDIR'] !== '1') {
      await fsp.rm(opts.workDir, { recursive: true, force: true }).catch(() => undefined);
    }
    throw err;
  }
}

/** Environment for child processes: the parent's minus variables that could redirect a JVM. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'JAVA_OPTS']) delete env[k];
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Test PKI (openssl CLI): a CA, a server certificate for 127.0.0.1/localhost, a client certificate

export interface TestPki {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** The server's key and certificate in one PEM (Cassandra's PEM keystore). */
  readonly serverPemFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/**
 * A throwaway CA in `dir` (EC P-256, 2 days) and two certificates it signs: the server's
 * (SAN IP:127.0.0.1, DNS:localhost, DNS:backend.imprint.test) and a client's (CN imprint-client).
 * Keys are unencrypted PKCS#8. Takes ~0.3 s.
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await fsp.mkdir(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: readonly string[]) => run('openssl', args, { cwd: dir, timeoutMs: 60_000 });
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=imprint-test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const leaf = async (name: string, cn: string, ext: string): Promise<void> => {
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
    await fsp.writeFile(f(`${name}.ext`), ext);
    await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
  };
  await leaf('server', 'backend.imprint.test', 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:backend.imprint.test\nextendedKeyUsage=serverAuth\n');
  await leaf('client', 'imprint-client', 'extendedKeyUsage=clientAuth\n');
  await fsp.writeFile(f('server.pem'), Buffer.concat([await fsp.readFile(f('server.key')), await fsp.readFile(f('server.crt'))]));
  return {
    caFile: f('ca.crt'),
    caKeyFile: f('ca.key'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    serverPemFile: f('server.pem'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}
