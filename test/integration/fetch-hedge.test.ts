/**
 * Payload fetches past a hung region, in the embedded suite: the closest "region" is a store
 * whose reads never answer (until aborted), the next a local directory. The real thing, a
 * SIGSTOPped MinIO, is test/backends/s3-hedged-reads.test.ts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalBlobStore, downloadPayload, fetchPayload, type BlobStat, type BlobStore, type GetOptions, type SlowRegionEvent } from '../../client/index.js';
import { sha256Hex, type BlobLocation, type VersionRecord } from '../../core/index.js';
import { tempDir } from '../helpers.js';

/** A region that takes connections and never answers: every read waits until it is aborted. */
class HungStore implements BlobStore {
  readonly name = 'local';
  readonly bucket = 'local';
  readonly aborted: string[] = [];
  constructor(readonly region: string) {}
  put(): Promise<BlobLocation> {
    return new Promise(() => {});
  }
  get(loc: BlobLocation, opts: GetOptions = {}): Promise<Readable> {
    const { signal } = opts;
    return new Promise((_, reject) =>
      signal?.addEventListener('abort', () => {
        this.aborted.push(loc.key);
        reject(signal.reason as Error);
      }),
    );
  }
  stat(): Promise<BlobStat> {
    return new Promise(() => {});
  }
  async delete(): Promise<void> {}
}

describe('fetch past a hung region', () => {
  const bytes = randomBytes(3 * 1024 * 1024);
  const key = 'model/v1';
  const setup = async () => {
    const hung = new HungStore('us-east-1');
    const west = new LocalBlobStore({ root: tempDir(), region: 'eu-west-1' });
    await west.put(key, Readable.from([bytes]));
    const record: VersionRecord = {
      topic: 'model',
      version: 1n,
      publishedAtMs: 0,
      metadata: {},
      scopes: [{}],
      digest: '',
      pointer: { kind: 'blob', size: bytes.length, sha256: sha256Hex(bytes), locations: [{ kind: 'file', region: 'us-east-1', bucket: 'local', key }, west.locationOf(key)] },
    };
    return { hung, west, record };
  };

  it('reads the next region after the hedge delay, verified, and aborts the hung read', async () => {
    const { hung, west, record } = await setup();
    const events: SlowRegionEvent[] = [];
    const got = await fetchPayload(record, [hung, west], { hedgeDelayMs: 50, onSlowRegion: (e) => events.push(e) });
    expect(got.equals(bytes)).toBe(true);
    expect(events).toEqual([{ region: 'us-east-1', outcome: 'hedged', afterMs: 50, what: 'model v1' }]);
    expect(hung.aborted).toEqual([key]);
  });

  it('a download leaves only the file: no partial file of any region read', async () => {
    const { hung, west, record } = await setup();
    const dir = tempDir();
    await downloadPayload(record, [hung, west], path.join(dir, 'out.bin'), { hedgeDelayMs: 50 });
    expect(fs.readdirSync(dir)).toEqual(['out.bin']);
    expect(fs.readFileSync(path.join(dir, 'out.bin')).equals(bytes)).toBe(true);
  });

  it('with hedging off, the hung region is abandoned after the first-byte timeout', async () => {
    const { hung, west, record } = await setup();
    const events: SlowRegionEvent[] = [];
    const got = await fetchPayload(record, [hung, west], { hedgeDelayMs: 60_000, firstByteTimeoutMs: 100, onSlowRegion: (e) => events.push(e) });
    expect(got.equals(bytes)).toBe(true);
    expect(events.map((e) => [e.region, e.outcome])).toEqual([['us-east-1', 'abandoned']]);
  });
});
