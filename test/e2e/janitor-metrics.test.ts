/** `imprint janitor --metrics-port`: a real janitor process serving /metrics and /healthz. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, runCli, stopProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

describe('imprint janitor --metrics-port', () => {
  it('serves the janitor metrics and /healthz on the port it names, and stops on SIGTERM', async () => {
    const dataDir = tempDir();
    // The port by its variable, the same as serve's.
    const proc = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'janitor', '--snapshot-every', '1h'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IMPRINT_METRICS_PORT: '0' } });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (b: Buffer) => {
          output += b.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(output);
          if (m?.[1]) resolve(m[1]);
        };
        proc.stdout.on('data', onData);
        proc.stderr.on('data', onData);
        proc.on('exit', (code) => reject(new Error(`janitor exited with ${code}:\n${output}`)));
      });
      // The first snapshot runs at once: poll the metrics until it shows (no sleeping a guessed time).
      const deadline = Date.now() + 30_000;
      let text = '';
      while (!text.includes('imprint_janitor_job_runs_total{job="snapshot",outcome="ok"} 1')) {
        if (Date.now() > deadline) throw new Error(`no successful snapshot in the metrics within 30 s:\n${text}\n${output}`);
        text = await (await fetch(`${url}/metrics`)).text();
        if (!text.includes('outcome="ok"} 1')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(text).toMatch(/^imprint_janitor_last_success_timestamp_seconds\{job="snapshot"\} [1-9]\d*(\.\d+)?$/m);
      expect(text).toContain('imprint_janitor_job_interval_seconds{job="snapshot"} 3600');
      expect(text).toContain('imprint_janitor_job_interval_seconds{job="purge"} 86400');
      expect(text).toContain('imprint_janitor_job_interval_seconds{job="topic-purge"} 86400');
      expect(text).toContain('process_resident_memory_bytes');
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, jobs: { snapshot: { everySeconds: 3600, overdue: false }, purge: { everySeconds: 86400, lastSuccess: null, overdue: false } } });
      expect((await fetch(`${url}/nothing`)).status).toBe(404);
    } finally {
      expect(await stopProcess(proc)).toBe(0);
    }
  });

  it('refuses a port that is not one, naming the flag', async () => {
    const res = await runCli(['--data-dir', tempDir(), 'janitor', '--metrics-port', 'x9464']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('metrics-port');
    expect(res.stderr).toContain('x9464');
  });
});
