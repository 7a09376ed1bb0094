/**
 * Issue 14, "Backends": the audit sink and `imprint serve` against an Elasticsearch with
 * xpack.security on (TLS on HTTP with a CA made at start, logins required), which this file
 * starts (the project's shared Elasticsearch runs without security). The sink runs the AuditSink
 * conformance suite as a user holding only the role it needs (scripts/backends ES_AUDIT_ROLE);
 * wrong or missing credentials and a missing CA fail with what failed, never with the secret.
 *
 * API keys cannot be made on this distribution (scripts/backends/elasticsearch.ts says why):
 * an API key is shown to reach Elasticsearch and be refused as one, not to be accepted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { createLogger } from '../../log/index.js';
import { ElasticsearchAuditSink, auditTemplateNames, type ElasticsearchAuditSinkOptions } from '../../server/audit/elasticsearch.js';
import { ES_AUDIT_ROLE, backends, createContext, type BackendSecurity, type RunningBackend } from '../../scripts/backends/index.js';
import { auditSinkConformance } from '../conformance/audit-sink.js';
import { runCli, startServe, type ServeProcess } from '../cli-process.js';
import { directPointer, identity, tempDir, until } from '../helpers.js';

const ctx = createContext();
let es: RunningBackend;
let sec: BackendSecurity;
let ca: Buffer;
/** A superuser client, for checks and clean-up. */
let admin: Client;

beforeAll(async () => {
  const t0 = Date.now();
  es = await backends.elasticsearch.start(ctx, { secure: true });
  ctx.log(`elasticsearch-security: a secure Elasticsearch started in ${Date.now() - t0} ms`);
  if (!es.security) throw new Error('started with secure but no security handle');
  sec = es.security;
  ca = fs.readFileSync(sec.caFile);
  admin = new Client({ node: es.endpoint, auth: { username: sec.username, password: sec.password }, tls: { ca } });
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await es?.stop();
});

/** The user with only the audit sink's role, and its password. */
const auditUser = (): { username: string; password: string } => ({ username: 'imprint', password: sec.users['imprint'] ?? '' });

describe('Elasticsearch with xpack.security: TLS with a CA, and a user with only the audit role', () => {
  it('the test server refuses what it should (so the passes below mean something)', async () => {
    const none = new Client({ node: es.endpoint, tls: { ca }, maxRetries: 0 });
    await expect(none.cluster.health()).rejects.toMatchObject({ statusCode: 401 });
    await none.close();
    const restricted = new Client({ node: es.endpoint, auth: auditUser(), tls: { ca }, maxRetries: 0 });
    await expect(restricted.indices.create({ index: 'not-audit' })).rejects.toMatchObject({ statusCode: 403 });
    await restricted.close();
    expect(ES_AUDIT_ROLE.indices[0]?.names).toEqual(['imprint-audit-*']);
  });
});

// The conformance suite, as the sink's least-privileged user, over TLS with the CA.
auditSinkConformance('elasticsearch with security (basic auth as the audit role, TLS with a CA)', async () => {
  const prefix = `imprint-audit-sec${randomBytes(4).toString('hex')}`;
  const sink = new ElasticsearchAuditSink({ node: es.endpoint, auth: auditUser(), ca, indexPrefix: prefix, replicas: 0, maxBuffered: 100_000, batchSize: 5_000, flushIntervalMs: 50 });
  return {
    sink,
    async visible() {
      await admin.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true });
    },
    async cleanup() {
      await sink.close();
      const names = auditTemplateNames(prefix);
      await admin.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' });
      await admin.indices.deleteIndexTemplate({ name: names.index });
      await admin.cluster.deleteComponentTemplate({ name: [names.mappings, names.settings] });
    },
  };
});

