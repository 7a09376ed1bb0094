/**
 * The runbook's "restore from the fallback snapshot" with the commands an operator types,
 * against real processes: `imprint janitor --once` writes the snapshot, the data dir is lost,
 * `imprint snapshot show` says what the snapshot holds, `imprint snapshot restore --dry-run`
 * and `--yes` write it back, and `imprint serve` on the new data dir answers as before.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli as imprint, startServe, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

describe('imprint snapshot show / restore', () => {
  const servers: ServeProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  it('show, restore --dry-run, restore without --yes off a terminal, restore --yes, serve: the same answers', async () => {
    const dir = tempDir();
    const lost = path.join(dir, 'lost');
    const blobDir = path.join(dir, 'blobs'); // the blob store outlives the metadata store
    const server = await startServe(lost, ['--blob-dir', blobDir]);
    servers.push(server);
    const cli = (dataDir: string, ...args: string[]) => imprint(['--address', server.address, '--data-dir', dataDir, '--blob-dir', blobDir, ...args]);
    const large = path.join(dir, 'model.bin');
    fs.writeFileSync(large, randomBytes(2 * 1024 * 1024 + 7));
    const small = path.join(dir, 'rules.json');
    fs.writeFileSync(small, '{"threshold":0.7}');
    expect((await cli(lost, 'topic', 'create', 'ip-reputation', '--owner', 'trust-team')).code).toBe(0);
    expect((await cli(lost, 'publish', 'ip-reputation', small, '--meta', 'build=1')).code).toBe(0);
    expect((await cli(lost, 'publish', 'ip-reputation', large, '--meta', 'build=2')).code).toBe(0);
    expect((await cli(lost, 'pin', 'ip-reputation', '1', '--scope', 'region=eu-west-1', '--reason', 'v2 is bad in eu', '--by', 'alice')).code).toBe(0);
    const janitor = await cli(lost, 'janitor', '--once');
    expect(janitor.code).toBe(0);
    await server.stop();

    // show: when, and per topic heads, pins, records.
    const show = await cli(lost, 'snapshot', 'show');
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^snapshot {2}imprint-snapshots\/\S+\.snapshot$/m);
    expect(show.stdout).toMatch(/^region {4}local \(sha256 checked\)$/m);
    expect(show.stdout).toMatch(/^written {3}\S+Z \(\d+ s ago\)$/m);
    expect(show.stdout).toMatch(/^ip-reputation {2}latest v2 {2}owner trust-team {2}2 records, 2\.0 MiB$/m);
    expect(show.stdout).toMatch(/^ {2}head {4}\* +-> v2/m);
    expect(show.stdout).toMatch(/^ {2}pin {5}region=eu-west-1 +-> v1 {2}since \S+ {2}by alice {2}\(v2 is bad in eu\)$/m);
    const shown = JSON.parse((await cli(lost, '--json', 'snapshot', 'show', '--topic', 'ip-reputation')).stdout) as { key: string; topics: { name: string; records: { version: string; pointer: string }[] }[] };
    expect(shown.topics.map((t) => [t.name, t.records.map((r) => `${r.version} ${r.pointer}`)])).toEqual([['ip-reputation', ['1 direct', '2 blob']]]);
    const unknown = await cli(lost, 'snapshot', 'show', '--topic', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('topic "nope" in snapshot');

    // The metadata store is lost: a new data dir.
    const fresh = path.join(dir, 'fresh');
    const dry = await cli(fresh, 'snapshot', 'restore', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`dry run: would restore snapshot ${shown.key}`);
    expect(dry.stdout).toContain('[1/1] ip-reputation: would restore 2 records, 1 pins; the next publish gets v3');
    expect(dry.stdout).toContain('dry run, nothing written: would restore 1 topics, 0 skipped, 0 failed; 2 records, 1 pins; 0 objects missing, 0 not checked');
    const notAsked = await cli(fresh, 'snapshot', 'restore');
    expect(notAsked.code).toBe(2);
    expect(notAsked.stderr).toContain('--yes must be given to restore when not at a terminal');
    const restored = await cli(fresh, 'snapshot', 'restore', '--yes', '--by', 'bob');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('[1/1] ip-reputation: restored 2 records, 1 pins; the next publish gets v3');
    expect(restored.stdout).toContain('done: 1 topics restored, 0 skipped, 0 failed; 2 records, 1 pins; 0 objects missing, 0 not checked');
    const again = await cli(fresh, 'snapshot', 'restore', '--yes');
    expect(again.stdout).toContain('[1/1] ip-reputation: skipped: the store already has this topic (restore never overwrites)');

    // A server on the restored data dir: the same answers, the pin applying, the history saying so.
    const after = await startServe(fresh, ['--blob-dir', blobDir]);
    servers.push(after);
    const on = (...args: string[]) => imprint(['--address', after.address, '--data-dir', fresh, '--blob-dir', blobDir, ...args]);
    const poll = async (region: string) => JSON.parse((await on('--json', 'poll', 'ip-reputation', '--app', 'scorer', '--region', region)).stdout) as { pinned: boolean; update: { version: string } };
    expect(await poll('us-east-1')).toMatchObject({ pinned: false, update: { version: '2' } });
    expect(await poll('eu-west-1')).toMatchObject({ pinned: true, update: { version: '1' } });
    const out = path.join(dir, 'back.bin');
    expect((await on('download', 'ip-reputation', '2', '--output', out)).code).toBe(0);
    expect(fs.readFileSync(out).equals(fs.readFileSync(large))).toBe(true);
    const history = await on('history', 'ip-reputation');
    expect(history.stdout).toMatch(new RegExp(`pin +v1 +bob .*\\(restored from snapshot ${shown.key.replace(/[.]/g, '\\.')} written at \\S+Z\\)`));
    const next = await on('publish', 'ip-reputation', small);
    expect(next.stdout).toMatch(/published ip-reputation v3/);
  }, 120_000);
});
