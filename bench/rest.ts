/**
 * rest: Polls/s over the REST/JSON API vs over gRPC, on the same consume-role instance (poll
 * table, limiter, metrics, file audit), the same topic and identity: 32 in flight (REST: 32
 * kept-alive HTTP/1.1 connections; gRPC: one HTTP/2 channel, as the client uses), no update
 * (the consumer holds the latest, the common answer), the answer parsed as a client would
 * (JSON.parse; the gRPC client decodes its message), median of 3 x 2 s. No target: the ratio
 * says what a caller without a gRPC stack gives up.
 */
import http from 'node:http';
import path from 'node:path';
import { ImprintClient } from '../client/index.js';
import { silentLogger } from '../log/index.js';
import { FileAuditSink, startImprintServer } from '../server/index.js';
import { counterValue } from './consume-server.js';
import { BENCH_ID, seedPollTopic } from './seed.js';
import { tempDir, throughput } from './util.js';

const id = BENCH_ID;
const dir = tempDir();
await seedPollTopic(dir);

const audit = new FileAuditSink({ file: path.join(dir, 'consume-audit', 'events.jsonl') });
const server = await startImprintServer({ role: 'consume', dataDir: dir, port: 0, httpPort: 0, log: silentLogger, auditSink: audit, metricsPort: 0 });
const client = new ImprintClient({ address: `127.0.0.1:${server.port}` });
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const body = JSON.stringify({ topic: 'bench', identity: id, lastSeenVersion: '1' });
const restPoll = () =>
  new Promise<unknown>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.http?.port, path: '/v1/consumer/Poll', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`REST Poll answered ${res.statusCode}: ${text}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
const grpcPoll = () => client.poll('bench', id, 1n);

// Both answer the same: no update.
const check = (await restPoll()) as { update?: unknown };
if (check.update !== undefined) throw new Error('the REST poll was answered an update');
if ((await grpcPoll()).record) throw new Error('the gRPC poll was answered an update');
await throughput(restPoll, 32, 500);
await throughput(grpcPoll, 32, 500);
const rounds: { rest: number; grpc: number }[] = [];
for (let i = 0; i < 3; i++) rounds.push({ grpc: await throughput(grpcPoll, 32, 2000), rest: await throughput(restPoll, 32, 2000) });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? NaN;
const r = med(rounds.map((x) => x.rest));
const g = med(rounds.map((x) => x.grpc));
const throttled = server.metrics ? await counterValue(server.metrics, 'imprint_consume_throttled_total') : NaN;
console.log(`rest        REST Poll ${r.toFixed(0)} polls/s | gRPC Poll ${g.toFixed(0)} polls/s | ratio ${(r / g).toFixed(2)}x  (consume role, same instance, 32 in flight, median of 3 x 2 s; throttled ${throttled})`);
agent.destroy();
client.close();
await server.stop();
await audit.close();
