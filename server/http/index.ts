/** The HTTP transport's public surface. */
export { startHttpServer, DEFAULT_HTTP_BODY_LIMIT, type HttpRoutes, type HttpServerHandle, type HttpServerOptions } from './server.js';
