/**
 * Request-scoped logs: every line written while a gRPC call is handled carries its `method`,
 * `topic` (a BatchPoll or Watch: `topics`, the count), `app`, `principal` (on a server with
 * principals, once authenticated) and `requestId` (the caller's
 * `x-request-id`, when sane, else a new one; sent back in the response's metadata). The child
 * logger is made only when a line is written: a poll that logs nothing costs a level check.
 * Each call's outcome is logged once: at debug when it answers (OK, NOT_FOUND, throttled,
 * cancelled), at warn when it fails otherwise.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { LogFields, LogLevel, Logger } from '../../log/index.js';
import { REQUEST_ID_METADATA_KEY } from '../../proto/metadata-keys.js';
import { outcomeOf } from './guard.js';
import { appFromCall } from './throttle.js';
import { principalOf } from '../auth/principal.js';

/** A request id a caller may choose: 1-128 letters, digits and . _ : - (a UUID, a trace id). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A topic name in a log line is cut to this (a bad request may name anything). */
const MAX_TOPIC_CHARS = 256;
/** Answers that are part of normal work, logged at debug like successes. */
const QUIET_CODES: ReadonlySet<number> = new Set([grpc.status.OK, grpc.status.NOT_FOUND, grpc.status.RESOURCE_EXHAUSTED, grpc.status.CANCELLED]);

type AnyCall = { readonly metadata: grpc.Metadata; readonly request: unknown; sendMetadata(md: grpc.Metadata): void };

/**
 * New request ids: this process's random prefix and a count (`3f9c0a1b2c4d-1a2b`), unique
 * across instances as a UUID would be, at a fraction of randomUUID's cost on every call.
 */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCount = 0;

/** The caller's request id when it sent a sane one, else a new one. */
export function requestIdOf(metadata: grpc.Metadata): string {
  const sent = metadata.get(REQUEST_ID_METADATA_KEY)[0];
  return typeof sent === 'string' && SANE_REQUEST_ID.test(sent) ? sent : `${ID_PREFIX}-${(++idCount).toString(36)}`;
}

/** What a request names: `topic` (or a topic's `name`), or how many `topics`. */
function topicFields(req: unknown): LogFields {
  if (typeof req !== 'object' || req === null) return {};
  const r = req as { topic?: unknown; name?: unknown; topics?: unknown };
  const topic = typeof r.topic === 'string' && r.topic ? r.topic : typeof r.name === 'string' && r.name ? r.name : undefined;
  if (topic !== undefined) return { topic: topic.slice(0, MAX_TOPIC_CHARS) };
  if (Array.isArray(r.topics)) return { topics: r.topics.length };
  return {};
}

/** A Logger whose lines carry a request's fields; the child logger is made at the first line written. */
export class RequestLogger implements Logger {
  private scopedLog?: Logger;
  /** The fields, once kept (keepFields); the call is let go then. */
  private kept?: LogFields;
  constructor(
    private readonly base: Logger,
    private call: AnyCall | undefined,
    readonly method: string,
    readonly requestId: string,
  ) {}

  /** The request's fields (computed once, with the first line). */
  fields(): LogFields {
    if (this.kept || !this.call) return this.kept ?? { method: this.method, requestId: this.requestId };
    const principal = principalOf(this.call)?.name;
    return { method: this.method, ...topicFields(this.call.request), app: appFromCall(this.call), ...(principal !== undefined && { principal }), requestId: this.requestId };
  }

  /**
   * Computes the fields now and lets go of the call: a stream's log outlives its request, which
   * the transport may let go of (server/grpc/fast-lane.ts) once the stream answers.
   */
  keepFields(): void {
    this.kept = this.fields();
    this.call = undefined;
  }

  private scoped(): Logger {
    return (this.scopedLog ??= this.base.child(this.fields()));
  }

