/**
 * An HTTP request as the gRPC handler stack reads a grpc-js call: its request object, its
 * metadata (from the headers the stack reads: authorization, x-imprint-app, x-request-id),
 * getPeer(), the connection's verified client certificate (getAuthContext, for the mTLS
 * authenticator), cancellation (the client went away), and the metadata the stack sends
 * (sendMetadata: the request id) collected for the response headers. A server-streaming
 * handler (Watch) writes its messages to `sink` and ends it with an error ('error' event).
 * So REST calls the very handlers gRPC serves (server/grpc/server.ts serviceHandlers), and
 * nothing in them knows which transport it answers.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { APP_METADATA_KEY, REQUEST_ID_METADATA_KEY } from '../../proto/metadata-keys.js';

/** The request headers a call's metadata is made of: what the handler stack reads. */
export const METADATA_HEADERS: readonly string[] = ['authorization', APP_METADATA_KEY, REQUEST_ID_METADATA_KEY];

/**
 * The request headers a call's metadata is made of (METADATA_HEADERS), as name and value pairs:
 * each value of each, but those grpc-js would refuse (not printable ASCII; so would an HTTP/2 peer).
 */
export function metadataPairs(headers: Readonly<Record<string, string | string[] | undefined>>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name of METADATA_HEADERS) {
    const v = headers[name];
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (/^[ -~]*$/.test(one)) pairs.push([name, one]);
  }
  return pairs;
}

/** Where a streaming call's messages go: `write` answers false when the caller should wait for 'drain'. */
export interface CallSink {
  write(message: unknown): boolean;
}

export class RestCall extends EventEmitter {
  readonly metadata = new grpc.Metadata();
  /** Metadata the handlers sent (sendMetadata), for the response headers. */
  readonly responseMetadata = new grpc.Metadata();
  /** True once the client went away before the answer (grpc-js: `call.cancelled`). */
  cancelled = false;

  constructor(
    readonly request: unknown,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    /** The connection the request came in on: the mTLS principal is kept per connection. */
    readonly socket: Socket,
    /** gRPC's path of the method called (`/imprint.v1.PublisherService/Publish`), as getPath() answers. */
    private readonly path: string,
    private readonly sink?: CallSink,
  ) {
    super();
    for (const [name, value] of metadataPairs(headers)) this.metadata.add(name, value);
  }

  /** The caller's address as grpc-js names a call's peer ("address:port"). */
  getPeer(): string {
    return `${this.socket.remoteAddress ?? ''}:${this.socket.remotePort ?? ''}`;
  }

  /** What grpc-js's getAuthContext tells of the connection: the verified client certificate over mTLS. */
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate } {
    if (!(this.socket instanceof TLSSocket)) return {};
    const cert = this.socket.authorized ? this.socket.getPeerCertificate() : undefined;
    return { transportSecurityType: 'ssl', ...(cert && Object.keys(cert).length > 0 && { sslPeerCertificate: cert }) };
  }

  sendMetadata(md: grpc.Metadata): void {
    this.responseMetadata.merge(md);
  }

  getDeadline(): grpc.Deadline {
    return Infinity;
  }

  getPath(): string {
    return this.path;
  }

  /** A streaming handler's message. */
  write(message: unknown): boolean {
    if (!this.sink) throw new Error('write on a unary call');
    return this.sink.write(message);
  }

  /** The client went away: what grpc-js tells a handler ('cancelled'), once. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled');
    this.emit('close');
  }
}
