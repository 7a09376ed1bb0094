/**
 * The REST/JSON API: every RPC of the three services at `POST /v1/<service>/<Method>`
 * (contract.ts derives the routes from the loaded .proto files), the body the request message
 * and the answer the response message in the proto3 JSON mapping, served by the very handler
 * stack gRPC serves (server/grpc/server.ts serviceHandlers: request log, authentication,
 * access control, limiter, metrics) through a call adapter (call.ts). Errors: the HTTP status
 * of the gRPC code (HTTP_STATUS), body `{code, message, field?}`; a throttled answer carries
 * Retry-After. Watch answers `application/x-ndjson`, one WatchResponse per line as sent, until
 * the client goes away. GET /openapi.json is the contract as OpenAPI 3.1 (openapi.ts).
 */
import type { ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../core/index.js';
import { FIELD_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import { serviceHandlers, toServiceError, type HandlerStackOptions } from '../grpc/index.js';
import { RestCall } from './call.js';
import { restMethods, type RestMethod } from './contract.js';
import { openApiDocument } from './openapi.js';
import type { HttpRoutes } from './server.js';

/**
 * The HTTP status of each gRPC code (google.rpc.Code's mapping). FAILED_PRECONDITION is 400,
 * not 412: 412 means an HTTP conditional header (If-Match...) did not hold, and the API has
 * none; the state the call needs is the service's, which the message names.
 */
export const HTTP_STATUS: Readonly<Record<grpc.status, number>> = {
  [grpc.status.OK]: 200,
  [grpc.status.CANCELLED]: 499,
  [grpc.status.UNKNOWN]: 500,
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.DEADLINE_EXCEEDED]: 504,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.FAILED_PRECONDITION]: 400,
  [grpc.status.ABORTED]: 409,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.INTERNAL]: 500,
  [grpc.status.UNAVAILABLE]: 503,
  [grpc.status.DATA_LOSS]: 500,
  [grpc.status.UNAUTHENTICATED]: 401,
};

/** An error answer's body. */
export interface RestError {
  /** The gRPC code's name: INVALID_ARGUMENT, NOT_FOUND, ... */
  readonly code: string;
  readonly message: string;
  /** The request field the error names (proto field names, with paths), when it names one. */
  readonly field?: string;
}

/** An error answer: status, headers and body. */
interface ErrorAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: RestError;
}

/** A gRPC status as an HTTP answer: the field and the retry hint from its trailing metadata. */
export function errorAnswer(s: Partial<grpc.StatusObject>): ErrorAnswer {
  const code = s.code ?? grpc.status.UNKNOWN;
  const field = s.metadata?.get(FIELD_METADATA_KEY)[0];
  const retryMs = Number(s.metadata?.get(RETRY_AFTER_METADATA_KEY)[0]);
  const headers: Record<string, string> = {};
  if (code === grpc.status.RESOURCE_EXHAUSTED && Number.isFinite(retryMs) && retryMs >= 0) {
    headers['retry-after'] = String(Math.ceil(retryMs / 1000));
    headers[RETRY_AFTER_METADATA_KEY] = String(retryMs);
  }
  return {
    status: HTTP_STATUS[code] ?? 500,
    headers,
    body: { code: grpc.status[code] ?? 'UNKNOWN', message: s.details ?? '', ...(typeof field === 'string' && { field }) },
  };
}

/** The route rule, for 404s and the README. */
export const ROUTE_RULE = 'POST /v1/<service>/<Method> (service: publisher, consumer or operator; Method: the RPC name)';

const JSON_TYPE = 'application/json; charset=utf-8';

function send(reply: FastifyReply, a: ErrorAnswer): FastifyReply {
  return reply.code(a.status).headers(a.headers).type(JSON_TYPE).send(a.body);
}

function sendRaw(res: ServerResponse, a: ErrorAnswer, headers: Record<string, string>): void {
  res.writeHead(a.status, { ...headers, ...a.headers, 'content-type': JSON_TYPE });
  res.end(JSON.stringify(a.body));
}

/** The headers of an answer: the metadata the handlers sent (the request id). */
function headersOf(call: RestCall): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.responseMetadata.getMap())) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Proto3 JSON: unset message fields are left out rather than written as null. */
const withoutNulls = (_key: string, v: unknown): unknown => (v === null ? undefined : v);

/** Any handler of the stack, as grpc-js calls it (unary with a callback, streaming without). */
type AnyHandler = (call: RestCall, callback?: grpc.sendUnaryData<unknown>) => void;

/**
 * The REST API's routes over the handler stack of `stack` (the options gRPC is started with);
 * /openapi.json documents bearer authentication when the stack authenticates. With
 * `mutualTls` every API request must come over a connection whose client certificate the
 * server verified, as every gRPC connection must (the HTTPS port asks for one without requiring
 * it at the handshake, so that lent payload URLs answer callers without one): 401 otherwise,
 * whatever the authenticator would accept.
 */
