/**
 * The topic lifecycle verbs: `imprint topic delete`, `imprint topic cleanup` (suggests topics
 * nobody publishes to or reads, from the versions and the audit, and deletes them on
 * confirmation) and `imprint history --at` (what a consumer was served at a moment).
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { ImprintClient, TopicChange } from '../client/imprint-client.js';
import { InvalidArgumentError, type ConsumerIdentity, type Topic } from '../core/index.js';
import { CHANGE_HEADER, changeJson, changeText, pinText, recordJson, scopeText, when } from './format.js';
import { parseDuration } from './janitor.js';

/** What the verbs need of program.ts. */
export interface LifecycleContext {
  /** Runs an action with a client of the service at --address (calls given `timeoutOf(...args)` ms when given). */
  withClient<A extends unknown[]>(fn: (client: ImprintClient, ...args: A) => Promise<void>, timeoutOf?: (...args: A) => number): (...args: A) => Promise<void>;
  /** Prints JSON with --json, else the text. */
  out(json: unknown, text: () => string): void;
}

/**
 * Asks "QUESTION [y/N]" on a terminal; true for yes. `--yes` answers for the user; without a
 * terminal (a script, a pipe) and without `--yes` nothing is done: an error naming `--yes`.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new InvalidArgumentError('--yes', 'is required when not on a terminal (nothing was deleted)');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** "2026-11-23T10:00:00Z", epoch ms, or a duration ago ("3h", "2d"). */
export function parseMoment(text: string, field: string, nowMs: number): number {
  if (/^[0-9]+(ms|s|m|h|d)$/.test(text.trim())) return nowMs - parseDuration(text, field);
  const ms = /^[0-9]+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(field, 'must be an ISO date-time (2026-11-23T10:00:00Z), milliseconds since the epoch, or a duration ago (3h, 2d)', text);
  return ms;
}

export function addTopicLifecycleCommands(topic: Command, ctx: LifecycleContext): void {
  topic
    .command('delete <name>')
    .description('delete a topic: its consumers get NOT_FOUND at once, publishes and pins are refused; the janitor purges it after --delete-grace (7d)')
    .option('--reason <text>', 'why (kept in the topic history)', '')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .action(
      ctx.withClient(async (client, name: string, o: { reason: string; yes?: boolean }) => {
        const t = await client.getTopic(name);
        if (t.deletedAtMs === undefined && !(await confirm(`delete topic ${name} (latest v${t.latestVersion}, owner ${t.owner || '-'})? Its consumers get NOT_FOUND at once.`, o.yes))) {
          ctx.out({ deleted: false }, () => 'nothing deleted');
          return;
        }
        const d = await client.deleteTopic(name, o.reason);
        ctx.out(d, () => `deleted topic ${d.name} at ${when(d.deletedAtMs ?? 0)}; the janitor purges it (and frees the name) after its --delete-grace`);
      }),
    );

  topic
    .command('cleanup')
    .description('suggest topics with no publish and no consumer within --idle (from the versions and the audit), and delete them on confirmation')
    .option('--idle <duration>', 'a topic is idle when nothing was published to it and no consumer polled it for this long', '180d')
    .option('--dry-run', 'only print the suggestions')
    .option('--yes', 'delete the suggestions without asking (required when not on a terminal)')
    .option('--concurrency <n>', 'topics examined at once (1-64)', '8')
    .option('--timeout <duration>', "how long one topic's calls may take (the audit's consumers view of a long window can be slow)", '60s')
    .addHelpText(
      'after',
      `
Idle: created before the window, no version published within it, and no consumer seen polling
it within it by the audit (DescribeTopic's consumers view). A topic whose consumers the audit
cannot tell (sink down, or one that cannot list consumers) is never suggested.`,
    )
    .action(
      ctx.withClient(async (client, o: { idle: string; dryRun?: boolean; yes?: boolean; concurrency: string; timeout: string }) => {
        const idleMs = parseDuration(o.idle, 'idle');
        const concurrency = Number(o.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new InvalidArgumentError('--concurrency', 'must be a whole number from 1 to 64', o.concurrency);
        const sinceMs = Date.now() - idleMs;
        const topics = await client.listTopics();
        const verdicts = await examineAll(client, topics, sinceMs, concurrency);
        const idle = verdicts.filter((v) => v.kind === 'idle');
        const unknown = verdicts.filter((v) => v.kind === 'unknown');
        const summary = `${topics.length} topics examined: ${idle.length} idle since ${when(sinceMs)}, ${unknown.length} with consumers unknown (never suggested), ${verdicts.length - idle.length - unknown.length} in use`;
        ctx.out({ sinceMs, idle, unknown, summary, deleted: [] }, () =>
          [
            ...(idle.length ? [`${'TOPIC'.padEnd(32)}  ${'OWNER'.padEnd(16)}  ${'LAST PUBLISH'.padEnd(24)}  LAST CONSUMER SEEN`, ...idle.map(idleRow)] : ['no idle topics']),
            ...unknown.map((v) => `not suggested: ${v.topic}: consumers unknown (${v.why})`),
            summary,
          ].join('\n'),
        );
        if (o.dryRun || idle.length === 0) return;
        if (!(await confirm(`delete these ${idle.length} topics?`, o.yes))) {
          process.stdout.write('nothing deleted\n');
          return;
        }
        for (const v of idle) {
          await client.deleteTopic(v.topic, `imprint topic cleanup: no publish and no consumer since ${when(sinceMs)}`);
          process.stderr.write(`deleted ${v.topic}\n`);
        }
        process.stdout.write(`deleted ${idle.length} topics; the janitor purges them after its --delete-grace\n`);
      }, (o) => parseDuration(o.timeout, 'timeout')),
    );
}

/** One topic's verdict: idle (suggested), in use, or consumers unknown (never suggested). */
export interface Verdict {
  readonly topic: string;
  readonly kind: 'idle' | 'used' | 'unknown';
  readonly owner: string;
  /** Newest version's publish time; absent: never published. */
  readonly lastPublishMs?: number;
  /** Last poll the audit saw in the window; absent: none in the window. */
  readonly lastConsumerMs?: number;
  /** unknown: why the audit could not tell. */
  readonly why?: string;
}

function idleRow(v: Verdict): string {
  return `${v.topic.padEnd(32)}  ${(v.owner || '-').padEnd(16)}  ${(v.lastPublishMs !== undefined ? when(v.lastPublishMs) : 'never').padEnd(24)}  ${v.lastConsumerMs !== undefined ? when(v.lastConsumerMs) : 'none in the window'}`;
}

async function examine(client: ImprintClient, t: Topic, sinceMs: number): Promise<Verdict> {
  // 1. The newest version (kept by any retention: the latest of its scope), 2. the audit's consumers in the window.
  const [newest, d] = await Promise.all([t.latestVersion > 0n ? client.listVersions(t.name, { pageSize: 1 }) : undefined, client.describeTopic(t.name, { sinceMs })]);
  const lastPublishMs = newest?.versions[0]?.publishedAtMs;
  const base = { topic: t.name, owner: t.owner, ...(lastPublishMs !== undefined && { lastPublishMs }) };
  const c = d.consumers;
  if ('error' in c) return { ...base, kind: 'unknown', why: c.error };
  const lastConsumerMs = c.lastSeenMs || undefined;
  const active = c.nodeCount > 0 || t.createdAtMs >= sinceMs || (lastPublishMs !== undefined && lastPublishMs >= sinceMs);
  return { ...base, ...(lastConsumerMs !== undefined && { lastConsumerMs }), kind: active ? 'used' : 'idle' };
}

/** Every topic examined, at most `concurrency` at once; progress on stderr when it is a terminal. */
export async function examineAll(client: ImprintClient, topics: readonly Topic[], sinceMs: number, concurrency: number): Promise<Verdict[]> {
  const out: Verdict[] = new Array(topics.length);
  let next = 0;
  let done = 0;
  const tty = process.stderr.isTTY;
  const worker = async () => {
    for (let i = next++; i < topics.length; i = next++) {
      const t = topics[i] as Topic;
      out[i] = await examine(client, t, sinceMs);
      done++;
      if (tty) process.stderr.write(`\rexamined ${done} of ${topics.length} topics`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, topics.length) }, worker));
  if (tty && topics.length > 0) process.stderr.write('\n');
  return out;
}

