/**
 * Command-line tools the tests and code generation run, fetched once into the cache the
 * backends use (outside the repo), or taken from an env var when one is set:
 *
 *   protoc    IMPRINT_PROTOC    com.google.protobuf:protoc (the exe for this platform) from Maven Central
 *   buf       IMPRINT_BUF       go install github.com/bufbuild/buf/cmd/buf
 *   grpcurl   IMPRINT_GRPCURL   go install github.com/fullstorydev/grpcurl/cmd/grpcurl
 *   promtool  IMPRINT_PROMTOOL  go install -tags remove_all_sd github.com/prometheus/prometheus/cmd/promtool (Prometheus 3.16.0)
 *   fleet-load-go  IMPRINT_FLEET_LOAD_GO  go build of bench/fleet-load-go (the fleet bench's grpc-go load generator),
 *                  cached by a hash of its sources
 *
 * A stock protoc, buf and grpcurl are what callers outside TypeScript use, so the contract is
 * tested with them and generated with the same protoc. promtool checks and unit-tests the alert
 * rules of ops/prometheus.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// Asynchronous on purpose: a build takes minutes, and a test worker (or vitest itself) whose
// event loop is blocked that long misses its own RPC deadlines.
const run = promisify(execFile);

export const PROTOC_VERSION = '4.33.5';
export const BUF_VERSION = 'v1.75.0';
export const GRPCURL_VERSION = 'v1.9.3';
/** Prometheus 3.16.0: its Go module versions are v0.3xx.y for v3.xx.y. */
export const PROMTOOL_VERSION = 'v0.316.0';

function cacheDir(): string {
  return process.env.IMPRINT_BACKENDS_CACHE ?? path.join(os.homedir(), '.cache', 'imprint-backends');
}

/** Builds `pkg@version` with the Go toolchain (and `goFlags`) into the cache, once; returns the binary. */
async function goInstall(name: string, pkg: string, version: string, envVar: string, goFlags: readonly string[] = []): Promise<string> {
  const given = process.env[envVar];
  if (given) return given;
  const bin = path.join(cacheDir(), name, version, name);
  if (fs.existsSync(bin)) return bin;
  process.stderr.write(`[tools] building ${name} ${version} with go install (once; cached in ${path.dirname(bin)})\n`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-build-`));
  try {
    await run('go', ['install', ...goFlags, `${pkg}@${version}`], { env: { ...process.env, GOBIN: tmp }, timeout: 30 * 60_000 });
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.renameSync(path.join(tmp, name), bin);
  } catch (err) {
    throw new Error(`cannot build ${name} with the Go toolchain (set ${envVar} to a ${name} binary instead): ${String(err)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

/**
 * The fleet bench's grpc-go load generator (bench/fleet-load-go), built with the Go toolchain
 * (modules from the module proxy) into the cache, once per version of its sources.
 */
export async function ensureFleetLoadGo(): Promise<string> {
  const given = process.env.IMPRINT_FLEET_LOAD_GO;
  if (given) return given;
  const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'fleet-load-go');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(fs.readFileSync(path.join(src, f)));
  const bin = path.join(cacheDir(), 'fleet-load-go', hash.digest('hex').slice(0, 16), 'fleet-load-go');
  if (fs.existsSync(bin)) return bin;
  process.stderr.write(`[tools] building fleet-load-go with go build (once; cached in ${path.dirname(bin)})\n`);
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  try {
    await run('go', ['build', '-o', `${bin}.tmp`, '.'], { cwd: src, timeout: 10 * 60_000 });
    fs.renameSync(`${bin}.tmp`, bin);
  } catch (err) {
    throw new Error(`cannot build fleet-load-go with the Go toolchain (set IMPRINT_FLEET_LOAD_GO to a binary, or run the fleet bench with --generator node): ${String(err)}`);
  }
  return bin;
}

export function ensureGrpcurl(): Promise<string> {
  return goInstall('grpcurl', 'github.com/fullstorydev/grpcurl/cmd/grpcurl', GRPCURL_VERSION, 'IMPRINT_GRPCURL');
}

export function ensureBuf(): Promise<string> {
  return goInstall('buf', 'github.com/bufbuild/buf/cmd/buf', BUF_VERSION, 'IMPRINT_BUF');
}

/**
 * promtool without Prometheus' service discovery plugins (`remove_all_sd`: no AWS, Azure, GCE,
 * ... SDKs to compile; static_configs, file_sd and Kubernetes stay), which the rules and the
 * compose stack's configuration do not use: several times faster to build.
 */
export function ensurePromtool(): Promise<string> {
  return goInstall('promtool', 'github.com/prometheus/prometheus/cmd/promtool', PROMTOOL_VERSION, 'IMPRINT_PROMTOOL', ['-tags', 'remove_all_sd']);
}

/** Maven Central's classifier for this machine's protoc. */
function protocClassifier(): string {
  const os_ = { linux: 'linux', darwin: 'osx', win32: 'windows' }[process.platform as string];
  const arch = { x64: 'x86_64', arm64: 'aarch_64' }[process.arch as string];
  if (!os_ || !arch) throw new Error(`no protoc on Maven Central for ${process.platform}/${process.arch}: set IMPRINT_PROTOC to a protoc binary`);
  return `${os_}-${arch}`;
}

export async function ensureProtoc(): Promise<string> {
  const given = process.env.IMPRINT_PROTOC;
  if (given) return given;
  const bin = path.join(cacheDir(), 'protoc', PROTOC_VERSION, 'protoc');
  if (fs.existsSync(bin)) return bin;
  const classifier = protocClassifier();
  process.stderr.write(`[tools] fetching protoc ${PROTOC_VERSION} (${classifier}) from Maven Central (once; cached in ${path.dirname(bin)})\n`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protoc-fetch-'));
  try {
    await run('mvn', ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy', `-Dartifact=com.google.protobuf:protoc:${PROTOC_VERSION}:exe:${classifier}`, `-DoutputDirectory=${tmp}`], {
      timeout: 5 * 60_000,
    });
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.renameSync(path.join(tmp, `protoc-${PROTOC_VERSION}-${classifier}.exe`), bin);
    fs.chmodSync(bin, 0o755);
  } catch (err) {
    throw new Error(`cannot fetch protoc from Maven Central with mvn (set IMPRINT_PROTOC to a protoc binary instead): ${String(err)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
