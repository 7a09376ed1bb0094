/**
 * The AuditSink conformance suite on the Elasticsearch sink, against the real Elasticsearch
 * the `elasticsearch` project starts (IMPRINT_ELASTICSEARCH); each harness on an index prefix
 * of its own, removed after (indices and templates).
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll } from 'vitest';
import { ElasticsearchAuditSink, auditTemplateNames } from '../../server/audit/elasticsearch.js';
import { auditSinkConformance } from '../conformance/audit-sink.js';

let client: Client;

beforeAll(() => {
  const url = process.env['IMPRINT_ELASTICSEARCH'];
  if (!url) throw new Error('IMPRINT_ELASTICSEARCH is not set: run with `npx vitest run --project elasticsearch`');
  client = new Client({ node: url });
});

afterAll(async () => {
  await client?.close();
});

auditSinkConformance('elasticsearch', async () => {
  const prefix = `conf${randomBytes(4).toString('hex')}-audit`;
  // Bursts of a few thousand events (the first polls, a publish's moves): a buffer that holds them, big bulks.
  const sink = new ElasticsearchAuditSink({ client, indexPrefix: prefix, replicas: 0, maxBuffered: 100_000, batchSize: 5_000, flushIntervalMs: 50 });
  return {
    sink,
    async visible() {
      await client.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true });
    },
    async cleanup() {
      await sink.close();
      const names = auditTemplateNames(prefix);
      await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' });
      await client.indices.deleteIndexTemplate({ name: names.index });
      await client.cluster.deleteComponentTemplate({ name: [names.mappings, names.settings] });
    },
  };
});
