/**
 * The layout the code keeps (DESIGN.md, "Layout"): core imports nothing of ours; a transport
 * folder is reached from outside server/ only through server/index.ts; and no module of the
 * service imports itself back through others, type imports included (the poll path once had
 * such a cycle, between server/service.ts and the consume role). Read from the source files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOTS = ['core', 'log', 'server', 'client', 'janitor', 'cli', 'proto', 'bench', 'test', 'scripts', 'examples'];

/** Every .ts file of ours, relative to the repository, with "/" separators. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const r of ROOTS) if (fs.existsSync(path.join(REPO, r))) walk(r);
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The files of ours `file` imports (relative specifiers, `.js` read as the `.ts` beside it). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith('.')) continue;
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const graph = new Map(sources().map((f) => [f, importsOf(f)]));

/** Every import that breaks `rule`, as "from -> to". */
function breaking(rule: (from: string, to: string) => boolean): string[] {
  return [...graph].flatMap(([from, tos]) => tos.filter((to) => rule(from, to)).map((to) => `${from} -> ${to}`));
}

/** The cycles among `files`, each as the path that closes it. */
function cycles(files: (f: string) => boolean): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, trail: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      found.push([...trail.slice(trail.indexOf(f)), f].join(' -> '));
      return;
    }
    state.set(f, 'open');
    for (const to of graph.get(f) ?? []) if (files(to)) visit(to, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (files(f)) visit(f, []);
  return found;
}

describe('layout', () => {
  it('reads the imports it checks (the parser finds what is there)', () => {
    expect(graph.get('server/index.ts')).toEqual(expect.arrayContaining(['server/grpc/index.ts', 'server/poll/index.ts', 'core/index.ts']));
    expect(graph.get('core/snapshot.ts')).toContain('core/poll.ts');
  });

  it('core imports nothing of ours outside core/', () => {
    expect(breaking((from, to) => from.startsWith('core/') && !to.startsWith('core/'))).toEqual([]);
  });

  it('outside server/, the transport folder is reached only through server/index.ts', () => {
    expect(breaking((from, to) => !from.startsWith('server/') && to.startsWith('server/grpc/'))).toEqual([]);
  });

  it('the service code does not reach into its transport: server/ outside grpc/ imports no grpc/ file but through server/index.ts (the HTTP transport: through grpc/index.ts, for the one handler stack)', () => {
    const httpToStack = (from: string, to: string) => from.startsWith('server/http/') && to === 'server/grpc/index.ts';
    expect(breaking((from, to) => from.startsWith('server/') && !from.startsWith('server/grpc/') && from !== 'server/index.ts' && to.startsWith('server/grpc/') && !httpToStack(from, to))).toEqual([]);
  });

  it('the logger lives outside server/ and imports only core/; it is reached only through log/index.ts', () => {
    expect(breaking((from, to) => from.startsWith('log/') && !to.startsWith('log/') && !to.startsWith('core/'))).toEqual([]);
    expect(breaking((from, to) => !from.startsWith('log/') && to.startsWith('log/') && to !== 'log/index.ts')).toEqual([]);
    expect(fs.existsSync(path.join(REPO, 'server/log.ts'))).toBe(false);
  });

  it('no import cycle in core/ and server/, type imports included', () => {
    expect(cycles((f) => f.startsWith('core/') || f.startsWith('server/'))).toEqual([]);
  });
});
