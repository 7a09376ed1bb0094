/**
 * The gRPC face of the service: the PublisherService, ConsumerService and OperatorService of
 * proto/imprint/v1, the standard health service, and server reflection (grpcurl works).
 * Handlers translate wire messages to ImprintService calls and nothing more.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import {
  changeToWire,
  consumersToWire,
  headToWire,
  identityFromWire,
  pageSizeFromWire,
  pageTokenFromWire,
  pinToWire,
  pointerFromWire,
  recordToWire,
  retentionFromWire,
  scopeFromWire,
  timeMsFromWire,
  topicToWire,
  versionFromWire,
} from '../proto/convert.js';
import type { ConsumerServiceHandlers } from '../proto/gen/imprint/v1/ConsumerService.js';
import type { OperatorServiceHandlers } from '../proto/gen/imprint/v1/OperatorService.js';
import type { PublisherServiceHandlers } from '../proto/gen/imprint/v1/PublisherService.js';
import type { TopicPollResult } from '../proto/gen/imprint/v1/TopicPollResult.js';
import type { Update } from '../proto/gen/imprint/v1/Update.js';
import { loadImprintProto } from '../proto/loader.js';
import { toServiceError } from './grpc-errors.js';
import type { Logger } from './log.js';
import { addReflection } from './reflection.js';
import type { Caller, ImprintService, PollAnswer } from './service.js';
import type { Poller } from './consume/consume-service.js';
import { guardConsumerHandlers, type GuardOptions } from './consume/handlers.js';
import { listenNoDelay } from './consume/listen.js';
import { batchPollWithDefaults, type BatchPollOptions, type Role } from './config.js';
import { batchPollFromWire, fitToBudget } from './batch-poll.js';

export const SERVICE_NAMES = ['imprint.v1.PublisherService', 'imprint.v1.ConsumerService', 'imprint.v1.OperatorService'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * The services an instance of `role` serves (and reports in health). A publish instance also
 * answers the Consumer's reads (GetVersion, ListVersions, GetLatestAt, GetTopic, ListTopics),
 * not its polls.
 */
export function servicesOf(role: Role): readonly ServiceName[] {
  if (role === 'publish') return ['imprint.v1.PublisherService', 'imprint.v1.OperatorService'];
  if (role === 'consume') return ['imprint.v1.ConsumerService'];
  return SERVICE_NAMES;
}

/** Wraps an async handler: its result or its error (as a status) goes to the callback. */
export function unary<Req, Res>(method: string, log: Logger, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, method, log)),
    );
  };
}

/** Who calls, as grpc-js knows it (the authenticated principal joins here with issue 14). */
function callerOf(call: grpc.ServerUnaryCall<unknown, unknown>): Caller {
  return { peer: call.getPeer() };
}

export function toUpdate(a: PollAnswer): Update | null {
  return a.record ? { record: recordToWire(a.record), pinned: a.pinned } : null;
}

export function publisherHandlers(svc: ImprintService, log: Logger): PublisherServiceHandlers {
  return {
    CreateTopic: unary('CreateTopic', log, async (req, call) => ({
      topic: topicToWire(await svc.createTopic({ name: req.name, owner: req.owner, description: req.description, retention: retentionFromWire(req.retention) }, callerOf(call))),
    })),
    UpdateTopic: unary('UpdateTopic', log, async (req, call) => ({
      topic: topicToWire(
        await svc.updateTopic(
          req.name,
          {
            ...(req._owner === 'owner' && { owner: req.owner }),
            ...(req._description === 'description' && { description: req.description }),
            ...(req.retention && { retention: retentionFromWire(req.retention) }),
          },
          callerOf(call),
        ),
      ),
    })),
    Publish: unary('Publish', log, async (req, call) => {
      const { record, replayed } = await svc.publish(
        { topic: req.topic, metadata: req.metadata, pointer: pointerFromWire(req.pointer), scopes: req.scopes.map(scopeFromWire), publishId: req.publishId },
        callerOf(call),
      );
      return { record: recordToWire(record), replayed };
    }),
    AddScopes: unary('AddScopes', log, async (req, call) => ({
      record: recordToWire(await svc.addScopes(req.topic, versionFromWire(req.version, 'version'), req.scopes.map(scopeFromWire), callerOf(call))),
    })),
  };
}

