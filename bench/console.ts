/**
 * console: the time to a rendered topic page of the web console (GetCallerAccess,
 * DescribeTopic with the consumers aggregated, GetRollout, ListMoves, the first pages of
 * ListVersions and ListHistory, drawn by Preact and uPlot in headless Chromium) for a topic with
 * 10k versions and 100k consumer nodes (target < 1 s), against the same page for a topic with
 * 10 versions and 10 nodes, measured in the same run.
 *
 * Seeding, the cheapest honest way: the versions are published into the SQLite store directly
 * (the store's own publish, one transaction each); the consumers are hold events recorded
 * through the file audit sink's port (what the server's Holdings record when a node polls),
 * written to the file the server then opens: 100k nodes in 400 app/cluster/region groups, most
 * on the latest version, 10% on the one before (a move each). The page is then served by a real
 * all-role server over its HTTP port. Median of 5 loads (a fresh page each, assets cached as a
 * returning user has them), and the first, cold load. The page counts as drawn when its
 * sections are (consumers by group, versions, history, rollout); the chart (ListMoves, a read of
 * the audit files, asked once the page is drawn) is timed apart.
 */
import path from 'node:path';
import { sha256Hex } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { FileAuditSink, SqliteMetadataStore, startImprintServer } from '../server/index.js';
import { launchChromium } from '../scripts/chromium.js';
import { tempDir } from './util.js';

const TOPIC = 'fraud-model';

async function seed(dir: string, versions: number, nodes: number): Promise<void> {
  // 1. The versions.
  const store = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  await store.createTopic({ name: TOPIC, owner: 'trust-team', description: 'card fraud scores', retention: {} }, Date.now() - 86_400_000);
  for (let v = 1; v <= versions; v++) {
    const bytes = Buffer.from(`weights v${v}`);
    await store.publish({ topic: TOPIC, metadata: { run: String(v) }, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{}] }, Date.now() - (versions - v) * 1000);
  }
  await store.close();
  // 2. The consumers, through the audit sink's port.
  const sink = new FileAuditSink({ file: path.join(dir, 'audit', 'events.jsonl') });
  const latest = String(versions);
  const before = String(Math.max(1, versions - 1));
  const now = Date.now();
  for (let i = 0; i < nodes; i++) {
    const identity = { app: `app-${i % 20}`, cluster: `c${Math.floor(i / 20) % 5}`, region: ['eu-west-1', 'us-east-1', 'ap-south-1', 'sa-east-1'][Math.floor(i / 100) % 4] ?? '', nodeId: `n${i}`, labels: {} };
    const old = i % 10 === 0;
    sink.record({ kind: 'hold', atMs: now - 600_000 + (i % 1000), topic: TOPIC, identity, replica: 'bench', version: before, previous: '0', moved: true, pinned: false });
    if (!old) sink.record({ kind: 'hold', atMs: now - 300_000 + (i % 1000), topic: TOPIC, identity, replica: 'bench', version: latest, previous: before, moved: true, pinned: false });
    if (i % 5000 === 4999) await sink.flush();
  }
  await sink.close();
}

interface Times {
  /** The page drawn: about, pins, rollout, consumers by group, versions and history. */
  readonly page: number;
  /** And the chart of consumers per version (ListMoves, asked once the page is drawn). */
  readonly chart: number;
}

/** ms to the rendered page, and to its chart. */
async function renderTimes(url: string): Promise<{ cold: Times; median: Times }> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const times: Times[] = [];
    for (let i = 0; i < 6; i++) {
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(url);
      await page.waitForFunction(
        `['[data-testid="consumer-groups"] tbody tr', '[data-testid="versions"] tbody tr', '[data-testid="history"] tbody tr', '[data-testid="rollout-state"], #rollout'].every((s) => document.querySelector(s))`,
        undefined,
        { timeout: 60_000, polling: 'raf' },
      );
      const drawn = performance.now() - t0;
      await page.waitForSelector('.uplot', { timeout: 60_000 });
      times.push({ page: drawn, chart: performance.now() - t0 });
      await page.close();
    }
    const warm = times.slice(1);
    const med = (k: keyof Times) => warm.map((t) => t[k]).sort((a, b) => a - b)[Math.floor(warm.length / 2)] ?? NaN;
    return { cold: times[0] ?? { page: NaN, chart: NaN }, median: { page: med('page'), chart: med('chart') } };
  } finally {
    await browser.close();
  }
}

async function measure(versions: number, nodes: number): Promise<{ cold: Times; median: Times; seedMs: number }> {
  const dir = tempDir();
  const t0 = performance.now();
  await seed(dir, versions, nodes);
  const seedMs = performance.now() - t0;
  const server = await startImprintServer({ dataDir: dir, port: 0, httpPort: 0, log: silentLogger, rolloutDriver: 'off' });
  try {
    return { ...(await renderTimes(`http://127.0.0.1:${server.http?.port}/console/#/topics/${TOPIC}`)), seedMs };
  } finally {
    await server.stop({ drain: false });
  }
}

const base = await measure(10, 10);
const big = await measure(10_000, 100_000);
const ms = (n: number) => `${n.toFixed(0)} ms`;
console.log('console: time to a rendered topic page in headless Chromium (median of 5 warm loads; the cold first load)');
console.log(`  10 versions, 10 nodes          page ${ms(base.median.page)} (cold ${ms(base.cold.page)}), chart ${ms(base.median.chart)}`);
console.log(`  10k versions, 100k nodes       page ${ms(big.median.page)} (cold ${ms(big.cold.page)}), chart ${ms(big.median.chart)}  target: page < 1000 ms (seeded in ${(big.seedMs / 1000).toFixed(1)} s)`);
console.log(`  ratio                          page ${(big.median.page / base.median.page).toFixed(2)}x, chart ${(big.median.chart / base.median.chart).toFixed(2)}x the small topic's`);
