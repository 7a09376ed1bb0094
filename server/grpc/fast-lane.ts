/**
 * The fast lane: the calls a fleet makes every poll interval (Poll and BatchPoll, about 1000 for
 * every publish), and Watch with the Report each watcher sends when a publish swaps it,
 * answered straight off Node's HTTP/2 streams, on the port and the HTTP/2 sessions grpc-js
 * serves everything else on.
 *
 * Why: a unary call through grpc-js's server costs more than the poll it carries. Under the
 * fleet bench (3,333 BatchPolls/s), an empty grpc-js handler kept 0.68 of a core busy where the
 * same empty answer written on the HTTP/2 stream directly took 0.40, and the handler's own work
 * comes on top of that on a single JavaScript thread. What grpc-js adds per call (its
 * intercepting call, a Duplex per call, channelz, a deadline timer) buys nothing these calls
 * need: one message in, one out, answered from memory.
 *
 * How: every HTTP/2 server grpc-js makes (bindAsync, or the connection injector our listener
 * uses) gets a router in front of grpc-js's own stream listener. A stream for a lane's path with
 * a plain gRPC request (POST, application/grpc, no compression) is served here, through the very
 * handler stack grpc-js would have called (server.ts serviceHandlers: request log, authentication,
 * limiter, metrics, the Poller), with a call object that answers what that stack reads. Every
 * other stream (other methods, compressed requests, anything odd) goes to grpc-js untouched, as
 * do sessions: keepalive, idle and age limits, GOAWAY and shutdown stay grpc-js's.
 *
 * The one private piece of grpc-js used is `Server._setupHandlers(http2Server, ...)`, which each
 * of its HTTP/2 servers is set up by; `addFastLane` checks it is there and fails loudly when a
 * grpc-js upgrade takes it away (test/integration/fast-lane.test.ts would too).
 */
import type http2 from 'node:http2';
import { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { metadataPairs } from '../http/call.js';
import { REQUEST_ID_METADATA_KEY } from '../../proto/metadata-keys.js';
import { RequestIdMetadata } from './request-log.js';

/**
 * A method served in the fast lane: its handler as grpc-js would call it (unary, or server
 * streaming: one request, messages written until the status), and its codec.
 */
export type FastLaneMethod = {
  /** The full path (`/imprint.v1.ConsumerService/BatchPoll`). */
  readonly path: string;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (message: unknown) => Buffer;
} & ({ readonly kind: 'unary'; readonly handler: grpc.handleUnaryCall<unknown, unknown> } | { readonly kind: 'serverStream'; readonly handler: grpc.handleServerStreamingCall<unknown, unknown> });

export interface FastLaneOptions {
  /** A request body larger than this is refused (RESOURCE_EXHAUSTED), as grpc-js's `grpc.max_receive_message_length`. */
  readonly maxReceiveBytes: number;
}

/** What grpc-js exposes of a Server to set an HTTP/2 server up (private; checked at run time). */
interface ServerInternals {
  _setupHandlers?: (this: grpc.Server, h2: http2.Http2Server | http2.Http2SecureServer, ...rest: unknown[]) => void;
}

/** Calls answered (unary) and streams opened in the fast lane since the process started (tests, benches). */
export const fastLaneStats = { answered: 0, streams: 0 };

/**
 * Routes `methods` of every HTTP/2 server `server` sets up from now on (call before bindAsync or
 * createConnectionInjector) through the fast lane.
 */
export function addFastLane(server: grpc.Server, methods: readonly FastLaneMethod[], opts: FastLaneOptions): void {
  const internals = server as unknown as ServerInternals;
  const setup = internals._setupHandlers;
  if (typeof setup !== 'function') throw new Error('addFastLane: this grpc-js has no Server._setupHandlers (an upgrade changed its internals); the fast lane needs mending');
  const byPath = new Map(methods.map((m) => [m.path, m]));
  internals._setupHandlers = function (this: grpc.Server, h2, ...rest) {
    setup.call(this, h2, ...rest);
    // grpc-js's own listener(s), called for every stream the fast lane does not take.
    const grpcListeners = h2.listeners('stream') as ((...args: unknown[]) => void)[];
    h2.removeAllListeners('stream');
    h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...more: unknown[]) => {
      const method = byPath.get(headers[':path'] ?? '');
      if (method && plainRequest(headers)) serve(method, stream, headers, opts);
      else for (const l of grpcListeners) l.call(h2, stream, headers, ...more);
    });
  };
}

