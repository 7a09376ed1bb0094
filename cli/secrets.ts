/**
 * Secrets on the command line: read from the file a flag names (`--cassandra-password-file`)
 * or taken from an env var (`IMPRINT_CASSANDRA_PASSWORD`), never from a flag's value (a
 * command line is visible to every user of the machine) and never printed: not in `--help`
 * (the env var's name only), the banner, logs or errors.
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from '../core/index.js';

/**
 * Adds `--NAME-file FILE` (env `ENVVAR_FILE`) and `ENVVAR`, the secret itself. The variable is
 * a hidden option's, so commander knows it (and compose files may set it); that option on the
 * command line is refused before the command runs.
 */
export function addSecretOption(cmd: Command, o: { readonly name: string; readonly envVar: string; readonly description: string }): Command {
  const value = new Option(`--${o.name} <secret>`).env(o.envVar).hideHelp();
  cmd.addOption(new Option(`--${o.name}-file <file>`, `${o.description} (or the secret itself in ${o.envVar})`).env(`${o.envVar}_FILE`)).addOption(value);
  cmd.hook('preAction', (self) => {
    if (self.getOptionValueSource(value.attributeName()) === 'cli') {
      throw new InvalidArgumentError(o.name, `is never taken on the command line, where every user of the machine can read it: give --${o.name}-file or ${o.envVar}`);
    }
  });
  return cmd;
}

/**
 * The secret: the content of `file` (the value of `--NAME-file`), or `value` (from `ENVVAR`);
 * undefined when neither is set. Both set is an error: which one wins would be a guess. A
 * file's trailing newline is not part of it.
 */
export function secretFrom(file: string | undefined, value: string | undefined, name: string, envVar: string): string | undefined {
  if (file !== undefined && value !== undefined && value !== '') throw new InvalidArgumentError(`${name}-file`, `must not be given with ${envVar} set: give one of them`, file);
  if (file === undefined) return value === '' ? undefined : value;
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new InvalidArgumentError(`${name}-file`, `must be a readable file holding the secret: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, file);
  }
}
