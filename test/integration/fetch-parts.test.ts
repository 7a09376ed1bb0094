/**
 * Payloads read in ranged parts (client/parts.ts) from local directory stores: exactly the
 * bytes whatever the sizes, one sha256 over the whole however the parts arrive, a bad copy
 * rejected with nothing kept, a failing or aborted read stopping every part and freeing its
 * buffer, and the options checked before anything is read. The same against real MinIO, with
 * hung regions, is test/backends/s3-hedged-reads.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  LocalBlobStore,
  PayloadUnavailableError,
  Publisher,
  downloadPayload,
  fetchPayload,
  type BlobStat,
  type BlobStore,
  type ByteRange,
  type FetchOptions,
  type GetOptions,
} from '../../client/index.js';
import { HASH_OFF_THREAD_FROM } from '../../client/fetch.js';
import { HashWorkerError, sharedHash } from '../../client/hash-worker.js';
import { readInParts } from '../../client/parts.js';
import { DataIntegrityError, InvalidArgumentError, sha256Hex, type BlobLocation, type VersionRecord } from '../../core/index.js';
import { runCli } from '../cli-process.js';
import { startTestServer, tempDir } from '../helpers.js';
import { arrayBuffersLeftAbove, expectDamagedCopyRefused, gcFunction, settledArrayBuffers } from '../payload-checks.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Resolves when `signal` aborts, with its reason as the rejection. */
const aborted = (signal: AbortSignal | undefined): Promise<never> =>
  new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

/**
 * A local region that says what it is asked ("ask OFFSET", "end OFFSET" in order, as events
 * and in `log`), and can hold a part back until released, break a part after its first
 * chunk, or hang a part after its first chunk until the read is aborted.
 */
class WatchedStore extends EventEmitter implements BlobStore {
  readonly name = 'local';
  readonly log: string[] = [];
  readonly asked: ByteRange[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly hold = new Map<number, Promise<void>>();
  breakAt: number | undefined;
  hangAt: number | undefined;
  constructor(readonly inner: LocalBlobStore) {
    super();
  }
  get region(): string {
    return this.inner.region;
  }
  get bucket(): string {
    return this.inner.bucket;
  }
  put(key: string, body: Readable): Promise<BlobLocation> {
    return this.inner.put(key, body);
  }
  stat(loc: BlobLocation): Promise<BlobStat> {
    return this.inner.stat(loc);
  }
  delete(loc: BlobLocation): Promise<void> {
    return this.inner.delete(loc);
  }
  private note(line: string): void {
    this.log.push(line);
    this.emit('note', line);
  }
  async get(loc: BlobLocation, opts: GetOptions = {}): Promise<Readable> {
    const offset = opts.range?.offset ?? 0;
    if (opts.range) this.asked.push(opts.range);
    this.note(`ask ${offset}`);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    const { signal } = opts;
    const held = this.hold.get(offset);
    const body = await this.inner.get(loc, opts);
    const breakHere = this.breakAt === offset;
    const hangHere = this.hangAt === offset;
    const done = (): void => {
      this.inFlight--;
      this.note(`end ${offset}`);
    };
    return Readable.from(
      (async function* () {
        try {
          if (held) await Promise.race([held, aborted(signal)]);
          let first = true;
          for await (const chunk of body as AsyncIterable<Buffer>) {
            yield chunk;
            if (first && breakHere) throw new Error(`part at ${offset} broke`);
            if (first && hangHere) await aborted(signal);
            first = false;
          }
        } finally {
          done();
        }
      })(),
    );
  }
  /** Resolves once `line` has been noted (at once if it was). */
  seen(line: string): Promise<void> {
    if (this.log.includes(line)) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (l: string): void => {
        if (l !== line) return;
        this.off('note', on);
        resolve();
      };
      this.on('note', on);
    });
  }
}

/** A region holding `bytes` under `key`, and a record pointing at it (and at `more` regions' copies). */
async function region(name: string, key: string, bytes: Buffer): Promise<WatchedStore> {
  const store = new WatchedStore(new LocalBlobStore({ root: tempDir(), region: name }));
  await store.inner.put(key, Readable.from([bytes]));
  return store;
}

function recordFor(bytes: Buffer, stores: readonly WatchedStore[], key: string, pointer: Partial<{ size: number; sha256: string }> = {}): VersionRecord {
  return {
    topic: 'model',
    version: 1n,
    publishedAtMs: 0,
    metadata: {},
    scopes: [{}],
    digest: '',
    pointer: { kind: 'blob', size: bytes.length, sha256: sha256Hex(bytes), locations: stores.map((s) => s.inner.locationOf(key)), ...pointer },
  };
}

/** The file under `store` for `key` (to damage a copy in place). */
const fileOf = (store: WatchedStore, key: string): string => path.join(store.inner.root, key);