/** A request the fast lane answers as grpc-js would: POST, a gRPC content type, no compression. */
function plainRequest(headers: http2.IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  const encoding = headers['grpc-encoding'];
  return headers[':method'] === 'POST' && typeof type === 'string' && type.startsWith('application/grpc') && (encoding === undefined || encoding === 'identity');
}

/**
 * A response's headers. No grpc-encoding (none means identity) and no grpc-accept-encoding (a
 * client that compresses anyway is served by grpc-js): each header is work for every answer.
 */
const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
} as const;

/**
 * respond()'s options. No `date` header: gRPC clients do not read it (grpc-go and grpc-java
 * servers send none), and Node makes one per response (it formats the time, and copies the
 * header object to add it). `sendDate` is Node's own option of respond (lib/internal/http2,
 * processHeaders), missing from its docs and types: were it dropped, the header comes back.
 */
const RESPOND = { waitForTrailers: true, sendDate: false } as http2.ServerStreamResponseOptions;
const RESPOND_STATUS = { endStream: true, sendDate: false } as http2.ServerStreamResponseOptions;

/** An OK status's trailers (no grpc-message: it is optional, and OK says it all). */
const OK_TRAILERS = { 'grpc-status': '0' } as const;

/** grpc-timeout's value: digits and a unit, found anywhere in the header (grpc-js's rule, to the letter). */
const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * One call on its stream: the request's one message, then the handler (its answer and status,
 * or its stream of messages). Statuses for a malformed request are grpc-js's own (its codes and
 * words).
 */
