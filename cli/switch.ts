/**
 * Switches: flags without a value (`--once`, `--s3-path-style`) that an environment variable
 * may also set. Commander's own `.env()` turns a switch on whenever its variable is defined,
 * whatever the value ("false" and "0" included); these take true/false, 1/0 or yes/no (any
 * case) and refuse anything else, naming the variable. A flag on the command line wins.
 */
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from '../core/index.js';

const SWITCH_VALUES: Readonly<Record<string, boolean>> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };

/** The value of a switch's environment variable. */
export function parseSwitch(value: string, variable: string): boolean {
  const on = SWITCH_VALUES[value.trim().toLowerCase()];
  if (on === undefined) throw new InvalidArgumentError(variable, 'must be true or false (also 1/0, yes/no)', value);
  return on;
}

/** Adds a switch `flags` that environment variable `envVar` can turn on or off. */
export function addSwitch(cmd: Command, flags: string, description: string, envVar: string): Command {
  const option = new Option(flags, description).env(envVar);
  cmd.addOption(option);
  // Runs after commander's own handler (which set the switch on for any value) and replaces
  // its value; commander only consults the variable when the flag is not on the command line.
  cmd.on(`optionEnv:${option.name()}`, () => {
    cmd.setOptionValueWithSource(option.attributeName(), parseSwitch(process.env[envVar] ?? '', envVar), 'env');
  });
  return cmd;
}