/**
 * Memory held by ArrayBuffers once collections have nothing more to give back: V8 frees backing
 * stores in a background task after a collection, so collect and look again until it stops
 * falling (at most 10 s).
 */
describe('payloads read in ranged parts', () => {
  const key = 'model/v1';

  it('returns exactly the bytes, in memory and to a file, whatever the sizes of object and parts', async () => {
    const partSize = 1024;
    for (const size of [1, 1023, 1024, 1025, 4096, 10_000, 3 * 65_536 + 7]) {
      const bytes = randomBytes(size);
      const store = await region('us-east-1', key, bytes);
      const record = recordFor(bytes, [store], key);
      for (const partConcurrency of [1, 3, 8]) {
        const what = `size ${size}, ${partConcurrency} at once`;
        store.asked.length = 0;
        store.maxInFlight = 0;
        expect((await fetchPayload(record, [store], { partSize, partConcurrency })).equals(bytes), what).toBe(true);
        // Parts of partSize from the start; the last asks one byte more (an object longer than its pointer shows).
        const parts = Math.ceil(size / partSize);
        expect(store.asked.map((r) => r.offset), what).toEqual(Array.from({ length: parts }, (_, i) => i * partSize).sort((a, b) => a - b));
        expect(store.asked.map((r) => r.length), what).toEqual(Array.from({ length: parts }, (_, i) => (i === parts - 1 ? size - i * partSize + 1 : partSize)));
        expect(store.maxInFlight, what).toBeLessThanOrEqual(partConcurrency);
        if (parts >= partConcurrency) expect(store.maxInFlight, what).toBe(partConcurrency);
        const file = path.join(tempDir(), 'out.bin');
        await downloadPayload(record, [store], file, { partSize, partConcurrency });
        expect(fs.readFileSync(file).equals(bytes), what).toBe(true);
        expect(fs.readdirSync(path.dirname(file)), what).toEqual(['out.bin']);
      }
    }
  });

  it('a part read before the parts ahead of it waits in place and is hashed in order', async () => {
    const bytes = randomBytes(20 * KiB);
    const store = await region('us-east-1', key, bytes);
    // Part 0 is held until parts 1 and 2 have been read whole.
    store.hold.set(
      0,
      Promise.all([store.seen('end 1024'), store.seen('end 2048')]).then(() => {}),
    );
    const got = await fetchPayload(recordFor(bytes, [store], key), [store], { partSize: 1024, partConcurrency: 3 });
    expect(got.equals(bytes)).toBe(true);
    expect(store.log.indexOf('end 2048')).toBeLessThan(store.log.indexOf('end 0'));
  });

  it('in memory, the other parts read on while one is slow; to a file, at most 2 x partConcurrency parts are held', async () => {
    const bytes = randomBytes(20 * KiB);
    const opts: FetchOptions = { partSize: 1024, partConcurrency: 2 };
    const lastPart = `end ${19 * 1024}`;

    const mem = await region('us-east-1', key, bytes);
    let releaseMem!: () => void;
    mem.hold.set(0, new Promise<void>((resolve) => (releaseMem = resolve)));
    const fetched = fetchPayload(recordFor(bytes, [mem], key), [mem], opts);
    // Every other part is read while part 0 is held (its buffer is the payload's own place).
    await mem.seen(lastPart);
    releaseMem();
    expect((await fetched).equals(bytes)).toBe(true);

    const disk = await region('us-east-1', key, bytes);
    let releaseDisk!: () => void;
    disk.hold.set(0, new Promise<void>((resolve) => (releaseDisk = resolve)));
    const file = path.join(tempDir(), 'out.bin');
    const downloaded = downloadPayload(recordFor(bytes, [disk], key), [disk], file, opts);
    await disk.seen('end 3072');
    // Let anything that could start a fifth part run before looking.
    await new Promise((resolve) => setImmediate(resolve));
    expect(disk.log.filter((l) => l.startsWith('ask'))).toEqual(['ask 0', 'ask 1024', 'ask 2048', 'ask 3072']);
    releaseDisk();
    await downloaded;
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(disk.log.indexOf('ask 4096')).toBeGreaterThan(disk.log.indexOf('end 0'));
  });

  describe('a bad copy is rejected, and nothing of it is kept', () => {
    const size = 10 * KiB + 5;
    const opts: FetchOptions = { partSize: 1024, partConcurrency: 3 };
    /** A copy damaged by `damage`, alone and beside an intact one in the next region. */
    const cases: [string, (file: string, bytes: Buffer) => void, RegExp][] = [
      ['one byte changed in a middle part', (f, b) => fs.writeFileSync(f, Buffer.concat([b.subarray(0, 5000), Buffer.from([(b[5000] ?? 0) ^ 1]), b.subarray(5001)])), /does not match its sha256/],
      ['shorter than its pointer', (f, b) => fs.writeFileSync(f, b.subarray(0, size - 1500)), /is shorter than its pointer's 10245 bytes \(bytes \d+-\d+ gave \d+ of \d+\)/],
      ['one byte short', (f, b) => fs.writeFileSync(f, b.subarray(0, size - 1)), /is shorter than its pointer's 10245 bytes \(bytes 10240-10244 gave 4 of 5\)/],
      ['longer than its pointer', (f, b) => fs.writeFileSync(f, Buffer.concat([b, Buffer.from('x')])), /is larger than its pointer's 10245 bytes/],
    ];
    for (const [name, damage, message] of cases) {
      it(name, async () => {
        const bytes = randomBytes(size);
        const east = await region('us-east-1', key, bytes);
        const west = await region('eu-west-1', key, bytes);
        damage(fileOf(east, key), bytes);
        const record = recordFor(bytes, [east, west], key);

        await expectDamagedCopyRefused(record, east, west, bytes, message, opts);
      });
    }

    it('a pointer whose sha256 is not the bytes', async () => {
      const bytes = randomBytes(size);
      const east = await region('us-east-1', key, bytes);
      const record = recordFor(bytes, [east], key, { sha256: sha256Hex(Buffer.from('something else')) });
      await expect(fetchPayload(record, [east], opts)).rejects.toThrow(/no copy of model v1 matches its pointer \(us-east-1: payload of model v1 does not match its sha256/);
      const dir = tempDir();
      await expect(downloadPayload(record, [east], path.join(dir, 'out.bin'), opts)).rejects.toBeInstanceOf(DataIntegrityError);
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });

  it('a part that fails stops the others; the next region then serves the whole', async () => {
    const bytes = randomBytes(40 * KiB);
    const east = await region('us-east-1', key, bytes);
    const west = await region('eu-west-1', key, bytes);
    east.breakAt = 2048;
    const record = recordFor(bytes, [east, west], key);
    const opts: FetchOptions = { partSize: 1024, partConcurrency: 4 };

    const alone = await fetchPayload(record, [east], opts).catch((e: unknown) => e);
    expect(alone).toBeInstanceOf(PayloadUnavailableError);
    expect((alone as Error).message).toBe('cannot fetch model v1 from any region (us-east-1: part at 2048 broke)');
    // Nothing read on after the failure, and every part it had started is closed.
    expect(east.inFlight).toBe(0);
    expect(east.asked.length).toBeLessThan(40);

    expect((await fetchPayload(record, [east, west], opts)).equals(bytes)).toBe(true);
    expect(west.asked.length).toBe(40);
  });

  it('an aborted fetch stops every part and frees its buffer', async () => {
    const gc = gcFunction();
    const size = 64 * MiB;
    const bytes = Buffer.alloc(size, 7);
    const east = await region('us-east-1', key, bytes);
    // Part 1 sends its first chunk, then nothing until the read is aborted.
    east.hangAt = 8 * MiB;
    const record = recordFor(bytes, [east], key);
    const before = await settledArrayBuffers(gc);
    const abort = new AbortController();
    let during = 0;
    const fetched = fetchPayload(record, [east], {
      signal: abort.signal,
      onProgress: ({ bytes: got }) => {
        // Part 0 is whole and the other parts have begun: the 64 MiB buffer exists.
        if (got >= 8 * MiB && during === 0) {
          during = process.memoryUsage().arrayBuffers;
          abort.abort(new Error('caller gave up'));
        }
      },
    });
    await expect(fetched).rejects.toThrow('caller gave up');
    expect(east.inFlight).toBe(0);
    expect(during - before).toBeGreaterThan(60 * MiB);
    // Freed memory is given back by a background task after the collection: look until it is, or 10 s have passed.
    expect(await arrayBuffersLeftAbove(before, 8 * MiB, gc)).toBeLessThan(8 * MiB);

    const dir = tempDir();
    const again = new AbortController();
    const downloaded = downloadPayload(record, [east], path.join(dir, 'out.bin'), { signal: again.signal, onProgress: ({ bytes: got }) => got >= 8 * MiB && again.abort(new Error('caller gave up')) });
    await expect(downloaded).rejects.toThrow('caller gave up');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a payload of HASH_OFF_THREAD_FROM bytes or more is hashed on a worker as it lands: exactly its bytes, and a changed byte refused', async () => {
    const size = HASH_OFF_THREAD_FROM + 5;
    const bytes = randomBytes(size);
    const east = await region('us-east-1', key, bytes);
    const west = await region('eu-west-1', key, bytes);
    fs.writeFileSync(fileOf(east, key), Buffer.concat([bytes.subarray(0, size - 9), Buffer.from([(bytes[size - 9] ?? 0) ^ 1]), bytes.subarray(size - 8)]));
    const record = recordFor(bytes, [east, west], key);
    await expect(fetchPayload(record, [east])).rejects.toThrow(/no copy of model v1 matches its pointer \(us-east-1: payload of model v1 does not match its sha256/);
    const got = await fetchPayload(record, [east, west]);
    expect(got.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(got.equals(bytes)).toBe(true);
  });

  it('a hash worker that stops mid-read fails the read at once, with every part closed', async () => {
    const size = 4 * MiB;
    const bytes = randomBytes(size);
    const east = await region('us-east-1', key, bytes);
    // Part 1 sends its first chunk, then nothing until the read is aborted: only the worker's failure can end it.
    east.hangAt = MiB;
    const shared = new SharedArrayBuffer(size);
    const out = Buffer.from(shared);
    let stopped: Promise<number> | undefined;
    const read = readInParts(
      east,
      east.inner.locationOf(key),
      { size, sha256: sha256Hex(bytes), what: 'model v1' },
      {
        partSize: MiB,
        partConcurrency: 2,
        signal: new AbortController().signal,
        onBytes: () => {},
        startHash: (buffer, onFail) => {
          const h = sharedHash(buffer, onFail);
          // Stopped once part 1 has begun (and hangs).
          void east.seen(`ask ${MiB}`).then(() => (stopped = h.worker.terminate()));
          return h;
        },
      },
      { shared, bufferFor: (offset, length) => out.subarray(offset, offset + length) },
    );
    const err = await read.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashWorkerError);
    expect((err as Error).message).toMatch(/^the sha256 worker thread stopped \(exit code \d+\) before its digest$/);
    await stopped;
    expect(east.inFlight).toBe(0);
  });

  it('bad part options are refused, naming the option, before anything is read', async () => {
    const bytes = randomBytes(4 * KiB);
    const east = await region('us-east-1', key, bytes);
    const record = recordFor(bytes, [east], key);
    const refused: [FetchOptions, RegExp][] = [
      [{ partSize: 1000 }, /^partSize must be a whole number of bytes from 1024 to 1073741824 \(got 1000\)$/],
      [{ partSize: 2 * 1024 * MiB }, /^partSize must be/],
      [{ partSize: 4096.5 }, /^partSize must be/],
      [{ partConcurrency: 0 }, /^partConcurrency must be a whole number from 1 to 64 \(got 0\)$/],
      [{ partConcurrency: 65 }, /^partConcurrency must be/],
    ];
    for (const [opts, message] of refused) {
      const err = await fetchPayload(record, [east], opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(message);
      await expect(downloadPayload(record, [east], path.join(tempDir(), 'x'), opts)).rejects.toThrow(message);
      // A payload inside the record needs no parts, but the option is still checked.
      const direct: VersionRecord = { ...record, pointer: { kind: 'direct', size: 3, sha256: sha256Hex(Buffer.from('abc')), bytes: Buffer.from('abc') } };
      await expect(fetchPayload(direct, [], opts)).rejects.toThrow(message);
    }
    expect(east.log).toEqual([]);
  });

  it('imprint download reads in parts from --part-size and --part-concurrency, and refuses bad ones naming the flag', async () => {
    const blobs = new LocalBlobStore({ root: tempDir() });
    const t = await startTestServer({ blobStores: [blobs] });
    try {
      await t.client.createTopic({ name: 'model' });
      const bytes = randomBytes(3 * MiB + 17);
      const published = await new Publisher({ client: t.client, blobStores: [blobs] }).publish('model', bytes);
      const file = path.join(tempDir(), 'cli.bin');
      // Straight from the store (--blobs local), where the parts are this test's subject; lent URLs are read the same way (test/integration/lent-urls.test.ts).
      const base = ['--address', t.address, '--blob-dir', blobs.root, 'download', 'model', String(published.version), '-o', file, '--blobs', 'local'];
      const ok = await runCli([...base, '--part-size', '65536'], { IMPRINT_PART_CONCURRENCY: '3' });
      expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/sha256 verified/) });
      expect(fs.readFileSync(file).equals(bytes)).toBe(true);
      const badSize = await runCli([...base, '--part-size', '1000']);
      expect(badSize).toMatchObject({ code: 2, stderr: expect.stringContaining('imprint: invalid argument: part-size must be a whole number of bytes from 1024 to 1073741824 (got 1000)') });
      const badCount = await runCli(base, { IMPRINT_PART_CONCURRENCY: 'four' });
      expect(badCount).toMatchObject({ code: 2, stderr: expect.stringContaining('imprint: invalid argument: part-concurrency must be a whole number (got "four")') });
    } finally {
      await t.stop();
    }
  });
});