export function restRoutes(stack: HandlerStackOptions, mutualTls = false): HttpRoutes {
  return async (app: FastifyInstance) => {
    // 1. The same handlers gRPC serves; the certificate authenticator keys on the HTTP connection.
    const handlers = serviceHandlers(stack, (call) => (call instanceof RestCall ? call.socket : undefined));
    const byPath = new Map(restMethods().map((m) => [m.path, m]));
    const document = JSON.stringify(openApiDocument({ bearer: stack.authenticate !== undefined }));
    await app.register(async (scope) => {
      // 2. Bodies as bytes: the content type and the JSON are checked here, answered in our shape.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      scope.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
        const status = err.statusCode ?? 500;
        const code = status === 413 ? 'RESOURCE_EXHAUSTED' : status < 500 ? 'INVALID_ARGUMENT' : 'INTERNAL';
        const message = status === 413 ? `the request body is over the server's limit of ${scope.initialConfig.bodyLimit ?? 0} bytes` : status < 500 ? (err.message ?? 'bad request') : 'internal error; see the server log';
        if (status >= 500) stack.log.error('REST request failed', { err });
        return send(reply, { status, headers: {}, body: { code, message } });
      });
      scope.get('/openapi.json', (_req, reply) => reply.type(JSON_TYPE).send(document));
      scope.all('/v1/*', (req, reply) => answer(req, reply));
    });

    async function answer(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
      // 3. The route: one per RPC; a role that does not serve a service answers as gRPC does.
      const path = req.url.split('?')[0] ?? '';
      const m = byPath.get(path);
      if (!m) return send(reply, { status: 404, headers: {}, body: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}: the API's routes are ${ROUTE_RULE}; see /openapi.json` } });
      if (req.method !== 'POST') return send(reply, { status: 405, headers: { allow: 'POST' }, body: { code: 'UNIMPLEMENTED', message: `${path} answers POST only (got ${req.method})` } });
      const served = handlers[m.serviceName] as Record<string, AnyHandler> | undefined;
      const handler = served?.[m.method];
      if (!handler) return send(reply, errorAnswer({ code: grpc.status.UNIMPLEMENTED, details: `The server does not implement the method ${m.grpcPath}` }));
      const socket = req.raw.socket;
      if (mutualTls && !(socket instanceof TLSSocket && socket.authorized)) {
        const why = socket instanceof TLSSocket ? (socket.authorizationError?.message ?? 'none presented') : 'not over TLS';
        return send(reply, { status: 401, headers: {}, body: { code: 'UNAUTHENTICATED', message: `this server requires a client certificate its CA signed (mTLS), as on gRPC: ${why}` } });
      }
      // 4. The body: JSON (or nothing: the empty message), checked against the request type.
      let request: unknown;
      try {
        request = m.parse(parseBody(req));
      } catch (err) {
        if (err instanceof UnsupportedMediaType) return send(reply, { status: 415, headers: {}, body: { code: 'INVALID_ARGUMENT', message: err.message } });
        return send(reply, errorAnswer(toServiceError(err, m.method, stack.log)));
      }
      // 5. The handler, with a call adapter; the client going away cancels it.
      if (!m.streaming) return unary(m, handler, request, req, reply);
      stream(m, handler, request, req, reply);
      return undefined;
    }
  };
}

class UnsupportedMediaType extends Error {}

/** A request's body as JSON: nothing is the empty message; anything else must be JSON. */
function parseBody(req: FastifyRequest): unknown {
  const body = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new UnsupportedMediaType(`the request body must be application/json (got ${JSON.stringify(req.headers['content-type'] ?? 'none')})`);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new InvalidArgumentError('body', `must be JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function unary(m: RestMethod, handler: AnyHandler, request: unknown, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const call = new RestCall(request, req.headers, req.raw.socket, m.grpcPath);
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) call.cancel();
  });
  const answered = await new Promise<{ err: Partial<grpc.StatusObject> | null; value: unknown }>((resolve) => {
    handler(call, (err, value) => resolve({ err: err ? (err as Partial<grpc.StatusObject>) : null, value }));
  });
  reply.headers(headersOf(call));
  if (answered.err) return send(reply, errorAnswer(answered.err));
  return reply.type(JSON_TYPE).send(JSON.stringify(m.toJson(answered.value), withoutNulls));
}

/** A server-streaming call (Watch) as NDJSON: headers with the first message, one message per line; an error after it is the last line. */
function stream(m: RestMethod, handler: AnyHandler, request: unknown, req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  let started = false;
  const call: RestCall = new RestCall(request, req.headers, req.raw.socket, m.grpcPath, {
    write(message) {
      if (!started) {
        started = true;
        res.writeHead(200, { ...headersOf(call), 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      }
      return res.write(`${JSON.stringify(m.toJson(message), withoutNulls)}\n`);
    },
  });
  call.on('error', (status: Partial<grpc.StatusObject>) => {
    const a = errorAnswer(status);
    if (!started) sendRaw(res, a, headersOf(call));
    else res.end(`${JSON.stringify({ error: a.body })}\n`);
  });
  res.on('drain', () => call.emit('drain'));
  res.on('close', () => call.cancel());
  handler(call);
}