/**
 * Poll and BatchPoll over any Poller: the service itself, or the consume role's poll table.
 * Answers the poller can give at once (Poller.pollNow) cost no promise per topic. A BatchPoll
 * is bounded by `limits` (server/batch-poll.ts).
 */
export function pollHandlers(poller: Poller, log: Logger, limits: BatchPollOptions = {}): Pick<ConsumerServiceHandlers, 'Poll' | 'BatchPoll'> {
  const { maxTopics, maxResponseBytes } = batchPollWithDefaults(limits);
  return {
    Poll: unary('Poll', log, async (req) => {
      const identity = identityFromWire(req.identity);
      const lastSeen = versionFromWire(req.lastSeenVersion, 'last_seen_version', true);
      return { update: toUpdate(poller.pollNow?.(req.topic, identity, lastSeen) ?? (await poller.poll(req.topic, identity, lastSeen))) };
    }),
    BatchPoll: unary('BatchPoll', log, async (req) => {
      // 1. The request, checked whole before any work.
      const { identity, cursors } = batchPollFromWire(req, maxTopics);
      // 2. Each topic's answer: at once where the poller can give it from memory, else all awaited together.
      const failed = (topic: string, err: unknown) => {
        const status = toServiceError(err, 'BatchPoll', log);
        return { topic, update: null, errorCode: grpc.status[status.code ?? grpc.status.INTERNAL], errorMessage: status.details ?? '' };
      };
      const results: TopicPollResult[] = new Array(cursors.length);
      let later: Promise<void>[] | undefined;
      cursors.forEach(({ topic, lastSeen }, i) => {
        try {
          const now = poller.pollNow?.(topic, identity, lastSeen);
          if (now) {
            results[i] = { topic, update: toUpdate(now), errorCode: '', errorMessage: '' };
            return;
          }
          (later ??= []).push(
            poller.poll(topic, identity, lastSeen).then(
              (answer) => void (results[i] = { topic, update: toUpdate(answer), errorCode: '', errorMessage: '' }),
              (err: unknown) => void (results[i] = failed(topic, err)),
            ),
          );
        } catch (err) {
          results[i] = failed(topic, err);
        }
      });
      if (later) await Promise.all(later);
      // 3. The answer within its byte budget.
      return { results: fitToBudget(results, maxResponseBytes) };
    }),
  };
}

export function consumerHandlers(svc: ImprintService, log: Logger, limits: BatchPollOptions = {}): ConsumerServiceHandlers {
  return {
    ...pollHandlers(svc, log, limits),
    GetVersion: unary('GetVersion', log, async (req) => ({ record: recordToWire(await svc.getVersion(req.topic, versionFromWire(req.version, 'version'))) })),
    ListVersions: unary('ListVersions', log, async (req) => {
      const page = await svc.listVersions(req.topic, pageSizeFromWire(req.pageSize), pageTokenFromWire(req.pageToken));
      return { versions: page.versions.map(recordToWire), nextPageToken: page.nextPageToken };
    }),
    GetLatestAt: unary('GetLatestAt', log, async (req) => {
      const record = await svc.latestAt(req.topic, identityFromWire(req.identity), timeMsFromWire(req.atMs, 'at_ms'));
      return { record: record ? recordToWire(record) : null };
    }),
    GetTopic: unary('GetTopic', log, async (req) => ({ topic: topicToWire(await svc.getTopic(req.name)) })),
    ListTopics: unary('ListTopics', log, async () => ({ topics: (await svc.listTopics()).map(topicToWire) })),
  };
}

