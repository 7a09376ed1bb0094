/**
 * docs/OPERATIONS.md, run: every `sh` block of the runbook, in the document's order, by bash
 * (`-euo pipefail`, so any failing command fails its block) with `imprint` on the PATH as the
 * built command, against a real `imprint serve` (SQLite, local blobs, file audit) holding the
 * runbook's story: topic ip-reputation, v1..v3 published, v3 the bad one, node scorer-1 on it.
 * Then the story's outcomes are checked where the runbook says something happens (the pin moves
 * the node back, the unpin moves it to the fix, a rollout reaches the canary then us-east-1 and
 * its cancel moves the node back, a rejected rollout is explained and fixed). Before the first
 * block of "A rollout was rejected", the story has one: v6 published with a rollout, which the
 * canary node's report of a validate refusal gets rejected by the service's driver.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki } from '../../scripts/certs.js';
import { CLI, runCli, startServe, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';
import { ImprintClient } from '../../client/index.js';
import type { ConsumerIdentity } from '../../core/types.js';

const RUNBOOK = path.resolve('docs/OPERATIONS.md');
const CANARY: ConsumerIdentity = { app: 'scorer', cluster: 'canary', region: 'us-east-1', nodeId: 'canary-1', labels: {} };

interface Block {
  readonly section: string;
  readonly script: string;
}

/** The runbook's `sh` blocks with the `##` section each is in. */
function shBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (line.trim() !== '```sh') continue;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] as string).trim() !== '```'; i++) body.push(lines[i] as string);
    blocks.push({ section, script: body.join('\n') });
  }
  return blocks;
}

