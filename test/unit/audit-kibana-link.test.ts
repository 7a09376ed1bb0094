import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import { KIBANA_DATA_VIEW_ID, consumersKql, kibanaConsumersLink, kqlQuoted, parseRison, rison, type RisonValue } from '../../server/audit/kibana.js';

const FROM = Date.UTC(2026, 10, 20, 8, 0, 0);
const TO = Date.UTC(2026, 10, 20, 10, 30, 0);

/** The `_g` and `_a` states of a Discover link, decoded. */
function linkState(url: string): { base: string; g: RisonValue; a: RisonValue } {
  const [base, hash] = url.split('#');
  expect(hash?.startsWith('/?')).toBe(true);
  const params = new URLSearchParams((hash ?? '').slice(2));
  expect([...params.keys()]).toEqual(['_g', '_a']);
  return { base: base ?? '', g: parseRison(params.get('_g') ?? ''), a: parseRison(params.get('_a') ?? '') };
}

describe('rison', () => {
  it.each<[RisonValue, string]>([
    ['abc', 'abc'],
    ['', "''"],
    ['2026-11-20T08:00:00.000Z', "'2026-11-20T08:00:00.000Z'"],
    ["it's!", "'it!'s!!'"],
    ['@timestamp', "'@timestamp'"],
    ['-x', "'-x'"],
    [42, '42'],
    [-1.5, '-1.5'],
    [true, '!t'],
    [false, '!f'],
    [null, '!n'],
    [[], '!()'],
    [['@timestamp', 'desc'], "!('@timestamp',desc)"],
    [{ time: { from: 'now-15m', to: 'now' } }, '(time:(from:now-15m,to:now))'],
    [{ query: { language: 'kuery', query: 'topic:"x" and version:"3"' } }, `(query:(language:kuery,query:'topic:"x" and version:"3"'))`],
  ])('%j <-> %s', (value, text) => {
    expect(rison(value)).toBe(text);
    expect(parseRison(text)).toEqual(value);
  });
});

describe('KQL of the consumers link', () => {
  it('quotes values and escapes quotes and backslashes', () => {
    expect(consumersKql('ip-reputation')).toBe('topic:"ip-reputation"');
    expect(consumersKql('ip-reputation', 3n)).toBe('topic:"ip-reputation" and version:"3"');
    expect(kqlQuoted('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe('kibanaConsumersLink', () => {
  it('is a Discover URL on the audit data view, filtered to topic and version, over the time range', () => {
    const url = kibanaConsumersLink({ kibanaUrl: 'https://kibana.example.com/s/trust/', topic: 'ip-reputation', version: '3', fromMs: FROM, toMs: TO });
    expect(url.startsWith('https://kibana.example.com/s/trust/app/discover#/?_g=(time:(from:')).toBe(true);
    const { base, g, a } = linkState(url);
    expect(base).toBe('https://kibana.example.com/s/trust/app/discover');
    expect(g).toEqual({ time: { from: '2026-11-20T08:00:00.000Z', to: '2026-11-20T10:30:00.000Z' } });
    expect(a).toMatchObject({
      index: KIBANA_DATA_VIEW_ID,
      query: { language: 'kuery', query: 'topic:"ip-reputation" and version:"3"' },
      sort: [['@timestamp', 'desc']],
    });
    // The standard form, readable in the address bar.
    expect(url).toContain("_g=(time:(from:'2026-11-20T08:00:00.000Z',to:'2026-11-20T10:30:00.000Z'))");
    expect(decodeURIComponent(url)).toContain(`query:(language:kuery,query:'topic:"ip-reputation" and version:"3"')`);
  });

  it('without a version it filters on the topic only', () => {
    const { a } = linkState(kibanaConsumersLink({ kibanaUrl: 'http://localhost:5601', topic: 't.v2_x', fromMs: FROM, toMs: TO }));
    expect(a).toMatchObject({ query: { language: 'kuery', query: 'topic:"t.v2_x"' } });
  });

  it('refuses bad input with the field named', () => {
    const base = { kibanaUrl: 'http://k', topic: 't', fromMs: FROM, toMs: TO };
    const err = (o: Parameters<typeof kibanaConsumersLink>[0]) => {
      try {
        kibanaConsumersLink(o);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidArgumentError);
        return (e as InvalidArgumentError).field;
      }
      throw new Error('no error');
    };
    expect(err({ ...base, kibanaUrl: 'kibana' })).toBe('kibanaUrl');
    expect(err({ ...base, topic: 'Bad Topic' })).toBe('topic');
    expect(err({ ...base, version: '3 or x' })).toBe('version');
    expect(err({ ...base, toMs: FROM - 1 })).toBe('toMs');
    expect(err({ ...base, fromMs: Number.NaN })).toBe('fromMs');
  });
});
