/**
 * Readable lines for a person at a terminal: `14:03:07.123 WARN  message key=value ...`, an
 * error's stack below it. pino writes JSON; this destination turns each line around.
 */
import type { LogDestination } from './logger.js';

/** Fields every line has, shown in the line's head or not at all. */
const HEAD = new Set(['time', 'level', 'msg', 'pid', 'hostname']);
const COLOR: Record<string, string> = { trace: '90', debug: '90', info: '32', warn: '33', error: '31', fatal: '35' };

/** `out`, with each JSON line pino writes made readable. */
export function prettyDestination(out: LogDestination, opts: { readonly colors: boolean }): LogDestination {
  return { write: (line: string) => out.write(prettyLine(line, opts.colors)) };
}

/** One JSON line as a readable one (a line that is not JSON passes as it is). */
export function prettyLine(line: string, colors = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = String(o.level ?? '');
  const label = level.toUpperCase().padEnd(5);
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const stacks: string[] = [];
  const kv = Object.entries(o)
    .filter(([k, v]) => !HEAD.has(k) && v !== undefined)
    .map(([k, v]) => {
      if (isSerializedError(v)) {
        if (v.stack) stacks.push(v.stack);
        return `${k}=${valueText(v.message)}`;
      }
      return `${k}=${valueText(v)}`;
    });
  const head = `${time} ${colors && COLOR[level] ? `\u001b[${COLOR[level]}m${label}\u001b[0m` : label} ${String(o.msg ?? '')}`;
  return `${[head, ...kv].join(' ')}\n${stacks.map((s) => `${s.replace(/^/gm, '    ')}\n`).join('')}`;
}

function isSerializedError(v: unknown): v is { message: string; stack?: string } {
  return typeof v === 'object' && v !== null && 'message' in v && 'type' in v && typeof v.message === 'string';
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}