interface BlockRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<BlockRun> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('docs/OPERATIONS.md, run against a real service', () => {
  let server: ServeProcess;
  /** A TLS instance whose certificate "Rotate the server's certificate" renews. */
  let tlsServer: ServeProcess;
  let work: string;
  let env: Record<string, string>;
  const blocks = shBlocks(fs.readFileSync(RUNBOOK, 'utf8'));
  const runs: BlockRun[] = [];

  beforeAll(async () => {
    const dataDir = tempDir();
    work = tempDir();
    server = await startServe(dataDir, ['--metrics-port', '0']);
    // `imprint` on the PATH is the built command, as an installed one would be.
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'imprint'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    // The TLS instance: its files in tls/, the renewed pair (a later end) in tls/new/.
    const pki = await makePki(path.join(work, 'pki'));
    const tlsDir = path.join(work, 'tls');
    fs.mkdirSync(path.join(tlsDir, 'new'), { recursive: true });
    fs.copyFileSync(pki.server.certFile, path.join(tlsDir, 'server.pem'));
    fs.copyFileSync(pki.server.keyFile, path.join(tlsDir, 'server-key.pem'));
    const renewed = await pki.ca.issue('renewed', { dns: ['localhost'], ips: ['127.0.0.1'], days: 2 });
    fs.copyFileSync(renewed.certFile, path.join(tlsDir, 'new', 'server.pem'));
    fs.copyFileSync(renewed.keyFile, path.join(tlsDir, 'new', 'server-key.pem'));
    tlsServer = await startServe(tempDir(), ['--metrics-port', '0', '--tls-reload-ms', '200'], { IMPRINT_TLS_CERT: path.join(tlsDir, 'server.pem'), IMPRINT_TLS_KEY: path.join(tlsDir, 'server-key.pem') });
    env = {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      IMPRINT_ADDRESS: server.address,
      METRICS: server.metricsUrl ?? '',
      IMPRINT_DATA_DIR: dataDir,
      // "Rotate the server's certificate": the live files, the renewed ones, the CA, the instance.
      CERT: path.join(tlsDir, 'server.pem'),
      KEY: path.join(tlsDir, 'server-key.pem'),
      NEW_CERT: path.join(tlsDir, 'new', 'server.pem'),
      NEW_KEY: path.join(tlsDir, 'new', 'server-key.pem'),
      CA: pki.ca.caFile,
      TLS_ADDRESS: tlsServer.address,
      TLS_METRICS: tlsServer.metricsUrl ?? '',
    };
    // The story: three versions, the node on the newest (the bad one); the fixes the runbook publishes.
    const cli = async (...args: string[]) => {
      const r = await runCli(args, env);
      if (r.code !== 0) throw new Error(`imprint ${args.join(' ')} failed: ${r.stderr}`);
    };
    await cli('topic', 'create', 'ip-reputation', '--owner', 'trust-team');
    for (const v of [1, 2, 3]) {
      const file = path.join(work, `model-v${v}.bin`);
      fs.writeFileSync(file, `model ${v}\n`);
      await cli('publish', 'ip-reputation', file, '--meta', `build=${v}`);
    }
    await cli('poll', 'ip-reputation', '--app', 'scorer', '--region', 'us-east-1', '--node', 'scorer-1');
    // A topic the runbook retires.
    await cli('topic', 'create', 'spam-words-v1', '--owner', 'trust-team');
    for (const v of [4, 5, 6, 7]) fs.writeFileSync(path.join(work, `model-v${v}.bin`), `model ${v}, fixed\n`);
    // "A rollout was rejected" finds one: v6's rollout, which the canary node's validate refused.
    const client = new ImprintClient({ address: server.address });
    const rejectV6 = async (): Promise<void> => {
      await cli('publish', 'ip-reputation', path.join(work, 'model-v6.bin'), '--meta', 'build=6');
      await client.poll('ip-reputation', CANARY, 4n, { version: 6n, stage: 'validate', reason: 'threshold 7 is outside 0..1' });
      // The driver (a tick a second) rejects it at its next tick; generous, the machine is shared.
      for (const deadline = Date.now() + 60_000; !(await runCli(['rollout', 'status', 'ip-reputation'], env)).stdout.startsWith('ip-reputation v6  CANCELLED'); ) {
        if (Date.now() > deadline) throw new Error("timed out waiting for the driver to reject v6's rollout");
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // Every block, in order (the story carries from one to the next).
    try {
      for (const b of blocks) {
        if (b.section === 'A rollout was rejected' && !blocks.slice(0, runs.length).some((x) => x.section === b.section)) await rejectV6();
        runs.push(await bash(b.script, work, env));
      }
    } finally {
      client.close();
    }
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await tlsServer?.stop();
  });

  it('has the sections an operator needs, each with commands', () => {
    const sections = new Set(blocks.map((b) => b.section));
    for (const s of ['A bad version is live: pin the last good one', 'The metadata store (Cassandra) is down or unreachable', 'The whole service is down', "A region's object store (S3) is down", 'Roll a version out a region at a time, and stop it', 'A rollout was rejected']) {
      expect(sections, s).toContain(s);
    }
    expect(blocks.length).toBeGreaterThanOrEqual(10);
  });

  it('runs every command of every block without an error', () => {
    const failed = blocks.flatMap((b, i) => {
      const r = runs[i] as BlockRun;
      return r.code === 0 ? [] : [`[${b.section}] exit ${r.code}\n${b.script}\n--- stderr:\n${r.stderr}`];
    });
    expect(failed).toEqual([]);
  });

  const outputOf = (command: string): string => {
    const i = blocks.findIndex((b) => b.script.includes(command));
    expect(i, `a block runs ${command}`).toBeGreaterThanOrEqual(0);
    return (runs[i] as BlockRun).stdout;
  };

  it('the pin moves the node from the bad version back to the last good one', () => {
    expect(outputOf('imprint pin ip-reputation 2 ')).toContain('-> v2');
    const check = outputOf('imprint poll ip-reputation --app scorer --region us-east-1 --node scorer-1\nimprint topic moves');
    expect(check).toMatch(/update: v2 \(pinned\)/);
    expect(check).toMatch(/v3 -> v2 \(pinned\)/);
  });

  it('a version published under the pin reaches nobody until the unpin, then everybody', () => {
    expect(outputOf('imprint unpin ip-reputation\n')).toMatch(/published ip-reputation v4[\s\S]*update: v2 \(pinned\)[\s\S]*unpinned[\s\S]*update: v4\n/);
  });

  it('a version rolled out a step at a time: the canary first, us-east-1 on promote, everyone back on cancel', () => {
    expect(outputOf('imprint publish ip-reputation model-v5.bin')).toMatch(/RUNNING at step 1 of 3[\s\S]*update: v5\n[\s\S]*update: v4\n/);
    expect(outputOf('imprint rollout pause ip-reputation')).toMatch(/paused[\s\S]*resumed/);
    expect(outputOf('imprint rollout promote ip-reputation\n')).toMatch(/RUNNING at step 2 of 3[\s\S]*update: v5\n/);
    expect(outputOf('--reason "v5 rejected in us-east-1"')).toMatch(/CANCELLED at step 2 of 3[\s\S]*update: v4 \(rolled back: /);
  });

  it('a rejected rollout: why, the fix rolled out and fast-tracked, a publish past the policy, a pin over it', () => {
    expect(outputOf('imprint history ip-reputation -n 4')).toMatch(/cancelled +by a gate: consumers gate: 1 consumer\(s\) rejected the version[\s\S]*REJECTED at step 1 by a gate[\s\S]*update: v4\n/);
    expect(outputOf('imprint publish ip-reputation model-v7.bin')).toMatch(/v7 +RUNNING at step 1 of 3/);
    expect(outputOf('imprint rollout promote ip-reputation --full')).toMatch(/COMPLETED[\s\S]*update: v7\n/);
    expect(outputOf('--no-rollout --meta build=6')).toMatch(/published ip-reputation v8[\s\S]*scopes +\*/);
    expect(outputOf('imprint pin ip-reputation 7 --scope region=us-east-1')).toMatch(/update: v7 \(pinned\)[\s\S]*unpinned/);
  });

  it('every alert of ops/prometheus/alerts.yml has its section (the anchor its runbook_url names)', () => {
    const alerts = [...fs.readFileSync(path.resolve('ops/prometheus/alerts.yml'), 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1] as string);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    const headings = new Set([...fs.readFileSync(RUNBOOK, 'utf8').matchAll(/^### (\w+)$/gm)].map((m) => (m[1] as string).toLowerCase()));
    expect(alerts.filter((a) => !headings.has(a.toLowerCase()))).toEqual([]);
  });

  it('a lost store is restored from the fallback snapshot into a new one, and a service on it answers as before', async () => {
    expect(outputOf('imprint snapshot show --topic ip-reputation')).toContain('ip-reputation');
    outputOf('snapshot restore --yes');
    // The snapshot was written (the janitor, "The whole service is down") after the unpin: v4 for everyone, no pin.
    const restored = await startServe(path.join(work, 'restored'), [], { IMPRINT_BLOB_DIR: path.join(env.IMPRINT_DATA_DIR as string, 'blobs') });
    try {
      const poll = await runCli(['--address', restored.address, 'poll', 'ip-reputation', '--app', 'scorer', '--region', 'us-east-1', '--node', 'scorer-1'], env);
      expect(poll.stdout).toMatch(/^update: v4\n/);
      const got = await runCli(['--address', restored.address, '--json', 'get', 'ip-reputation', '4'], env);
      expect(JSON.parse(got.stdout)).toMatchObject({ version: '4', metadata: { build: '4' } });
    } finally {
      await restored.stop();
    }
  });

  it('the incident review answers what the node was served a minute ago, and the changes around it', () => {
    // Which version depends on how fast the blocks before ran (the exact answers are test/e2e/cli-lifecycle.test.ts's).
    const review = outputOf('imprint history ip-reputation --at 1m');
    expect(review).toMatch(/^ip-reputation at \S+ for scorer\/-\/us-east-1\/scorer-1: (v[1-4] \(published \S+\)( pinned)?|nothing matched)$/m);
    expect(review).toContain('changes around that moment');
  });

  it('a retired topic is listed as deleted', () => {
    expect(outputOf('imprint topic list --deleted')).toMatch(/spam-words-v1.*deleted|deleted.*spam-words-v1/i);
  });

  it("the certificate rotation is served: the renewed certificate's end, by openssl and by the metric", () => {
    const out = outputOf('openssl s_client');
    const end = new Date(new crypto.X509Certificate(fs.readFileSync(env.NEW_CERT as string)).validTo).getTime() / 1000;
    expect(out).toContain(`serving: notAfter=${new crypto.X509Certificate(fs.readFileSync(env.NEW_CERT as string)).validTo}`);
    expect(out).toContain(`imprint_tls_certificate_expiry_timestamp_seconds ${end}\n`);
    expect(out).toContain('SERVING');
    expect(tlsServer.output()).toContain('TLS certificate reloaded');
  });

  it('the metrics the runbook reads are there', () => {
    expect(outputOf('curl -s "$METRICS" | grep -E \'^imprint_(consume_table_age_seconds')).toMatch(/^imprint_consume_table_age_seconds /m);
  });
});
