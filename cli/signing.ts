/**
 * Signed versions in the CLI (docs/SIGNING.md): `imprint keygen` writes an Ed25519 key pair,
 * and the flags that read keys: `--trusted-key FILE` (topic create/update) and
 * `--sign-key FILE` (publish). Errors name the flag.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ImprintError, InvalidArgumentError, keyIdOf, parseTrustedKey, rawPublicKey } from '../core/index.js';

interface Ctx {
  readonly out: (json: unknown, text: () => string) => void;
}

/** A file a flag names, read whole; errors name the flag. */
function readFlagFile(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(flag, 'must name a readable file', `${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Each --trusted-key FILE (a PEM public key, as keygen writes, or the raw key in base64) as the raw key in base64. */
export function trustedKeysFromFiles(files: readonly string[]): string[] {
  return files.map((f) => {
    const text = readFlagFile(f, '--trusted-key');
    try {
      return parseTrustedKey(text, '--trusted-key');
    } catch (err) {
      throw err instanceof InvalidArgumentError ? new InvalidArgumentError('--trusted-key', err.rule, f) : err;
    }
  });
}

/** The --sign-key FILE's private key text (the Publisher checks it is an Ed25519 private key). */
export function signKeyFromFile(file: string): string {
  return readFlagFile(file, '--sign-key');
}

/** The library names the option signKey; the CLI user passed --sign-key. */
export function asSignKeyFlagError(err: unknown): unknown {
  return err instanceof InvalidArgumentError && err.field === 'signKey' ? new InvalidArgumentError('--sign-key', err.rule) : err;
}

export function addKeygenCommand(program: Command, ctx: Ctx): void {
  program
    .command('keygen')
    .description('write a new Ed25519 key pair for signing versions (PEM): the private key for `publish --sign-key`, the public one for `topic create|update --trusted-key`; prints the key id')
    .option('--out <prefix>', 'write PREFIX.key (private, mode 0600) and PREFIX.pub (public)', 'imprint-signing')
    .option('--force', 'overwrite files that exist')
    .action((o: { out: string; force?: boolean }) => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const files = { private: `${o.out}.key`, public: `${o.out}.pub` };
      writeNew(files.private, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600, o.force === true);
      writeNew(files.public, pem(publicKey), 0o644, o.force === true);
      const keyId = keyIdOf(rawPublicKey(publicKey));
      ctx.out({ keyId, privateKey: path.resolve(files.private), publicKey: path.resolve(files.public), publicKeyBase64: rawPublicKey(publicKey) }, () =>
        [
          `key id      ${keyId}`,
          `private key ${files.private} (keep it with the build that publishes: imprint publish --sign-key ${files.private})`,
          `public key  ${files.public} (give it to the topic: imprint topic update TOPIC --trusted-key ${files.public})`,
        ].join('\n'),
      );
    });
}

const pem = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }).toString();

/** Writes a file that must not exist yet (unless `force`), with `mode`. */
function writeNew(file: string, text: string, mode: number, force: boolean): void {
  try {
    fs.writeFileSync(file, text, { mode, flag: force ? 'w' : 'wx' });
    if (force) fs.chmodSync(file, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ImprintError('ALREADY_EXISTS', `${file} exists; pass --force to overwrite it, or --out another prefix`);
    throw new InvalidArgumentError('--out', 'must name files that can be written', `${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
