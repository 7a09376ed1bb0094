/**
 * `imprint serve`'s log, as a log pipeline reads it (a real process, stderr not a terminal):
 * JSON lines; IMPRINT_LOG_LEVEL and --log-level change what is written; a bad level is refused
 * naming the flag; a password in --es-url reaches neither the log nor the banner.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../cli-process.js';
import { tempDir } from '../helpers.js';
import { RawStubs } from '../wire-numbers.js';

type Line = Record<string, unknown>;

/** The JSON lines of `s`'s output (its banner and signal notes are text for a person, not log lines). */
function logLines(s: ServeProcess): Line[] {
  return s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/** Waits (generously) until `s` has logged a line matching `want`. */
async function waitForLine(s: ServeProcess, want: (l: Line) => boolean, what: string): Promise<Line> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = logLines(s).find(want);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line ${what} within 20 s; output:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const started: ServeProcess[] = [];
const stubsOpen: RawStubs[] = [];
afterEach(async () => {
  for (const st of stubsOpen.splice(0)) st.close();
  for (const s of started.splice(0)) await s.kill();
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const s = await startServe(tempDir(), args, env);
  started.push(s);
  return s;
}

/** A request the server refuses (INVALID_ARGUMENT, logged at warn) and a topic read it answers (OK, logged at debug). */
async function oneFailedOneAnswered(s: ServeProcess): Promise<void> {
  const stubs = new RawStubs(s.address);
  stubsOpen.push(stubs);
  expect((await stubs.call('ConsumerService', 'Poll', { topic: 'model', identity: { app: 'scorer', cluster: 'bad cluster' }, lastSeenVersion: '0' })).code).toBe(grpc.status.INVALID_ARGUMENT);
  expect((await stubs.call('ConsumerService', 'ListTopics', {})).code).toBe(grpc.status.OK);
}

describe('imprint serve logs', () => {
  it('writes JSON lines when stderr is not a terminal; at the default level info: what it serves, failures, not every answer', async () => {
    const s = await serve([]);
    await waitForLine(s, (l) => l.msg === 'imprint serving', 'saying it serves');
    await oneFailedOneAnswered(s);
    const failed = await waitForLine(s, (l) => l.msg === 'request failed', 'for the failed Poll');
    expect(failed).toMatchObject({ level: 'warn', method: 'Poll', topic: 'model', app: 'scorer', requestId: expect.any(String), outcome: 'INVALID_ARGUMENT' });
    for (const l of logLines(s)) expect(l).toMatchObject({ level: expect.stringMatching(/^(info|warn|error|fatal)$/), time: expect.any(String), msg: expect.any(String) });
    // Nothing else on stderr looks like a readable log line (those are for terminals).
    expect(s.output()).not.toMatch(/^\d\d:\d\d:\d\d\.\d{3} (INFO|WARN)/m);
  });

  it('IMPRINT_LOG_LEVEL=debug adds every answer', async () => {
    const s = await serve([], { IMPRINT_LOG_LEVEL: 'debug' });
    await oneFailedOneAnswered(s);
    const answered = await waitForLine(s, (l) => l.msg === 'request answered' && l.method === 'ListTopics', 'for the ListTopics answer');
    expect(answered).toMatchObject({ level: 'debug', outcome: 'ok', requestId: expect.any(String), app: '(unknown)' });
  });

  it('--log-level warn leaves out info and debug lines, keeps failures', async () => {
    const s = await serve(['--log-level', 'warn'], { IMPRINT_LOG_LEVEL: 'debug' });
    await oneFailedOneAnswered(s);
    await waitForLine(s, (l) => l.msg === 'request failed', 'for the failed Poll');
    expect(logLines(s).map((l) => l.level)).toEqual(['warn']);
  });

  it('a password in --es-url reaches neither the log nor the banner', async () => {
    // Nothing listens on port 1: the sink logs that Elasticsearch is unavailable and buffers.
    const s = await serve(['--audit', 'elasticsearch', '--es-url', 'http://elastic:s3cr3t-pw@127.0.0.1:1', '--log-level', 'debug']);
    await waitForLine(s, (l) => String(l.msg).startsWith('audit: elasticsearch unavailable'), 'saying Elasticsearch is unavailable');
    expect(s.output()).toContain('audit     elasticsearch http://elastic:[redacted]@127.0.0.1:1/');
    expect(logLines(s).find((l) => l.msg === 'imprint serving')).toMatchObject({ esUrl: 'http://elastic:[redacted]@127.0.0.1:1/' });
    expect(s.output()).not.toContain('s3cr3t-pw');
  });

  it.each([
    [['--log-level', 'loud'], {}, "option '--log-level <level>' argument 'loud' is invalid. Allowed choices are trace, debug, info, warn, error, fatal, silent."],
    [[], { IMPRINT_LOG_LEVEL: 'loud' }, "option '--log-level <level>' value 'loud' from env 'IMPRINT_LOG_LEVEL' is invalid. Allowed choices are trace, debug, info, warn, error, fatal, silent."],
    [['--log-format', 'xml'], {}, "option '--log-format <format>' argument 'xml' is invalid. Allowed choices are json, pretty."],
  ])('refuses %j %j naming the flag and the levels (exit 2)', async (args, env, message) => {
    for (const verb of ['serve', 'janitor']) {
      const r = await runCli(['--data-dir', tempDir(), verb, ...args], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
