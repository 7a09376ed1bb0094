/**
 * log: the logger every part of Imprint shares (server, janitor, CLI, stores). Its public
 * surface; nothing imports past it.
 */
export { createLogger, loggerWithDefaults, silentLogger, LOG_LEVELS, LOG_FORMATS, type Logger, type LogLevel, type LogFormat, type LogFields, type LoggerOptions, type LogDestination } from './logger.js';
export { redactUrl, REDACTED, REDACT_PATHS } from './redact.js';
export { prettyLine } from './pretty.js';
