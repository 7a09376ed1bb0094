/**
 * A consume-role instance for the benches, served by startGrpcServer with role "consume" as
 * `imprint serve --role consume` serves it: its own SQLite connection to the data dir, the
 * poll table refreshed every `refreshMs`, Poll and BatchPoll answered by the ConsumeService
 * (with the same audit events), the other Consumer methods by ImprintService, every Consumer
 * method behind the per-application limiter and the metrics, TCP_NODELAY. Built here rather
 * than with startImprintServer so a bench can choose the audit sink (none, to measure it).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ConsumerServiceHandlers } from '../proto/gen/imprint/v1/ConsumerService.js';
import { loadImprintProto } from '../proto/loader.js';
import { listenNoDelay } from '../server/consume/listen.js';
import type { AuditSink } from '../server/audit/audit-sink.js';
import { FileAuditSink } from '../server/audit/file.js';
import { ConsumeService } from '../server/consume/consume-service.js';
import { ConcurrencyLimiter, type LimiterOptions } from '../server/consume/limiter.js';
import { consumeMetrics, type ConsumeMetrics } from '../server/consume/metrics.js';
import { PollTable } from '../server/consume/poll-table.js';
import { startGrpcServer } from '../server/grpc-server.js';
import { silentLogger } from '../server/log.js';
import { ImprintService } from '../server/service.js';
import { SqliteMetadataStore } from '../server/store/sqlite.js';

export interface BenchConsumeServer {
  readonly port: number;
  readonly table: PollTable;
  readonly limiter: ConcurrencyLimiter;
  readonly metrics: ConsumeMetrics;
  readonly audit: AuditSink;
  stop(): Promise<void>;
}

/** An AuditSink that keeps nothing: to measure what audit costs (`--audit none`). */
class NullAuditSink implements AuditSink {
  readonly name = 'none';
  private recorded = 0;
  record(): void {
    this.recorded++;
  }
  stats() {
    return { recorded: this.recorded, dropped: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** `auditFile` null: no audit at all (NullAuditSink). @default <dataDir>/consume-audit/events.jsonl */
export async function startConsumeServer(opts: { dataDir: string; refreshMs: number; auditFile?: string | null; limiter?: LimiterOptions }): Promise<BenchConsumeServer> {
  const store = SqliteMetadataStore.open({ file: path.join(opts.dataDir, 'imprint.db') });
  const audit: AuditSink = opts.auditFile === null ? new NullAuditSink() : new FileAuditSink({ file: opts.auditFile ?? path.join(opts.dataDir, 'consume-audit', 'events.jsonl') });
  const table = new PollTable({ store, log: silentLogger });
  await table.start(opts.refreshMs);
  const consume = new ConsumeService({ table, audit });
  const service = new ImprintService({ store, audit, log: silentLogger, poller: consume });
  const limiter = new ConcurrencyLimiter(opts.limiter);
  const metrics = consumeMetrics({ table, limiter });
  const listener = await startGrpcServer(service, { host: '127.0.0.1', port: 0, log: silentLogger, role: 'consume', guard: { limiter, metrics }, noDelay: true });
  return {
    port: listener.port,
    table,
    limiter,
    metrics,
    audit,
    async stop() {
      await listener.stop(2000);
      await table.stop();
      await audit.close();
      await store.close();
    },
  };
}

/** Sums a prom-client counter's values whose labels match `labels`. */
export async function counterValue(metrics: ConsumeMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

/**
 * A server with the Consumer service whose handlers do nothing: the floor of a grpc-js unary
 * call. With TCP_NODELAY like startConsumeServer (the default), or bound by grpc-js like the
 * all-role server (`noDelay: false`): each comparison is of the handlers, not of TCP settings.
 */
export async function emptyConsumerServer(opts: { noDelay?: boolean } = {}): Promise<{ port: number; stop: () => void }> {
  const { proto } = loadImprintProto();
  const server = new grpc.Server();
  server.addService(proto.imprint.v1.ConsumerService.service, {
    Poll: (_c, cb) => cb(null, {}),
    BatchPoll: (_c, cb) => cb(null, {}),
    GetVersion: (_c, cb) => cb(null, {}),
    ListVersions: (_c, cb) => cb(null, {}),
    GetLatestAt: (_c, cb) => cb(null, {}),
    GetTopic: (_c, cb) => cb(null, {}),
    ListTopics: (_c, cb) => cb(null, {}),
  } satisfies ConsumerServiceHandlers);
  if (opts.noDelay === false) {
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    return { port, stop: () => server.forceShutdown() };
  }
  const listener = await listenNoDelay(server, '127.0.0.1', 0);
  return { port: listener.port, stop: () => void listener.close(0) };
}

export { quantile, throughput } from './util.js';
