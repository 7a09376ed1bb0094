/**
 * grpcurl for tests: `IMPRINT_GRPCURL` when set, else built once with the Go toolchain
 * (`go install`) into the same cache the backends use, outside the repo.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const GRPCURL_VERSION = 'v1.9.3';

export function ensureGrpcurl(): string {
  const given = process.env.IMPRINT_GRPCURL;
  if (given) return given;
  const cache = process.env.IMPRINT_BACKENDS_CACHE ?? path.join(os.homedir(), '.cache', 'imprint-backends');
  const bin = path.join(cache, 'grpcurl', GRPCURL_VERSION, 'grpcurl');
  if (fs.existsSync(bin)) return bin;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'grpcurl-build-'));
  try {
    execFileSync('go', ['install', `github.com/fullstorydev/grpcurl/cmd/grpcurl@${GRPCURL_VERSION}`], {
      env: { ...process.env, GOBIN: tmp },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10 * 60_000,
    });
  } catch (err) {
    throw new Error(`cannot build grpcurl with the Go toolchain (set IMPRINT_GRPCURL to a grpcurl binary instead): ${String(err)}`);
  }
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.renameSync(path.join(tmp, 'grpcurl'), bin);
  fs.rmSync(tmp, { recursive: true, force: true });
  return bin;
}
