/** The one place where Imprint errors become gRPC statuses. */
import * as grpc from '@grpc/grpc-js';
import { ImprintError, InvalidArgumentError, ResourceExhaustedError, type ErrorCode } from '../../core/index.js';
import { FIELD_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../../proto/metadata-keys.js';
import type { Logger } from '../../log/index.js';

export const STATUS_OF: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DATA_INTEGRITY: grpc.status.DATA_LOSS,
  INTERNAL: grpc.status.INTERNAL,
};

/**
 * An Imprint error keeps its message (a retry hint goes in the trailing metadata too, and so
 * does the field a bad argument names); anything
 * else is logged and answered INTERNAL without internals.
 */
export function toServiceError(err: unknown, method: string, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof ResourceExhaustedError && err.retryAfterMs !== undefined) {
    // How long to wait, in the trailing metadata as the limiter sends it (throttle.ts).
    const metadata = new grpc.Metadata();
    metadata.set(RETRY_AFTER_METADATA_KEY, String(err.retryAfterMs));
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message, metadata };
  }
  // A field name a caller made up (a map key) may hold what metadata cannot carry: then the message alone names it.
  if (err instanceof InvalidArgumentError && /^[ -~]{1,512}$/.test(err.field)) {
    const metadata = new grpc.Metadata();
    metadata.set(FIELD_METADATA_KEY, err.field);
    return { code: grpc.status.INVALID_ARGUMENT, details: err.message, metadata };
  }
  if (err instanceof ImprintError) {
    return { code: STATUS_OF[err.code], details: err.message };
  }
  log.error('internal error', { method, err });
  return { code: grpc.status.INTERNAL, details: `internal error in ${method}; see the server log` };
}
