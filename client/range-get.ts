/**
 * Ranged HTTP/1.1 GETs whose body bytes the socket reads straight into the caller's buffer.
 *
 * node:http hands a body over as 64 KiB chunks, each a new Buffer the reader then copies to
 * its place; for a large payload that allocation and copy cost as much CPU as the transfer
 * (measured on a 512 MiB body from a local node:http server: 658 MiB/s and 0.83 CPU s with
 * http.get and a copy, 1020 MiB/s and 0.49 CPU s read into one buffer). Here the socket is
 * opened with `onread` and a buffer FUNCTION, asked before every read, so that:
 *  1. the request line and headers go out (GET, Host, Range, keep-alive);
 *  2. the reads land in a small head buffer until the status line and headers are in; they
 *     are checked (a 2xx needs a Content-Length and no Transfer-Encoding; a 206 a Content-Range
 *     that starts at the offset asked and spans the Content-Length), and the body's first
 *     bytes that came with them are moved to the start of the destination;
 *  3. every further read lands at the next offset of the destination itself, at most the bytes
 *     still due (so a socket never reads past its response), and `onBytes` is told at once;
 *  4. once the body is whole the socket goes back to a pool of its origin (unref'd, closed
 *     after `keepAliveMs` idle or when it says a byte while idle); a response that said
 *     `Connection: close` or was not read whole closes it instead.
 * A request on a pooled socket that fails before any byte of the answer (the server closed it
 * while it sat idle) is sent again, once, on a new socket. A body longer than the destination
 * is not read (the answer says how long it is, and the caller decides what that means); an
 * error status's body is read for its first 500 characters, for the message.
 *
 * TLS (https:) decrypts into the same buffers (tls.connect takes the same `onread`), trusting
 * Node's default CAs (and NODE_EXTRA_CA_CERTS) as node:https does. Neither this nor the S3
 * SDK's handler nor node:https uses HTTP(S)_PROXY.
 */
import net from 'node:net';
import tls from 'node:tls';
import { InvalidArgumentError, UnavailableError } from '../core/index.js';
import type { ByteRange } from './blob-store/blob-store.js';

/** The status line and headers must fit in this. */
const HEAD_MAX = 64 * 1024;
/** Characters of an error status's body kept for the message. */
const TEXT_MAX = 500;

export interface RangeGetOptions {
  /** How long connecting (and the TLS handshake) may take (ms). @default 5000 */
  readonly connectTimeoutMs?: number;
  /** How long a request's socket may stay silent before the read fails (ms). @default 30000 */
  readonly idleTimeoutMs?: number;
  /** How long a socket is kept for the next request of its origin (ms; 0: not kept). @default 4000 */
  readonly keepAliveMs?: number;
  /** PEM CA certificates that https: servers are checked against, instead of Node's. @default Node's CAs (and NODE_EXTRA_CA_CERTS) */
  readonly ca?: string;
}

function withDefaults(o: RangeGetOptions): Required<Omit<RangeGetOptions, 'ca'>> & Pick<RangeGetOptions, 'ca'> {
  const ms = (field: keyof RangeGetOptions, v: number, min: number): number => {
    if (!Number.isSafeInteger(v) || v < min || v > 600_000) throw new InvalidArgumentError(field, `must be a whole number of milliseconds from ${min} to 600000`, v);
    return v;
  };
  return {
    connectTimeoutMs: ms('connectTimeoutMs', o.connectTimeoutMs ?? 5_000, 1),
    idleTimeoutMs: ms('idleTimeoutMs', o.idleTimeoutMs ?? 30_000, 1),
    keepAliveMs: ms('keepAliveMs', o.keepAliveMs ?? 4_000, 0),
    ...(o.ca !== undefined && { ca: o.ca }),
  };
}

export interface RangeGetRequest {
  /** An http: or https: URL (a presigned one carries its signature in the query). */
  readonly url: URL;
  readonly range: ByteRange;
  /** Where the body goes, from its start. */
  readonly dest: Buffer;
  readonly signal?: AbortSignal;
  /** Told of every read's bytes as they land (in dest, in order). */
  readonly onBytes?: (n: number) => void;
}

/**
 * What a GET answered:
 *  - `body`: a 2xx; `length` is its Content-Length. Those bytes are in `dest` when they fit;
 *    a longer body is not read (nothing lands);
 *  - `refused`: any other status, with up to 500 characters of its body.
 */
