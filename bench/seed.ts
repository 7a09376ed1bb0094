/**
 * The poll benches' common ground: one consumer identity and a data dir holding topic "bench"
 * with one 1000-byte direct version, what the consume, tls and rest benches poll.
 */
import path from 'node:path';
import { sha256Hex, type ConsumerIdentity } from '../core/index.js';
import { SqliteMetadataStore } from '../server/index.js';

export const BENCH_ID: ConsumerIdentity = { app: 'bench', cluster: 'c1', region: 'us-east-1', nodeId: 'n1', labels: {} };

/** Writes topic "bench" with v1 (1000 direct bytes) into `dir`'s SQLite store, and closes it. */
export async function seedPollTopic(dir: string): Promise<void> {
  const seed = SqliteMetadataStore.open({ file: path.join(dir, 'imprint.db') });
  await seed.createTopic({ name: 'bench', owner: 'bench', description: '', retention: {} }, Date.now());
  const bytes = Buffer.from('x'.repeat(1000));
  await seed.publish({ topic: 'bench', metadata: {}, pointer: { kind: 'direct', size: bytes.length, sha256: sha256Hex(bytes), bytes }, scopes: [{}] }, Date.now());
  await seed.close();
}
