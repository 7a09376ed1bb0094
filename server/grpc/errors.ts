/** The one place where Imprint errors become gRPC statuses. */
import * as grpc from '@grpc/grpc-js';
import { ImprintError, type ErrorCode } from '../../core/index.js';
import type { Logger } from '../log.js';

export const STATUS_OF: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DATA_INTEGRITY: grpc.status.DATA_LOSS,
  INTERNAL: grpc.status.INTERNAL,
};

/** An Imprint error keeps its message; anything else is logged and answered INTERNAL without internals. */
export function toServiceError(err: unknown, method: string, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof ImprintError) {
    return { code: STATUS_OF[err.code], details: err.message };
  }
  log.error('internal error', { method, err, stack: err instanceof Error ? err.stack : undefined });
  return { code: grpc.status.INTERNAL, details: `internal error in ${method}; see the server log` };
}
