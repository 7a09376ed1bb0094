/**
 * Generates, from proto/imprint/v1, into proto/gen:
 * - TypeScript types for the wire contract, with the same options the runtime loader uses;
 * - `descriptor-set.binpb`, the contract compiled by a stock protoc (scripts/tools.ts): what
 *   server reflection serves, so grpcurl and other generators see exactly protoc's view
 *   (snake_case field names with json_name, proto3 optional fields as such).
 *
 *   tsx scripts/gen-proto.ts          regenerate proto/gen
 *   tsx scripts/gen-proto.ts --check  fail (exit 1) when proto/gen is stale
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DESCRIPTOR_SET, LOADER_OPTIONS, PROTO_FILES, PROTO_ROOT, descriptorSetArgs } from '../proto/loader.js';
import { ensureProtoc } from './tools.js';

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

// The descriptor set, compiled by protoc from the same files and the health service's
// (every import included, no source info, so it depends on the files alone).
const protoc = spawnSync(await ensureProtoc(), descriptorSetArgs(path.join(out, DESCRIPTOR_SET)), { stdio: 'inherit' });
if (protoc.status !== 0) process.exit(protoc.status ?? 1);

if (check) {
  const diff = spawnSync('diff', ['-r', target, out], { encoding: 'utf8' });
  fs.rmSync(out, { recursive: true, force: true });
  if (diff.status !== 0) {
    process.stderr.write(`${diff.stdout}${diff.stderr}\nproto/gen is stale: run \`npm run gen\` and commit the result.\n`);
    process.exit(1);
  }
  console.log('proto/gen is up to date');
}
