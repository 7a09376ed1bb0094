/**
 * Generates TypeScript types for the wire contract into proto/gen from proto/imprint/v1,
 * with the same options the runtime loader uses.
 *
 *   tsx scripts/gen-proto.ts          regenerate proto/gen
 *   tsx scripts/gen-proto.ts --check  fail (exit 1) when proto/gen is stale
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOADER_OPTIONS, PROTO_FILES, PROTO_ROOT } from '../proto/loader.js';

const check = process.argv.includes('--check');
const target = path.join(PROTO_ROOT, 'gen');
const out = check ? fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-gen-')) : target;

const bin = path.join(PROTO_ROOT, '..', 'node_modules', '.bin', 'proto-loader-gen-types');
const args = [
  `--longs=${LOADER_OPTIONS.longs.name}`,
  `--enums=${LOADER_OPTIONS.enums.name}`,
  `--bytes=${LOADER_OPTIONS.bytes.name}`,
  ...(LOADER_OPTIONS.keepCase ? ['--keepCase'] : []),
  ...(LOADER_OPTIONS.defaults ? ['--defaults'] : []),
  ...(LOADER_OPTIONS.oneofs ? ['--oneofs'] : []),
  '--grpcLib=@grpc/grpc-js',
  '--importFileExtension=.js',
  '--includeDirs=.',
  `--outDir=${out}`,
  ...PROTO_FILES,
];
if (!check) fs.rmSync(target, { recursive: true, force: true });
// Run inside proto/ with relative paths, so the generated files name no absolute path
// and the staleness check holds in any checkout.
const run = spawnSync(bin, args, { stdio: 'inherit', cwd: PROTO_ROOT });
if (run.status !== 0) process.exit(run.status ?? 1);

if (check) {
  const diff = spawnSync('diff', ['-r', target, out], { encoding: 'utf8' });
  fs.rmSync(out, { recursive: true, force: true });
  if (diff.status !== 0) {
    process.stderr.write(`${diff.stdout}${diff.stderr}\nproto/gen is stale: run \`npm run gen\` and commit the result.\n`);
    process.exit(1);
  }
  console.log('proto/gen is up to date');
}
