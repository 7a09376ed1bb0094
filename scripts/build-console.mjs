// Builds the web console (console/) into dist/console, or the folder given as the argument:
// 1. esbuild bundles console/src/main.tsx (Preact, uPlot, their CSS and ours) into
//    assets/main-HASH.js and assets/main-HASH.css, minified (a new content, a new name: the
//    server caches assets for good);
// 2. index.html is console/index.html with those two named in it (the server sends it
//    uncached, so a new build is seen on the next load).
// Nothing is fetched from the internet at build or run time.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'dist', 'console'));

// 1.
fs.rmSync(out, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: [path.join(repo, 'console', 'src', 'main.tsx')],
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: path.join(repo, 'console', 'tsconfig.json'),
  absWorkingDir: repo,
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.resolve(repo, f)).split(path.sep).join('/'));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild wrote no script or stylesheet: ${outputs.join(', ')}`);

// 2.
const html = fs.readFileSync(path.join(repo, 'console', 'index.html'), 'utf8');
if (!html.includes('<!-- assets -->')) throw new Error('console/index.html has no <!-- assets --> marker');
fs.writeFileSync(path.join(out, 'index.html'), html.replace('<!-- assets -->', `<link rel="stylesheet" href="./${css}" />\n    <script type="module" src="./${js}"></script>`));
