/**
 * A scorer-like consumer: subscribes to a model topic and keeps answering with whatever
 * model is current, through publishes, pins, unpins and outages.
 *
 *   npx tsx examples/scorer.ts [--address 127.0.0.1:50051] [--topic ip-reputation] [--blob-dir imprint-data/blobs]
 *
 * `--address` may list consume-role replicas (`127.0.0.1:50052,127.0.0.1:50053`): it keeps to
 * one, picked at random, and moves on past one that is down.
 *
 * The "model" is the published file's bytes; scoring hashes a request with it. A real scorer
 * would decode a model format in `decode` and reject a bad one by throwing there.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ImprintClient, LocalBlobStore, Subscriber, type RejectedEvent, type UpdatedEvent } from '../client/index.js';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: process.env.IMPRINT_ADDRESS ?? '127.0.0.1:50051' },
    topic: { type: 'string', default: 'ip-reputation' },
    'blob-dir': { type: 'string', default: 'imprint-data/blobs' },
    'interval-ms': { type: 'string', default: '2000' },
  },
});

interface Model {
  readonly version: bigint;
  readonly weights: Buffer;
}

// `app` names this application on every request: a consume instance throttles per application.
const client = new ImprintClient({ address: args.address, app: 'scorer' });
const subscriber = new Subscriber({
  client,
  identity: { app: 'scorer', cluster: 'example', region: 'local', nodeId: `scorer-${process.pid}`, labels: {} },
  blobStores: [new LocalBlobStore({ root: args['blob-dir'] })],
  intervalMs: Number(args['interval-ms']),
  startupBudgetMs: 10_000,
});

const model = subscriber.subscribe<Model>(args.topic, {
  decode: (bytes, record) => ({ version: record.version, weights: bytes }),
  defaultValue: { version: 0n, weights: Buffer.from('built-in fallback model') },
});
model.on('updated', (e: UpdatedEvent<Model>) => console.log(`model v${e.previous} -> v${e.version}${e.pinned ? ' (pinned by an operator)' : ''}`));
model.on('rejected', (e: RejectedEvent) => console.log(`model v${e.version} rejected at ${e.step}: ${e.reason}; still scoring with v${model.version}`));
subscriber.on('poll-failed', () => console.log(`service unreachable; still scoring with v${model.version}`));

await model.ready();
console.log(`ready with v${model.version}`);

/** One request scored with the model current at this instant (one read of `current`). */
function score(request: string): string {
  const m = model.current;
  if (!m) throw new Error('unreachable: a default value is set');
  return `${createHash('sha256').update(m.weights).update(request).digest('hex').slice(0, 8)} (v${m.version})`;
}

let requests = 0;
const timer = setInterval(() => {
  requests++;
  console.log(`score(mail-${requests}) = ${score(`mail-${requests}`)}`);
}, 1000);
const stop = () => {
  clearInterval(timer);
  void subscriber.close().then(() => client.close());
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
