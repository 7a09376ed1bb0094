/**
 * Imprint's logger, shared by the server, the janitor, the CLI and the stores: pino underneath,
 * one line per event on stderr. JSON lines when stderr is not a terminal (a log pipeline reads
 * them), readable lines when it is (pretty.ts). Secrets are redacted by field (redact.ts).
 * Calls read `log.info(message, fields)`; `child(fields)` gives a logger whose every line
 * carries those fields (a request's method, topic, app and id).
 */
import { pino, stdSerializers, stdTimeFunctions, type Logger as Pino } from 'pino';
import { InvalidArgumentError } from '../core/errors.js';
import { prettyDestination } from './pretty.js';
import { censor, REDACT_PATHS } from './redact.js';

/** Levels from the most to the least verbose; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** json: one JSON object per line; pretty: `time LEVEL message key=value ...` for a person. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, unknown>;
type LogCall = (message: string, fields?: LogFields) => void;

export interface Logger {
  trace: LogCall;
  debug: LogCall;
  info: LogCall;
  warn: LogCall;
  error: LogCall;
  fatal: LogCall;
  /** A logger whose every line also carries `fields`. */
  child(fields: LogFields): Logger;
  /** Whether a line at `level` would be written (to skip building fields nobody reads). */
  isLevelEnabled(level: LogLevel): boolean;
}

/** Where lines go: a stream (stderr) or anything that takes written text. */
export interface LogDestination {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface LoggerOptions {
  /** Lines below this level are not written. @default "info" */
  readonly level?: LogLevel;
  /** @default "pretty" when `destination` is a terminal, else "json" */
  readonly format?: LogFormat;
  /** @default process.stderr */
  readonly destination?: LogDestination;
}

export interface ResolvedLoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly destination: LogDestination | undefined;
}

/** The options filled in and checked: a level or format outside the lists is an InvalidArgumentError naming `level` or `format`. */
export function loggerWithDefaults(o: LoggerOptions = {}): ResolvedLoggerOptions {
  const level = o.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new InvalidArgumentError('level', `must be one of ${LOG_LEVELS.join(', ')}`, level);
  const isTTY = (o.destination ?? process.stderr).isTTY === true;
  const format = o.format ?? (isTTY ? 'pretty' : 'json');
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new InvalidArgumentError('format', `must be one of ${LOG_FORMATS.join(', ')}`, format);
  return { level, format, destination: o.destination };
}

/** A logger writing to stderr (or `destination`) at `level` and above. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const o = loggerWithDefaults(options);
  // process.stderr, as the rest of the command writes it: synchronous on Linux for files, pipes and terminals (no line lost at exit, no reordering with the banner).
  const raw: LogDestination = o.destination ?? process.stderr;
  const colors = (o.destination ?? process.stderr).isTTY === true;
  const destination = o.format === 'pretty' ? prettyDestination(raw, { colors }) : raw;
  return wrap(
    pino(
      {
        level: o.level,
        timestamp: stdTimeFunctions.isoTime,
        // Level names, not pino's numbers: a pipeline and a person read "warn".
        formatters: { level: (label) => ({ level: label }) },
        serializers: { err: stdSerializers.err, error: stdSerializers.err },
        redact: { paths: [...REDACT_PATHS], censor },
      },
      destination,
    ),
  );
}

/** Our call shape (message first) over a pino logger (whose level is fixed once made). */
function wrap(p: Pino): Logger {
  // Looked up once: pino's own isLevelEnabled costs ~100 ns, asked on every request.
  const enabled: Partial<Record<LogLevel, true>> = Object.fromEntries(LOG_LEVELS.filter((l) => l !== 'silent' && p.isLevelEnabled(l)).map((l) => [l, true]));
  return {
    trace: (m, f) => p.trace(f ?? {}, m),
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    fatal: (m, f) => p.fatal(f ?? {}, m),
    child: (fields) => wrap(p.child(fields)),
    isLevelEnabled: (level) => enabled[level] === true,
  };
}

const nothing: LogCall = () => {};

/** A logger that drops everything (tests, library defaults). */
export const silentLogger: Logger = {
  trace: nothing,
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  fatal: nothing,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
