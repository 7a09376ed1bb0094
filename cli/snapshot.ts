/**
 * `imprint snapshot show` and `imprint snapshot restore`: the janitor's fallback snapshot as an
 * operator's tool. show says what the current snapshot holds; restore writes its topics back
 * into a metadata store that lost them (janitor/restore.ts).
 */
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import { InvalidArgumentError, NotFoundError, type Actor, type SnapshotTopic } from '../core/index.js';
import { findSnapshot, restoreSnapshot, type FoundSnapshot, type TopicOutcome } from '../janitor/index.js';
import { DEFAULT_BLOB_CHECK_TIMEOUT_MS } from '../server/index.js';
import { createLogger } from '../log/index.js';
import { cassandraWithDefaults } from '../server/config.js';
import { addBlobOptions, blobStoresFrom, type BlobCliOptions } from './blobs.js';
import { bytes, scopeText, toJson, when } from './format.js';
import { addStoreOptions, cassandraFrom, openJanitorStore, type StoreCliOptions } from './store-options.js';

interface Ctx {
  readonly dataDir: () => string;
  readonly blobDir: () => string;
  readonly json: () => boolean;
}

const regionFailed = (text: string, more: boolean): void => {
  process.stderr.write(`imprint: no readable snapshot in ${text}${more ? '; trying the next region' : ''}\n`);
};

/** "45 s", "3 min", "2 h 5 min", "3 d 4 h". */
function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

const topicBytes = (t: SnapshotTopic): number => t.records.reduce((n, r) => n + r.pointer.size, 0);
const byVersion = <T extends { version: bigint }>(a: T, b: T): number => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0);

function showJson(f: FoundSnapshot, nowMs: number, topics: readonly SnapshotTopic[]): unknown {
  return {
    key: f.pointer.key,
    region: f.region,
    writtenAt: when(f.snapshot.writtenAtMs),
    ageMs: nowMs - f.snapshot.writtenAtMs,
    size: f.size,
    topics: topics.map((t) => ({
      name: t.topic.name,
      owner: t.topic.owner,
      latestVersion: t.topic.latestVersion.toString(),
      bytes: topicBytes(t),
      heads: t.heads.map((h) => ({ scope: h.scope, version: h.version.toString(), since: when(h.sinceMs) })),
      pins: t.pins.map((p) => ({ scope: p.scope, version: p.version.toString(), reason: p.reason, by: p.createdBy, at: when(p.createdAtMs) })),
      records: [...t.records].sort(byVersion).map((r) => ({ version: r.version.toString(), size: r.pointer.size, pointer: r.pointer.kind, publishedAt: when(r.publishedAtMs) })),
    })),
  };
}

function showText(f: FoundSnapshot, nowMs: number, topics: readonly SnapshotTopic[]): string {
  const lines = [
    `snapshot  ${f.pointer.key}`,
    `region    ${f.region} (sha256 checked)`,
    `written   ${when(f.snapshot.writtenAtMs)} (${ago(nowMs - f.snapshot.writtenAtMs)} ago)`,
    `size      ${bytes(f.size)} (${f.size} bytes), ${f.snapshot.topics.length} topics`,
  ];
  for (const t of topics) {
    lines.push('', `${t.topic.name}  latest v${t.topic.latestVersion}  owner ${t.topic.owner || '-'}  ${t.records.length} records, ${bytes(topicBytes(t))}`);
    for (const h of t.heads) lines.push(`  head    ${scopeText(h.scope).padEnd(24)} -> v${h.version}  since ${when(h.sinceMs)}`);
    for (const p of t.pins) lines.push(`  pin     ${scopeText(p.scope).padEnd(24)} -> v${p.version}  since ${when(p.createdAtMs)}${p.createdBy ? `  by ${p.createdBy}` : ''}${p.reason ? `  (${p.reason})` : ''}`);
    for (const r of [...t.records].sort(byVersion)) lines.push(`  record  v${r.version}  ${bytes(r.pointer.size).padEnd(10)} ${r.pointer.kind.padEnd(6)}  published ${when(r.publishedAtMs)}`);
  }
  return lines.join('\n');
}

function outcomeText(o: TopicOutcome, i: number, n: number): string {
  const head = `[${i}/${n}] ${o.topic}: `;
  const lines =
    o.outcome === 'skipped'
      ? [`${head}skipped: the store already has this topic (restore never overwrites)`]
      : o.outcome === 'failed'
        ? [`${head}FAILED: ${o.error}`]
        : [`${head}${o.outcome} ${o.records} records, ${o.pins} pins; the next publish gets v${o.nextVersion}`];
  for (const l of o.leftOut) lines.push(`    left out: ${l}`);
  for (const m of o.missing) lines.push(`    object missing: ${m}`);
  for (const u of o.unchecked) lines.push(`    object not checked: ${u}`);
  return lines.join('\n');
}

