/** gRPC statuses back into Imprint's typed errors, so callers branch on `code`, not on numbers. */
import * as grpc from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  DataIntegrityError,
  FailedPreconditionError,
  ImprintError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '../core/index.js';
import { retryAfterMsOf } from './retry-hint.js';

/** An INVALID_ARGUMENT answered by the server; the message names the field and the rule. */
export class RemoteInvalidArgumentError extends ImprintError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The server answered, but not as the contract says it must (a required field missing). */
export class ProtocolError extends ImprintError {
  constructor(message: string) {
    super('INTERNAL', message);
  }
}

/**
 * The server does not serve this call (UNIMPLEMENTED): usually an instance of the wrong role
 * (a publish-role one asked to poll or watch), or a server older than the call. Its code is
 * FAILED_PRECONDITION; the Subscriber tells it apart to stop asking for Watch.
 */
export class NotServedError extends FailedPreconditionError {}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'details' in err;
}

/**
 * grpc-js's details for a channel that could not connect, "No connection established. Last
 * error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: " (the note is usually
 * empty), as one clause: "no connection: connect ECONNREFUSED 127.0.0.1:1". Others pass as they are.
 */
function connectionDetails(details: string): string {
  const m = /^No connection established\. Last error: (?:\w*Error: )?(.*?)\. Resolution note: (.*)$/s.exec(details);
  if (!m) return details;
  const reasons = [m[1] === 'null' ? '' : m[1], m[2]].filter((r) => r !== undefined && r.trim() !== '');
  return `no connection${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
}

export function fromGrpcError(err: unknown, what: string): ImprintError {
  if (err instanceof ImprintError) return err;
  if (!isServiceError(err)) return new ImprintError('INTERNAL', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  const details = connectionDetails(err.details || err.message);
  let out: ImprintError;
  switch (err.code) {
    case grpc.status.INVALID_ARGUMENT:
      out = new RemoteInvalidArgumentError(details);
      break;
    case grpc.status.NOT_FOUND:
      out = new NotFoundError('', details);
      break;
    case grpc.status.ALREADY_EXISTS:
      out = new AlreadyExistsError('', details);
      break;
    case grpc.status.FAILED_PRECONDITION:
      out = new FailedPreconditionError(details);
      break;
    case grpc.status.RESOURCE_EXHAUSTED:
      // The server's retry hint (trailing metadata, else the message) travels with the typed error.
      out = new ResourceExhaustedError(details, { retryAfterMs: retryAfterMsOf(err), cause: err });
      break;
    case grpc.status.UNAUTHENTICATED:
      out = new ImprintError('UNAUTHENTICATED', `${what}: ${details}`, { cause: err });
      break;
    case grpc.status.PERMISSION_DENIED:
      out = new ImprintError('PERMISSION_DENIED', `${what}: ${details}`, { cause: err });
      break;
    case grpc.status.UNIMPLEMENTED:
      // The usual cause: a client pointed at the wrong role of the service.
      out = new NotServedError(
        `${what}: the server does not serve this call (UNIMPLEMENTED: ${details}); a consume-role instance serves only Consumer calls (polls and reads), a publish-role one everything but polls: point the address at an instance of the right role`,
      );
      break;
    case grpc.status.DATA_LOSS:
      out = new DataIntegrityError(details);
      break;
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.CANCELLED:
      out = new UnavailableError(`${what}: the Imprint service did not answer (${grpc.status[err.code]}: ${details})`, { cause: err });
      break;
    default:
      out = new ImprintError('INTERNAL', `${what}: ${grpc.status[err.code] ?? err.code}: ${details}`, { cause: err });
  }
  return out;
}
