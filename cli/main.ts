#!/usr/bin/env node
/**
 * `imprint`: the command for operators and publishers. Thin: parses, calls client/ (or
 * starts server/), prints. `imprint --help` and `imprint COMMAND --help` say the rest.
 */
import { CommanderError } from 'commander';
import { ImprintError } from '../core/index.js';
import { program } from './program.js';

// grpc-js names a TLS server by the --address host, an IP address included, and Node warns
// about that (DEP0123) on stderr: noise in a command's output. Other warnings still print.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((...args: unknown[]) => {
  const code = typeof args[1] === 'object' && args[1] !== null ? (args[1] as { code?: unknown }).code : args[2];
  if (code !== 'DEP0123') emitWarning(...args);
}) as typeof process.emitWarning;

program.parseAsync().catch((err: unknown) => {
  // Commander has printed its message (a usage error, or --help and --version, which exit 0).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof ImprintError) {
    process.stderr.write(`imprint: ${err.code === 'INVALID_ARGUMENT' ? 'invalid argument: ' : ''}${err.message}\n`);
    process.exit(err.code === 'INVALID_ARGUMENT' ? 2 : 1);
  }
  process.stderr.write(`imprint: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
