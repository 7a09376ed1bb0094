/**
 * propagation: time from a publish until all N = 50 subscribers (the client library's
 * Subscriber in poll mode, one ImprintClient each, polling every 250 ms ± 10 %; bench/watch.ts
 * measures Watch) have swapped in the new version. Through a consume-role instance (its table
 * following the change feed every `--tail-ms`, the server's default 100 ms; its own SQLite
 * connection to the publishing server's data dir) and, as the baseline in the same run, through
 * the all-role server that reads the store on every poll. The consume role's cost is the tail:
 * at most tailMs more than the baseline.
 *
 *   tsx bench/propagation.ts [--subscribers 50] [--rounds 8] [--interval-ms 250] [--tail-ms 100]
 */
import fs from 'node:fs';
import { ImprintClient, Subscriber, type Subscription, type UpdatedEvent } from '../client/index.js';
import { sha256Hex, type DataPointer } from '../core/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { quantile, startConsumeServer } from './consume-server.js';
import { helpIfAsked, tempDir } from './util.js';

helpIfAsked(import.meta.url);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 1) throw new Error(`--${name} must be a number >= 1`);
  return v;
}

const N = arg('subscribers', 50);
const rounds = arg('rounds', 8);
const intervalMs = arg('interval-ms', 250);
const tailMs = arg('tail-ms', 100);
const ROUND_TIMEOUT_MS = 15_000;

const payload = (text: string): DataPointer => {
  const bytes = Buffer.from(text.padEnd(1024, '.'));
  return { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes };
};

const dir = tempDir();
const publishing = await startImprintServer({ dataDir: dir, port: 0, log: silentLogger });
const publisher = new ImprintClient({ address: `127.0.0.1:${publishing.port}` });
await publisher.createTopic({ name: 'prop' });
await publisher.publishPointer('prop', payload('v1'));
const consume = await startConsumeServer({ dataDir: dir, tailMs });

interface Measured {
  readonly all: number[];
  readonly first: number[];
}

/** Rounds of publish → every subscriber swapped, against the server at `address`. */
async function measure(address: string): Promise<Measured> {
  const fleet = Array.from({ length: N }, (_, i) => {
    const client = new ImprintClient({ address });
    const subscriber = new Subscriber({ client, identity: { app: 'prop', cluster: 'c1', region: 'us-east-1', nodeId: `node-${i}`, labels: {} }, mode: 'poll', intervalMs, jitter: 0.1, startupBudgetMs: 10_000 });
    const sub: Subscription<number> = subscriber.subscribe('prop', { decode: (b) => b.length });
    return { client, subscriber, sub };
  });
  await Promise.all(fleet.map((f) => f.sub.ready()));
  const out: Measured = { all: [], first: [] };
  for (let r = 0; r < rounds; r++) {
    // Start each round at a random phase of the poll and tail cycles.
    await new Promise((res) => setTimeout(res, Math.random() * Math.max(intervalMs, tailMs)));
    const target = (await publisher.getTopic('prop')).latestVersion + 1n;
    const t0 = performance.now();
    const swapped = fleet.map(
      (f) =>
        new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`round ${r}: a subscriber did not swap to v${target} within ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
          const onUpdated = (e: UpdatedEvent<number>) => {
            if (e.version !== target) return;
            clearTimeout(timer);
            f.sub.off('updated', onUpdated);
            resolve(performance.now() - t0);
          };
          f.sub.on('updated', onUpdated);
        }),
    );
    const record = await publisher.publishPointer('prop', payload(`v${target}`));
    if (record.version !== target) throw new Error(`expected to publish v${target}, got v${record.version}`);
    const times = (await Promise.all(swapped)).sort((a, b) => a - b);
    out.all.push(times[times.length - 1] ?? NaN);
    out.first.push(times[0] ?? NaN);
  }
  for (const f of fleet) {
    await f.subscriber.close();
    f.client.close();
  }
  return out;
}

const viaConsume = await measure(`127.0.0.1:${consume.port}`);
const viaAll = await measure(`127.0.0.1:${publishing.port}`);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const fmt = (m: Measured) => {
  const all = sorted(m.all);
  return `all ${N} swapped after p50 ${quantile(all, 0.5).toFixed(0)} ms, max ${(all[all.length - 1] ?? NaN).toFixed(0)} ms (first subscriber p50 ${quantile(sorted(m.first), 0.5).toFixed(0)} ms)`;
};
console.log(
  `propagation publish -> ${N} subscribers (poll every ${intervalMs} ms ± 10 %, ${rounds} rounds): consume-role (feed tail ${tailMs} ms) ${fmt(viaConsume)} | all-role (store read per poll) ${fmt(viaAll)} | p50 ratio ${(quantile(sorted(viaConsume.all), 0.5) / quantile(sorted(viaAll.all), 0.5)).toFixed(2)}x (bound: tail + interval × 1.1 = ${(tailMs + intervalMs * 1.1).toFixed(0)} ms, plus the fetch)`,
);
publisher.close();
await consume.stop();
await publishing.stop();
fs.rmSync(dir, { recursive: true, force: true });
