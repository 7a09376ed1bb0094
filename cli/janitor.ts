/** `imprint janitor`: the fallback snapshot writer and the retention purge, on intervals or once. */
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from '../core/index.js';
import { Janitor, type JobOutcome } from '../janitor/index.js';
import { addBlobOptions, blobStoresFrom, type BlobCliOptions } from './blobs.js';
import { addLogOptions, loggerFrom, type LogCliOptions } from './log-options.js';
import { toJson } from './format.js';
import { addStoreOptions, openJanitorStore, type StoreCliOptions } from './store-options.js';
import { addSwitch } from './switch.js';

/** "90s", "5m", "24h", "7d" or milliseconds. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(field, 'must be a duration like 90s, 5m, 24h or 7d', text);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms < 1000) throw new InvalidArgumentError(field, 'must be at least 1s', text);
  return ms;
}

/** Whether a job left part of its work undone: it failed, or failed in a region or on an object. */
function incomplete(o: JobOutcome): boolean {
  const r = o.result;
  return Boolean(o.error) || (r !== undefined && (('failed' in r && r.failed.length > 0) || ('failures' in r && r.failures.length > 0)));
}

function summary(o: JobOutcome): string {
  if (!o.ran) return `${o.job}: skipped, another janitor holds the lease`;
  if (o.error) return `${o.job}: FAILED: ${o.error}`;
  const r = o.result;
  if (o.job === 'snapshot' && r && 'key' in r) return `snapshot: ${r.topics} topics, ${r.size} bytes to ${r.regions.join(', ') || 'no region'}${r.failed.length ? `; failed in ${r.failed.map((f) => f.region).join(', ')}` : ''}`;
  if (o.job === 'purge' && r && 'purged' in r) {
    return `purge: ${r.purged.length} versions deleted over ${r.topics} topics${r.failures.length ? `; ${r.failures.length} objects could not be deleted (retried next run)` : ''}${r.kept.length ? `; ${r.kept.length} objects left alone (outside the topic's prefix, or still named by a kept version)` : ''}`;
  }
  if (o.job === 'audit-purge' && Array.isArray(r)) return `audit-purge: ${r.length} audit indices deleted${r.length ? ` (${r.join(', ')})` : ''}`;
  return `${o.job}: done`;
}

export function addJanitorCommand(program: Command, ctx: { dataDir: () => string; blobDir: () => string; json: () => boolean }): void {
  addBlobOptions(
    addSwitch(addStoreOptions(addLogOptions(program.command('janitor'))), '--once', 'run each job once and exit (exit 1 when one failed, even in one region or on one object)', 'IMPRINT_JANITOR_ONCE')
      .description('write the fallback snapshot to every region and purge versions outside retention (only one janitor does each job at a time)')
      .addOption(new Option('--snapshot-every <duration>', 'how often to write the fallback snapshot').env('IMPRINT_SNAPSHOT_EVERY').default('5m'))
      .addOption(new Option('--purge-every <duration>', 'how often to purge versions outside retention').env('IMPRINT_PURGE_EVERY').default('24h'))
      .addOption(new Option('--es-url <url>', 'also delete daily audit indices past --audit-retention-days in this Elasticsearch').env('IMPRINT_ES_URL'))
      .addOption(new Option('--audit-retention-days <days>', 'days of audit indices to keep').env('IMPRINT_AUDIT_RETENTION_DAYS').default('30')),
  ).action(async (o: BlobCliOptions & StoreCliOptions & LogCliOptions & { once?: boolean; snapshotEvery: string; purgeEvery: string; esUrl?: string; auditRetentionDays: string }) => {
    const log = loggerFrom(o);
    const snapshotEveryMs = parseDuration(o.snapshotEvery, 'snapshot-every');
    const purgeEveryMs = parseDuration(o.purgeEvery, 'purge-every');
    const blobStores = await blobStoresFrom(o, ctx.blobDir());
    const store = await openJanitorStore(o, ctx.dataDir(), log);
    const retentionDays = Number(o.auditRetentionDays);
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new InvalidArgumentError('audit-retention-days', 'must be a whole number >= 1', o.auditRetentionDays);
    let purgeAuditIndices: ((nowMs: number) => Promise<string[]>) | undefined;
    if (o.esUrl) {
      const { Client } = await import('@elastic/elasticsearch');
      const { purgeAuditIndices: purge } = await import('../server/audit/elasticsearch.js');
      const es = new Client({ node: o.esUrl });
      purgeAuditIndices = (nowMs) => purge(es, { retentionDays, nowMs });
    }
    const janitor = new Janitor({ store, blobStores, snapshotEveryMs, purgeEveryMs, log, ...(purgeAuditIndices && { purgeAuditIndices }) });
    if (o.once) {
      const outcomes = await janitor.runOnce();
      process.stdout.write(`${ctx.json() ? toJson(outcomes) : outcomes.map(summary).join('\n')}\n`);
      await store.close();
      process.exitCode = outcomes.some(incomplete) ? 1 : 0;
      return;
    }
    log.info('janitor running', { holder: janitor.holder, snapshotEvery: o.snapshotEvery, purgeEvery: o.purgeEvery, regions: blobStores.map((s) => s.region).join(',') });
    janitor.start();
    const stop = (signal: string) => {
      log.info(`received ${signal}, stopping the janitor`);
      void janitor
        .stop()
        .then(() => store.close())
        .then(() => process.exit(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
