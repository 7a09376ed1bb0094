/**
 * Calling the REST/JSON API from tests and benches: a POST of a JSON body and its answer, and
 * a JSON answer read back into the object grpc-js would have handed a client (so the client's
 * own converters, proto/convert.ts, turn it into records exactly as over gRPC).
 */
import http from 'node:http';
import https from 'node:https';
import { LOADER_OPTIONS, wireType } from '../proto/loader.js';

export interface RestAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it is not JSON). */
  readonly json: unknown;
  readonly text: string;
}

export interface RestCallOptions {
  readonly headers?: Record<string, string>;
  /** For https: the CA, and a client certificate for mTLS. */
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  /** A kept-alive agent (benches). */
  readonly agent?: http.Agent;
}

/** POSTs `body` (JSON; a string as is) to `base` + `path`. */
export function restPost(base: string, path: string, body?: unknown, o: RestCallOptions = {}): Promise<RestAnswer> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers = { ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }), ...o.headers };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: 'POST', headers, ...(o.agent && { agent: o.agent }), ...(o.ca && { ca: o.ca }), ...(o.cert && { cert: o.cert }), ...(o.key && { key: o.key }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A JSON message (proto3 JSON mapping) as the object grpc-js hands a client for `typeName` (`imprint.v1.PollResponse`). */
export function fromRestJson<T>(typeName: string, json: unknown): T {
  const t = wireType(typeName);
  return t.toObject(t.fromObject(json as Record<string, unknown>), LOADER_OPTIONS) as T;
}

/** An error answer's body. */
export function restErrorOf(a: RestAnswer): { code: string; message: string; field?: string } {
  return a.json as { code: string; message: string; field?: string };
}
