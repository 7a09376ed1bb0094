/**
 * The shared logger (log/): levels filter, JSON lines carry level, time, message and fields,
 * readable lines on a terminal, secrets redacted by field (a URL keeps all but its password),
 * and a bad level or format is refused naming the option.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import { createLogger, redactUrl, silentLogger, type LoggerOptions, type LogLevel } from '../../log/index.js';

/** A logger writing into `lines`, as JSON unless asked otherwise. */
function capture(o: Omit<LoggerOptions, 'destination'> & { tty?: boolean } = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...o, destination: { write: (s: string) => lines.push(s), isTTY: o.tty ?? false } });
  return { log, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log', () => {
  it('writes JSON lines with level name, ISO time, message and fields when the destination is not a terminal', () => {
    const { log, lines, json } = capture();
    log.info('published', { topic: 'model', version: 3n, ok: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const [line] = json();
    expect(line).toMatchObject({ level: 'info', msg: 'published', topic: 'model', version: 3, ok: true, pid: process.pid });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it.each<[LogLevel, string[]]>([
    ['trace', ['trace', 'debug', 'info', 'warn', 'error', 'fatal']],
    ['debug', ['debug', 'info', 'warn', 'error', 'fatal']],
    ['info', ['info', 'warn', 'error', 'fatal']],
    ['warn', ['warn', 'error', 'fatal']],
    ['error', ['error', 'fatal']],
    ['fatal', ['fatal']],
    ['silent', []],
  ])('at level %s writes %j', (level, written) => {
    const { log, json } = capture({ level });
    for (const l of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) log[l](l);
    expect(json().map((l) => l.level)).toEqual(written);
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].filter((l) => log.isLevelEnabled(l as LogLevel))).toEqual(written);
  });

  it('info is the default level', () => {
    const { log, json } = capture();
    log.debug('hidden');
    log.info('shown');
    expect(json().map((l) => l.msg)).toEqual(['shown']);
  });

  it('a child logger carries its fields on every line', () => {
    const { log, json } = capture();
    log.child({ method: 'Poll', requestId: 'r-1' }).warn('request failed', { outcome: 'INTERNAL' });
    expect(json()[0]).toMatchObject({ method: 'Poll', requestId: 'r-1', outcome: 'INTERNAL', msg: 'request failed' });
  });

  it('an error under err or error is written with its type, message and stack', () => {
    const { log, json } = capture();
    log.error('audit file write failed', { err: new Error('disk full'), error: new TypeError('bad') });
    const [line] = json();
    expect(line?.err).toMatchObject({ type: 'Error', message: 'disk full', stack: expect.stringContaining('disk full') });
    expect(line?.error).toMatchObject({ type: 'TypeError', message: 'bad' });
  });

  it('redacts secrets by field, in the line and in its headers; a URL keeps all but its password', () => {
    const { log, lines, json } = capture();
    log.info('connecting', {
      password: 'pw-top',
      token: 'tok-1',
      secretAccessKey: 'aws-secret',
      headers: { authorization: 'Bearer abc.def', cookie: 'session=pw-nested' },
      esUrl: 'http://elastic:pw-in-url@127.0.0.1:9200/',
      url: 'https://127.0.0.1:9200/',
    });
    const text = lines.join('');
    for (const secret of ['pw-top', 'tok-1', 'pw-nested', 'aws-secret', 'abc.def', 'pw-in-url']) expect(text).not.toContain(secret);
    expect(json()[0]).toMatchObject({
      password: '[redacted]',
      token: '[redacted]',
      secretAccessKey: '[redacted]',
      headers: { authorization: '[redacted]', cookie: '[redacted]' },
      esUrl: 'http://elastic:[redacted]@127.0.0.1:9200/',
      url: 'https://127.0.0.1:9200/',
    });
  });

  it("redacts the backends' credential fields: Cassandra's password, Elasticsearch's API key and password", () => {
    const { log, lines, json } = capture();
    log.info('backends', { password: 'cass-pw', esApiKey: 'es-key-1', esPassword: 'es-pw-1', apiKey: 'es-key-2', username: 'imprint' });
    const text = lines.join('');
    for (const secret of ['cass-pw', 'es-key-1', 'es-pw-1', 'es-key-2']) expect(text).not.toContain(secret);
    expect(json()[0]).toMatchObject({ password: '[redacted]', esApiKey: '[redacted]', esPassword: '[redacted]', apiKey: '[redacted]', username: 'imprint' });
  });

  it('redacts the fields of a child logger too', () => {
    const { log, lines } = capture();
    log.child({ esUrl: 'http://u:hunter2@es:9200' }).info('x');
    expect(lines.join('')).not.toContain('hunter2');
  });

  it('redactUrl replaces only a password, and leaves text that is not a URL as it is', () => {
    expect(redactUrl('http://user:pass@host:9200/x?y=1')).toBe('http://user:[redacted]@host:9200/x?y=1');
    expect(redactUrl('http://host:9200')).toBe('http://host:9200');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('writes readable lines on a terminal (pretty): time, level, message, key=value, an error stack below', () => {
    const { log, lines } = capture({ tty: true, level: 'debug' });
    log.warn('poll table refresh failed', { failedRefreshes: 3, reason: 'store down', err: new Error('boom') });
    const [line] = lines;
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \u001b\[33mWARN \u001b\[0m poll table refresh failed failedRefreshes=3 reason="store down" err=boom\n {4}Error: boom\n/);
  });

  it('--log-format pretty without a terminal: no colours; json on a terminal: JSON', () => {
    const pretty = capture({ format: 'pretty' });
    pretty.log.info('hello', { a: 1 });
    expect(pretty.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  hello a=1\n$/);
    const json = capture({ format: 'json', tty: true });
    json.log.info('hello');
    expect(json.json()[0]).toMatchObject({ msg: 'hello', level: 'info' });
  });

  it('refuses a level or format outside the lists, naming the option and the rule', () => {
    expect(() => createLogger({ level: 'loud' as LogLevel })).toThrow(InvalidArgumentError);
    expect(() => createLogger({ level: 'loud' as LogLevel })).toThrow('level must be one of trace, debug, info, warn, error, fatal, silent (got "loud")');
    expect(() => createLogger({ format: 'xml' as 'json' })).toThrow('format must be one of json, pretty (got "xml")');
  });

  it('silentLogger writes nothing and enables no level', () => {
    expect(silentLogger.isLevelEnabled('fatal')).toBe(false);
    expect(silentLogger.child({ a: 1 })).toBe(silentLogger);
  });
});
