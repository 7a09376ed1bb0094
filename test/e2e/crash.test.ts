/**
 * Publish ids and the change history through the `imprint` command and a real `imprint serve`
 * process, and what survives when that process is killed with SIGKILL:
 *
 * - publishes in flight through the Publisher when the server dies are retried with their
 *   publish ids against the restarted server: every version it has keeps its payload, and no
 *   publish makes two versions (before, the publisher deleted the payload of versions committed
 *   just before the kill);
 * - every change acknowledged before the kill is in `imprint history` after the restart (before,
 *   the audit lines of acknowledged publishes were lost with the process).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient, LocalBlobStore, Publisher, fetchPayload, type PublishedVersion } from '../../client/index.js';
import { MAX_DIRECT_BYTES, type VersionRecord } from '../../core/index.js';
import { runCli as imprint, startServe, type CliResult as Result, type ServeProcess } from '../cli-process.js';
import { directPointer, tempDir } from '../helpers.js';

/** Every server process started here, killed at the end whatever happened. */
const running: ServeProcess[] = [];

async function serve(dataDir: string): Promise<ServeProcess> {
  const s = await startServe(dataDir);
  running.push(s);
  return s;
}

/**
 * A TCP proxy in front of the server: the client's address stays the same across restarts
 * (`target` moves), and `holdAnswers` stops the server's bytes from reaching the client, so
 * publishes the server commits meanwhile are never answered, as when it dies between its
 * commit and its answer.
 */
async function proxy(target: number): Promise<{ port: number; target: number; holdAnswers: boolean; dropAll(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = {
    port: 0,
    target,
    holdAnswers: false,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      state.dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: state.target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!state.holdAnswers) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

afterAll(async () => {
  await Promise.all(running.map((s) => s.kill()));
});

async function allVersions(client: ImprintClient, topic: string): Promise<VersionRecord[]> {
  const out: VersionRecord[] = [];
  let pageToken = '';
  do {
    const page = await client.listVersions(topic, { pageSize: 1000, pageToken });
    out.push(...page.versions);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

describe('imprint publish --publish-id and imprint history', () => {
  const dataDir = tempDir();
  let served: ServeProcess;
  let cli: (...args: string[]) => Promise<Result>;
  beforeAll(async () => {
    const s = await serve(dataDir);
    served = s;
    cli = (...args) => imprint(['--address', `127.0.0.1:${s.port}`, '--data-dir', dataDir, ...args]);
  });
  afterAll(async () => {
    await served.kill();
  });

  it('publishing again with the same --publish-id is a replay and says so; other content with it is refused; a bad id names the flag', async () => {
    const file = path.join(tempDir(), 'model.bin');
    fs.writeFileSync(file, randomBytes(MAX_DIRECT_BYTES + 10));
    expect((await cli('topic', 'create', 'model', '--owner', 'trust-team')).code).toBe(0);
    // Straight to the store the server reads (--blobs local), not through lent URLs: the CLI
    // may delete what it wrote there, so a replay's upload is removed (lent objects are not its own).
    const first = await cli('publish', 'model', file, '--publish-id', 'build-1234', '--blobs', 'local');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^published model v1: /);
    const again = await cli('publish', 'model', file, '--publish-id', 'build-1234', '--blobs', 'local');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^published model v1 \(a replay: publish id "build-1234" had already made v1; nothing new was published\): /);
    const json = JSON.parse((await cli('--json', 'publish', 'model', file, '--publish-id', 'build-1234', '--blobs', 'local')).stdout) as { version: string; replayed: boolean };
    expect(json).toMatchObject({ version: '1', replayed: true });
    // The replays' uploads were removed: one object, the version's.
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'model'))).toHaveLength(1);

    const other = await cli('publish', 'model', file, '--publish-id', 'build-1234', '--meta', 'build=other');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('publish_id "build-1234" already made version 1 of topic "model", with other metadata');
    const bad = await cli('publish', 'model', file, '--publish-id', 'build 1234');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid argument: publish-id must be 1-128 characters');
    expect(JSON.parse((await cli('--json', 'versions', 'model')).stdout)).toHaveLength(1);
  });

  it('imprint history shows each change with who, from where and what; --json and --limit; topic describe shows the newest', async () => {
    const f = path.join(tempDir(), 'rules.json');
    fs.writeFileSync(f, '{"threshold":0.7}');
    await cli('topic', 'create', 'rules', '--owner', 'trust-team', '--keep-versions', '20');
    await cli('publish', 'rules', f, '--scope', 'region=eu', '--publish-id', 'ci-7');
    await cli('pin', 'rules', '1', '--reason', 'known good', '--by', 'alice');
    await cli('unpin', 'rules');
    const text = await cli('history', 'rules');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+CHANGE\s+VERSION\s+BY\s+FROM\s+WHAT$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1))).toEqual([
      ['unpin', 'v1', '-', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'scope *'],
      ['pin', 'v1', 'alice', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'scope *', '(known good)'],
      ['publish', 'v1', '-', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'scopes region=eu', 'publish id ci-7'],
      ['create-topic', '-', 'trust-team', expect.stringMatching(/^127\.0\.0\.1:\d+$/), 'owner=trust-team description="" keep_versions=20 keep_days=none'],
    ]);
    const json = JSON.parse((await cli('--json', 'history', 'rules', '--limit', '2')).stdout) as { kind: string; version: string; by: { principal: string; peer: string } }[];
    expect(json.map((c) => [c.kind, c.version, c.by.principal])).toEqual([
      ['unpin', '1', ''],
      ['pin', '1', 'alice'],
    ]);
    const described = await cli('topic', 'describe', 'rules');
    expect(described.stdout).toContain('recent changes (4; imprint history rules for all):');
    expect((await cli('history', 'no-such-topic')).code).toBe(1);
    expect((await cli('history', 'rules', '--limit', '0')).code).toBe(2);
    expect((await cli('--help')).stdout).toMatch(/^\s+history \[options\] <topic>/m);
  });
});

