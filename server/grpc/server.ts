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
import { rememberConnection } from '../auth/certificate.js';
import { addReflection } from './reflection.js';
import type { Authenticate } from '../auth/principal.js';
import { authenticatedService } from './authenticate.js';
import { countingFailures } from '../auth/failures.js';
import { loggedService } from './request-log.js';

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

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
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
   * Accept connections with TCP_NODELAY (listen.ts); grpc-js's own bind leaves Nagle on, which
   * shows in the tail latency of many small answers. With `credentials`, connections are
   * accepted by that listener whatever this says (it tells the authenticator each call's
   * connection). @default false
   */
  readonly noDelay?: boolean;
  /**
   * Establishes each call's principal before its handler runs (UNAUTHENTICATED when it
   * cannot); health and reflection stay open. @default none: calls are anonymous
   */
  readonly authenticate?: Authenticate;
  /** What connections speak: TLS credentials (server/tls.ts `ServerTls.grpcCredentials()`). @default plaintext */
  readonly credentials?: grpc.ServerCredentials;
}

/** `authenticate`, told first which of the listener's connections the call came in on (when it knows). */
function withConnection(authenticate: Authenticate, listener: () => Listener | undefined): Authenticate {
  return (call) => {
    const connection = listener()?.connectionOf(call.getPeer());
    if (connection) rememberConnection(call, connection);
    return authenticate(call);
  };
}

/** Binds host:port (port 0: any free port) and serves the services, health and reflection. A call not served answers UNIMPLEMENTED. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServerHandle> {
  const { proto } = loadImprintProto();
  const { service, services } = opts;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  // Every call with its request log (outermost: a refused or throttled answer is logged too),
  // then authenticated (the limiter and the handlers see the principal), then counted.
  // Our own listener (below) says which connection a call came in on: the certificate
  // authenticator keeps its principal per connection instead of reading the certificate per call.
  // Failures are counted by reason (imprint_auth_failures_total).
  let listener: Listener | undefined;
  const { metrics } = opts;
  const counted = opts.authenticate && metrics ? countingFailures(opts.authenticate, (reason) => metrics.authFailures[reason].inc()) : opts.authenticate;
  const authenticate = counted && withConnection(counted, () => listener);
  const authenticated = <H extends object>(h: H): H => (authenticate ? authenticatedService(h, authenticate, opts.log) : h);
  const observed = <H extends object>(h: H, name: string): H => loggedService(authenticated(opts.metrics ? observedService(h, name, opts.metrics) : h), opts.log);
  if (services.includes('imprint.v1.PublisherService')) server.addService(proto.imprint.v1.PublisherService.service, observed(publisherHandlers(service, opts.log), 'PublisherService'));
  const consumer = consumerHandlers(service, opts.poller, opts.log, opts.batchPoll, opts.watchers, opts.outcomes);
  server.addService(proto.imprint.v1.ConsumerService.service, loggedService(authenticated(opts.guard ? guardConsumerHandlers(consumer, opts.guard) : consumer), opts.log, ['Watch']));
  if (services.includes('imprint.v1.OperatorService')) server.addService(proto.imprint.v1.OperatorService.service, observed(operatorHandlers(service, opts.log), 'OperatorService'));
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
