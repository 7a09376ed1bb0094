/**
 * Kibana deep links into the audit data (kibana/imprint-saved-objects.ndjson holds the data
 * view, saved searches, the nodes-per-version panel and the dashboard a topic owner imports).
 *
 * `kibanaConsumersLink` builds a Discover URL on the `imprint-audit` data view, filtered with
 * KQL to one topic (and one version) over an absolute time range, in the
 * standard rison form: `…/app/discover#/?_g=(time:(from:'…',to:'…'))&_a=(…query:(language:kuery,query:'…')…)`.
 */
import { InvalidArgumentError, validateTopicName } from '../../core/index.js';
import type { AuditField } from './elasticsearch.js';

/** The id of the data view over `imprint-audit-*` in kibana/imprint-saved-objects.ndjson. */
export const KIBANA_DATA_VIEW_ID = 'imprint-audit';
/**
 * Columns the consumers link shows in Discover (all fields of the audit mapping): a hold's
 * node, version, previous version and pin flag; a gone's last sighting; a summary's group and
 * node count.
 */
export const KIBANA_LINK_COLUMNS = ['kind', 'app', 'cluster', 'region', 'node_id', 'version', 'previous', 'moved', 'pinned', 'seen_at', 'node_count', 'replica'] as const satisfies readonly AuditField[];

export interface KibanaConsumersLinkOptions {
  /** Base URL of Kibana, e.g. https://kibana.example.com or https://host/s/team (a space). */
  readonly kibanaUrl: string;
  readonly topic: string;
  /** Only the events of this version: holds of it, nodes gone while holding it, its summaries. */
  readonly version?: string | bigint;
  readonly fromMs: number;
  readonly toMs: number;
  /** @default KIBANA_DATA_VIEW_ID */
  readonly dataViewId?: string;
}

/** A KQL string literal: double quotes, with `\` and `"` escaped. */
export function kqlQuoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The KQL of the consumers link: `topic:"x"`, and `and version:"3"` with a version. */
export function consumersKql(topic: string, version?: string | bigint): string {
  const parts = [`topic:${kqlQuoted(topic)}`];
  if (version !== undefined) parts.push(`version:${kqlQuoted(version.toString())}`);
  return parts.join(' and ');
}

export function kibanaConsumersLink(o: KibanaConsumersLinkOptions): string {
  validateTopicName(o.topic);
  let base: URL;
  try {
    base = new URL(o.kibanaUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new InvalidArgumentError('kibanaUrl', 'must be an http(s) URL', o.kibanaUrl);
  }
  if (o.version !== undefined && !/^\d+$/.test(o.version.toString())) throw new InvalidArgumentError('version', 'must be a version number', o.version.toString());
  for (const [field, v] of [['fromMs', o.fromMs], ['toMs', o.toMs]] as const) {
    if (!Number.isFinite(v) || Number.isNaN(new Date(v).getTime())) throw new InvalidArgumentError(field, 'must be a time in ms since the epoch', v);
  }
  if (o.toMs < o.fromMs) throw new InvalidArgumentError('toMs', 'must not be before fromMs', o.toMs);
  const g: RisonValue = { time: { from: new Date(o.fromMs).toISOString(), to: new Date(o.toMs).toISOString() } };
  const a: RisonValue = {
    columns: [...KIBANA_LINK_COLUMNS],
    index: o.dataViewId ?? KIBANA_DATA_VIEW_ID,
    query: { language: 'kuery', query: consumersKql(o.topic, o.version) },
    sort: [['@timestamp', 'desc']],
  };
  const root = base.href.replace(/\/+$/, '');
  return `${root}/app/discover#/?_g=${risonUri(g)}&_a=${risonUri(a)}`;
}

// ---- rison (the encoding of Kibana's URL state) ----

export type RisonValue = string | number | boolean | null | readonly RisonValue[] | { readonly [k: string]: RisonValue };

const NOT_IDCHAR = " '!:(),*@$";
const ID_OK = new RegExp(`^[^\\-0-9${escapeClass(NOT_IDCHAR)}][^${escapeClass(NOT_IDCHAR)}]*$`);

function escapeClass(s: string): string {
  return s.replace(/[\]\\^\-]/g, (c) => `\\${c}`);
}

function risonString(s: string): string {
  if (s !== '' && ID_OK.test(s)) return s;
  return `'${s.replace(/[!']/g, (c) => `!${c}`)}'`;
}

/** Rison of a value (objects keep their key order, as Kibana does). */
export function rison(v: RisonValue): string {
  if (v === null) return '!n';
  if (v === true) return '!t';
  if (v === false) return '!f';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InvalidArgumentError('rison', 'cannot encode a non-finite number', v);
    return String(v).replace('+', '');
  }
  if (typeof v === 'string') return risonString(v);
  if (Array.isArray(v)) return `!(${(v as readonly RisonValue[]).map(rison).join(',')})`;
  const o = v as { readonly [k: string]: RisonValue };
  return `(${Object.keys(o)
    .map((k) => `${risonString(k)}:${rison(o[k] as RisonValue)}`)
    .join(',')})`;
}

/** Rison for a URL: percent-encoded, except the characters rison and URLs share (`,:@$/`). */
export function risonUri(v: RisonValue): string {
  return encodeURIComponent(rison(v)).replace(/%(2C|3A|40|24|2F)/g, (m) => decodeURIComponent(m));
}

/** Parses rison (the inverse of `rison`; for tests and tools). */
export function parseRison(text: string): RisonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new InvalidArgumentError('rison', `${what} at ${i}`, text);
  };
  const value = (): RisonValue => {
    const c = text[i];
    if (c === undefined) return fail('unexpected end');
    if (c === '(') {
      i++;
      const o: Record<string, RisonValue> = {};
      if (text[i] === ')') {
        i++;
        return o;
      }
      for (;;) {
        const k = value();
        if (typeof k !== 'string') fail('object key must be a string');
        if (text[i++] !== ':') fail('expected ":"');
        o[k as string] = value();
        const sep = text[i++];
        if (sep === ')') return o;
        if (sep !== ',') fail('expected "," or ")"');
      }
    }
    if (c === "'") {
      i++;
      let s = '';
      for (;;) {
        const ch = text[i++];
        if (ch === undefined) return fail('unterminated string');
        if (ch === "'") return s;
        if (ch === '!') {
          const esc = text[i++];
          if (esc !== '!' && esc !== "'") fail('bad escape');
          s += esc;
        } else s += ch;
      }
    }
    if (c === '!') {
      const n = text[i + 1];
      i += 2;
      if (n === 't') return true;
      if (n === 'f') return false;
      if (n === 'n') return null;
      if (n === '(') {
        const arr: RisonValue[] = [];
        if (text[i] === ')') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value());
          const sep = text[i++];
          if (sep === ')') return arr;
          if (sep !== ',') fail('expected "," or ")"');
        }
      }
      return fail('unknown "!" value');
    }
    const m = /^-?\d+(\.\d+)?(e-?\d+)?/.exec(text.slice(i));
    if (m && (c === '-' || (c >= '0' && c <= '9'))) {
      i += m[0].length;
      return Number(m[0]);
    }
    let j = i;
    while (j < text.length && !NOT_IDCHAR.includes(text[j] as string)) j++;
    if (j === i) fail('unexpected character');
    const id = text.slice(i, j);
    i = j;
    return id;
  };
  const v = value();
  if (i !== text.length) fail('trailing characters');
  return v;
}