function serve(method: FastLaneMethod, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, opts: FastLaneOptions): void {
  stream.on('error', ignore);
  stream.on('close', onStreamClose);
  let deadline = Infinity;
  const timeout = headers['grpc-timeout'];
  if (timeout !== undefined) {
    const m = TIMEOUT.exec(String(timeout));
    if (!m) return sendStatus(stream, { code: grpc.status.INTERNAL, details: `Invalid grpc-timeout value "${String(timeout)}"` });
    deadline = Date.now() + Number(m[1]) * (TIMEOUT_UNIT_MS[m[2] as string] as number);
  }
  let chunks: Buffer[] = [];
  let received = 0;
  let refused = false;
  const onData = (chunk: Buffer) => {
    if (refused) return;
    received += chunk.length;
    if (received > opts.maxReceiveBytes + 5) {
      refused = true;
      chunks = [];
      sendStatus(stream, { code: grpc.status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${received - 5} vs. ${opts.maxReceiveBytes})` });
      return;
    }
    chunks.push(chunk);
  };
  stream.on('data', onData);
  stream.once('end', () => {
    // A stream stays open long after its request: none of its listeners keeps the request or
    // its headers (a closure of this function would keep all of them).
    stream.off('data', onData);
    if (refused || stream.destroyed) return;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
    chunks = [];
    const request = messageOf(body, method.path);
    if ('status' in request) return sendStatus(stream, request.status);
    let message: unknown;
    try {
      message = method.deserialize(request.bytes);
    } catch (err) {
      return sendStatus(stream, { code: grpc.status.INTERNAL, details: `Error deserializing request: ${err instanceof Error ? err.message : String(err)}` });
    }
    const call = new FastLaneCall(message, headers, stream, method.path, deadline, method.kind === 'serverStream', method.serialize);
    try {
      if (method.kind === 'unary') method.handler(call as unknown as grpc.ServerUnaryCall<unknown, unknown>, (err, value, trailer) => call.answer(err, value, trailer, method.serialize));
      else {
        fastLaneStats.streams++;
        method.handler(call as unknown as grpc.ServerWritableStream<unknown, unknown>);
      }
    } catch (err) {
      // The handler stack answers its errors itself; one that escapes it ends the call, not the process.
      call.emit('error', { code: grpc.status.INTERNAL, details: `the handler failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  });
}

/** A reset stream or a closed session: 'close' says so (the call is cancelled); nothing to answer. */
function ignore(): void {}

/** The one length-prefixed message of a unary request body, or the status grpc-js answers when there is not exactly one. */
function messageOf(body: Buffer, path: string): { bytes: Buffer } | { status: grpc.StatusObject | Partial<grpc.StatusObject> } {
  if (body.length < 5) return { status: { code: grpc.status.UNIMPLEMENTED, details: `Received no request message for server streaming method ${path}` } };
  const length = body.readUInt32BE(1);
  if (body[0] !== 0) return { status: { code: grpc.status.INTERNAL, details: body[0] === 1 ? 'Received compressed message but "grpc-encoding" header was identity' : 'Invalid message flags' } };
  if (body.length < 5 + length) return { status: { code: grpc.status.INTERNAL, details: 'the request message was cut short' } };
  if (body.length > 5 + length) return { status: { code: grpc.status.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${path}` } };
  return { bytes: body.subarray(5) };
}

/** A status as a trailers-only response (no message was sent). */
function sendStatus(stream: http2.ServerHttp2Stream, status: Partial<grpc.StatusObject>): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': String(status.code ?? grpc.status.UNKNOWN), 'grpc-message': encodeURI(status.details ?? ''), ...status.metadata?.toHttp2Headers() }, RESPOND_STATUS);
}

/** A message as a gRPC frame: flag 0, its length, its bytes. */
function framed(bytes: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + bytes.length);
  frame[0] = 0;
  frame.writeUInt32BE(bytes.length, 1);
  bytes.copy(frame, 5);
  return frame;
}

type Listener = (...args: unknown[]) => void;

/** Where a stream keeps its call (for the shared listeners below). */
const CALL = Symbol('imprint.fastLaneCall');
type StreamWithCall = http2.ServerHttp2Stream & { [CALL]?: FastLaneCall };

/**
 * A closed stream cancels its call, if one is still running, and empties its listener table.
 * Node makes a stream's table from an object literal (its Duplex constructor), and under load V8
 * pretenures that literal: the table is allocated in
 * the old generation, where a scavenge takes it as live until the next mark-compact. Whatever its
 * listeners reach is then kept through every scavenge and promoted, and Node's own 'finish'
 * listener (added when the stream's writing side shuts down, never removed) reaches the stream:
 * its headers, its call, its request. Emptied, the table keeps nothing, and a stream dies young.
 * In the fleet bench, scavenges promoted 1.2-1.7 MB/s with this against 4.8 without, the two
 * alternating every 10 s in one process. A write after the close still reports an error: it is
 * ignored, as before.
 */
function onStreamClose(this: StreamWithCall): void {
  this[CALL]?.closed();
  this.removeAllListeners();
  this.on('error', ignore);
}

function onStreamDrain(this: StreamWithCall): void {
  this[CALL]?.drained();
}

/**
 * A fast-lane call as the handler stack reads a grpc-js ServerUnaryCall or ServerWritableStream:
 * the request, the metadata it reads (authorization, the claimed app, the request id), the peer,
 * the TLS peer's certificate, the path, the deadline, metadata sent, cancellation; a stream's
 * `write` (false: wait for 'drain') and its end with a status (`emit('error', status)`, as
 * grpc-js's streams are ended by the handlers here). Listeners are kept in one small array, not
 * an EventEmitter: a Watch stream holds its call for hours, 10k of them on an instance.
 */
class FastLaneCall {
  /** The header values the metadata is made of, until it is made (or let go). */
  private said: [string, string][] | undefined;
  private md: grpc.Metadata | undefined;
  private responseMetadata: grpc.Metadata | undefined;
  cancelled = false;
  private done = false;
  private headersSent = false;
  /** Listeners, as event and function one after the other (one small array: a stream has three). */
  private listeners: (string | Listener)[] | undefined;

  constructor(
    public request: unknown,
    headers: http2.IncomingHttpHeaders,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly path: string,
    private readonly deadline: number,
    private readonly streaming: boolean,
    private readonly serialize: (m: unknown) => Buffer,
  ) {
    const pairs = metadataPairs(headers);
    if (pairs.length > 0) this.said = pairs;
    // The stream's listeners are shared functions that find the call on the stream: closures
    // (and `once`'s wrapper) would be three more objects per Watch stream. Its 'close' listener
    // is serve's, set before there is a call.
    (stream as StreamWithCall)[CALL] = this;
    if (streaming) stream.on('drain', onStreamDrain);
  }

  /** @internal The stream closed: before the status, the call is cancelled. */
  closed(): void {
    if (this.done) return;
    this.done = true;
    this.cancelled = true;
    this.tell('cancelled');
    this.tell('close');
    // The handler may still be at work (it hears 'cancelled'): it keeps the request and metadata.
    this.letGo(false);
  }

  /**
   * The call is over: the stream lets go of it, and it of its listeners (and, answered, of the
   * request and its metadata). A closed stream can live on long after its call: under load V8
   * promotes many a dead stream to the old generation (something old, dead too, still points at
   * it), and all it holds goes with it, freed by a mark-compact only. Measured in the fleet
   * bench, the old generation grew 8.1 MB/s where it grew 11.9 with the call held, and each
   * request header value held is an external string the mark-compact's pause finalizes.
   */
  private letGo(answered: boolean): void {
    const stream = this.stream as StreamWithCall;
    if (stream[CALL] === this) stream[CALL] = undefined;
    this.listeners = undefined;
    if (!answered) return;
    this.request = undefined;
    this.md = undefined;
    this.said = undefined;
    this.responseMetadata = undefined;
  }

  /** @internal The stream's buffer drained. */
  drained(): void {
    this.tell('drain');
  }

  /** The request's metadata: what the stack reads of the headers (authorization, the claimed app, the request id). */
  get metadata(): grpc.Metadata {
    if (!this.md) {
      this.md = new grpc.Metadata();
      for (const [name, value] of this.said ?? []) this.md.add(name, value);
      this.said = undefined;
    }
    return this.md;
  }

  getPeer(): string {
    const socket = this.stream.session?.socket;
    if (!socket?.remoteAddress) return 'unknown';
    return socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : socket.remoteAddress;
  }

  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: ReturnType<TLSSocket['getPeerCertificate']> } {
    const socket = this.stream.session?.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
    const cert = socket.getPeerCertificate();
    return { transportSecurityType: 'ssl', ...(cert.raw && { sslPeerCertificate: cert }) };
  }

  getPath(): string {
    return this.path;
  }

  getDeadline(): grpc.Deadline {
    return this.deadline;
  }

  /** Metadata for the response's headers; a stream sends them at once, as grpc-js does. */
  sendMetadata(md: grpc.Metadata): void {
    // The stack sends a Metadata of its own making (the request id): kept, not copied.
    if (this.responseMetadata) this.responseMetadata.merge(md);
    else this.responseMetadata = md;
    if (this.streaming) this.sendHeaders();
  }

  /** 'cancelled' and 'close' (the client went away before the status), 'drain' (a stream may write again). */
  on(event: string, f: Listener): this {
    (this.listeners ??= []).push(event, f);
    return this;
  }

  /** Only 'error' is emitted by the handlers: a stream's end with that status. */
  emit(event: string, status?: Partial<grpc.StatusObject>): boolean {
    if (event !== 'error') throw new Error(`a fast-lane call emits only 'error' (got '${event}')`);
    this.end(status ?? { code: grpc.status.UNKNOWN, details: 'Unknown Error' });
    return true;
  }

  private tell(event: string): void {
    const all = this.listeners ?? [];
    for (let i = 0; i < all.length; i += 2) if (all[i] === event) (all[i + 1] as Listener)();
  }

  /** A stream's message: false when the stream's buffer is full (wait for 'drain'). */
  write(message: unknown): boolean {
    if (!this.streaming) throw new Error('write on a unary call');
    if (this.done) return false;
    this.sendHeaders();
    // A stream lets go of its request and metadata once it writes: the handlers here read them
    // before they answer (the request log keeps its fields, RequestLogger.keepFields), and a
    // Watch holds its call for hours, 10k of them on an instance.
    this.request = undefined;
    this.md = undefined;
    this.said = undefined;
    return this.stream.write(framed(this.serialize(message)));
  }

  private sendHeaders(): void {
    if (this.headersSent || this.stream.destroyed || this.stream.closed) return;
    this.headersSent = true;
    const md = this.responseMetadata;
    // The usual metadata, the request id alone (startRequestLog), is written as it is, without
    // converting the metadata and spreading it into a copy of the headers.
    const requestId = md instanceof RequestIdMetadata ? md.onlyRequestId() : undefined;
    const headers = md === undefined ? RESPONSE_HEADERS : requestId !== undefined ? { ':status': 200, 'content-type': 'application/grpc+proto', [REQUEST_ID_METADATA_KEY]: requestId } : { ...RESPONSE_HEADERS, ...md.toHttp2Headers() };
    this.stream.respond(headers, RESPOND);
    this.responseMetadata = undefined;
  }

  /** The handler's answer: its message and OK, or its error as a status (grpc-js's serverErrorToStatus). */
  answer(err: grpc.ServerErrorResponse | Partial<grpc.StatusObject> | null, value: unknown, trailer: grpc.Metadata | undefined, serialize: (m: unknown) => Buffer): void {
    if (this.done) return;
    fastLaneStats.answered++;
    if (Date.now() > this.deadline) return this.end({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
    if (err) {
      const e = err as Partial<grpc.StatusObject> & { message?: string };
      const metadata = e.metadata ?? trailer;
      return this.end({ code: e.code ?? grpc.status.UNKNOWN, details: e.details ?? e.message ?? 'Unknown Error', ...(metadata && { metadata }) });
    }
    let frame: Buffer;
    try {
      frame = framed(serialize(value));
    } catch (e) {
      return this.end({ code: grpc.status.INTERNAL, details: `Error serializing response: ${e instanceof Error ? e.message : String(e)}` });
    }
    this.sendHeaders();
    this.stream.write(frame);
    this.end({ code: grpc.status.OK, details: 'OK', ...(trailer && { metadata: trailer }) });
  }

  /**
   * The call's status. Once headers went out (a message, or metadata the stack sent: the request
   * id), as trailers; before, a trailers-only response, as grpc-js answers.
   */
  private end(status: Partial<grpc.StatusObject>): void {
    if (this.done) return;
    this.done = true;
    const { stream } = this;
    if (stream.destroyed || stream.closed || (!this.headersSent && !this.responseMetadata)) {
      // sendStatus sends nothing on a closed stream.
      sendStatus(stream, status);
      return this.letGo(true);
    }
    // Metadata the stack sent goes out first, as headers (grpc-js sends them when sendMetadata is called).
    this.sendHeaders();
    const trailers = status.code === grpc.status.OK && !status.metadata ? OK_TRAILERS : { 'grpc-status': String(status.code ?? grpc.status.UNKNOWN), 'grpc-message': encodeURI(status.details ?? ''), ...status.metadata?.toHttp2Headers() };
    stream.once('wantTrailers', () => stream.sendTrailers(trailers));
    stream.end();
    this.letGo(true);
  }
}
