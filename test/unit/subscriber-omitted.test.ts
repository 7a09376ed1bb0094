/**
 * The swap cycle of a record a BatchPoll announced without its direct bytes (direct_omitted):
 * read whole with GetVersion, which must be the record announced, then verified like any payload.
 */
import { describe, expect, it } from 'vitest';
import { Subscriber, type BatchPollResult, type ConsumerApi, type RejectedEvent } from '../../client/index.js';
import { recordDigest, sha256Hex, type VersionRecord } from '../../core/index.js';

function record(version: bigint, text: string, over: { bytes?: Buffer } = {}): VersionRecord {
  const bytes = Buffer.from(text);
  const base = { topic: 'm', version, publishedAtMs: 1000 + Number(version), metadata: {}, pointer: { kind: 'direct' as const, size: bytes.length, sha256: sha256Hex(bytes), bytes: over.bytes ?? bytes } };
  return { ...base, scopes: [{}], digest: recordDigest(base) };
}

/** As ImprintClient.batchPoll hands it over: the pointer's size and sha256, no bytes. */
function announced(r: VersionRecord): VersionRecord {
  return { ...r, pointer: { ...r.pointer, bytes: new Uint8Array(0) } as VersionRecord['pointer'] };
}

/** Announces `v2` without its bytes; GetVersion answers `whole`. */
class OmittingApi implements ConsumerApi {
  readonly asked: bigint[] = [];
  constructor(
    private readonly v2: VersionRecord,
    private readonly whole: VersionRecord,
  ) {}
  async batchPoll(_id: unknown, cursors: readonly { topic: string }[]): Promise<BatchPollResult[]> {
    return cursors.map((c) => ({ topic: c.topic, record: announced(this.v2), pinned: false, directOmitted: true }));
  }
  async listVersions(): Promise<{ versions: VersionRecord[]; nextPageToken: string }> {
    return { versions: [], nextPageToken: '' };
  }
  async getVersion(_topic: string, version: bigint): Promise<VersionRecord> {
    this.asked.push(version);
    return this.whole;
  }
  async latestAt(): Promise<VersionRecord | undefined> {
    return undefined;
  }
}

async function run(api: OmittingApi) {
  const subscriber = new Subscriber({ client: api, identity: { app: 'a', cluster: '', region: '', nodeId: '', labels: {} }, intervalMs: 60_000, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 } });
  const rejected: RejectedEvent[] = [];
  subscriber.on('rejected', (e: RejectedEvent) => rejected.push(e));
  const sub = subscriber.subscribe('m', { decode: (b) => b.toString(), defaultValue: 'default' });
  await subscriber.pollNow();
  await subscriber.close();
  return { sub, rejected };
}

describe('Subscriber: records announced without their direct bytes', () => {
  it('reads the record with GetVersion and swaps it in, verified', async () => {
    const v2 = record(2n, 'two');
    const api = new OmittingApi(v2, v2);
    const { sub, rejected } = await run(api);
    expect(api.asked).toEqual([2n]);
    expect(sub.current).toBe('two');
    expect(sub.currentRecord?.pointer.kind === 'direct' && Buffer.from(sub.currentRecord.pointer.bytes).toString()).toBe('two');
    expect(rejected).toEqual([]);
  });

  it.each([
    ['another record than the one announced', record(2n, 'deux'), 'read with GetVersion is not the record the poll announced'],
    ['the announced record with other bytes', record(2n, 'two', { bytes: Buffer.from('twx') }), 'does not match its pointer'],
  ])('rejects %s at the verify step and keeps the current value', async (_what, whole, reason) => {
    const { sub, rejected } = await run(new OmittingApi(record(2n, 'two'), whole));
    expect(sub.current).toBe('default');
    expect(sub.version).toBe(0n);
    expect(rejected.map((e) => e.step)).toEqual(['verify']);
    expect(rejected[0]?.reason).toContain(reason);
  });
});
