import { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';
import { ElasticsearchAuditSink, purgeAuditIndices, validateIndexPrefix } from '../../server/audit/elasticsearch.js';

/** The field an InvalidArgumentError names (fails the test when something else happens). */
function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return (e as InvalidArgumentError).field;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('ElasticsearchAuditSink options', () => {
  const node = 'http://127.0.0.1:9';
  it.each<[string, ConstructorParameters<typeof ElasticsearchAuditSink>[0], string]>([
    ['neither client nor node', {}, 'client'],
    ['both client and node', { node, client: new Client({ node }) }, 'client'],
    ['a bound of 0', { node, maxBuffered: 0 }, 'maxBuffered'],
    ['a batch larger than the bound', { node, maxBuffered: 100, batchSize: 101 }, 'batchSize'],
    ['a fractional interval', { node, flushIntervalMs: 1.5 }, 'flushIntervalMs'],
    ['an index prefix with a wildcard', { node, indexPrefix: 'audit-*' }, 'indexPrefix'],
    ['an upper-case index prefix', { node, indexPrefix: 'Audit' }, 'indexPrefix'],
    ['a retention of 0 days', { node, retentionDays: 0 }, 'retentionDays'],
    ['a probe interval of 0', { node, probeIntervalMs: 0 }, 'probeIntervalMs'],
  ])('refuses %s, naming the field', (_name, opts, field) => {
    expect(fieldOf(() => new ElasticsearchAuditSink(opts))).toBe(field);
  });

  it('accepts index prefixes Elasticsearch accepts', () => {
    expect(validateIndexPrefix('imprint-audit')).toBe('imprint-audit');
    expect(validateIndexPrefix('team.a_audit-2')).toBe('team.a_audit-2');
    expect(() => validateIndexPrefix('-x')).toThrow(InvalidArgumentError);
  });

  it('purge refuses a retention below one day before asking anything', async () => {
    const client = new Client({ node });
    await expect(purgeAuditIndices(client, { retentionDays: 0, nowMs: Date.now() })).rejects.toBeInstanceOf(InvalidArgumentError);
    await client.close();
  });
});
