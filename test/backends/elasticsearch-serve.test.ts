/** `imprint serve --audit elasticsearch` as the README says, and `topic consumers` answered from the index. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { backends, createContext, type RunningBackend } from '../../scripts/backends/index.js';
import { freePort } from '../../scripts/backends/launcher.js';
import { runCli, startServe, type ServeProcess } from '../cli-process.js';
import { identity, directPointer, tempDir } from '../helpers.js';

/** `imprint serve ARGS --metrics-port 0` on a free port, with its own data dir. */
async function serve(args: string[]): Promise<ServeProcess & { readonly metricsUrl: string }> {
  const s = await startServe(tempDir(), [...args, '--metrics-port', '0']);
  if (s.metricsUrl === undefined) throw new Error(`serve printed no metrics URL:\n${s.output()}`);
  return { ...s, metricsUrl: s.metricsUrl };
}

/** The value of one sample of a Prometheus text page (undefined: no such series). */
async function sample(metricsUrl: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('serve --audit elasticsearch', () => {
  let served: ServeProcess;
  let client: ImprintClient;

  beforeAll(async () => {
    const esUrl = process.env.IMPRINT_ELASTICSEARCH ?? '';
    expect(esUrl).toMatch(/^http/);
    served = await startServe(tempDir(), ['--audit', 'elasticsearch', '--es-url', esUrl]);
    client = new ImprintClient({ address: served.address });
  });
  afterAll(async () => {
    client?.close();
    await served?.stop();
  });

  it('says where audit goes', () => {
    expect(served.output()).toMatch(/audit\s+elasticsearch http:\/\/127\.0\.0\.1:\d+ \(imprint-audit-\*, 0 replicas, kept 30 days\)/);
  });

  it('indexes a hold event per node that moved or first polled, and topic consumers and moves answer from Elasticsearch', async () => {
    const topic = `es-${Date.now().toString(36)}`;
    await client.createTopic({ name: topic });
    await client.publishPointer(topic, directPointer('one'));
    await client.publishPointer(topic, directPointer('two'));
    for (const node of ['a', 'b', 'c']) await client.poll(topic, identity({ app: 'scorer', cluster: 'prod', nodeId: node }), 0n);
    await client.poll(topic, identity({ app: 'ranker', cluster: 'canary', nodeId: 'z' }), 2n);
    // Polling again without a change records nothing.
    for (const node of ['a', 'b', 'c']) await client.poll(topic, identity({ app: 'scorer', cluster: 'prod', nodeId: node }), 2n);
    // Events reach the index within a flush interval and a refresh; wait for them, bounded.
    let stdout = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      stdout = (await runCli(['--address', served.address, 'topic', 'consumers', topic, '--since', '1h'])).stdout;
      if (/4 nodes seen/.test(stdout)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(stdout).toMatch(/4 nodes seen since .* \(4 still polling\)/);
    expect(stdout).toMatch(/scorer\/prod\/-\s+3 nodes\s+v2: 3/);
    expect(stdout).toMatch(/ranker\/canary\/-\s+1 nodes\s+v2: 1/);
    const esUrl = process.env.IMPRINT_ELASTICSEARCH ?? '';
    await fetch(`${esUrl}/imprint-audit-*/_refresh`, { method: 'POST' });
    const docs = (await (
      await fetch(`${esUrl}/imprint-audit-*/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ size: 100, query: { term: { topic } } }),
      })
    ).json()) as { hits: { hits: Array<{ _source: { kind: string; node_id: string; version: string; previous: string; moved: boolean } }> } };
    expect(docs.hits.hits.map((h) => h._source).map((d) => `${d.kind} ${d.node_id} ${d.previous}->${d.version}${d.moved ? ' moved' : ''}`).sort()).toEqual([
      'hold a 0->2 moved',
      'hold b 0->2 moved',
      'hold c 0->2 moved',
      'hold z 2->2',
    ]);
    const moves = (await runCli(['--address', served.address, 'topic', 'moves', topic, '--since', '1h'])).stdout;
    expect(moves.split('\n').filter((l) => /scorer\/prod\/-?\/[abc]\s+first -> v2/.test(l))).toHaveLength(3);
    expect(moves).not.toMatch(/\/z\s/);
  });

  it('janitor --once ignores the deprecated --es-url and --audit-retention-days with a warning, and leaves audit indices to the retention of serve', async () => {
    const esUrl = process.env.IMPRINT_ELASTICSEARCH ?? '';
    const old = 'imprint-audit-2020.01.02';
    expect((await fetch(`${esUrl}/${old}`, { method: 'PUT' })).status).toBe(200);
    try {
      const r = await runCli(['--data-dir', tempDir(), 'janitor', '--once', '--es-url', esUrl, '--audit-retention-days', '30']);
      expect(r.stderr).toContain('are ignored by the janitor');
      expect(r.stdout).not.toMatch(/audit/);
      expect((await fetch(`${esUrl}/${old}`, { method: 'HEAD' })).status).toBe(200);
    } finally {
      await fetch(`${esUrl}/${old}`, { method: 'DELETE' });
    }
  });
});

describe('serve --audit elasticsearch --metrics-port, with Elasticsearch down, then back', () => {
  let es: RunningBackend | undefined;
  const servers: ServeProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await es?.stop();
  });

  it("serves the audit sink's counters on /metrics in every role, drops included, and notices Elasticsearch back within seconds", async () => {
    const esPort = await freePort(); // nothing listens there yet: Elasticsearch is down
    const esUrl = `http://127.0.0.1:${esPort}`;
    const dropped = 'imprint_audit_events_dropped_total{sink="elasticsearch",reason="buffer_full"}';

    // Every role: the series are there from the start.
    const publish = await serve(['--role', 'publish', '--audit', 'elasticsearch', '--es-url', esUrl]);
    servers.push(publish);
    expect(await sample(publish.metricsUrl, dropped)).toBe(0);
    expect(await sample(publish.metricsUrl, 'imprint_audit_buffer_capacity_events{sink="elasticsearch"}')).toBe(20_000);

    // More audit events than the buffer holds (20 000): 410 nodes polling 50 topics each for the first time are 20 500 hold events; what overflows is dropped and counted.
    const all = await serve(['--audit', 'elasticsearch', '--es-url', esUrl]);
    servers.push(all);
    const client = new ImprintClient({ address: all.address, app: 'metrics-test' });
    try {
      const topics = Array.from({ length: 50 }, (_, i) => `t${i}`);
      for (const t of topics) await client.createTopic({ name: t });
      for (let i = 0; i < 410; i++) await client.batchPoll(identity({ app: 'metrics-test', nodeId: `n${i}` }), topics.map((topic) => ({ topic, lastSeen: 0n })));
    } finally {
      client.close();
    }
    expect(await sample(all.metricsUrl, 'imprint_audit_buffered_events{sink="elasticsearch"}')).toBe(20_000);
    expect(await sample(all.metricsUrl, dropped)).toBeGreaterThanOrEqual(50 * 410 - 20_000);
    expect(await sample(all.metricsUrl, 'imprint_audit_events_written_total{sink="elasticsearch"}')).toBe(0);

    // Elasticsearch comes back on its port: the sink sees it within seconds and sends what it holds.
    es = await backends.elasticsearch.start(createContext({ log: () => undefined }), { port: esPort });
    const back = performance.now();
    while (!all.output().includes('audit: elasticsearch available again')) {
      if (performance.now() - back > 15_000) throw new Error(`the sink did not notice Elasticsearch back within 15 s:\n${all.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const noticedMs = performance.now() - back;
    process.stderr.write(`[audit] serve noticed Elasticsearch back ${Math.round(noticedMs)} ms after it was ready\n`);
    expect(noticedMs).toBeLessThan(5_000);
    const deadline = Date.now() + 30_000;
    while ((await sample(all.metricsUrl, 'imprint_audit_events_written_total{sink="elasticsearch"}')) !== 20_000) {
      if (Date.now() > deadline) throw new Error('the buffered events were not written within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});
