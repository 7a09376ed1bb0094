/**
 * A consume-role instance for the benches: `imprint serve --role consume` as startImprintServer
 * assembles it (its own SQLite connection to the data dir, the poll table refreshed every
 * the change feed (every `tailMs`) and read whole every `refreshMs` (the server's defaults when not given), polls answered by the Poller from the table, every Consumer method behind the
 * per-application limiter and the metrics, TCP_NODELAY), handed the audit sink the bench
 * chooses (none, to measure it).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ConsumerServiceHandlers } from '../proto/gen/imprint/v1/ConsumerService.js';
import { loadImprintProto } from '../proto/loader.js';
import { silentLogger } from '../log/index.js';
import type { AuditSink, ConsumeMetrics, LimiterOptions, PollTable } from '../server/index.js';
import { builtServer } from './util.js';

/** The server as built (bench/util.ts builtServer: what `imprint serve` runs). */
const { FileAuditSink, addFastLane, decodeBatchPollRequest, encodeBatchPollResponse, listenNoDelay, startImprintServer } = await builtServer();

export interface BenchConsumeServer {
  readonly port: number;
  readonly table: PollTable;
  readonly metrics: ConsumeMetrics;
  readonly audit: AuditSink;
  stop(): Promise<void>;
}

/** An AuditSink that keeps nothing: to measure what audit costs (`--audit none`). */
class NullAuditSink implements AuditSink {
  readonly name = 'none';
  private recorded = 0;
  record(): boolean {
    this.recorded++;
    return true;
  }
  stats() {
    return { recorded: this.recorded, dropped: 0 };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** `auditFile` null: no audit at all (NullAuditSink). @default <dataDir>/consume-audit/events.jsonl */
export async function startConsumeServer(opts: { dataDir: string; refreshMs?: number; tailMs?: number; auditFile?: string | null; limiter?: LimiterOptions; fastLane?: boolean }): Promise<BenchConsumeServer> {
  const audit: AuditSink = opts.auditFile === null ? new NullAuditSink() : new FileAuditSink({ file: opts.auditFile ?? path.join(opts.dataDir, 'consume-audit', 'events.jsonl') });
  // metricsPort 0: the metrics (counted on every request) as a production instance has them.
  const server = await startImprintServer({ role: 'consume', dataDir: opts.dataDir, port: 0, log: silentLogger, ...(opts.refreshMs !== undefined && { refreshMs: opts.refreshMs }), ...(opts.tailMs !== undefined && { tailMs: opts.tailMs }), auditSink: audit, metricsPort: 0, ...(opts.limiter && { limiter: opts.limiter }), ...(opts.fastLane !== undefined && { fastLane: opts.fastLane }) });
  const { table, metrics } = server;
  if (!table || !metrics) throw new Error('a consume-role server with a metrics port has a table and metrics');
  return {
    port: server.port,
    table,
    metrics,
    audit,
    async stop() {
      await server.stop();
      await audit.close();
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
 * `fastLane`: BatchPoll's empty handler served in the fast lane, its requests decoded and its
 * answers encoded by the consume role's own codec: the floor of the transport Imprint's
 * BatchPoll runs on, so what is left above it is the poll's own work.
 */
export async function emptyConsumerServer(opts: { noDelay?: boolean; fastLane?: boolean } = {}): Promise<{ port: number; stop: () => void }> {
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
    Watch: (c) => c.end(),
    Report: (_c, cb) => cb(null, {}),
    GetDownload: (_c, cb) => cb(null, {}),
  } satisfies ConsumerServiceHandlers);
  if (opts.fastLane) {
    const path = proto.imprint.v1.ConsumerService.service.BatchPoll.path;
    addFastLane(server, [{ path, kind: 'unary', deserialize: decodeBatchPollRequest, serialize: encodeBatchPollResponse as (m: unknown) => Buffer, handler: (_c, cb) => cb(null, {}) }], { maxReceiveBytes: 8 * 1024 * 1024 });
  }
  if (opts.noDelay === false) {
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    return { port, stop: () => server.forceShutdown() };
  }
  const listener = await listenNoDelay(server, '127.0.0.1', 0);
  return { port: listener.port, stop: () => void listener.close(0) };
}

export { quantile, throughput } from './util.js';
