/**
 * Secrets on the command line: read from the file a flag names (`--cassandra-password-file`)
 * or taken from an env var (`IMPRINT_CASSANDRA_PASSWORD`), never from a flag's value (a
 * command line is visible to every user of the machine) and never printed: not in `--help`
 * (the env var's name only), the banner, logs or errors.
 */
import fs from 'node:fs';
import { InvalidArgumentError } from '../core/index.js';

/**
 * The secret in `file` (the value of `--FLAG`) or in `env[envVar]`; undefined when neither is set.
 * Both set is an error: which one wins would be a guess. A file's trailing newline is not part of it.
 */
export function secretFrom(file: string | undefined, flag: string, envVar: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[envVar];
  if (file !== undefined && fromEnv !== undefined && fromEnv !== '') throw new InvalidArgumentError(flag, `must not be given with ${envVar} set: give one of them`, file);
  if (file === undefined) return fromEnv === '' ? undefined : fromEnv;
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new InvalidArgumentError(flag, `must be a readable file holding the secret: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, file);
  }
}
