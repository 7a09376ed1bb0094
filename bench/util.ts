import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A bench's `--help`: the doc comment its file opens with (what it measures, its flags), so the two cannot drift. */
export function helpText(moduleUrl: string): string {
  const source = fs.readFileSync(new URL(moduleUrl), 'utf8');
  const doc = /^\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
  return doc
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/** With `--help` or `-h`: prints the bench's help and exits, before it starts anything. */
export function helpIfAsked(moduleUrl: string): void {
  if (!process.argv.includes('--help') && !process.argv.includes('-h')) return;
  console.log(helpText(moduleUrl));
  process.exit(0);
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-bench-'));
}

/** Runs `fn` with `concurrency` loops for `ms`; returns calls per second. */
export async function throughput(fn: () => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return n / (ms / 1000);
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
}

/** What benches load the server from: the sources' module, typed, as dist/ holds it built. */
type ServerModule = typeof import('../server/index.js');

/**
 * The server as `imprint serve` runs it: dist/ (tsc's build), not the sources through tsx.
 * tsx's transform keeps every function's name (esbuild `keepNames`: an Object.defineProperty on
 * each closure made), which costs per call, and per Watch stream holds a property dictionary
 * per named closure, neither of which production pays. Refused when dist/ is missing or older
 * than the sources it is built from: `npm run build` first.
 */
export async function builtServer(): Promise<ServerModule> {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const entry = path.join(repo, 'dist', 'server', 'index.js');
  if (!fs.existsSync(entry)) throw new Error('bench: dist/ is missing: run `npm run build` first (the benches run the server as built)');
  const builtAt = fs.statSync(entry).mtimeMs;
  for (const dir of ['server', 'core', 'proto', 'log']) {
    for (const f of fs.readdirSync(path.join(repo, dir), { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.ts') && !f.endsWith('.d.ts') && fs.statSync(path.join(repo, dir, f)).mtimeMs > builtAt) throw new Error(`bench: dist/ is older than ${dir}/${f}: run \`npm run build\` first (the benches run the server as built)`);
    }
  }
  return (await import(entry)) as ServerModule;
}
