/**
 * The CLI and the janitor with S3 in two regions (two real MinIO servers): publish to both,
 * snapshot to both, purge in both, and a subscriber started after the service is gone.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, ImprintClient, SnapshotReader, Subscriber } from '../../client/index.js';
import { S3BlobStore } from '../../client/blob-store/s3.js';
import type { VersionRecord } from '../../core/index.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY } from '../../scripts/backends/index.js';
import { identity, startTestServer, tempDir, type TestServer } from '../helpers.js';

const run = promisify(execFile);
const CLI = path.resolve('dist/cli/main.js');
const REGIONS = ['us-east-1', 'eu-west-1'] as const;

describe('CLI and janitor on S3 in two regions', () => {
  let t: TestServer;
  let stores: S3BlobStore[];
  let s3Flags: string[];
  const env = { ...process.env, AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const cli = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [CLI, '--address', t.address, '--data-dir', t.dataDir, ...args], { env });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    const endpoints = (process.env.IMPRINT_S3 ?? '').split(',').filter(Boolean);
    expect(endpoints).toHaveLength(2);
    const bucket = `cli-${Date.now().toString(36)}-{region}`;
    stores = REGIONS.map(
      (region, i) =>
        new S3BlobStore({ region, bucket: bucket.replace('{region}', region), endpoint: endpoints[i] as string, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } }),
    );
    for (const s of stores) await s.ensureBucket();
    s3Flags = ['--blobs', 's3', '--regions', REGIONS.join(','), '--bucket', bucket, '--s3-endpoints', REGIONS.map((r, i) => `${r}=${endpoints[i]}`).join(','), '--s3-path-style'];
    t = await startTestServer({ blobStores: stores });
  });
  afterAll(async () => {
    await t.stop().catch(() => {});
  });

  const exists = async (store: S3BlobStore, r: VersionRecord) => {
    const loc = r.pointer.kind === 'blob' ? r.pointer.locations.find((l) => l.region === store.region) : undefined;
    if (!loc) return false;
    try {
      (await store.get(loc)).destroy();
      return true;
    } catch (err) {
      if (err instanceof BlobNotFoundError) return false;
      throw err;
    }
  };

  it('publishes to both regions, purges old versions in both, and snapshots to both', async () => {
    expect((await cli('topic', 'create', 'model', '--keep-versions', '1')).code).toBe(0);
    const records: VersionRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const file = path.join(tempDir(), `m${i}.bin`);
      fs.writeFileSync(file, randomBytes(3 * 1024 * 1024));
      const res = await cli('--json', 'publish', 'model', file, ...s3Flags);
      expect(res.code, res.stderr).toBe(0);
      records.push(await t.client.getVersion('model', BigInt((JSON.parse(res.stdout) as { version: string }).version)));
    }
    expect(records[2]?.pointer.kind === 'blob' && records[2].pointer.locations.map((l) => [l.kind, l.region])).toEqual([
      ['s3', 'us-east-1'],
      ['s3', 'eu-west-1'],
    ]);
    for (const s of stores) for (const r of records) expect(await exists(s, r)).toBe(true);

    const janitor = await cli('janitor', '--once', ...s3Flags);
    expect(janitor.code, janitor.stderr).toBe(0);
    expect(janitor.stdout).toMatch(/^snapshot: 1 topics, \d+ bytes to us-east-1, eu-west-1$/m);
    expect(janitor.stdout).toMatch(/^purge: 2 versions deleted over 1 topics$/m);
    for (const s of stores) {
      expect(await exists(s, records[0] as VersionRecord)).toBe(false);
      expect(await exists(s, records[1] as VersionRecord)).toBe(false);
      expect(await exists(s, records[2] as VersionRecord)).toBe(true);
    }
    expect((await t.client.listVersions('model')).versions.map((v) => v.version)).toEqual([3n]);
  });

  it("purges a deleted topic's objects in both regions (--delete-grace 0), and only its own", async () => {
    expect((await cli('topic', 'create', 'gone')).code).toBe(0);
    const records: VersionRecord[] = [];
    for (let i = 0; i < 2; i++) {
      const file = path.join(tempDir(), `g${i}.bin`);
      fs.writeFileSync(file, randomBytes(2 * 1024 * 1024));
      const res = await cli('--json', 'publish', 'gone', file, ...s3Flags);
      expect(res.code, res.stderr).toBe(0);
      records.push(await t.client.getVersion('gone', BigInt((JSON.parse(res.stdout) as { version: string }).version)));
    }
    const model = await t.client.getVersion('model', (await t.client.getTopic('model')).latestVersion);
    const deleted = await cli('topic', 'delete', 'gone', '--yes', '--reason', 'test');
    expect(deleted.code, deleted.stderr).toBe(0);
    const janitor = await cli('janitor', '--once', '--delete-grace', '0', ...s3Flags);
    expect(janitor.code, janitor.stderr).toBe(0);
    expect(janitor.stdout).toMatch(/^topic-purge: 1 deleted topics purged \(gone\), 0 within their --delete-grace$/m);
    for (const s of stores) {
      for (const r of records) expect(await exists(s, r)).toBe(false);
      expect(await exists(s, model)).toBe(true);
    }
    await expect(t.client.getTopic('gone')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('with the service stopped for good, a new subscriber loads the latest from the snapshot in S3', async () => {
    const latest = (await t.client.getTopic('model')).latestVersion;
    const address = t.address;
    await t.stop();
    const client = new ImprintClient({ address, deadlineMs: 300 });
    // Region 2 first, as a consumer in eu-west-1 would have it.
    const nearFirst = [stores[1] as S3BlobStore, stores[0] as S3BlobStore];
    const s = new Subscriber({
      client,
      identity: identity({ app: 'scorer', region: 'eu-west-1' }),
      blobStores: nearFirst,
      fallback: new SnapshotReader({ blobStores: nearFirst }),
      intervalMs: 200,
      retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 },
    });
    try {
      const sub = s.subscribe('model', { decode: (b) => b.length });
      await sub.ready();
      expect(sub.version).toBe(latest);
      expect(sub.current).toBe(3 * 1024 * 1024);
    } finally {
      await s.close();
      client.close();
    }
  });
});
