/** The subscriber's own guard: it never moves to an older version unless the answer says pinned. */
import { describe, expect, it } from 'vitest';
import { Subscriber, type BatchPollResult, type ConsumerApi, type UpdatedEvent } from '../../client/index.js';
import { recordDigest, sha256Hex, type VersionRecord } from '../../core/index.js';

function record(version: bigint, text: string): VersionRecord {
  const bytes = Buffer.from(text);
  const base = { topic: 'm', version, publishedAtMs: 1000 + Number(version), metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes } };
  return { ...base, scopes: [{}], digest: recordDigest(base) };
}

/** A consumer API whose next BatchPoll answer the test sets. */
class ScriptedApi implements ConsumerApi {
  next: Omit<BatchPollResult, 'topic'> = { pinned: false };
  async batchPoll(_id: unknown, cursors: readonly { topic: string }[]): Promise<BatchPollResult[]> {
    return cursors.map((c) => ({ topic: c.topic, ...this.next }));
  }
  async listVersions(): Promise<{ versions: VersionRecord[]; nextPageToken: string }> {
    return { versions: [], nextPageToken: '' };
  }
  async getVersion(): Promise<VersionRecord> {
    throw new Error('not used');
  }
  async latestAt(): Promise<VersionRecord | undefined> {
    return undefined;
  }
}

describe('Subscriber version guard (invariant 3, client side)', () => {
  it('ignores an older unpinned answer and follows an older pinned one', async () => {
    const api = new ScriptedApi();
    const subscriber = new Subscriber({ client: api, identity: { app: 'a', cluster: '', region: '', nodeId: '', labels: {} }, intervalMs: 60_000 });
    const sub = subscriber.subscribe('m', { decode: (b) => b.toString() });
    const events: UpdatedEvent<string>[] = [];
    sub.on('updated', (e: UpdatedEvent<string>) => events.push(e));

    api.next = { record: record(5n, 'five'), pinned: false };
    await subscriber.pollNow();
    expect(sub.version).toBe(5n);

    api.next = { record: record(3n, 'three'), pinned: false };
    await subscriber.pollNow();
    expect(sub.version).toBe(5n);
    expect(sub.current).toBe('five');

    api.next = { record: record(3n, 'three'), pinned: true };
    await subscriber.pollNow();
    expect(sub.version).toBe(3n);
    expect(sub.current).toBe('three');
    expect(events.map((e) => [e.version, e.pinned])).toEqual([
      [5n, false],
      [3n, true],
    ]);
    await subscriber.close();
  });
});
