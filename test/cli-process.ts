/**
 * The built `imprint` command as tests run it (npm test builds dist/ first): one-shot commands,
 * and `imprint serve` as a process of its own, which a test can stop, kill with SIGKILL or
 * hang with SIGSTOP.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export const CLI = path.resolve('dist/cli/main.js');
const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `imprint ARGS` to the end; a non-zero exit is a result, not an error. */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** SIGTERM to `proc`; resolves with its exit code (at once if it already exited). */
export function stopProcess(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  const done = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  return done;
}

export interface ServeProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  /** 127.0.0.1:PORT (or the host it printed). */
  readonly address: string;
  /** The metrics URL it printed, when it serves metrics. */
  readonly metricsUrl?: string;
  /** Everything it wrote so far (its log). */
  output(): string;
  /** SIGTERM; resolves with its exit code (at once if it already exited). */
  stop(): Promise<number | null>;
  /** SIGKILL; resolves once it is gone. */
  kill(): Promise<void>;
}

/**
 * `imprint --data-dir DATA_DIR serve --port 0 ARGS`; resolves once it says where it serves,
 * rejects if it exits first or says nothing within `startMs`. It stops without draining
 * (IMPRINT_DRAIN_MS=0) unless `env` or `args` say otherwise. `cli`: another built command
 * (an installed package's bin).
 */
export function startServe(dataDir: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}, startMs = 30_000, cli = CLI): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [cli, '--data-dir', dataDir, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IMPRINT_DRAIN_MS: '0', ...env } });
  let output = '';
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const onExit = (): Promise<void> => new Promise((resolve) => (exited() ? resolve() : proc.once('exit', () => resolve())));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not start within ${startMs} ms:\n${output}`));
    }, startMs);
    const fail = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    };
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /Imprint is serving on ([\d.]+):(\d+)/.exec(output);
      // With --metrics-port, wait for the line that names the metrics URL too.
      const metrics = /metrics {3}(https?:\S+)/.exec(output);
      if (!m || (args.includes('--metrics-port') && !metrics)) return;
      clearTimeout(timer);
      proc.off('exit', fail);
      resolve({
        proc,
        port: Number(m[2]),
        address: `${m[1]}:${m[2]}`,
        ...(metrics && { metricsUrl: metrics[1] as string }),
        output: () => output,
        stop: () => stopProcess(proc),
        kill: async () => {
          if (exited()) return;
          const done = onExit();
          proc.kill('SIGKILL');
          await done;
        },
      });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', fail);
  });
}

/** The rollout steps a serve or janitor's JSON log says its driver applied ("rollout step" lines, 0-based). */
export function stepsLogged(output: string): number[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; step?: number })
    .filter((l) => l.msg === 'rollout step')
    .map((l) => l.step ?? -1);
}