/** Asks on the terminal; false on anything but y/yes. */
async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function addSnapshotCommand(program: Command, ctx: Ctx): void {
  const snapshot = program
    .command('snapshot')
    .description("the janitor's fallback snapshot: what it holds, and restoring a metadata store from it")
    .addHelpText(
      'after',
      `
Examples:
  imprint snapshot show
  imprint snapshot show --blobs s3 --regions us-east-1,eu-west-1 --topic ip-reputation
  imprint snapshot restore --dry-run
  imprint snapshot restore --yes --by alice`,
    );

  addBlobOptions(
    snapshot
      .command('show')
      .description('the current snapshot: when it was written, and per topic its heads, pins and records (its sha256 checked)')
      .addOption(new Option('--region <region>', 'read this region only (default: the first region with a whole snapshot, closest first)'))
      .addOption(new Option('--topic <name>', 'only this topic')),
  ).action(async (o: BlobCliOptions & { region?: string; topic?: string }) => {
    const stores = await blobStoresFrom(o, ctx.blobDir());
    const found = await findSnapshot(stores, { ...(o.region !== undefined && { region: o.region }), onRegionFailed: regionFailed });
    const topics = o.topic === undefined ? found.snapshot.topics : found.snapshot.topics.filter((t) => t.topic.name === o.topic);
    if (o.topic !== undefined && topics.length === 0) throw new NotFoundError(`topic "${o.topic}" in snapshot ${found.pointer.key}`);
    const now = Date.now();
    process.stdout.write(`${ctx.json() ? toJson(showJson(found, now, topics)) : showText(found, now, topics)}\n`);
  });

  addBlobOptions(
    addStoreOptions(
      snapshot
        .command('restore')
        .description("write the current snapshot's topics, records and pins into the metadata store (topics it already has are skipped, never overwritten)")
        .addOption(new Option('--region <region>', 'read this region only (default: the first region with a whole snapshot, closest first)'))
        .addOption(new Option('--by <who>', 'who restores, for the history entries').env('USER').default(''))
        .addOption(new Option('--blob-check-timeout-ms <ms>', "how long a region may take to confirm a restored record's object (HeadObject)").default(String(DEFAULT_BLOB_CHECK_TIMEOUT_MS)))
        .option('--dry-run', 'say what it would restore and check the objects; write nothing')
        .option('--yes', 'restore without asking (needed when not at a terminal)'),
    ),
  ).action(async (o: BlobCliOptions & StoreCliOptions & { region?: string; by: string; blobCheckTimeoutMs: string; dryRun?: boolean; yes?: boolean }) => {
    if (!/^[0-9]{1,7}$/.test(o.blobCheckTimeoutMs) || Number(o.blobCheckTimeoutMs) < 1) throw new InvalidArgumentError('blob-check-timeout-ms', 'must be a whole number of milliseconds >= 1', o.blobCheckTimeoutMs);
    const json = ctx.json();
    const say = (text: string) => {
      if (!json) process.stdout.write(`${text}\n`);
    };
    const stores = await blobStoresFrom(o, ctx.blobDir());
    const found = await findSnapshot(stores, { ...(o.region !== undefined && { region: o.region }), onRegionFailed: regionFailed });
    const where = o.store === 'cassandra' ? `cassandra keyspace ${cassandraWithDefaults(cassandraFrom(o)).keyspace}` : `sqlite ${path.join(path.resolve(ctx.dataDir()), 'imprint.db')}`;
    const store = await openJanitorStore(o, ctx.dataDir(), createLogger({ level: 'warn' }));
    try {
      say(
        `${o.dryRun ? 'dry run: would restore' : 'restoring'} snapshot ${found.pointer.key} (region ${found.region}, written ${when(found.snapshot.writtenAtMs)}, ` +
          `${ago(Date.now() - found.snapshot.writtenAtMs)} ago; ${found.snapshot.topics.length} topics) into ${where}`,
      );
      const by: Actor = { principal: o.by, authenticated: false, peer: '' };
      const result = await restoreSnapshot({
        store,
        blobStores: stores,
        found,
        dryRun: o.dryRun === true,
        by,
        blobCheckTimeoutMs: Number(o.blobCheckTimeoutMs),
        onTopic: (t, i, n) => say(outcomeText(t, i, n)),
        confirm: async (toRestore, skipped) => {
          if (o.yes) return true;
          if (!process.stdin.isTTY) throw new InvalidArgumentError('--yes', 'must be given to restore when not at a terminal (or --dry-run to see what restore would do)');
          return ask(`restore ${toRestore} topics into ${where} (${skipped} it has already are left alone)?`);
        },
      });
      const s = result.summary;
      if (json) process.stdout.write(`${toJson({ dryRun: o.dryRun === true, confirmed: result.confirmed, snapshot: { key: found.pointer.key, region: found.region, writtenAt: when(found.snapshot.writtenAtMs) }, store: where, topics: result.topics, summary: s })}\n`);
      else if (!result.confirmed) say('nothing restored');
      else {
        say(
          `${o.dryRun ? 'dry run, nothing written: would restore' : 'done:'} ${s.restored} topics${o.dryRun ? '' : ' restored'}, ${s.skipped} skipped, ${s.failed} failed; ` +
            `${s.records} records, ${s.pins} pins; ${s.missingObjects} objects missing, ${s.uncheckedObjects} not checked`,
        );
      }
      // Exit 1 when not confirmed, a topic failed, or an object is missing or unchecked.
      process.exitCode = !result.confirmed || s.failed + s.missingObjects + s.uncheckedObjects > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  });
}
