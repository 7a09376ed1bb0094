/** The `imprint` command as an operator uses it: the README walkthrough, against a real `imprint serve`. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli as imprint, startServe, stopProcess, type CliResult as Result, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';

describe('imprint CLI walkthrough', () => {
  const dir = tempDir();
  const dataDir = path.join(dir, 'data');
  let server: ServeProcess;
  let cli: (...args: string[]) => Promise<Result>;

  beforeAll(async () => {
    expect(fs.existsSync(CLI)).toBe(true); // npm test builds dist/ first
    server = await startServe(dataDir);
    cli = (...args) => imprint(['--address', `127.0.0.1:${server.port}`, '--data-dir', dataDir, ...args]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('serve tells the operator where things are and what to do next', () => {
    expect(server.output()).toContain(`metadata  ${path.join(dataDir, 'imprint.db')}`);
    expect(server.output()).toContain('Next, in another terminal:');
  });

  it('creates a topic, publishes small and large files, pins, polls, unpins, downloads', async () => {
    const small = path.join(dir, 'rules.json');
    fs.writeFileSync(small, JSON.stringify({ threshold: 0.7 }));
    const large = path.join(dir, 'model.bin');
    const largeBytes = randomBytes(6 * 1024 * 1024 + 123);
    fs.writeFileSync(large, largeBytes);

    const created = await cli('topic', 'create', 'ip-reputation', '--owner', 'trust-team', '--keep-versions', '20');
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toContain('created topic ip-reputation');

    const p1 = await cli('publish', 'ip-reputation', small, '--meta', 'build=1');
    expect(p1.code).toBe(0);
    expect(p1.stdout).toMatch(/published ip-reputation v1/);
    expect(p1.stdout).toContain('payload  direct');

    const p2 = await cli('--json', 'publish', 'ip-reputation', large, '--meta', 'build=2');
    expect(p2.code).toBe(0);
    const rec2 = JSON.parse(p2.stdout) as { version: string; pointer: { kind: string; size: number; sha256: string; locations: { key: string }[] } };
    expect(rec2.version).toBe('2');
    expect(rec2.pointer.kind).toBe('blob');
    expect(rec2.pointer.size).toBe(largeBytes.length);
    expect(fs.existsSync(path.join(dataDir, 'blobs', rec2.pointer.locations[0]?.key ?? 'missing'))).toBe(true);

    const versions = JSON.parse((await cli('--json', 'versions', 'ip-reputation')).stdout) as { version: string }[];
    expect(versions.map((v) => v.version)).toEqual(['2', '1']);

    const pinned = await cli('pin', 'ip-reputation', '1', '--reason', 'v2 scores everything as spam', '--by', 'oncall');
    expect(pinned.stdout).toContain('-> v1');
    const polled = JSON.parse((await cli('--json', 'poll', 'ip-reputation', '--app', 'scorer', '--last-seen', '2')).stdout) as {
      update: { version: string };
      pinned: boolean;
    };
    expect(polled).toMatchObject({ update: { version: '1' }, pinned: true });
    expect((await cli('pins', 'ip-reputation')).stdout).toContain('v2 scores everything as spam');

    expect((await cli('unpin', 'ip-reputation')).code).toBe(0);
    expect((await cli('poll', 'ip-reputation', '--app', 'scorer', '--last-seen', '1')).stdout).toMatch(/^update: v2$/m);
    expect((await cli('poll', 'ip-reputation', '--app', 'scorer', '--last-seen', '2')).stdout).toContain('no update');

    const out = path.join(dir, 'downloaded.bin');
    const dl = await cli('download', 'ip-reputation', '2', '-o', out);
    expect(dl.code).toBe(0);
    expect(dl.stdout).toContain('sha256 verified');
    expect(fs.readFileSync(out).equals(largeBytes)).toBe(true);

    const described = await cli('topic', 'describe', 'ip-reputation');
    expect(described.stdout).toContain('versions    2');
    expect(described.stdout).toContain('pins: none');
  });

  it('topic consumers lists who polled and the nodes, topic moves when they moved; janitor --once writes a snapshot and purges', async () => {
    await cli('poll', 'ip-reputation', '--app', 'scorer', '--cluster', 'c1', '--node', 'n1');
    await cli('poll', 'ip-reputation', '--app', 'scorer', '--cluster', 'c1', '--node', 'n2', '--last-seen', '2');
    const consumers = await cli('topic', 'consumers', 'ip-reputation', '--kibana-url', 'http://kibana:5601', '--nodes', '10');
    expect(consumers.code).toBe(0);
    expect(consumers.stdout).toMatch(/scorer\/c1\/-\s+2 nodes\s+v2: 2/);
    expect(consumers.stdout).toMatch(/^ {4}scorer\/c1\/-\/n1\s+v2\s+since /m);
    expect(consumers.stdout).toMatch(/^ {4}scorer\/c1\/-\/n2\s+v2\s+since before the audit data/m);
    expect(consumers.stdout).toContain('kibana: http://kibana:5601/app/discover#/');
    const moves = await cli('topic', 'moves', 'ip-reputation', '--node', 'n1');
    expect(moves.code).toBe(0);
    expect(moves.stdout.trim().split('\n')).toEqual([expect.stringMatching(/ scorer\/c1\/-\/n1\s+first -> v2$/)]);
    expect((await cli('topic', 'moves', 'ip-reputation', '--limit', '0')).code).toBe(2);
    const badTimeout = await cli('topic', 'consumers', 'ip-reputation', '--timeout', '10ms');
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('timeout must be at least 1s');
    const janitor = await cli('janitor', '--once');
    expect(janitor.code).toBe(0);
    expect(janitor.stdout).toMatch(/^snapshot: \d+ topics, \d+ bytes to local$/m);
    expect(janitor.stdout).toMatch(/^purge: 0 versions deleted over \d+ topics$/m);
    expect(fs.readdirSync(path.join(dataDir, 'blobs', 'imprint-snapshots'))).toContain('LATEST');
  });

  it('bad input: a clear message, exit 2, and nothing written', async () => {
    const f = path.join(dir, 'x.txt');
    fs.writeFileSync(f, 'x');
    await cli('topic', 'create', 'strict');
    const bad = await cli('publish', 'strict', f, '--scope', 'region');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('scopes[0] must be key=value pairs');
    expect(JSON.parse((await cli('--json', 'versions', 'strict')).stdout)).toEqual([]);
    const badName = await cli('topic', 'create', 'Has Spaces');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('name must be 1-128 characters');
  });

  it('add-scopes widens a version; without a scope, or with a bad one, exit 2 and the record is unchanged', async () => {
    const f = path.join(dir, 'canary.txt');
    fs.writeFileSync(f, 'canary');
    await cli('topic', 'create', 'widening');
    expect((await cli('publish', 'widening', f, '--scope', 'region=us-east-1')).code).toBe(0);
    const none = await cli('add-scopes', 'widening', '1');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('scope must be given at least once');
    const bad = await cli('add-scopes', 'widening', '1', '--scope', 'eu-west-1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('scopes[0] must be key=value pairs');
    const scopesOf = async () => (JSON.parse((await cli('--json', 'get', 'widening', '1')).stdout) as { scopes: unknown[] }).scopes;
    expect(await scopesOf()).toEqual([{ region: 'us-east-1' }]);
    const added = await cli('--json', 'add-scopes', 'widening', '1', '--scope', 'region=eu-west-1', '--scope', '');
    expect(added.code).toBe(0);
    const after = await scopesOf();
    expect(after).toHaveLength(3);
    expect(after).toEqual(expect.arrayContaining([{ region: 'us-east-1' }, { region: 'eu-west-1' }, {}]));
  });

  it('poll requires --app (the server audits and limits polls per application): exit 2, nothing polled', async () => {
    const res = await cli('poll', 'ip-reputation', '--last-seen', '1');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--app is required: the application to poll as (e.g. --app scorer)');
  });

  it('staleness contract: topic create/update --expect-every --max-staleness, bad values named by their flag; topic list shows OVERDUE, --overdue only those', async () => {
    const created = await cli('topic', 'create', 'hourly', '--expect-every', '1h', '--max-staleness', '2h');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('contract    published every 1h, consumers at most 2h stale');
    const below = await cli('topic', 'update', 'hourly', '--max-staleness', '30m');
    expect(below.code).toBe(2);
    expect(below.stderr).toContain('max-staleness must not be below expect-every (3600000)');
    const short = await cli('topic', 'create', 'fast', '--expect-every', '10s');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('expect-every must be 0 (none) or a whole number of milliseconds from 60000 (1 minute)');
    const cleared = await cli('topic', 'update', 'hourly', '--expect-every', 'none');
    expect(cleared.stdout).toContain('published every -, consumers at most 2h stale');
    await cli('topic', 'update', 'hourly', '--expect-every', '1h');
    const list = await cli('topic', 'list');
    expect(list.stdout).toMatch(/^TOPIC\s+LATEST\s+OVERDUE\s+OWNER$/m);
    expect(list.stdout).toMatch(/^hourly\s+v0\s+no\s/m);
    expect(list.stdout).toMatch(/^ip-reputation\s+v\d+\s+-\s/m);
    expect((await cli('topic', 'list', '--overdue')).stdout.trim()).toBe('no overdue topics');
    expect((await cli('topic', 'describe', 'hourly')).stdout).toContain('published   never');
    expect((await cli('history', 'hourly')).stdout).toContain('expect_every_ms=none');
  });

  it('a large publish to a missing topic fails and leaves no blob behind', async () => {
    const large = path.join(dir, 'orphan.bin');
    fs.writeFileSync(large, randomBytes(2 * 1024 * 1024));
    const res = await cli('publish', 'never-created', large);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('topic "never-created"');
    expect(fs.existsSync(path.join(dataDir, 'blobs', 'never-created')) ? fs.readdirSync(path.join(dataDir, 'blobs', 'never-created')) : []).toEqual([]);
  });

  it('an unreachable service is reported, not hung on', async () => {
    const res = await imprint(['--address', '127.0.0.1:1', 'topic', 'list']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/did not answer \(UNAVAILABLE/);
  });
});

describe('imprint serve start-up failures', () => {
  it('exits non-zero with a clear error on a corrupt data dir', async () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'imprint.db'), Buffer.alloc(10_000, 1));
    const res = await imprint(['--data-dir', dataDir, 'serve', '--port', '0']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('cannot open the metadata store');
  });

  it('--help lists every command', async () => {
    const res = await imprint(['--help']);
    for (const cmd of ['serve', 'topic', 'publish', 'versions', 'get', 'download', 'latest-at', 'poll', 'pin', 'unpin', 'pins', 'health', 'janitor']) expect(res.stdout).toContain(cmd);
  });

  it('refuses a bad role, refresh, tail or metrics port, naming the flag', async () => {
    const dataDir = tempDir();
    const role = await imprint(['--data-dir', dataDir, 'serve', '--port', '0', '--role', 'reader']);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain("option '--role <role>' argument 'reader' is invalid. Allowed choices are publish, consume, all.");
    const refresh = await imprint(['--data-dir', dataDir, 'serve', '--port', '0'], { IMPRINT_ROLE: 'consume', IMPRINT_REFRESH_MS: '5' });
    expect(refresh.code).toBe(2);
    expect(refresh.stderr).toContain('refresh-ms must be a whole number of milliseconds from 100 to 600000 (got 5)');
    const tail = await imprint(['--data-dir', dataDir, 'serve', '--port', '0', '--tail-ms', '5']);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain('tail-ms must be a whole number of milliseconds from 10 to 600000 (got 5)');
    const metrics = await imprint(['--data-dir', dataDir, 'serve', '--port', '0', '--metrics-port', 'x']);
    expect(metrics.code).toBe(2);
    expect(metrics.stderr).toContain('metrics-port must be a whole number');
  });
});

describe('imprint serve BatchPoll bounds', () => {
  it('refuses bounds out of range from flags and environment, naming the flag (exit 2)', async () => {
    const dataDir = tempDir();
    const topics = await imprint(['--data-dir', dataDir, 'serve', '--port', '0', '--batch-poll-max-topics', '0']);
    expect(topics.code).toBe(2);
    expect(topics.stderr).toContain('batchPoll.maxTopics must be a whole number from 1 to 2000 (--batch-poll-max-topics, IMPRINT_BATCH_POLL_MAX_TOPICS) (got 0)');
    const bytes = await imprint(['--data-dir', dataDir, 'serve', '--port', '0'], { IMPRINT_BATCH_POLL_MAX_RESPONSE_BYTES: '1000' });
    expect(bytes.code).toBe(2);
    expect(bytes.stderr).toContain('batchPoll.maxResponseBytes must be a whole number from 1048576 to 67108864');
  });
});

describe('imprint serve drains on SIGTERM', () => {
  it('health NOT_SERVING while it still answers for --drain-ms; a second SIGTERM stops it at once, exit 0', async () => {
    const s = await startServe(tempDir(), ['--drain-ms', '600000']);
    const at = ['--address', s.address];
    expect(await imprint([...at, 'health'])).toMatchObject({ code: 0, stdout: 'SERVING\n' });
    const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
    s.proc.kill('SIGTERM');
    const deadline = Date.now() + 20_000;
    while (!s.output().includes('health NOT_SERVING, still answering for 600000 ms') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(s.output()).toContain('received SIGTERM: health NOT_SERVING, still answering for 600000 ms (--drain-ms), then stopping; SIGTERM again stops now');
    expect(await imprint([...at, 'health'])).toMatchObject({ code: 1, stdout: 'NOT_SERVING\n' });
    // Still answering: a topic can be listed.
    expect((await imprint([...at, 'topic', 'list'])).code).toBe(0);
    s.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(s.output()).toContain('received SIGTERM again, stopping now');
  });

  it('Ctrl-C (SIGINT) stops without the drain', async () => {
    const s = await startServe(tempDir(), ['--drain-ms', '600000']);
    const exited = new Promise<number | null>((resolve) => s.proc.once('exit', (code) => resolve(code)));
    s.proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(s.output()).toContain('received SIGINT, stopping');
    expect(s.output()).not.toContain('NOT_SERVING, still answering');
  });
});

describe('imprint serve --role, from flags and environment', () => {
  const dataDir = tempDir();
  let publish: ServeProcess;
  let consume: ServeProcess;

  beforeAll(async () => {
    publish = await startServe(dataDir, ['--role', 'publish']);
    consume = await startServe(dataDir, [], { IMPRINT_ROLE: 'consume', IMPRINT_REFRESH_MS: '200', IMPRINT_TAIL_MS: '150', IMPRINT_METRICS_PORT: '0' });
  });
  afterAll(async () => {
    expect(await consume.stop()).toBe(0);
    expect(await publish.stop()).toBe(0);
  });

  it('says which role it serves, where its metrics are, and what to try next for that role', () => {
    expect(publish.output()).toContain('role      publish (PublisherService, OperatorService)');
    expect(publish.output()).toContain('metrics   off (--metrics-port to serve them)');
    expect(publish.output()).not.toContain('poll demo');
    expect(consume.output()).toContain('role      consume (ConsumerService); poll table of 0 topics, change feed read every 150 ms, every topic read again every 200 ms');
    expect(consume.output()).toMatch(/metrics {3}http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(consume.output()).not.toContain('topic create');
  });

  it('health answers per role; publishing goes to publish, polling to consume', async () => {
    const at = (s: { port: number }) => ['--address', `127.0.0.1:${s.port}`];
    expect(await imprint([...at(consume), 'health'])).toMatchObject({ code: 0, stdout: 'SERVING\n' });
    expect(await imprint([...at(consume), 'health', '--service', 'imprint.v1.PublisherService'])).toMatchObject({ code: 1, stdout: 'SERVICE_UNKNOWN\n' });
    expect(await imprint([...at(publish), 'health', '--service', 'imprint.v1.OperatorService'])).toMatchObject({ code: 0, stdout: 'SERVING\n' });

    const wrong = await imprint([...at(consume), 'topic', 'create', 'roles', '--owner', 'me']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('a consume-role instance serves only Consumer calls');
    expect((await imprint([...at(publish), 'topic', 'create', 'roles', '--owner', 'me'])).code).toBe(0);
    const file = path.join(dataDir, 'roles.txt');
    fs.writeFileSync(file, 'v1');
    expect((await imprint([...at(publish), 'publish', 'roles', file])).code).toBe(0);
    // The consume instance sees it within a refresh (200 ms), through an address list with a dead entry.
    let polled: Result | undefined;
    for (let i = 0; i < 50; i++) {
      polled = await imprint(['--address', `127.0.0.1:${consume.port},127.0.0.1:1`, '--json', 'poll', 'roles', '--app', 'cli-test']);
      if (polled.stdout.includes('"version": "1"')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(polled?.code).toBe(0);
    expect(polled?.stdout).toContain('"version": "1"');
    const metricsUrl = /metrics {3}(http:\S+)/.exec(consume.output())?.[1];
    const text = await (await fetch(metricsUrl ?? '')).text();
    expect(text).toMatch(/^imprint_consume_requests_total\{method="Poll",outcome="ok"\} [1-9]\d*$/m);
  });
});

/** An S3 endpoint that refuses every request (403) and remembers each one's Host and path. */
async function refusingS3(): Promise<{ url: string; requests: { host: string; path: string }[]; close(): Promise<void> }> {
  const requests: { host: string; path: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ host: req.headers.host ?? '', path: req.url ?? '' });
    req.resume();
    req.on('end', () => res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>refused by the test</Message></Error>'));
  });
  // On "localhost" (whichever address it resolves to here, as for the SDK): an IP endpoint would always get path-style URLs.
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://localhost:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('imprint command line: exit codes, switches, version, messages', () => {
  it("commander's own usage errors exit 2 (invalid input), like the command's", async () => {
    for (const [args, message] of [
      [['topic', 'list', '--bogus'], "error: unknown option '--bogus'"],
      [['--data-dir', tempDir(), 'serve', '--port', '0', '--role', 'reader'], "option '--role <role>' argument 'reader' is invalid. Allowed choices are publish, consume, all."],
      [['get', 'ip-reputation'], "error: missing required argument 'version'"],
      [['topic', 'lst'], "error: unknown command 'lst'"],
    ] as const) {
      const res = await imprint([...args]);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toContain(message);
    }
    // Help is not an error.
    expect((await imprint(['topic', '--help'])).code).toBe(0);
  });

  it('a switch variable takes true/false, 1/0, yes/no in any case, and refuses anything else naming the variable', async () => {
    const dataDir = tempDir();
    // Off: the janitor runs on its intervals (until stopped) instead of once.
    for (const off of ['false', '0', 'No']) {
      const proc = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'janitor'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IMPRINT_JANITOR_ONCE: off } });
      try {
        let output = '';
        const state = await new Promise<string>((resolve) => {
          const onData = (b: Buffer) => {
            output += b.toString();
            if (output.includes('snapshot written')) resolve('running on intervals'); // after start(): its signal handlers are set
          };
          proc.stdout.on('data', onData);
          proc.stderr.on('data', onData);
          proc.on('exit', (code) => resolve(`exited with ${code}`));
        });
        expect({ IMPRINT_JANITOR_ONCE: off, state }).toEqual({ IMPRINT_JANITOR_ONCE: off, state: 'running on intervals' });
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) expect(await stopProcess(proc)).toBe(0);
      }
    }
    for (const on of ['true', '1', 'YES']) {
      const res = await imprint(['--data-dir', dataDir, 'janitor'], { IMPRINT_JANITOR_ONCE: on });
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^snapshot: \d+ topics/m);
    }
    const bad = await imprint(['--data-dir', dataDir, 'janitor'], { IMPRINT_JANITOR_ONCE: 'maybe' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('IMPRINT_JANITOR_ONCE must be true or false (also 1/0, yes/no) (got "maybe")');

    // IMPRINT_S3_PATH_STYLE=false means virtual-hosted URLs (bucket in the host name), true path-style ones.
    const s3 = await refusingS3();
    try {
      const janitorOnS3 = (pathStyle: string) =>
        imprint(['--data-dir', dataDir, 'janitor', '--once', '--blobs', 's3', '--regions', 'us-east-1', '--s3-endpoints', `us-east-1=${s3.url}`], {
          IMPRINT_S3_PATH_STYLE: pathStyle,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test-secret',
        });
      const pathStyleRequests = () => s3.requests.filter((r) => r.path.startsWith('/imprint-us-east-1/')).length;
      await janitorOnS3('false');
      expect(pathStyleRequests()).toBe(0);
      await janitorOnS3('TRUE');
      expect(pathStyleRequests()).toBeGreaterThan(0);
      const badS3 = await janitorOnS3('off');
      expect(badS3.code).toBe(2);
      expect(badS3.stderr).toContain('IMPRINT_S3_PATH_STYLE must be true or false');
    } finally {
      await s3.close();
    }
  });

  it('janitor --once exits 1 when the snapshot could not be written to a region, and says which', async () => {
    const s3 = await refusingS3();
    try {
      const res = await imprint(['--data-dir', tempDir(), 'janitor', '--once', '--blobs', 's3', '--regions', 'us-east-1', '--s3-endpoints', `us-east-1=${s3.url}`, '--s3-path-style'], {
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
      });
      expect(res.stdout).toMatch(/^snapshot: 0 topics, \d+ bytes to no region; failed in us-east-1$/m);
      expect(res.code).toBe(1);
    } finally {
      await s3.close();
    }
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(await imprint([flag])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('an unreachable service is reported in one clean line, without grpc-js\'s empty "Resolution note"', async () => {
    const res = await imprint(['--address', '127.0.0.1:1', 'topic', 'list']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('imprint: ListTopics: the Imprint service did not answer (UNAVAILABLE: no connection: connect ECONNREFUSED 127.0.0.1:1)\n');
  });

  it("S3 commands do not print the AWS SDK's Node-version warning; a caller who asks for it still gets it", async () => {
    const s3 = await refusingS3();
    try {
      const run = (env: Record<string, string> = {}) =>
        imprint(['--data-dir', tempDir(), 'janitor', '--once', '--blobs', 's3', '--regions', 'us-east-1', '--s3-endpoints', `us-east-1=${s3.url}`, '--s3-path-style'], {
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test-secret',
          ...env,
        });
      const quiet = await run();
      expect(s3.requests.length).toBeGreaterThan(0); // the SDK was loaded and used
      expect(quiet.stderr).not.toContain('NodeVersionSupportWarning');
      expect(quiet.stderr).not.toContain('AWS SDK for JavaScript');
      // Only the SDK's own switch is used: a caller who sets it otherwise sees the warning (on Node < 22, where the SDK warns).
      const asked = await run({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
      if (Number(process.versions.node.split('.')[0]) < 22) expect(asked.stderr).toContain('NodeVersionSupportWarning');
    } finally {
      await s3.close();
    }
  });
});
