/**
 * The gRPC transport: the PublisherService, ConsumerService and OperatorService of
 * proto/imprint/v1 over the service code (handlers.ts), the Consumer service behind its guard
 * (guard.ts), the standard health service, and server reflection (grpcurl works). Which
 * services and which guard an instance has is decided by role in server/index.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { loadImprintProto } from '../../proto/loader.js';
import type { BatchPollOptions } from '../config.js';
import type { Logger } from '../../log/index.js';
import type { ConsumerOutcomes, Poller, Watchers } from '../poll/index.js';
import type { ImprintService } from '../service.js';
import type { ConsumeMetrics } from '../metrics.js';
import { guardConsumerHandlers, observedService, type GuardOptions } from './guard.js';
import { consumerHandlers, operatorHandlers, publisherHandlers } from './handlers.js';
import { listenNoDelay, type Listener } from './listen.js';
import { addFastLane, type FastLaneMethod } from './fast-lane.js';
import { decodeBatchPollRequest, encodeBatchPollResponse } from './batch-poll.js';
import { rememberConnection } from '../auth/certificate.js';
import { addReflection } from './reflection.js';
import type { Authenticate, ServerCall } from '../auth/principal.js';
import type { ConsumerServiceHandlers } from '../../proto/gen/imprint/v1/ConsumerService.js';
import type { OperatorServiceHandlers } from '../../proto/gen/imprint/v1/OperatorService.js';
import type { PublisherServiceHandlers } from '../../proto/gen/imprint/v1/PublisherService.js';
import { appCheckedService, authenticatedService } from './authenticate.js';
import { countingFailures } from '../auth/failures.js';
import { loggedService } from './request-log.js';

/** The largest request message accepted (grpc.max_receive_message_length, and the fast lane's bound). */
const MAX_RECEIVE_BYTES = 8 * 1024 * 1024;