export type RangeGetAnswer = { readonly kind: 'body'; readonly length: number } | { readonly kind: 'refused'; readonly status: number; readonly text: string };

/** The server broke HTTP (a malformed or unexpected answer) or the connection failed: the origin cannot serve the read. */
export class RangeGetError extends UnavailableError {
  /** Whether any byte of the answer had arrived (a pooled socket that failed before one is retried). */
  readonly answered: boolean;
  constructor(message: string, answered: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.answered = answered;
  }
}

/** One request in flight on a socket. */
interface Exchange {
  readonly req: RangeGetRequest;
  /** Bytes of the answer received so far (head and body). */
  received: number;
  /** Set once the head is parsed. */
  head?: { readonly status: number; readonly length: number | undefined; readonly close: boolean };
  /** Body bytes in dest (2xx) or of the error text (other statuses). */
  got: number;
  text: string;
  finish(err: Error | undefined, answer?: RangeGetAnswer): void;
}

interface Conn {
  readonly origin: string;
  readonly socket: net.Socket;
  /** The head buffer, then the idle buffer (bytes read into it while idle close the socket). */
  readonly scratch: Buffer;
  headLen: number;
  ex: Exchange | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

function parseHead(text: string): { status: number; headers: Map<string, string> } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(m[1]), headers };
}

/** Why an aborted read stopped: the signal's reason when it is an Error, else an AbortError. */
function abortReason(signal: AbortSignal | undefined): Error {
  if (signal?.reason instanceof Error) return signal.reason;
  return Object.assign(new Error('the operation was aborted', { cause: signal?.reason }), { name: 'AbortError' });
}

/** Ranged GETs into the caller's buffers, over a pool of keep-alive sockets per origin (see the top of this file). */
export class RangeGetter {
  private readonly o: ReturnType<typeof withDefaults>;
  private readonly idle = new Map<string, Conn[]>();
  private readonly open = new Set<Conn>();
  /** Sockets opened so far (tests count keep-alive reuse with it). */
  connections = 0;

  constructor(opts: RangeGetOptions = {}) {
    this.o = withDefaults(opts);
  }

  /** Sockets open now: in use and idle. */
  get openSockets(): number {
    return this.open.size;
  }

  /**
   * GETs `req.range` of `req.url` into `req.dest` (see RangeGetAnswer).
   * @throws RangeGetError when the origin cannot be reached, the connection fails or the answer is not valid HTTP for the range asked; the signal's reason on abort.
   */
  async get(req: RangeGetRequest): Promise<RangeGetAnswer> {
    req.signal?.throwIfAborted();
    if (req.url.protocol !== 'http:' && req.url.protocol !== 'https:') throw new InvalidArgumentError('url', 'must be an http: or https: URL', req.url.href);
    const pooled = this.take(req.url);
    if (pooled) {
      try {
        return await this.exchange(pooled, req);
      } catch (err) {
        // The server closed the idle socket as we sent on it: once more on a new one.
        if (!(err instanceof RangeGetError) || err.answered || req.signal?.aborted) throw err;
      }
    }
    return this.exchange(await this.connect(req.url, req.signal), req);
  }

  /** Closes every socket; reads in flight fail. */
  close(): void {
    for (const c of this.open) c.socket.destroy();
    this.open.clear();
    this.idle.clear();
  }

  private take(url: URL): Conn | undefined {
    const list = this.idle.get(url.origin);
    const c = list?.pop();
    if (!c) return undefined;
    clearTimeout(c.idleTimer);
    c.socket.ref();
    return c;
  }

  private release(c: Conn): void {
    if (this.o.keepAliveMs === 0 || c.socket.destroyed) return void c.socket.destroy();
    c.socket.setTimeout(0);
    c.socket.unref();
    c.idleTimer = setTimeout(() => c.socket.destroy(), this.o.keepAliveMs).unref();
    const list = this.idle.get(c.origin) ?? [];
    list.push(c);
    this.idle.set(c.origin, list);
  }

  private forget(c: Conn): void {
    clearTimeout(c.idleTimer);
    this.open.delete(c);
    const list = this.idle.get(c.origin);
    const at = list?.indexOf(c) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
  }