/** How many history entries `history --at` shows on each side of the moment. */
const AROUND = 5;

/**
 * `imprint history TOPIC --at TIME`: what the identity was served then (the server's poll
 * decision over the topic as it stood, pins included) and the changes around that moment.
 */
export async function historyAt(client: ImprintClient, topicName: string, identity: ConsumerIdentity, atMs: number, ctx: LifecycleContext): Promise<void> {
  const served = await client.servedAt(topicName, identity, atMs);
  // Newest first, until AROUND entries at or before the moment (or the beginning).
  const changes: TopicChange[] = [];
  let token = '';
  do {
    const page = await client.listHistory(topicName, { pageSize: 1000, pageToken: token });
    changes.push(...page.changes);
    token = page.nextPageToken;
  } while (token && changes.filter((c) => c.atMs <= atMs).length < AROUND);
  const after = changes.filter((c) => c.atMs > atMs).slice(-AROUND);
  const before = changes.filter((c) => c.atMs <= atMs).slice(0, AROUND);
  const who = [identity.app, identity.cluster, identity.region, identity.nodeId].map((p) => p || '-').join('/');
  ctx.out(
    { at: when(atMs), identity, served: served.record ? recordJson(served.record) : null, pinned: served.pinned, pin: served.pin ?? null, after: after.map(changeJson), before: before.map(changeJson) },
    () =>
      [
        `${topicName} at ${when(atMs)} for ${who}: ${
          served.record ? `v${served.record.version} (published ${when(served.record.publishedAtMs)})${served.pinned ? ' pinned' : ''}` : served.pinned ? 'nothing it did not hold (pinned)' : 'nothing matched'
        }`,
        ...(served.pin ? [`  pin in effect: ${pinText(served.pin)}`] : []),
        ...(served.record ? [`  scopes ${served.record.scopes.map(scopeText).join(' ')}`] : []),
        `changes around that moment (newest first):`,
        CHANGE_HEADER,
        ...after.map(changeText),
        `${'-'.repeat(10)} ${when(atMs)} ${'-'.repeat(10)}`,
        ...before.map(changeText),
      ].join('\n'),
  );
}
