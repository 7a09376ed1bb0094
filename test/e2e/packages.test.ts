/**
 * The packages as a user gets them: `npm pack` of packages/client and packages/server, the
 * tarballs installed into scratch projects in a temp dir outside the repository, and then
 * (1) the client alone, imported from an ESM script, without the AWS SDK or the server's
 * dependencies; (2) the packages' README examples type-checked by a strict NodeNext project of
 * the user's; (3) a server started from the installed `imprint` bin, and the client README's
 * example, compiled, publishing and receiving a version through it, and its web console answering.
 *
 * better-sqlite3 (the server's native addon) is installed with its install script skipped and
 * given the binary this checkout built when the versions match (what its prebuild-install would
 * download; there is no GitHub here), so the test does not spend ~100 s compiling SQLite; on a
 * version mismatch it is compiled (`npm rebuild`).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as repoClient from '../../client/index.js';
import { startServe } from '../cli-process.js';
import { tempDir } from '../helpers.js';

const run = promisify(execFile);
const REPO = path.resolve('.');
const TSC = createRequire(path.join(REPO, 'package.json')).resolve('typescript/bin/tsc');

/**
 * The environment npm runs in here: without the variables a parent `npm test` sets that name
 * the repository's project (its prefix, package, script, workspaces), so an install in a
 * scratch project stays there; the rest (registry, cache, certificates) kept; Node's headers
 * for node-gyp.
 */
const NPM_ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package_|lifecycle_|command$|config_(local_prefix|workspaces?|include_workspace_root)$)/i.test(k))),
  npm_config_nodedir: path.dirname(path.dirname(process.execPath)),
};

let tmp: string;
let tarballs: { client: string; server: string };

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The first ```ts block of a package's README. */
function readmeExample(pkg: 'client' | 'server'): string {
  const m = /```ts\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(REPO, 'packages', pkg, 'README.md'), 'utf8'));
  if (!m?.[1]) throw new Error(`packages/${pkg}/README.md has no ts example`);
  return m[1];
}

/** A project of its own in the temp dir with `tarballs` installed the way a user would. */
async function scratchProject(name: string, pkgs: readonly string[]): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `scratch-${name}`, private: true, type: 'module', allowScripts: { 'better-sqlite3': true } }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...pkgs], { cwd: dir, env: NPM_ENV });
  return dir;
}

/** better-sqlite3's binary in `dir`: this checkout's when the versions match, else compiled. */
async function supplyAddon(dir: string): Promise<void> {
  const ours = path.join(REPO, 'node_modules', 'better-sqlite3');
  const theirs = path.join(dir, 'node_modules', 'better-sqlite3');
  const version = (d: string) => readJson<{ version: string }>(path.join(d, 'package.json')).version;
  if (version(ours) === version(theirs)) {
    fs.mkdirSync(path.join(theirs, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(path.join(ours, 'build', 'Release', 'better_sqlite3.node'), path.join(theirs, 'build', 'Release', 'better_sqlite3.node'));
  } else {
    await run('npm', ['rebuild', 'better-sqlite3'], { cwd: dir, env: NPM_ENV });
  }
}

/** The scratch project's own strict NodeNext type check of `files` (the installed .d.ts files too; emitting to out/ when `emit`): whether it passed, and tsc's output. */
async function typeCheck(dir: string, files: readonly string[], emit = false): Promise<{ ok: boolean; output: string }> {
  const compilerOptions = { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023'], types: ['node'], skipLibCheck: false, noEmit: !emit, outDir: 'out' };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  try {
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir });
    return { ok: true, output: r.stdout };
  } catch (err) {
    return { ok: false, output: (err as { stdout: string }).stdout };
  }
}

