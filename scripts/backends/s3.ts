/**
 * S3-compatible server: MinIO, built from source with `go install` (the default), or moto
 * (`IMPRINT_S3_SERVER=moto`) as a fallback for machines without Go.
 *
 * Why MinIO: best fidelity for the AWS SDK v3 defaults the project uses (aws-chunked bodies
 * with trailing CRC32 checksums are decoded AND validated, real multipart, real ETags). moto
 * de-chunks but never validates checksums. MinIO is no longer published as binaries or
 * maintained upstream, but its source module builds with a plain `go install`.
 *
 * Version: the Go module proxy reachable here answers 403 "not available" for
 * `@RELEASE.2025-10-15T17-29-55Z` and for that tag's pseudo-version
 * (v0.0.0-20251015172955-9e49d5e7a648), but serves `@latest` =
 * v0.0.0-20260212201848-7aac2a2c5b7c, the final commit of the archived repository (same
 * go.mod as the 2025-10-15 release). That is what we pin. Override with IMPRINT_MINIO_VERSION.
 * Build: ~2m45s and ~1.5 GB RSS on 2 cores with a cold Go cache; the 150 MB binary is cached
 * in `<cache>/s3/minio-<version>/minio`.
 *
 * Each start() gets its own work dir, data dir and ports, so several instances (e.g. two
 * "regions") can run at once. MinIO has no region configured, so it accepts SigV4 requests
 * signed for any region name.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  LOOPBACK,
  childEnv,
  ensureCached,
  exists,
  freePorts,
  httpRequest,
  makeWorkDir,
  run,
  runningBackend,
  spawnServer,
  startAndWait,
} from './launcher.js';
import type { BackendModule, LaunchContext, RunningBackend, StartOptions } from './launcher.js';

export const S3_ACCESS_KEY = 'imprint';
export const S3_SECRET_KEY = 'imprint-secret';
export const S3_REGION = 'us-east-1';

export const MINIO_VERSION = process.env['IMPRINT_MINIO_VERSION'] ?? 'v0.0.0-20260212201848-7aac2a2c5b7c';
export const MOTO_VERSION = process.env['IMPRINT_MOTO_VERSION'] ?? '5.2.5';
const READY_TIMEOUT_MS = 60_000;

type S3Server = 'minio' | 'moto';
function serverKind(): S3Server {
  const v = process.env['IMPRINT_S3_SERVER'] ?? 'minio';
  if (v !== 'minio' && v !== 'moto') throw new Error(`IMPRINT_S3_SERVER must be minio or moto, not ${v}`);
  return v;
}

function minioDir(ctx: LaunchContext): string {
  return path.join(ctx.cacheDir, 's3', `minio-${MINIO_VERSION}`);
}
function motoDir(ctx: LaunchContext): string {
  return path.join(ctx.cacheDir, 's3', `moto-${MOTO_VERSION}`);
}

async function fetchMinio(ctx: LaunchContext): Promise<void> {
  const dir = minioDir(ctx);
  const t0 = Date.now();
  const built = await ensureCached(dir, async (tmp) => {
    ctx.log(`s3: building MinIO ${MINIO_VERSION} with go install (a few minutes on 2 cores, once)`);
    await run('go', ['install', `github.com/minio/minio@${MINIO_VERSION}`], {
      cwd: tmp,
      env: childEnv({ GOBIN: tmp, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' }),
      timeoutMs: 30 * 60_000,
    });
    if (!(await exists(path.join(tmp, 'minio')))) throw new Error('go install produced no minio binary');
  });
  if (built) ctx.log(`s3: MinIO cached in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

async function fetchMoto(ctx: LaunchContext): Promise<void> {
  const dir = motoDir(ctx);
  const t0 = Date.now();
  const built = await ensureCached(dir, async (tmp) => {
    ctx.log(`s3: installing moto[server]==${MOTO_VERSION} into a venv`);
    // Built in tmp/venv and renamed: console-script shebangs then point at the old path, so we
    // only ever run `<venv>/bin/python -m moto.server`, which works after the rename.
    await run('python3', ['-m', 'venv', path.join(tmp, 'venv')], { timeoutMs: 5 * 60_000 });
    await run(path.join(tmp, 'venv', 'bin', 'python'), ['-m', 'pip', 'install', '-q', `moto[server]==${MOTO_VERSION}`], {
      timeoutMs: 15 * 60_000,
    });
  });
  if (built) ctx.log(`s3: moto cached in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

async function fetchS3(ctx: LaunchContext): Promise<void> {
  if (serverKind() === 'moto') await fetchMoto(ctx);
  else await fetchMinio(ctx);
}

async function startS3(ctx: LaunchContext, opts: StartOptions = {}): Promise<RunningBackend> {
  const kind = serverKind();
  await fetchS3(ctx);
  const workDir = await makeWorkDir('s3');
  const [autoPort, consolePort] = await freePorts(2);
  if (autoPort === undefined || consolePort === undefined) throw new Error('no free ports');
  const port = opts.port ?? autoPort;
  const logFile = path.join(workDir, 'server.log');
  const endpoint = `http://${LOOPBACK}:${port}`;
  const t0 = Date.now();

  let server;
  let readyPath: string;
  if (kind === 'minio') {
    const dataDir = path.join(workDir, 'data');
    const certsDir = path.join(workDir, 'certs');
    await fsp.mkdir(dataDir);
    await fsp.mkdir(certsDir);
    server = spawnServer({
      cmd: path.join(minioDir(ctx), 'minio'),
      args: ['server', dataDir, '--address', `${LOOPBACK}:${port}`, '--console-address', `${LOOPBACK}:${consolePort}`,
        '--certs-dir', certsDir, '--quiet'],
      logFile,
      cwd: workDir,
      env: childEnv({
        HOME: workDir,
        MINIO_ROOT_USER: S3_ACCESS_KEY,
        MINIO_ROOT_PASSWORD: S3_SECRET_KEY,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      }),
    });
    readyPath = '/minio/health/live';
  } else {
    server = spawnServer({
      cmd: path.join(motoDir(ctx), 'venv', 'bin', 'python'),
      args: ['-m', 'moto.server', '-H', LOOPBACK, '-p', String(port)],
      logFile,
      cwd: workDir,
      env: childEnv({ HOME: workDir, AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY }),
    });
    readyPath = '/moto-api/';
  }
  ctx.log(`s3 (${kind}): pid ${server.pid}, port ${port}, work dir ${workDir}`);
  await startAndWait({
    what: `s3 (${kind})`,
    server,
    workDir,
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 250,
    check: async () => (await httpRequest(`${endpoint}${readyPath}`, { timeoutMs: 2000 })).status === 200,
  });
  ctx.log(`s3 (${kind}): ready at ${endpoint} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return runningBackend({ name: 's3', host: LOOPBACK, port, endpoint, server, workDir, graceMs: 10_000 });
}

export const s3: BackendModule = {
  name: 's3',
  fetch: fetchS3,
  start: startS3,
};
