/** How values read on the page. */
import type { Scope } from './wire.js';

export function time(ms: string | number): string {
  const n = Number(ms);
  if (!n) return '—';
  return new Date(n).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function bytes(n: string | number): string {
  const v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${x.toFixed(1)} ${units[i]}`;
}

export function duration(ms: string | number): string {
  const s = Math.round(Number(ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** A scope as key=value pairs; the empty scope is "everyone". */
export function scopeText(s: Scope | null | undefined): string {
  const pairs = Object.entries(s?.match ?? {});
  return pairs.length === 0 ? 'everyone' : pairs.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** "key=value, key=value" as a scope; an error message naming the pair otherwise. */
export function parseScope(text: string): Scope | string {
  const match: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return `"${part}" is not key=value`;
    match[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { match };
}
