/**
 * The HTTP/1.1 transport, beside grpc/: one Fastify server on its own port (`httpPort`) that
 * serves the REST/JSON API (rest.ts) and the lent payload URLs of the embedded blob store
 * (blobs.ts), from the same service code as gRPC. With TLS it is HTTPS with the server's
 * certificate, kept current as its files change (server/tls.ts), like the metrics endpoint; on
 * a mutual-TLS server it asks for (does not require) a client certificate, which the REST
 * API's certificate authenticator reads.
 */
import http from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ServerTls } from '../tls.js';

/** Something the HTTP server serves: it adds its routes (and parsers) to the app. */
export type HttpRoutes = (app: FastifyInstance) => void | Promise<void>;

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** HTTPS with these files. @default plaintext */
  readonly tls?: ServerTls;
  /** What is served, in order. */
  readonly routes: readonly HttpRoutes[];
  /** Largest request body a route that parses it accepts (a streamed upload sets its own). @default 8 MiB, gRPC's receive limit */
  readonly bodyLimit?: number;
}

export interface HttpServerHandle {
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** The app, for tests that call a route with `inject`. */
  readonly app: FastifyInstance;
  /** Stops accepting requests and waits for running ones (up to `graceMs`, then closes their connections). */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_HTTP_BODY_LIMIT = 8 * 1024 * 1024;

export async function startHttpServer(o: HttpServerOptions): Promise<HttpServerHandle> {
  const { tls } = o;
  const app = Fastify({
    // Requests are logged by the routes through our logger, as the gRPC ones are.
    logger: false,
    bodyLimit: o.bodyLimit ?? DEFAULT_HTTP_BODY_LIMIT,
    serverFactory: (handler) => (tls ? tls.serveHttps((options) => https.createServer(options, handler), { askClientCertificates: true }) : http.createServer(handler)),
  });
  for (const routes of o.routes) await routes(app);
  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return {
    port,
    scheme: tls ? 'https' : 'http',
    app,
    async stop(graceMs = 5000) {
      const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
