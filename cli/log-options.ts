/** The log options of the commands that log (`serve`, `janitor`), and their logger. */
import { Option, type Command } from 'commander';
import { LOG_FORMATS, LOG_LEVELS, createLogger, type LogFormat, type LogLevel, type Logger } from '../log/index.js';

export interface LogCliOptions {
  logLevel: LogLevel;
  logFormat?: LogFormat;
}

export function addLogOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--log-level <level>', 'write log lines at this level and above on stderr').choices(LOG_LEVELS).env('IMPRINT_LOG_LEVEL').default('info'))
    .addOption(new Option('--log-format <format>', 'json: one JSON object per line; pretty: readable lines (default: pretty on a terminal, json otherwise)').choices(LOG_FORMATS).env('IMPRINT_LOG_FORMAT'));
}

/** The logger the options ask for, on stderr. */
export function loggerFrom(o: LogCliOptions): Logger {
  return createLogger({ level: o.logLevel, ...(o.logFormat && { format: o.logFormat }) });
}
