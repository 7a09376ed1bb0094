/**
 * gRPC metadata keys that are part of the contract but not of the messages: the server and
 * the client both import them from here, so neither spells them alone.
 */

/** Request metadata: the calling application, for per-application concurrency limits (fallback: identity.app). */
export const APP_METADATA_KEY = 'x-imprint-app';

/** Trailing metadata of a RESOURCE_EXHAUSTED answer: how long to wait before retrying, in whole milliseconds. */
export const RETRY_AFTER_METADATA_KEY = 'x-imprint-retry-after-ms';

/**
 * Request and response metadata: the request's id, in every log line the server writes while
 * handling it. A caller may send its own (1-128 of A-Z a-z 0-9 . _ : -); the server answers
 * with the id it used, the caller's or one it made, in the response's initial metadata.
 */
export const REQUEST_ID_METADATA_KEY = 'x-request-id';

/**
 * Trailing metadata of an INVALID_ARGUMENT answer whose error names a field: that field, as
 * the message names it (proto field names, with paths: `pointer.sha256`, `cursors[2].last_seen`).
 * The REST API answers it as the error body's `field`.
 */
export const FIELD_METADATA_KEY = 'x-imprint-field';
