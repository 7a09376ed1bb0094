// Builds the package shell in the current directory (npm runs `build` and `prepack` there):
// 1. empty dist/ and proto/, so nothing stale ships;
// 2. compile the top-level folders its tsconfig.json names into dist/ (JavaScript + .d.ts);
// 3. copy what the code reads at run time: proto/imprint/v1/*.proto (the contract, which
//    proto/loader.ts finds at <package>/proto from <package>/dist/proto/loader.js) and
//    proto/gen/descriptor-set.binpb (what server reflection serves);
// 4. a package that ships the server ships its web console: bundled into dist/console
//    (scripts/build-console.mjs), where server/http/console.ts finds it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = process.cwd();

// 1.
for (const dir of ['dist', 'proto']) fs.rmSync(path.join(pkg, dir), { recursive: true, force: true });

// 2.
const tsc = createRequire(path.join(repo, 'package.json')).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(pkg, 'tsconfig.json')], { stdio: 'inherit' });

// 3.
const contract = path.join('proto', 'imprint', 'v1');
fs.mkdirSync(path.join(pkg, contract), { recursive: true });
for (const f of fs.readdirSync(path.join(repo, contract)).filter((f) => f.endsWith('.proto'))) {
  fs.copyFileSync(path.join(repo, contract, f), path.join(pkg, contract, f));
}
const descriptorSet = path.join('proto', 'gen', 'descriptor-set.binpb');
fs.mkdirSync(path.join(pkg, 'proto', 'gen'), { recursive: true });
fs.copyFileSync(path.join(repo, descriptorSet), path.join(pkg, descriptorSet));

// 4.
if (fs.existsSync(path.join(pkg, 'dist', 'server'))) {
  execFileSync(process.execPath, [path.join(repo, 'scripts', 'build-console.mjs'), path.join(pkg, 'dist', 'console')], { stdio: 'inherit' });
}
