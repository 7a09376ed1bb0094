/**
 * README.md's "Walkthrough with curl", run as it is written: its `sh` block, by bash
 * (`-euo pipefail`: any failing command fails it) in a fresh directory, with IMPRINT_URL naming
 * the served REST port. The embedded test and the MinIO test both call `runReadmeCurl` and
 * check what it printed against the README's own "It prints" block.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.js';

const SECTION = '### Walkthrough with curl';

/** The section's blocks: the script (```sh) and what it prints (the plain ``` after "It prints"). */
export function readmeCurl(readme = fs.readFileSync(path.resolve('README.md'), 'utf8')): { script: string; prints: string } {
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no "${SECTION}"`);
  const next = readme.indexOf('\n### ', start + SECTION.length);
  const text = readme.slice(start, next < 0 ? undefined : next);
  const script = /```sh\n([\s\S]*?)```/.exec(text)?.[1];
  const prints = /It prints:\n\n```\n([\s\S]*?)```/.exec(text)?.[1];
  if (script === undefined || prints === undefined) throw new Error(`"${SECTION}" must hold a sh block and an "It prints:" block`);
  return { script, prints };
}

export interface CurlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Where it ran (model.bin and fetched.bin are there). */
  readonly dir: string;
}

export function runReadmeCurl(baseUrl: string, script = readmeCurl().script): Promise<CurlRun> {
  const dir = tempDir();
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env: { ...process.env, IMPRINT_URL: baseUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, stdout, stderr, dir }));
  });
}
