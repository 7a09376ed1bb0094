/** `imprint janitor`: the fallback snapshot writer, the retention purge and the purge of deleted topics, on intervals or once. */
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from '../core/index.js';
import { Janitor, healthzAnswer, janitorMetrics, type JobOutcome } from '../janitor/index.js';
import { ROLLOUT_DRIVER_DEFAULTS, ServerTls, isLoopback, rolloutTickFlag, startMetricsServer } from '../server/index.js';
import { addBlobOptions, blobStoresFrom, type BlobCliOptions } from './blobs.js';
import { addLogOptions, loggerFrom, type LogCliOptions } from './log-options.js';
import { toJson } from './format.js';
import { addStoreOptions, openJanitorStore, type StoreCliOptions } from './store-options.js';
import { addSwitch } from './switch.js';
import { checkPlaintextHost, serverTlsFrom, type TlsCliOptions } from './tls-options.js';

/** "90s", "5m", "24h", "7d" or milliseconds. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(field, 'must be a duration like 90s, 5m, 24h or 7d', text);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms < 1000) throw new InvalidArgumentError(field, 'must be at least 1s', text);
  return ms;
}

function summary(o: JobOutcome): string {
  if (!o.ran) return `${o.job}: skipped, another janitor holds the lease`;
  if (o.error) return `${o.job}: FAILED: ${o.error}`;
  const r = o.result;
  if (o.job === 'snapshot' && r && 'key' in r) return `snapshot: ${r.topics} topics, ${r.size} bytes to ${r.regions.join(', ') || 'no region'}${r.failed.length ? `; failed in ${r.failed.map((f) => f.region).join(', ')}` : ''}`;
  if (o.job === 'purge' && r && 'topics' in r && 'kept' in r && Array.isArray(r.kept)) {
    return `purge: ${r.purged.length} versions deleted over ${r.topics} topics${r.failures.length ? `; ${r.failures.length} objects could not be deleted (retried next run)` : ''}${r.kept.length ? `; ${r.kept.length} objects left alone (outside the topic's prefix, or still named by a kept version)` : ''}`;
  }
  if (o.job === 'topic-purge' && r && 'waiting' in r) {
    return `topic-purge: ${r.purged.length} deleted topics purged${r.purged.length ? ` (${r.purged.join(', ')})` : ''}, ${r.waiting} within their --delete-grace${r.failures.length ? `; ${r.failures.length} objects could not be deleted (retried next run)` : ''}${r.kept ? `; ${r.kept} objects outside the topic's prefix left alone` : ''}`;
  }
  return `${o.job}: done`;
}

export function addJanitorCommand(program: Command, ctx: { dataDir: () => string; blobDir: () => string; json: () => boolean; tls: () => TlsCliOptions }): void {
  addSwitch(addBlobOptions(
    addSwitch(addStoreOptions(addLogOptions(program.command('janitor'))), '--once', 'run each job once and exit (exit 1 when one failed, even in one region or on one object)', 'IMPRINT_JANITOR_ONCE')
      .description('write the fallback snapshot to every region, purge versions outside retention and deleted topics past --delete-grace, advance running rollouts (only one janitor does each job at a time)')
      .addOption(new Option('--snapshot-every <duration>', 'how often to write the fallback snapshot').env('IMPRINT_SNAPSHOT_EVERY').default('5m'))
      .addOption(new Option('--purge-every <duration>', 'how often to purge versions outside retention, and deleted topics past --delete-grace').env('IMPRINT_PURGE_EVERY').default('24h'))
      .addOption(new Option('--rollout-driver <on|off>', 'advance running rollouts while this janitor holds the lease (shared with the serve instances that drive them); off: they do').choices(['on', 'off']).env('IMPRINT_ROLLOUT_DRIVER').default('on'))
      .addOption(new Option('--rollout-tick-ms <ms>', 'how often the rollout driver looks at running rollouts (10-60000; the lease lasts 5 ticks)').env('IMPRINT_ROLLOUT_TICK_MS').default(String(ROLLOUT_DRIVER_DEFAULTS.tickMs)))
      .addOption(new Option('--delete-grace <duration>', 'how long a deleted topic is kept (and its name held) before it is purged; 0: at the next purge').env('IMPRINT_DELETE_GRACE').default('7d'))
      // Deprecated, accepted so existing deployments (and docker-compose.yml's shared environment) keep starting:
      // audit indices are deleted by Elasticsearch's ILM policy, which `imprint serve --audit-retention-days` sets.
      .addOption(new Option('--es-url <url>', 'deprecated, ignored: audit retention is the ILM policy `imprint serve` sets').env('IMPRINT_ES_URL').hideHelp())
      .addOption(new Option('--audit-retention-days <days>', 'deprecated, ignored: give it to `imprint serve`').env('IMPRINT_AUDIT_RETENTION_DAYS').hideHelp())
      .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics at http(s)://HOST:PORT/metrics and job health at /healthz (default: none)').env('IMPRINT_METRICS_PORT'))
      .addOption(new Option('--host <host>', 'address the metrics port binds (0.0.0.0 serves other machines: with the global --tls-cert and --tls-key, HTTPS, or --insecure)').env('IMPRINT_HOST').default('127.0.0.1')),
  ), '--insecure', 'allow plaintext metrics on a non-loopback --host (no --tls-cert)', 'IMPRINT_INSECURE').action(async (o: BlobCliOptions & StoreCliOptions & { once?: boolean; snapshotEvery: string; purgeEvery: string; deleteGrace: string; rolloutDriver: 'on' | 'off'; rolloutTickMs: string; esUrl?: string; auditRetentionDays?: string; metricsPort?: string; host: string; insecure?: boolean } & LogCliOptions) => {
    const log = loggerFrom(o);
    const snapshotEveryMs = parseDuration(o.snapshotEvery, 'snapshot-every');
    const purgeEveryMs = parseDuration(o.purgeEvery, 'purge-every');
    const deleteGraceMs = o.deleteGrace.trim() === '0' ? 0 : parseDuration(o.deleteGrace, 'delete-grace');
    const rolloutDriver = o.rolloutDriver === 'off' ? 'off' : rolloutTickFlag(o.rolloutTickMs);
    if (o.metricsPort !== undefined && !(/^[0-9]+$/.test(o.metricsPort) && Number(o.metricsPort) <= 65535)) throw new InvalidArgumentError('metrics-port', 'must be a port number 0-65535', o.metricsPort);
    // The metrics listener: HTTPS with the process's certificate, or plaintext on loopback (or --insecure).
    const tls = o.metricsPort === undefined || o.once ? undefined : serverTlsFrom(ctx.tls());
    if (o.metricsPort !== undefined && !o.once) checkPlaintextHost(o.host, tls, o.insecure);
    const blobStores = await blobStoresFrom(o, ctx.blobDir());
    const store = await openJanitorStore(o, ctx.dataDir(), log);
    if (o.esUrl !== undefined || o.auditRetentionDays !== undefined) {
      log.warn('--es-url and --audit-retention-days (IMPRINT_ES_URL, IMPRINT_AUDIT_RETENTION_DAYS) are ignored by the janitor: audit indices are deleted by the ILM policy `imprint serve --audit-retention-days` sets');
    }
    // --once runs the jobs, not the driver (which advances rollouts as their bakes end).
    const janitor = new Janitor({ store, blobStores, snapshotEveryMs, purgeEveryMs, deleteGraceMs, rolloutDriver: o.once ? 'off' : rolloutDriver, log });
    if (o.once) {
      const outcomes = await janitor.runOnce();
      process.stdout.write(`${ctx.json() ? toJson(outcomes) : outcomes.map(summary).join('\n')}\n`);
      await store.close();
      process.exitCode = outcomes.some((x) => x.outcome === 'failed') ? 1 : 0;
      return;
    }
    const serverTls = tls && new ServerTls(tls, log);
    if (o.metricsPort !== undefined && !tls && !isLoopback(o.host)) log.warn('serving metrics plaintext to other machines (insecure); give --tls-cert and --tls-key', { host: o.host });
    const metricsServer = o.metricsPort === undefined ? undefined : await startMetricsServer(janitorMetrics(janitor).registry, Number(o.metricsPort), o.host, async () => healthzAnswer(await janitor.health()), serverTls);
    serverTls?.watch();
    log.info('janitor running', {
      holder: janitor.holder,
      snapshotEvery: o.snapshotEvery,
      purgeEvery: o.purgeEvery,
      deleteGrace: o.deleteGrace,
      rolloutDriver: janitor.rolloutDriver ? `every ${janitor.rolloutDriver.settings.tickMs} ms` : 'off',
      regions: blobStores.map((s) => s.region).join(','),
      metrics: metricsServer ? `${metricsServer.scheme}://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${metricsServer.port}/metrics` : 'off',
    });
    janitor.start();
    const stop = (signal: string) => {
      log.info(`received ${signal}, stopping the janitor`);
      void janitor
        .stop()
        .then(() => metricsServer?.close())
        .then(() => serverTls?.close())
        .then(() => store.close())
        .then(() => process.exit(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
