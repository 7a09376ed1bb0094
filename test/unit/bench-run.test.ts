import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { helpText } from '../../bench/util.js';

/** `npm run bench -- ARGS` as a process, with a bound well under any bench's own run. */
const bench = (file: string, ...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('npm run bench', () => {
  it('--help prints the list of benchmarks from run.ts and runs none', () => {
    const r = bench('bench/run.ts', '--help');
    expect(r.status).toBe(0);
    // Only the help: a bench that ran would have printed its rows after it.
    expect(r.stdout).toBe(`${helpText(new URL('../../bench/run.ts', import.meta.url).href)}\n`);
    expect(r.stdout).toMatch(/^ {2}fleet {10}100k simulated nodes/m);
    expect(r.stdout).not.toContain('/**');
    expect(r.stdout).not.toMatch(/^ ?\*/m);
  });

  it('refuses a name it does not know, naming it and the known ones, and runs nothing', () => {
    const r = bench('bench/run.ts', 'fleet', 'fleat');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no benchmark named 'fleat'");
    expect(r.stderr).toMatch(/there are: poll-path, batch-poll, .*fleet, .*watch/);
    // Not even the names it knows ran.
    expect(r.stdout).toBe('');
  });

  it("a bench's own --help is its file's doc comment, printed before it starts anything", () => {
    const r = bench('bench/fleet.ts', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('fleet: one consume-role instance (this process) under a simulated fleet');
    expect(r.stdout).toContain('[--placement shared|pinned|both]');
    expect(r.stdout).not.toContain('fleet       [');
  });
});