beforeAll(async () => {
  tmp = tempDir('imprint-packages-');
  expect(path.relative(REPO, tmp).startsWith('..')).toBe(true); // outside the repository
  // npm pack runs each workspace's prepack: its build into its own dist/ and proto/.
  const out = await run('npm', ['pack', '--json', '--workspace', 'packages/client', '--workspace', 'packages/server', '--pack-destination', tmp], { cwd: REPO, env: NPM_ENV, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(out.stdout) as { name: string; filename: string }[];
  const file = (name: string) => path.join(tmp, packed.find((p) => p.name === name)?.filename ?? `(no tarball for ${name})`);
  tarballs = { client: file('@imprint/client'), server: file('@imprint/server') };
}, 240_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('@imprint/client installed alone', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await scratchProject('client-only', [tarballs.client]);
  }, 240_000);

  it('imports from ESM with the main entry client/index.ts has, and brings neither the AWS SDK nor the server\'s dependencies', async () => {
    fs.writeFileSync(
      path.join(dir, 'check.mjs'),
      [
        "import * as client from '@imprint/client';",
        "import { ImprintClient } from '@imprint/client';",
        "import { builtinModules, createRequire } from 'node:module';",
        'const require = createRequire(import.meta.url);',
        'const resolves = (name) => { try { require.resolve(name); return true; } catch { return false; } };',
        "const deps = ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner', 'better-sqlite3', 'cassandra-driver', '@elastic/elasticsearch'];",
        'let s3;',
        "try { await import('@imprint/client/s3'); s3 = 'loaded'; } catch (err) { s3 = err.code + ' ' + err.message.split('\\n')[0]; }",
        // A client connects lazily: constructing one loads the contract from the package's proto/.
        "const c = new ImprintClient({ address: '127.0.0.1:1' });",
        'c.close();',
        'console.log(JSON.stringify({ exports: Object.keys(client).sort(), installed: deps.filter(resolves), s3 }));',
      ].join('\n'),
    );
    const r = await run(process.execPath, ['check.mjs'], { cwd: dir });
    const seen = JSON.parse(r.stdout) as { exports: string[]; installed: string[]; s3: string };
    expect(seen.exports).toEqual(Object.keys(repoClient).sort());
    expect(seen.exports).toContain('Publisher');
    expect(seen.exports).not.toContain('S3BlobStore');
    expect(seen.installed).toEqual([]);
    // The S3 entry is there, and asks for its optional peer.
    expect(seen.s3).toMatch(/^ERR_MODULE_NOT_FOUND .*@aws-sdk\/client-s3/);
  });

  it('type-checks the README example under strict NodeNext, and refuses a wrong call', async () => {
    fs.writeFileSync(path.join(dir, 'example.ts'), readmeExample('client'));
    fs.writeFileSync(path.join(dir, 'wrong.ts'), "import { Publisher } from '@imprint/client';\nexport const p = new Publisher({ blobStores: [] });\n");
    const r = await typeCheck(dir, ['example.ts', 'wrong.ts']);
    // Every error is the wrong call's: none in the example, none in the installed .d.ts files.
    expect(new Set([...r.output.matchAll(/^(\S+?)\(\d+,\d+\): error TS/gm)].map((m) => m[1]))).toEqual(new Set(['wrong.ts']));
    expect(r.output).toContain("Property 'client' is missing");
    expect(r.ok).toBe(false);
  });
});

describe('@imprint/server and @imprint/client installed together', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await scratchProject('client-and-server', [tarballs.client, tarballs.server]);
    await supplyAddon(dir);
  }, 240_000);

  it('declares every package a shipped file imports', () => {
    for (const name of ['@imprint/client', '@imprint/server']) {
      const root = path.join(dir, 'node_modules', name);
      const manifest = readJson<{ dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>(path.join(root, 'package.json'));
      const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
      const files = (fs.readdirSync(path.join(root, 'dist'), { recursive: true }) as string[]).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'));
      const undeclared = new Set<string>();
      for (const f of files) {
        const code = fs.readFileSync(path.join(root, 'dist', f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // comments out
        for (const m of code.matchAll(/(?:\bfrom|\bimport\(?)\s*['"](?!\.)((?:@[\w.-]+\/)?[\w.-]+(?:\/[^'"\s]*)?)['"]/g)) {
          const spec = m[1] as string;
          const pkg = spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
          if (!builtinModules.includes(pkg) && !declared.has(pkg)) undeclared.add(`${pkg} (dist/${f})`);
        }
      }
      expect([...undeclared], name).toEqual([]);
    }
  });

  it('a server from the installed imprint bin serves the client README example, compiled by the project', async () => {
    // 1. Both README examples type-check (and the client's is compiled to out/).
    fs.writeFileSync(path.join(dir, 'client-example.ts'), readmeExample('client'));
    fs.writeFileSync(path.join(dir, 'server-example.ts'), readmeExample('server'));
    const checked = await typeCheck(dir, ['client-example.ts', 'server-example.ts'], true);
    expect(checked.output).toBe('');
    expect(checked.ok).toBe(true);

    // 2. The installed command knows its package's version.
    const bin = path.join(dir, 'node_modules', '.bin', 'imprint');
    const version = await run(process.execPath, [bin, '--version'], { cwd: dir });
    expect(version.stdout.trim()).toBe(readJson<{ version: string }>(path.join(REPO, 'packages', 'server', 'package.json')).version);

    // 3. Serve from the bin; the example creates a topic, publishes and receives the version.
    const server = await startServe(path.join(dir, 'data'), ['--http-port', '0'], {}, 60_000, bin);
    try {
      const r = await run(process.execPath, [path.join('out', 'client-example.js')], { cwd: dir, env: { ...process.env, IMPRINT_ADDRESS: server.address }, timeout: 60_000 });
      expect(r.stdout.trim()).toBe('v1: hello');
      // 4. The web console ships in the package: its page and the assets it names answer.
      const http = /http {6}(http:\/\/\S+)/.exec(server.output())?.[1];
      expect(server.output()).toContain('the web console at /console/');
      const page = await fetch(`${http}/console/`);
      expect(page.status).toBe(200);
      const assets = [...(await page.text()).matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
      expect(assets).toHaveLength(2);
      for (const a of assets) expect((await fetch(`${http}/console/${a}`)).status, a).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
