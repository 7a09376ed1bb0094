/**
 * The gRPC face of the service: the Publisher, Consumer and Operator services of
 * proto/imprint/v1, the standard health service, and server reflection (grpcurl works).
 * Handlers translate wire messages to ImprintService calls and nothing more.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import {
  consumersToWire,
  headToWire,
  identityFromWire,
  pinToWire,
  pointerFromWire,
  recordToWire,
  retentionFromWire,
  scopeFromWire,
  topicToWire,
  versionFromWire,
} from '../proto/convert.js';
import type { ConsumerHandlers } from '../proto/gen/imprint/v1/Consumer.js';
import type { OperatorHandlers } from '../proto/gen/imprint/v1/Operator.js';
import type { PublisherHandlers } from '../proto/gen/imprint/v1/Publisher.js';
import type { Update } from '../proto/gen/imprint/v1/Update.js';
import { loadImprintProto } from '../proto/loader.js';
import { toServiceError } from './grpc-errors.js';
import type { Logger } from './log.js';
import { addReflection } from './reflection.js';
import type { ImprintService, PollAnswer } from './service.js';
import type { Poller } from './consume/consume-service.js';

export const SERVICE_NAMES = ['imprint.v1.Publisher', 'imprint.v1.Consumer', 'imprint.v1.Operator'] as const;

/** Wraps an async handler: its result or its error (as a status) goes to the callback. */
export function unary<Req, Res>(method: string, log: Logger, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, method, log)),
    );
  };
}

export function toUpdate(a: PollAnswer): Update | null {
  return a.record ? { record: recordToWire(a.record), pinned: a.pinned } : null;
}

export function publisherHandlers(svc: ImprintService, log: Logger): PublisherHandlers {
  return {
    CreateTopic: unary('CreateTopic', log, async (req) =>
      topicToWire(await svc.createTopic({ name: req.name, owner: req.owner, description: req.description, retention: retentionFromWire(req.retention) })),
    ),
    UpdateTopic: unary('UpdateTopic', log, async (req) =>
      topicToWire(
        await svc.updateTopic(req.name, {
          ...(req._owner === 'owner' && { owner: req.owner }),
          ...(req._description === 'description' && { description: req.description }),
          ...(req.retention && { retention: retentionFromWire(req.retention) }),
        }),
      ),
    ),
    Publish: unary('Publish', log, async (req) =>
      recordToWire(await svc.publish({ topic: req.topic, metadata: req.metadata, pointer: pointerFromWire(req.pointer), scopes: req.scopes.map(scopeFromWire) })),
    ),
    AddScopes: unary('AddScopes', log, async (req) =>
      recordToWire(await svc.addScopes(req.topic, versionFromWire(req.version, 'version'), req.scopes.map(scopeFromWire))),
    ),
  };
}

/** Poll and BatchPoll over any Poller: the service itself, or the consume role's poll table. */
export function pollHandlers(poller: Poller, log: Logger): Pick<ConsumerHandlers, 'Poll' | 'BatchPoll'> {
  return {
    Poll: unary('Poll', log, async (req) => ({
      update: toUpdate(await poller.poll(req.topic, identityFromWire(req.identity), versionFromWire(req.lastSeenVersion, 'last_seen_version', true))),
    })),
    BatchPoll: unary('BatchPoll', log, async (req) => {
      const identity = identityFromWire(req.identity);
      const results = await Promise.all(
        req.topics.map(async (t) => {
          try {
            const answer = await poller.poll(t.topic, identity, versionFromWire(t.lastSeenVersion, `topics[${t.topic}].last_seen_version`, true));
            return { topic: t.topic, update: toUpdate(answer), errorCode: '', errorMessage: '' };
          } catch (err) {
            const status = toServiceError(err, 'BatchPoll', log);
            return { topic: t.topic, update: null, errorCode: grpc.status[status.code ?? grpc.status.INTERNAL], errorMessage: status.details ?? '' };
          }
        }),
      );
      return { results };
    }),
  };
}

export function consumerHandlers(svc: ImprintService, log: Logger): ConsumerHandlers {
  return {
    ...pollHandlers(svc, log),
    GetVersion: unary('GetVersion', log, async (req) => recordToWire(await svc.getVersion(req.topic, versionFromWire(req.version, 'version')))),
    ListVersions: unary('ListVersions', log, async (req) => {
      const page = await svc.listVersions(req.topic, req.pageSize, req.pageToken);
      return { versions: page.versions.map(recordToWire), nextPageToken: page.nextPageToken };
    }),
    GetLatestAt: unary('GetLatestAt', log, async (req) => {
      const record = await svc.latestAt(req.topic, identityFromWire(req.identity), Number(req.atMs));
      return { record: record ? recordToWire(record) : null };
    }),
    GetTopic: unary('GetTopic', log, async (req) => topicToWire(await svc.getTopic(req.name))),
    ListTopics: unary('ListTopics', log, async () => ({ topics: (await svc.listTopics()).map(topicToWire) })),
  };
}

export function operatorHandlers(svc: ImprintService, log: Logger): OperatorHandlers {
  return {
    Pin: unary('Pin', log, async (req) =>
      pinToWire(await svc.pin(req.topic, scopeFromWire(req.scope), versionFromWire(req.version, 'version'), req.reason, req.createdBy)),
    ),
    Unpin: unary('Unpin', log, async (req) => {
      const removed = await svc.unpin(req.topic, scopeFromWire(req.scope));
      return { removed: removed ? pinToWire(removed) : null };
    }),
    ListPins: unary('ListPins', log, async (req) => ({ pins: (await svc.listPins(req.topic)).map(pinToWire) })),
    DescribeTopic: unary('DescribeTopic', log, async (req) => {
      const d = await svc.describeTopic(req.name, Number(req.consumersSinceMs) || undefined);
      return {
        topic: topicToWire(d.topic),
        heads: d.heads.map(headToWire),
        pins: d.pins.map(pinToWire),
        versionCount: d.versionCount,
        ...('error' in d.consumers ? { consumers: null, consumersError: d.consumers.error } : { consumers: consumersToWire(d.consumers), consumersError: '' }),
      };
    }),
  };
}

export interface GrpcServerHandle {
  readonly port: number;
  readonly health: HealthImplementation;
  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then cancels them. */
  stop(graceMs?: number): Promise<void>;
}

/** Binds host:port (port 0: any free port) and serves the service, health and reflection. */
export async function startGrpcServer(svc: ImprintService, opts: { host: string; port: number; log: Logger }): Promise<GrpcServerHandle> {
  const { def, proto } = loadImprintProto();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  server.addService(proto.imprint.v1.Publisher.service, publisherHandlers(svc, opts.log));
  server.addService(proto.imprint.v1.Consumer.service, consumerHandlers(svc, opts.log));
  server.addService(proto.imprint.v1.Operator.service, operatorHandlers(svc, opts.log));
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(SERVICE_NAMES.map((n) => [n, 'SERVING' as const])) });
  health.addToServer(server);
  addReflection(server, def);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port,
    health,
    stop: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        for (const n of ['', ...SERVICE_NAMES]) health.setStatus(n, 'NOT_SERVING');
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