export function operatorHandlers(svc: ImprintService, log: Logger): OperatorServiceHandlers {
  return {
    Pin: unary('Pin', log, async (req, call) => ({
      pin: pinToWire(await svc.pin(req.topic, scopeFromWire(req.scope), versionFromWire(req.version, 'version'), req.reason, req.createdBy, callerOf(call))),
    })),
    Unpin: unary('Unpin', log, async (req, call) => {
      const removed = await svc.unpin(req.topic, scopeFromWire(req.scope), callerOf(call));
      return { removed: removed ? pinToWire(removed) : null };
    }),
    ListPins: unary('ListPins', log, async (req) => ({ pins: (await svc.listPins(req.topic)).map(pinToWire) })),
    DescribeTopic: unary('DescribeTopic', log, async (req) => {
      const d = await svc.describeTopic(req.name, timeMsFromWire(req.consumersSinceMs, 'consumers_since_ms') || undefined);
      return {
        topic: topicToWire(d.topic),
        heads: d.heads.map(headToWire),
        pins: d.pins.map(pinToWire),
        versionCount: d.versionCount,
        ...('error' in d.consumers ? { consumers: null, consumersError: d.consumers.error } : { consumers: consumersToWire(d.consumers), consumersError: '' }),
        recentChanges: d.recentChanges.map(changeToWire),
      };
    }),
    ListHistory: unary('ListHistory', log, async (req) => {
      const page = await svc.listHistory(req.topic, pageSizeFromWire(req.pageSize), pageTokenFromWire(req.pageToken));
      return { changes: page.changes.map(changeToWire), nextPageToken: page.nextPageToken };
    }),
  };
}

export interface GrpcServerHandle {
  readonly port: number;
  readonly health: HealthImplementation;
  /** The services served (health answers for each, and for ""). */
  readonly services: readonly ServiceName[];
  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then cancels them. */
  stop(graceMs?: number): Promise<void>;
}

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  /** @default "all" */
  readonly role?: Role;
  /** Consumer methods behind the per-application limiter and counted in metrics. @default none */
  readonly guard?: GuardOptions;
  /** What one BatchPoll may ask and answer. @default see batchPollWithDefaults */
  readonly batchPoll?: BatchPollOptions;
  /**
   * Accept connections with TCP_NODELAY (server/consume/listen.ts); grpc-js's own bind leaves
   * Nagle on, which shows in the tail latency of many small answers. @default false
   */
  readonly noDelay?: boolean;
}

/**
 * Binds host:port (port 0: any free port) and serves the role's services, health and
 * reflection. A call the role does not serve answers UNIMPLEMENTED.
 */
export async function startGrpcServer(svc: ImprintService, opts: GrpcServerOptions): Promise<GrpcServerHandle> {
  const { proto } = loadImprintProto();
  const services = servicesOf(opts.role ?? 'all');
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  if (services.includes('imprint.v1.PublisherService')) server.addService(proto.imprint.v1.PublisherService.service, publisherHandlers(svc, opts.log));
  if (services.includes('imprint.v1.ConsumerService')) {
    const handlers = consumerHandlers(svc, opts.log, opts.batchPoll);
    server.addService(proto.imprint.v1.ConsumerService.service, opts.guard ? guardConsumerHandlers(handlers, opts.guard) : handlers);
  } else {
    // A publish instance still answers the Consumer's reads (operators list versions before
    // they pin); polls belong to consume instances.
    const refuse: grpc.handleUnaryCall<unknown, never> = (_call, callback) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'this is a publish-role instance: polls go to a consume-role (or all-role) instance' });
    server.addService(proto.imprint.v1.ConsumerService.service, { ...consumerHandlers(svc, opts.log), Poll: refuse, BatchPoll: refuse });
  }
  if (services.includes('imprint.v1.OperatorService')) server.addService(proto.imprint.v1.OperatorService.service, operatorHandlers(svc, opts.log));
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(services.map((n) => [n, 'SERVING' as const])) });
  health.addToServer(server);
  addReflection(server);

  let port: number;
  let close: (graceMs: number) => Promise<void>;
  if (opts.noDelay) {
    const listener = await listenNoDelay(server, opts.host, opts.port);
    port = listener.port;
    close = (graceMs) => listener.close(graceMs);
  } else {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    close = (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
  }
  return {
    port,
    health,
    services,
    stop: (graceMs = 5000) => {
      for (const n of ['', ...services]) health.setStatus(n, 'NOT_SERVING');
      return close(graceMs);
    },
  };
}
