/**
 * The consume role's per-BatchPoll codec and transport, piece by piece (issue 13: every µs the
 * server's one thread spends per call is queueing at fleet load). Each piece of a 7-topic
 * BatchPoll (the fleet's shape) in ns per call against proto-loader's codec in the same run, then
 * the fast lane's whole call (HTTP/2 stream, request log, codec; an empty poll) in µs of the
 * server's CPU per call, a client process keeping 32 calls in flight.
 *
 *   npm run bench -- codec      (about 15 s)
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../log/index.js';
import { loadImprintProto } from '../proto/loader.js';
import { builtServer } from './util.js';

const { addFastLane, answeredResult, batchPollFromWire, decodeBatchPollRequest, encodeBatchPollResponse, fitToBudget, loggedUnary } = await builtServer();

type Codec = { requestSerialize(x: unknown): Buffer; requestDeserialize(b: Buffer): unknown; responseSerialize(x: unknown): Buffer };
const BatchPoll = (loadImprintProto().def['imprint.v1.ConsumerService'] as unknown as Record<'BatchPoll', Codec & { path: string }>).BatchPoll;

const topics = Array.from({ length: 7 }, (_, i) => `t0${100 + i * 37}`);
const wireRequest = { identity: { app: 'app-3', cluster: 'cluster-7', region: 'eu-west-1', nodeId: 'node-12345', labels: {} }, topics: topics.map((t, i) => ({ topic: t, lastSeenVersion: String(1 + i * 5) })) };
const requestBytes = BatchPoll.requestSerialize(wireRequest);
// Nothing new for any topic (the fleet's usual answer): max staleness only.
const results = topics.map((t) => answeredResult(t, { pinned: false, maxStalenessMs: 600_000 }));

/** ns per call of `f`, the best of 5 rounds of `n` (the least disturbed by the other load). */
function ns(n: number, f: () => unknown): number {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += f() === undefined ? 0 : 1;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  if (sink < 0) console.log(sink);
  return best;
}

const decoded = decodeBatchPollRequest(requestBytes);
const N = 50_000;
const rows: [string, number, number | undefined][] = [
  ['decode request', ns(N, () => decodeBatchPollRequest(requestBytes)), ns(N / 4, () => BatchPoll.requestDeserialize(requestBytes))],
  ['batchPollFromWire', ns(N, () => batchPollFromWire(decoded, 500)), undefined],
  ['fitToBudget', ns(N, () => fitToBudget(results, 4 * 1024 * 1024)), undefined],
  ['encode response', ns(N, () => encodeBatchPollResponse({ results })), ns(N / 4, () => BatchPoll.responseSerialize({ results }))],
];
for (const [what, ours, theirs] of rows) console.log(`codec       ${what.padEnd(18)} ${ours.toFixed(0).padStart(5)} ns${theirs === undefined ? '' : ` | proto-loader ${theirs.toFixed(0)} ns | ratio ${(ours / theirs).toFixed(2)}x`}  (7 topics, best of 5)`);

// The whole call on the fast lane: an empty poll through the request log and the codec.
const server = new grpc.Server();
const handler = loggedUnary('BatchPoll', silentLogger, (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
  const { cursors } = batchPollFromWire(call.request as typeof decoded, 500);
  cb(null, { results: fitToBudget(cursors.map((c) => answeredResult(c.topic, { pinned: false, maxStalenessMs: 600_000 })), 4 * 1024 * 1024) });
});
addFastLane(server, [{ path: BatchPoll.path, kind: 'unary', deserialize: decodeBatchPollRequest, serialize: encodeBatchPollResponse as (m: unknown) => Buffer, handler: handler as grpc.handleUnaryCall<unknown, unknown> }], { maxReceiveBytes: 8 * 1024 * 1024 });
const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));

const frame = Buffer.alloc(5 + requestBytes.length);
frame.writeUInt32BE(requestBytes.length, 1);
requestBytes.copy(frame, 5);
// The client is a process of its own, so the server's CPU time (process.cpuUsage: its thread,
// GC and Node's HTTP/2) is all the call's: less disturbed by the machine's other load than
// wall-clock time.
const client = `
const http2 = require('node:http2');
const session = http2.connect('http://127.0.0.1:' + process.argv[1]);
const frame = Buffer.from(process.argv[2], 'base64');
process.on('message', (ms) => {
  let done = 0, failed = 0, open = 0;
  const stopAt = Date.now() + ms;
  const one = () => {
    const s = session.request({ ':method': 'POST', ':path': process.argv[3], 'content-type': 'application/grpc', te: 'trailers' });
    s.on('trailers', (t) => { if (t['grpc-status'] !== '0') failed++; });
    s.on('data', () => {});
    s.on('close', () => { done++; if (Date.now() < stopAt) one(); else if (--open === 0) process.send({ done, failed }); });
    s.end(frame);
  };
  for (open = 0; open < 32; open++) one();
});
`;
const child = spawn(process.execPath, ['-e', client, String(port), frame.toString('base64'), BatchPoll.path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
async function run(ms: number): Promise<{ usPerCall: number; perS: number; failed: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  child.send(ms);
  const r = await new Promise<{ done: number; failed: number }>((res) => child.once('message', (m) => res(m as { done: number; failed: number })));
  const cpu = process.cpuUsage(cpu0);
  return { usPerCall: (cpu.user + cpu.system) / r.done, perS: r.done / ((performance.now() - t0) / 1000), failed: r.failed };
}
await run(1000); // warm-up
const lane = [await run(2000), await run(2000), await run(2000)].sort((a, b) => a.usPerCall - b.usPerCall)[1] as { usPerCall: number; perS: number; failed: number };
console.log(`codec       fast-lane call     ${lane.usPerCall.toFixed(1)} µs of server CPU per BatchPoll (7 topics, an empty poll, request log, HTTP/2) | ${lane.perS.toFixed(0)} calls/s${lane.failed ? ` | ${lane.failed} FAILED` : ''}  (32 in flight from another process, median of 3 x 2 s)`);
child.kill();
server.forceShutdown();