describe('wrong or missing credentials, a missing CA: the sink says what failed, never the secret', () => {
  const WRONG = 'wrong-password-never-printed';
  const cases: Array<{ name: string; opts: () => Partial<ElasticsearchAuditSinkOptions>; says: RegExp }> = [
    { name: 'a wrong password', opts: () => ({ auth: { username: 'imprint', password: WRONG }, ca }), says: /HTTP 401: unable to authenticate user \[imprint\]/ },
    { name: 'no credentials', opts: () => ({ ca }), says: /HTTP 401: missing authentication credentials/ },
    { name: 'an API key Elasticsearch does not know', opts: () => ({ auth: { apiKey: Buffer.from(`id:${WRONG}`).toString('base64') }, ca }), says: /HTTP 401: unable to authenticate with provided credentials/ },
    { name: 'no CA (TLS cannot verify the server)', opts: () => ({ auth: { username: 'imprint', password: WRONG } }), says: /ConnectionError: unable to verify the first certificate/ },
  ];
  for (const c of cases) {
    it(`${c.name}: "elasticsearch unavailable" naming the reason`, async () => {
      const lines: string[] = [];
      const log = createLogger({ level: 'debug', format: 'json', destination: { write: (l) => lines.push(l) } });
      const sink = new ElasticsearchAuditSink({ node: es.endpoint, indexPrefix: `imprint-audit-bad${randomBytes(3).toString('hex')}`, log, ...c.opts() });
      try {
        await until('a line saying Elasticsearch is unavailable', () => lines.some((l) => l.includes('audit: elasticsearch unavailable')), 60_000);
      } finally {
        await sink.close();
      }
      const text = lines.join('');
      expect(text).toMatch(c.says);
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain(Buffer.from(`id:${WRONG}`).toString('base64'));
      expect(sink.stats().unavailable).toBe(true);
    });
  }
});

describe('imprint serve --audit elasticsearch with --es-username, --es-password-file, --es-ca', () => {
  let served: ServeProcess | undefined;
  afterAll(async () => {
    await served?.stop();
  });

  it('serves, says who it is to Elasticsearch (not the password), and the polls reach the index', async () => {
    const dir = tempDir();
    const pwFile = path.join(dir, 'es-password');
    fs.writeFileSync(pwFile, `${sec.password}\n`, { mode: 0o600 });
    // --log-level debug: every line the server writes is searched for the password.
    served = await startServe(tempDir(), ['--audit', 'elasticsearch', '--es-url', es.endpoint, '--es-username', sec.username, '--es-password-file', pwFile, '--es-ca', sec.caFile, '--log-level', 'debug']);
    expect(served.output()).toContain(`audit     elasticsearch ${es.endpoint} (user ${sec.username}, CA ${sec.caFile}; imprint-audit-*`);
    const client = new ImprintClient({ address: served.address });
    try {
      await client.createTopic({ name: 'secure-audit' });
      await client.publishPointer('secure-audit', directPointer('v1'));
      await client.poll('secure-audit', identity({ nodeId: 'n1' }), 0n);
      let stdout = '';
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !/1 nodes? seen/.test(stdout)) {
        stdout = (await runCli(['--address', served.address, 'topic', 'consumers', 'secure-audit', '--since', '1h'])).stdout;
        if (!/1 nodes? seen/.test(stdout)) await new Promise((r) => setTimeout(r, 500));
      }
      expect(stdout).toMatch(/1 nodes? seen/);
    } finally {
      client.close();
    }
    expect(await served.stop()).toBe(0);
    expect(served.output()).not.toContain(sec.password);
    served = undefined;
  });

  it('a wrong password in IMPRINT_ES_PASSWORD: serves (audit never blocks), logs the 401 with the user, never the password', async () => {
    const WRONG = 'wrong-env-password-never-printed';
    served = await startServe(tempDir(), ['--audit', 'elasticsearch', '--es-url', es.endpoint, '--es-username', 'imprint', '--es-ca', sec.caFile, '--log-level', 'debug'], { IMPRINT_ES_PASSWORD: WRONG });
    const s = served;
    // A JSON line (stderr is no terminal): the fields, then the message.
    await until('the 401 in the log', () => s.output().split('\n').some((l) => l.includes('audit: elasticsearch unavailable') && /HTTP 401: unable to authenticate user \[imprint\]/.test(l)), 60_000);
    expect(await s.stop()).toBe(0);
    expect(s.output()).not.toContain(WRONG);
    served = undefined;
  });
});
