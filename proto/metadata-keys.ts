/**
 * gRPC metadata keys that are part of the contract but not of the messages: the server and
 * the client both import them from here, so neither spells them alone.
 */

/** Request metadata: the calling application, for per-application concurrency limits (fallback: identity.app). */
export const APP_METADATA_KEY = 'x-imprint-app';

/** Trailing metadata of a RESOURCE_EXHAUSTED answer: how long to wait before retrying, in whole milliseconds. */
export const RETRY_AFTER_METADATA_KEY = 'x-imprint-retry-after-ms';
