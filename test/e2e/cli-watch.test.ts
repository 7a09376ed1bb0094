/**
 * `imprint watch` against a real `imprint serve`: each answer printed as it comes (text, or
 * one JSON line each with --json), exit 0 on Ctrl-C (SIGINT); --app required; the serve flags
 * of Watch checked, naming the flag.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli as imprint, startServe, type CliResult, type ServeProcess } from '../cli-process.js';
import { tempDir, until } from '../helpers.js';

/** `imprint ARGS` left running: its output so far, and its exit code once it has one. */
function running(args: readonly string[]): { proc: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, stdout: () => stdout, stderr: () => stderr, exited };
}

describe('imprint watch', () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  let server: ServeProcess;
  let cli: (...args: string[]) => Promise<CliResult>;
  const started: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startServe(dataDir);
    cli = (...args) => imprint(['--address', server.address, '--data-dir', dataDir, ...args]);
    expect((await cli('topic', 'create', 'model', '--owner', 'o')).code).toBe(0);
    expect((await cli('publish', 'model', path.resolve('package.json'))).code).toBe(0);
  });
  afterAll(async () => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    expect(await server.stop()).toBe(0);
  });

  it('--json prints each answer as one JSON line as it comes, and exits 0 on SIGINT', async () => {
    const w = running(['--address', server.address, '--json', 'watch', 'model', 'ghost', '--app', 'cli']);
    started.push(w.proc);
    const lines = () => w.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { topic: string; initial: boolean; update?: { version: string } | null; error?: { code: string } });
    await until('the first answers', () => lines().length === 2);
    expect(lines()).toEqual([
      expect.objectContaining({ topic: 'model', initial: true, update: expect.objectContaining({ version: '1' }), pinned: false }),
      expect.objectContaining({ topic: 'ghost', initial: true, error: expect.objectContaining({ code: 'NOT_FOUND' }) }),
    ]);
    expect((await cli('publish', 'model', path.resolve('README.md'))).code).toBe(0);
    await until('the publish', () => lines().length === 3);
    expect(lines()[2]).toMatchObject({ topic: 'model', initial: false, update: { version: '2' } });
    w.proc.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(w.stderr()).toBe('');
  });

  it('prints text by default', async () => {
    const w = running(['--address', server.address, 'watch', 'model', '--app', 'cli']);
    started.push(w.proc);
    await until('the first answer', () => w.stdout().includes('payload'));
    expect(w.stdout()).toMatch(/^\S+ model: v2 latest\nmodel v2 {2}published/);
    w.proc.kill('SIGINT');
    expect(await w.exited).toBe(0);
  });

  it('requires --app: exit 2, nothing watched', async () => {
    const r = await cli('watch', 'model');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--app is required: the application to watch as');
  });

  it('serve refuses Watch bounds out of range from flags and environment, naming the flag (exit 2)', async () => {
    const d = tempDir();
    const streams = await imprint(['--data-dir', d, 'serve', '--port', '0', '--watch-max-streams', '0']);
    expect(streams.code).toBe(2);
    expect(streams.stderr).toContain('watch.maxStreams must be a whole number from 1 to 1000000 (--watch-max-streams, IMPRINT_WATCH_MAX_STREAMS) (got 0)');
    const beat = await imprint(['--data-dir', d, 'serve', '--port', '0'], { IMPRINT_WATCH_HEARTBEAT_MS: '5' });
    expect(beat.code).toBe(2);
    expect(beat.stderr).toContain('watch.heartbeatMs must be a whole number from 100 to 600000 (--watch-heartbeat-ms, IMPRINT_WATCH_HEARTBEAT_MS)');
  });

  it('serve refuses audit holdings settings out of range, and a Watch check not shorter than the quiet window, naming the flags (exit 2)', async () => {
    const d = tempDir();
    const quiet = await imprint(['--data-dir', d, 'serve', '--port', '0', '--audit-quiet-ms', '999']);
    expect(quiet.code).toBe(2);
    expect(quiet.stderr).toContain('holdings.quietMs must be a whole number from 10000 to 86400000 (--audit-quiet-ms, IMPRINT_AUDIT_QUIET_MS) (got 999)');
    const max = await imprint(['--data-dir', d, 'serve', '--port', '0'], { IMPRINT_AUDIT_MAX_HOLDINGS: '0' });
    expect(max.code).toBe(2);
    expect(max.stderr).toContain('(--audit-max-holdings, IMPRINT_AUDIT_MAX_HOLDINGS)');
    const cross = await imprint(['--data-dir', d, 'serve', '--port', '0', '--audit-quiet-ms', '60000', '--watch-audit-interval-ms', '60000']);
    expect(cross.code).toBe(2);
    expect(cross.stderr).toContain('watch-audit-interval-ms must be less than --audit-quiet-ms (60000)');
  });

  it('serve refuses file audit rotation settings out of range from flags and environment, naming the flag (exit 2)', async () => {
    const d = tempDir();
    const size = await imprint(['--data-dir', d, 'serve', '--port', '0', '--audit-file-max-bytes', '100']);
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('auditFiles.maxFileBytes must be a whole number from 4096 to 1099511627776 (--audit-file-max-bytes, IMPRINT_AUDIT_FILE_MAX_BYTES) (got 100)');
    const keep = await imprint(['--data-dir', d, 'serve', '--port', '0'], { IMPRINT_AUDIT_FILE_KEEP: '0' });
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('(--audit-file-keep, IMPRINT_AUDIT_FILE_KEEP) (got 0)');
  });
});
