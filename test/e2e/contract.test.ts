/**
 * The contract as callers outside TypeScript get it: every .proto compiles with a stock protoc
 * (Maven Central's build, the one Python, Go and Java generators run), passes buf's STANDARD
 * lint rules, and the descriptor set reflection serves is exactly what that protoc produces.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROTO_FILES, PROTO_ROOT, descriptorSetArgs, descriptorSetPath } from '../../proto/loader.js';
import { ensureBuf, ensureProtoc } from '../../scripts/tools.js';
import { tempDir } from '../helpers.js';

const run = promisify(execFile);

describe('the .proto files', () => {
  let protoc: string;
  let buf: string;
  beforeAll(async () => {
    protoc = await ensureProtoc();
    buf = await ensureBuf();
  }, 900_000);

  it('compile with a stock protoc, each file on its own and all together', async () => {
    for (const file of PROTO_FILES) await run(protoc, ['-I', PROTO_ROOT, '--descriptor_set_out=/dev/null', file]);
    const out = path.join(tempDir(), 'python');
    fs.mkdirSync(out);
    // A generator's view: protoc's own Python output for every file.
    const files = fs.readdirSync(path.join(PROTO_ROOT, 'imprint', 'v1')).map((f) => `imprint/v1/${f}`);
    await run(protoc, ['-I', PROTO_ROOT, `--python_out=${out}`, ...files]);
    expect(fs.readdirSync(path.join(out, 'imprint', 'v1')).sort()).toEqual(['consumer_pb2.py', 'operator_pb2.py', 'publisher_pb2.py', 'types_pb2.py']);
  });

  it('(with the health service) are what the served descriptor set was compiled from', async () => {
    const fresh = path.join(tempDir(), 'set.binpb');
    await run(protoc, descriptorSetArgs(fresh));
    expect(fs.readFileSync(fresh).equals(fs.readFileSync(descriptorSetPath()))).toBe(true);
  });

  it('pass buf lint with the STANDARD rules and no exceptions', async () => {
    const config = fs.readFileSync(path.join(PROTO_ROOT, 'buf.yaml'), 'utf8');
    expect(config).toMatch(/use:\s*\n\s*- STANDARD/);
    expect(config).not.toMatch(/^\s*(except|ignore|ignore_only):/m);
    const res = await run(buf, ['lint'], { cwd: PROTO_ROOT }).catch((e: { stdout: string; stderr: string }) => e);
    expect(`${res.stdout}${res.stderr}`).toBe('');
  });

  it('would have caught the old Pin bug: protoc rejects a method whose name shadows the message it returns', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'imprint', 'v1'), { recursive: true });
    for (const f of fs.readdirSync(path.join(PROTO_ROOT, 'imprint', 'v1'))) fs.copyFileSync(path.join(PROTO_ROOT, 'imprint', 'v1', f), path.join(dir, 'imprint', 'v1', f));
    const op = path.join(dir, 'imprint', 'v1', 'operator.proto');
    fs.writeFileSync(op, fs.readFileSync(op, 'utf8').replace('returns (PinResponse)', 'returns (Pin)'));
    const res = await run(protoc, ['-I', dir, '--descriptor_set_out=/dev/null', 'imprint/v1/operator.proto']).catch((e: { stderr: string }) => e);
    expect((res as { stderr: string }).stderr).toContain('"Pin" is not a message type');
  });
});