  trace(m: string, f?: LogFields): void {
    if (this.base.isLevelEnabled('trace')) this.scoped().trace(m, f);
  }
  debug(m: string, f?: LogFields): void {
    if (this.base.isLevelEnabled('debug')) this.scoped().debug(m, f);
  }
  info(m: string, f?: LogFields): void {
    if (this.base.isLevelEnabled('info')) this.scoped().info(m, f);
  }
  warn(m: string, f?: LogFields): void {
    if (this.base.isLevelEnabled('warn')) this.scoped().warn(m, f);
  }
  error(m: string, f?: LogFields): void {
    if (this.base.isLevelEnabled('error')) this.scoped().error(m, f);
  }
  fatal(m: string, f?: LogFields): void {
    if (this.base.isLevelEnabled('fatal')) this.scoped().fatal(m, f);
  }
  child(fields: LogFields): Logger {
    return this.scoped().child(fields);
  }
  isLevelEnabled(level: LogLevel): boolean {
    return this.base.isLevelEnabled(level);
  }

  /** Logs the call's answer: debug when it is part of normal work, warn when it failed. */
  answered(err: Partial<grpc.StatusObject> | null, durationMs: number): void {
    // The level first: most answers are polls, and debug is off.
    if (QUIET_CODES.has(err?.code ?? grpc.status.OK)) {
      if (this.base.isLevelEnabled('debug')) this.scoped().debug('request answered', { outcome: outcomeOf(err), durationMs });
    } else this.warn('request failed', { outcome: outcomeOf(err), error: err?.details, durationMs });
  }
}

/**
 * The response metadata of startRequestLog: the request id alone, put in without grpc-js's
 * checks of Metadata.set (two regular expressions per call, about 1% of a consume instance's
 * time at fleet load): the key is ours and the id is sane (SANE_REQUEST_ID) or made here. The
 * fast lane writes it as its header without converting the metadata (onlyRequestId).
 */
export class RequestIdMetadata extends grpc.Metadata {
  constructor(readonly requestId: string) {
    super();
    this.internalRepr.set(REQUEST_ID_METADATA_KEY, [requestId]);
  }

  /** The request id when it is still all this metadata holds (nothing added or changed since), else undefined. */
  onlyRequestId(): string | undefined {
    const values = this.internalRepr.size === 1 ? this.internalRepr.get(REQUEST_ID_METADATA_KEY) : undefined;
    return values?.length === 1 && values[0] === this.requestId ? this.requestId : undefined;
  }
}

/** Where a call keeps its request log. A property, not a WeakMap: measured, a WeakMap entry per call costs ~3 us (its GC), the property ~nothing. */
const REQUEST_LOG = Symbol('imprint.requestLog');
type WithRequestLog = { [REQUEST_LOG]?: RequestLogger };

/**
 * Starts the request log of `call`: its id (sent back at once in the response metadata) and
 * its logger, which requestLog finds again by the call.
 */
export function startRequestLog(call: AnyCall, method: string, log: Logger): RequestLogger {
  const requestId = requestIdOf(call.metadata);
  call.sendMetadata(new RequestIdMetadata(requestId));
  const rlog = new RequestLogger(log, call, method, requestId);
  (call as WithRequestLog)[REQUEST_LOG] = rlog;
  return rlog;
}

/** The logger of the request `call` is (lines carry its method, topic, app and id); `fallback` for a call not started with startRequestLog. */
export function requestLog(call: object, fallback: Logger): Logger {
  return (call as WithRequestLog)[REQUEST_LOG] ?? fallback;
}

/** `handler` with a request log: started before it runs, its answer logged (see RequestLogger.answered). */
export function loggedUnary<Req, Res>(method: string, log: Logger, handler: grpc.handleUnaryCall<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const rlog = startRequestLog(call, method, log);
    const t0 = performance.now();
    handler(call, (err, value, trailer, flags) => {
      rlog.answered(err, performance.now() - t0);
      callback(err, value, trailer, flags);
    });
  };
}

/** Every unary method of a service's handlers with a request log (streams, such as Watch, start theirs themselves). */
export function loggedService<H extends object>(handlers: H, log: Logger, streams: readonly string[] = []): H {
  const out: Record<string, unknown> = {};
  for (const [method, handler] of Object.entries(handlers)) {
    // Each value is a grpc.handleUnaryCall of its own request and response types; wrapping keeps them.
    out[method] = streams.includes(method) ? handler : loggedUnary(method, log, handler as grpc.handleUnaryCall<unknown, unknown>);
  }
  return out as H;
}