  /** A new socket to `url`'s origin, connected (and through its TLS handshake). */
  private connect(url: URL, signal: AbortSignal | undefined): Promise<Conn> {
    const scratch = Buffer.allocUnsafe(HEAD_MAX);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    // The read callbacks need the Conn, which needs the socket they are given to (and Node asks for a first buffer while connecting).
    let conn: Conn | undefined;
    const onread: net.OnReadOpts = { buffer: () => (conn ? this.bufferFor(conn) : scratch), callback: (n) => (conn ? this.onRead(conn, n) : false) };
    // tls.connect takes `onread` as net.connect does (Node's docs); @types/node does not list it.
    const tlsOptions: tls.ConnectionOptions & { onread: net.OnReadOpts } = { host, port, onread, ...(net.isIP(host) === 0 && { servername: host }), ...(this.o.ca !== undefined && { ca: this.o.ca }) };
    const socket = url.protocol === 'https:' ? tls.connect(tlsOptions) : net.connect({ host, port, onread });
    this.connections++;
    const c: Conn = { origin: url.origin, socket, scratch, headLen: 0, ex: undefined, idleTimer: undefined };
    conn = c;
    this.open.add(c);
    socket.setNoDelay(true);
    socket.on('close', () => {
      this.forget(c);
      // An error status's body may end with the connection.
      if (c.ex?.head && !(c.ex.head.status >= 200 && c.ex.head.status < 300)) c.ex.finish(undefined, this.refused(c.ex));
      c.ex?.finish(new RangeGetError(`${url.origin} closed the connection${c.ex.head ? ` after ${c.ex.got} of ${c.ex.head.length ?? '?'} body bytes` : ' before answering'}`, c.ex.received > 0));
    });
    socket.on('error', (err) => {
      this.forget(c);
      c.ex?.finish(new RangeGetError(`${url.origin}: ${err.message}`, c.ex.received > 0, err));
    });
    socket.on('end', () => socket.destroy());
    return new Promise<Conn>((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(abortReason(signal));
      const timer = setTimeout(() => fail(new RangeGetError(`${url.origin} did not accept a connection within ${this.o.connectTimeoutMs} ms`, false)), this.o.connectTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err) => fail(new RangeGetError(`${url.origin} cannot be reached: ${err.message}`, false, err)));
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(c);
      });
    });
  }

  /** 1-4 of the top of this file, for one request on `c`. */
  private exchange(c: Conn, req: RangeGetRequest): Promise<RangeGetAnswer> {
    const { url, range, signal } = req;
    return new Promise<RangeGetAnswer>((resolve, reject) => {
      let settled = false;
      const ex: Exchange = {
        req,
        received: 0,
        got: 0,
        text: '',
        finish: (err, answer) => {
          if (settled) return;
          settled = true;
          c.ex = undefined;
          signal?.removeEventListener('abort', onAbort);
          c.socket.removeListener('timeout', onTimeout);
          // 4. Whole and keep-alive: back to the pool; anything else: closed.
          if (err || !answer || answer.kind !== 'body' || ex.head?.close || ex.got !== answer.length) c.socket.destroy();
          else this.release(c);
          if (err) reject(err);
          else resolve(answer as RangeGetAnswer);
        },
      };
      const onAbort = (): void => ex.finish(abortReason(signal));
      const onTimeout = (): void => ex.finish(new RangeGetError(`${url.origin} was silent for ${this.o.idleTimeoutMs} ms`, ex.received > 0));
      signal?.addEventListener('abort', onAbort, { once: true });
      c.socket.setTimeout(this.o.idleTimeoutMs);
      c.socket.on('timeout', onTimeout);
      c.ex = ex;
      c.headLen = 0;
      // 1.
      c.socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nRange: bytes=${range.offset}-${range.offset + range.length - 1}\r\nConnection: keep-alive\r\n\r\n`);
    });
  }

  /** Where the socket's next read goes: the head buffer, the destination at its next offset, or the scratch buffer. */
  private bufferFor(c: Conn): Buffer {
    const ex = c.ex;
    if (!ex) return c.scratch;
    if (!ex.head) return c.scratch.subarray(c.headLen);
    const { length } = ex.head;
    if (ex.head.status >= 200 && ex.head.status < 300 && length !== undefined) return ex.req.dest.subarray(ex.got, length);
    return c.scratch;
  }

  /** Every read's `n` bytes, where bufferFor put them; true: keep reading. */
  private onRead(c: Conn, n: number): boolean {
    const ex = c.ex;
    if (!ex) {
      // A byte on an idle socket: the server broke the exchange (or says goodbye); not reused.
      c.socket.destroy();
      return false;
    }
    ex.received += n;
    if (!ex.head) {
      c.headLen += n;
      this.parse(c, ex);
    } else this.body(ex, n, c.scratch);
    return true;
  }

  /** 2. The head, once it is all in; the body bytes that came with it moved to their place. */
  private parse(c: Conn, ex: Exchange): void {
    const end = c.scratch.subarray(0, c.headLen).indexOf('\r\n\r\n');
    const origin = ex.req.url.origin;
    if (end < 0) {
      if (c.headLen === HEAD_MAX) ex.finish(new RangeGetError(`${origin} answered a head longer than ${HEAD_MAX} bytes`, true));
      return;
    }
    const parsed = parseHead(c.scratch.toString('latin1', 0, end));
    if (!parsed) return ex.finish(new RangeGetError(`${origin} answered something that is not HTTP/1.1: ${JSON.stringify(c.scratch.toString('latin1', 0, Math.min(end, 80)))}`, true));
    const { status, headers } = parsed;
    const cl = headers.get('content-length');
    const length = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
    const close = (headers.get('connection') ?? '').toLowerCase().includes('close');
    if (status >= 200 && status < 300) {
      const bad = this.badBody(status, headers, length, ex.req.range);
      if (bad) return ex.finish(new RangeGetError(`${origin} answered GET bytes=${ex.req.range.offset}-${ex.req.range.offset + ex.req.range.length - 1} with ${bad}`, true));
    }
    ex.head = { status, length, close };
    const first = c.scratch.subarray(end + 4, c.headLen);
    if (status >= 200 && status < 300 && length !== undefined) {
      // Longer than the destination: not read; the caller is told its length.
      if (length > ex.req.dest.length) return ex.finish(undefined, { kind: 'body', length });
      if (first.length > length) return ex.finish(new RangeGetError(`${origin} sent more than the ${length} bytes of its Content-Length`, true));
      first.copy(ex.req.dest, 0);
    }
    this.body(ex, first.length, first);
  }

  /** Why a 2xx head cannot be read as the range asked, or undefined. */
  private badBody(status: number, headers: Map<string, string>, length: number | undefined, range: ByteRange): string | undefined {
    if (headers.has('transfer-encoding')) return `a Transfer-Encoding (${headers.get('transfer-encoding')}) body; a Content-Length is needed`;
    if (length === undefined) return `no Content-Length (${JSON.stringify(headers.get('content-length') ?? null)})`;
    if (status === 206) {
      const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(headers.get('content-range') ?? '');
      if (!cr || Number(cr[1]) !== range.offset || Number(cr[2]) - Number(cr[1]) + 1 !== length || length > range.length) {
        return `Content-Range ${JSON.stringify(headers.get('content-range') ?? null)} for ${length} bytes`;
      }
      return undefined;
    }
    // A server that ignored the Range: its whole object is the range only from 0, and when it fits.
    if (status === 200 && range.offset === 0 && length <= range.length) return undefined;
    return `status ${status} and ${length} bytes`;
  }

  /** 3. `n` more body bytes (already in dest for a 2xx; in `bytes` for an error's text). */
  private body(ex: Exchange, n: number, bytes: Buffer): void {
    const head = ex.head;
    if (!head) return;
    if (head.status >= 200 && head.status < 300 && head.length !== undefined) {
      ex.got += n;
      if (n > 0) ex.req.onBytes?.(n);
      if (ex.got >= head.length) ex.finish(undefined, { kind: 'body', length: head.length });
      return;
    }
    ex.got += n;
    if (ex.text.length < TEXT_MAX) ex.text += bytes.toString('utf8', 0, n);
    // Enough for the message, the whole body, or (no length) what came first.
    if (ex.text.length >= TEXT_MAX || (head.length === undefined ? n > 0 : ex.got >= head.length)) ex.finish(undefined, this.refused(ex));
  }

  private refused(ex: Exchange): RangeGetAnswer {
    return { kind: 'refused', status: ex.head?.status ?? 0, text: ex.text.slice(0, TEXT_MAX) };
  }
}

/** The getter lent URLs are read with (one pool for the process, as node:http's global agent). */
export const sharedRangeGetter = new RangeGetter();