export const SERVICE_NAMES = ['imprint.v1.PublisherService', 'imprint.v1.ConsumerService', 'imprint.v1.OperatorService'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface GrpcServerHandle {
  readonly port: number;
  readonly health: HealthImplementation;
  /** The services served (health answers for each, and for ""). */
  readonly services: readonly ServiceName[];
  /** Stops accepting calls, lets running ones finish for up to `graceMs`, then cancels them. */
  stop(graceMs?: number): Promise<void>;
}

/** What the services are made of and wrapped in, for every transport (gRPC here, REST in server/http/rest.ts). */
export interface HandlerStackOptions {
  readonly log: Logger;
  /** Publish, operate and the Consumer's reads. */
  readonly service: ImprintService;
  /** Answers Poll and BatchPoll. @default none: they answer UNIMPLEMENTED (a publish-role instance) */
  readonly poller?: Poller;
  /** Serve Watch streams (with a poller). @default none: Watch answers UNIMPLEMENTED */
  readonly watchers?: Watchers;
  /** Takes in what consumers say they hold and rejected (polls, Watch, Report) for the rollout gates. @default none: Report answers UNIMPLEMENTED */
  readonly outcomes?: ConsumerOutcomes;
  /**
   * The services served and reported in health. The ConsumerService's reads are answered
   * even when it is not listed (a publish instance: operators list versions before they pin),
   * its polls only with a poller.
   */
  readonly services: readonly ServiceName[];
  /** Consumer methods behind the per-application limiter and counted in metrics. @default none */
  readonly guard?: GuardOptions;
  /** Publisher and Operator methods counted by outcome and timed in these. @default none */
  readonly metrics?: ConsumeMetrics;
  /** What one BatchPoll may ask and answer. @default see batchPollWithDefaults */
  readonly batchPoll?: BatchPollOptions;
  /**
   * Establishes each call's principal before its handler runs (UNAUTHENTICATED when it
   * cannot); health and reflection stay open. @default none: calls are anonymous
   */
  readonly authenticate?: Authenticate;
}

export interface GrpcServerOptions extends HandlerStackOptions {
  readonly host: string;
  readonly port: number;
  /**
   * Accept connections with TCP_NODELAY (listen.ts); grpc-js's own bind leaves Nagle on, which
   * shows in the tail latency of many small answers. With `credentials`, connections are
   * accepted by that listener whatever this says (it tells the authenticator each call's
   * connection). @default false
   */
  readonly noDelay?: boolean;
  /** What connections speak: TLS credentials (server/tls.ts `ServerTls.grpcCredentials()`). @default plaintext */
  readonly credentials?: grpc.ServerCredentials;
  /**
   * Answer Poll, BatchPoll and Watch in the fast lane (fast-lane.ts: off Node's HTTP/2 streams,
   * through the same handler stack) rather than through grpc-js's call machinery. @default true
   */
  readonly fastLane?: boolean;
}

/** `authenticate`, told first which connection the call came in on (when the transport knows). */
function withConnection(authenticate: Authenticate, connectionOf: ConnectionOf): Authenticate {
  return (call) => {
    const connection = connectionOf(call);
    if (connection) rememberConnection(call, connection);
    return authenticate(call);
  };
}

/** The connection (socket) a call came in on, when the transport knows it. */
export type ConnectionOf = (call: ServerCall) => object | undefined;

/** The handler maps a transport serves: each method as grpc-js calls it, wrapped. */
export interface ServiceHandlers {
  /** Absent when the role does not serve the PublisherService. */
  readonly 'imprint.v1.PublisherService'?: PublisherServiceHandlers;
  /** Always: its reads are answered on every role (its polls only with a poller). */
  readonly 'imprint.v1.ConsumerService': ConsumerServiceHandlers;
  /** Absent when the role does not serve the OperatorService. */
  readonly 'imprint.v1.OperatorService'?: OperatorServiceHandlers;
}

/**
 * The one handler stack of every transport: the service code's handlers (handlers.ts), each
 * with its request log (outermost: a refused or throttled answer is logged too), then
 * authenticated (the limiter and the handlers see the principal), then counted; the
 * Consumer's behind its guard (per-app limiter and metrics). gRPC hands these maps to
 * addService; REST (server/http/rest.ts) calls the same handlers with a call adapter.
 * `connectionOf` says which connection a call came in on: the certificate authenticator keeps
 * its principal per connection instead of reading the certificate per call. Failures are
 * counted by reason (imprint_auth_failures_total).
 */
export function serviceHandlers(opts: HandlerStackOptions, connectionOf: ConnectionOf): ServiceHandlers {
  const { service, services, metrics } = opts;
  const counted = opts.authenticate && metrics ? countingFailures(opts.authenticate, (reason) => metrics.authFailures[reason].inc()) : opts.authenticate;
  const authenticate = counted && withConnection(counted, connectionOf);
  const authenticated = <H extends object>(h: H): H => (authenticate ? authenticatedService(h, authenticate, opts.log) : h);
  // The claimed apps are checked inside the metrics: a refusal is one of the method's outcomes.
  const appChecked = <H extends object>(h: H): H => (authenticate ? appCheckedService(h, opts.log) : h);
  const observed = <H extends object>(h: H, name: string): H => loggedService(authenticated(metrics ? observedService(appChecked(h), name, metrics) : appChecked(h)), opts.log);
  const consumer = appChecked(consumerHandlers(service, opts.poller, opts.log, opts.batchPoll, opts.watchers, opts.outcomes));
  return {
    ...(services.includes('imprint.v1.PublisherService') && { 'imprint.v1.PublisherService': observed(publisherHandlers(service, opts.log), 'PublisherService') }),
    'imprint.v1.ConsumerService': loggedService(authenticated(opts.guard ? guardConsumerHandlers(consumer, opts.guard) : consumer), opts.log, ['Watch']),
    ...(services.includes('imprint.v1.OperatorService') && { 'imprint.v1.OperatorService': observed(operatorHandlers(service, opts.log), 'OperatorService') }),
  };
}

/** Binds host:port (port 0: any free port) and serves the services, health and reflection. A call not served answers UNIMPLEMENTED. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServerHandle> {
  const { proto } = loadImprintProto();
  const { services } = opts;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES });
  // Our own listener (below) says which connection a call came in on.
  let listener: Listener | undefined;
  const handlers = serviceHandlers(opts, (call) => listener?.connectionOf(call.getPeer()));
  const publisher = handlers['imprint.v1.PublisherService'];
  const operator = handlers['imprint.v1.OperatorService'];
  if (publisher) server.addService(proto.imprint.v1.PublisherService.service, publisher);
  server.addService(proto.imprint.v1.ConsumerService.service, handlers['imprint.v1.ConsumerService']);
  if (operator) server.addService(proto.imprint.v1.OperatorService.service, operator);
  if (opts.fastLane !== false) {
    const consumer = proto.imprint.v1.ConsumerService.service;
    const served = handlers['imprint.v1.ConsumerService'];
    const codec = (name: 'Poll' | 'BatchPoll' | 'Watch' | 'Report') => ({ path: consumer[name].path, deserialize: consumer[name].requestDeserialize, serialize: consumer[name].responseSerialize as (m: unknown) => Buffer });
    const lanes: FastLaneMethod[] = [
      { ...codec('Poll'), kind: 'unary', handler: served.Poll as grpc.handleUnaryCall<unknown, unknown> },
      // BatchPoll's requests and answers by the codec written for them (what proto-loader's gives, batch-poll.ts).
      { ...codec('BatchPoll'), deserialize: decodeBatchPollRequest, serialize: encodeBatchPollResponse as (m: unknown) => Buffer, kind: 'unary', handler: served.BatchPoll as grpc.handleUnaryCall<unknown, unknown> },
      // A WatchRequest has a BatchPollRequest's fields.
      { ...codec('Watch'), deserialize: decodeBatchPollRequest, kind: 'serverStream', handler: served.Watch as grpc.handleServerStreamingCall<unknown, unknown> },
      // So has a ReportRequest: every watcher of a topic reports after a publish swaps it.
      { ...codec('Report'), deserialize: decodeBatchPollRequest, kind: 'unary', handler: served.Report as grpc.handleUnaryCall<unknown, unknown> },
    ];
    addFastLane(server, lanes, { maxReceiveBytes: MAX_RECEIVE_BYTES });
  }
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(services.map((n) => [n, 'SERVING' as const])) });
  health.addToServer(server);
  addReflection(server);

  const credentials = opts.credentials ?? grpc.ServerCredentials.createInsecure();
  let port: number;
  let close: (graceMs: number) => Promise<void>;
  // TLS: always our own listener (TCP_NODELAY too), which knows each call's connection.
  if (opts.noDelay || opts.credentials) {
    const own = await listenNoDelay(server, opts.host, opts.port, credentials);
    listener = own;
    port = own.port;
    close = (graceMs) => own.close(graceMs);
  } else {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${opts.host}:${opts.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p)));
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
