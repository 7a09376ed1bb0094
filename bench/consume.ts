/**
 * consume: Polls/s of a consume-role instance (answers from the poll table, with the limiter,
 * metrics and file audit on) vs an empty grpc-js unary handler, and vs the all-role server
 * (one store read per poll), measured in one process and one run like poll-path: 32 in
 * flight, no update, median of 3 x 2 s. Target: >= 0.8x the empty handler.
 */
import { ImprintClient } from '../client/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { counterValue, emptyConsumerServer, startConsumeServer, throughput } from './consume-server.js';
import { BENCH_ID, seedPollTopic } from './seed.js';
import { tempDir } from './util.js';
import fs from 'node:fs';

const id = BENCH_ID;
const dir = tempDir();
await seedPollTopic(dir);

const consume = await startConsumeServer({ dataDir: dir });
const all = await startImprintServer({ dataDir: dir, port: 0, log: silentLogger });
const empty = await emptyConsumerServer();
const clients = {
  consume: new ImprintClient({ address: `127.0.0.1:${consume.port}` }),
  all: new ImprintClient({ address: `127.0.0.1:${all.port}` }),
  empty: new ImprintClient({ address: `127.0.0.1:${empty.port}` }),
};
const poll = (c: ImprintClient) => () => c.poll('bench', id, 1n);
for (const c of Object.values(clients)) await throughput(poll(c), 32, 500);
const rounds: { consume: number; all: number; empty: number }[] = [];
for (let i = 0; i < 3; i++) {
  const empty1 = await throughput(poll(clients.empty), 32, 2000);
  const consume1 = await throughput(poll(clients.consume), 32, 2000);
  const all1 = await throughput(poll(clients.all), 32, 2000);
  rounds.push({ consume: consume1, all: all1, empty: empty1 });
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;
const c = med(rounds.map((r) => r.consume));
const a = med(rounds.map((r) => r.all));
const e = med(rounds.map((r) => r.empty));
const throttled = await counterValue(consume.metrics, 'imprint_consume_throttled_total');
const storeReads = consume.table.stats().storeReads;
console.log(
  `consume     consume-role ${c.toFixed(0)} polls/s | all-role ${a.toFixed(0)} polls/s | empty grpc-js handler ${e.toFixed(0)} calls/s | ratio ${(c / e).toFixed(2)}x (target >= 0.80x; all-role ${(a / e).toFixed(2)}x)  (32 in flight, median of 3 x 2 s; throttled ${throttled}; pollState reads ${storeReads.pollState} for ${consume.table.stats().hits} table hits)`,
);
for (const cl of Object.values(clients)) cl.close();
empty.stop();
await all.stop();
await consume.stop();
fs.rmSync(dir, { recursive: true, force: true });
