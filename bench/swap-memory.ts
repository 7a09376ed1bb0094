/**
 * Peak memory while a subscriber swaps in a 256 MiB payload, as a multiple of the payload.
 * The subscriber must hold the whole new value (decode gets the bytes), so about 1x for the
 * first load and 2x while the old value is still referenced is the floor.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImprintClient, LocalBlobStore, Publisher, Subscriber, type UpdatedEvent } from '../client/index.js';
import { silentLogger } from '../log/index.js';
import { startImprintServer } from '../server/index.js';
import { tempDir } from './util.js';

const SIZE = 256 * 1024 * 1024;
const MiB = 1024 * 1024;

const dir = tempDir();
const store = new LocalBlobStore({ root: path.join(dir, 'blobs') });
// The server checks publishes' objects in the store the publisher writes to.
const server = await startImprintServer({ dataDir: path.join(dir, 'data'), port: 0, log: silentLogger, blobStores: [store] });
const client = new ImprintClient({ address: `127.0.0.1:${server.port}`, deadlineMs: 60_000 });
await client.createTopic({ name: 'big' });

// Write the payloads to files in 16 MiB pieces so the publisher streams them.
const files = [1, 2].map((n) => {
  const f = path.join(dir, `model-${n}.bin`);
  const fd = fs.openSync(f, 'w');
  for (let off = 0; off < SIZE; off += 16 * MiB) fs.writeSync(fd, randomBytes(16 * MiB));
  fs.closeSync(fd);
  return f;
});
const publisher = new Publisher({ client, blobStores: [store] });

let peak = 0;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);

global.gc?.();
const base = process.memoryUsage().rss;
peak = base;
await publisher.publish('big', { path: files[0] as string });
const publishPeak = peak - base;

const subscriber = new Subscriber({ client, identity: { app: 'bench', cluster: '', region: '', nodeId: '', labels: {} }, blobStores: [store], intervalMs: 60_000 });
const sub = subscriber.subscribe('big', { decode: (b) => b });
const beforeFirst = process.memoryUsage().rss;
peak = beforeFirst;
await sub.ready();
const firstPeak = peak - beforeFirst;

const second = new Promise<UpdatedEvent<Buffer>>((resolve) => sub.once('updated', resolve));
await publisher.publish('big', { path: files[1] as string });
const beforeSecond = process.memoryUsage().rss;
peak = beforeSecond;
await subscriber.pollNow();
await second;
const secondPeak = peak - beforeSecond + SIZE; // the old value was already resident

clearInterval(sample);
const x = (b: number) => `${(b / MiB).toFixed(0)} MiB (${(b / SIZE).toFixed(2)}x)`;
console.log(`swap-memory publish 256 MiB file (streamed): peak RSS growth ${x(publishPeak)}`);
console.log(`swap-memory first load of 256 MiB: peak RSS growth ${x(firstPeak)}`);
const bound = 2 * SIZE + 32 * MiB;
console.log(`swap-memory swap to a second 256 MiB version (old one held): peak resident for both ${x(secondPeak)}; bound 2x + 32 MiB = ${(bound / MiB).toFixed(0)} MiB: ${secondPeak <= bound ? 'kept' : 'EXCEEDED'}`);
await subscriber.close();
client.close();
await server.stop();
fs.rmSync(dir, { recursive: true, force: true });
