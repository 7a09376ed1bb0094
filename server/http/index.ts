/** The HTTP transport's public surface. */
export { startHttpServer, DEFAULT_HTTP_BODY_LIMIT, type HttpRoutes, type HttpServerHandle, type HttpServerOptions } from './server.js';
export { restRoutes, errorAnswer, HTTP_STATUS, ROUTE_RULE, type RestError } from './rest.js';
export { restMethods, restServiceName, type RestMethod } from './contract.js';
export { openApiDocument } from './openapi.js';