describe('kill -9 of imprint serve', () => {
  it('publishes committed but not answered when the server is killed: retried after the restart, each is its one version, with its payload', async () => {
    const dataDir = tempDir();
    let server = await serve(dataDir);
    const front = await proxy(server.port);
    const client = new ImprintClient({ address: `127.0.0.1:${front.port}`, deadlineMs: 5_000, maxReconnectBackoffMs: 500 });
    // The blob directory the server has (it may check that a pointer's objects are there).
    const blobs = new LocalBlobStore({ root: path.join(dataDir, 'blobs') });
    const until = async (what: string, ok: () => boolean) => {
      for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 5))) {
        if (Date.now() - t0 > 60_000) throw new Error(`not within 60 s: ${what}`);
      }
    };
    try {
      await client.createTopic({ name: 'model' });
      const publisher = new Publisher({ client, blobStores: [blobs], retryBudgetMs: 60_000, retryMinMs: 100, retryMaxMs: 1_000 });
      // 16 workers publish blob payloads (just over the direct limit), each under its own publish id, until told to stop.
      const results = new Map<string, PublishedVersion>();
      const failures: string[] = [];
      let stop = false;
      const workers = Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const id = `w${w}-${i}`;
          await publisher.publish('model', randomBytes(MAX_DIRECT_BYTES + 1), { metadata: { id }, publishId: id }).then(
            (r) => results.set(id, r),
            (err: unknown) => failures.push(`${id}: ${err instanceof Error ? err.message : String(err)}`),
          );
        }
      });
      await until('40 publishes acknowledged', () => results.size >= 40);
      // The server's answers stop reaching the publishers; it goes on committing, then dies.
      // The server's log: JSON lines (its stderr is not a terminal).
      const logged = () =>
        server
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; topic?: string; version?: number; publishId?: string })
          .filter((l) => l.msg === 'published' && l.topic === 'model')
          .map((l) => ({ version: BigInt(l.version ?? 0), id: String(l.publishId) }));
      const before = logged().length;
      front.holdAnswers = true;
      await until('8 publishes committed and not answered', () => logged().length >= before + 8);
      await server.kill();
      const unanswered = logged().slice(before);
      front.dropAll();
      front.holdAnswers = false;
      // Back on the same data dir; the publishers retry through the same address.
      server = await serve(dataDir);
      front.target = server.port;
      const acknowledged = results.size;
      await until('20 more publishes acknowledged after the restart', () => results.size >= acknowledged + 20);
      stop = true;
      await Promise.all(workers);

      const versions = await allVersions(client, 'model');
      const replays = [...results.values()].filter((r) => r.replayed).length;
      process.stderr.write(`[crash] ${unanswered.length} publishes committed and not answered at the kill, ${replays} answered as replays after the restart, ${results.size} publishes, ${versions.length} versions\n`);
      // Every version's payload is there and matches its sha256.
      for (const v of versions) await expect(fetchPayload(v, [blobs]), `v${v.version} (publish ${v.metadata.id})`).resolves.toHaveLength(MAX_DIRECT_BYTES + 1);
      // Each publish committed before the kill and never answered was answered after the restart, as a replay of its version.
      expect(failures).toEqual([]);
      for (const u of unanswered) expect(results.get(u.id), u.id).toMatchObject({ replayed: true, version: u.version });
      // No publish made two versions; every publish made one, the one it was told.
      const byId = new Map<string, VersionRecord[]>();
      for (const v of versions) byId.set(v.metadata.id ?? '', [...(byId.get(v.metadata.id ?? '') ?? []), v]);
      for (const [id, made] of byId) expect(made, `publish ${id}`).toHaveLength(1);
      expect(versions).toHaveLength(results.size);
      for (const [id, r] of results) expect(byId.get(id)?.[0]?.version, id).toBe(r.version);
    } finally {
      client.close();
      await front.close();
    }
  }, 180_000);

  it('every change acknowledged before a kill -9 is in imprint history after the restart', async () => {
    const dataDir = tempDir();
    const server = await serve(dataDir);
    const address = `127.0.0.1:${server.port}`;
    const client = new ImprintClient({ address });
    const acknowledged: [string, string][] = [];
    try {
      await client.createTopic({ name: 'scores', owner: 'trust-team' });
      acknowledged.push(['create-topic', '0']);
      for (let i = 1; i <= 20; i++) {
        const ok = await client.publishPointer('scores', directPointer(`v${i}`), { publishId: `build-${i}` });
        acknowledged.push(['publish', ok.version.toString()]);
        if (i % 5 === 0) {
          await client.addScopes('scores', ok.version, [{ region: 'eu' }]);
          acknowledged.push(['add-scopes', ok.version.toString()]);
          await client.pin('scores', ok.version - 1n, { reason: `v${ok.version} under review`, createdBy: 'oncall' });
          acknowledged.push(['pin', (ok.version - 1n).toString()]);
        }
      }
      await client.unpin('scores');
      acknowledged.push(['unpin', '19']);
    } finally {
      client.close();
    }
    // At once after the last answer.
    await server.kill();
    const again = await serve(dataDir);
    const history = await imprint(['--address', `127.0.0.1:${again.port}`, '--json', 'history', 'scores', '--limit', '1000']);
    expect(history.code).toBe(0);
    const changes = JSON.parse(history.stdout) as { kind: string; version: string; by: { principal: string } }[];
    expect(changes.map((c) => [c.kind, c.version]).reverse()).toEqual(acknowledged);
    expect(changes.find((c) => c.kind === 'pin')?.by.principal).toBe('oncall');
  }, 60_000);
});
