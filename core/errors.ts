/**
 * Imprint's errors: each has a code a caller can branch on and a message a person can act
 * on. The server maps codes to gRPC status codes in one place (server/grpc/errors.ts) and the
 * client maps them back.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'DATA_INTEGRITY'
  | 'INTERNAL';

export class ImprintError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input: names the field and the rule it broke. */
export class InvalidArgumentError extends ImprintError {
  readonly field: string;
  readonly rule: string;
  constructor(field: string, rule: string, got?: unknown) {
    super('INVALID_ARGUMENT', `${field} ${rule}${got === undefined ? '' : ` (got ${describe(got)})`}`);
    this.field = field;
    this.rule = rule;
  }
}

/** `what` names the missing thing; `message` replaces the whole text (errors relayed from the server). */
export class NotFoundError extends ImprintError {
  constructor(what: string, message = `${what} does not exist`) {
    super('NOT_FOUND', message);
  }
}

export class AlreadyExistsError extends ImprintError {
  constructor(what: string, message = `${what} already exists`) {
    super('ALREADY_EXISTS', message);
  }
}

/**
 * A publish id the topic has already recorded, sent with other content: nothing was written.
 * A retry must send the same publish; a new publish needs a new id.
 */
export class PublishIdConflictError extends AlreadyExistsError {
  constructor(topic: string, publishId: string, version: bigint, differs: string) {
    super(
      '',
      `publish_id ${JSON.stringify(publishId)} already made version ${version} of topic "${topic}", with other ${differs}; nothing was published (a retry must send the same publish; a new publish needs a new publish_id)`,
    );
  }
}

export class FailedPreconditionError extends ImprintError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}

/** A change to a topic that was deleted (DeleteTopic): nothing is written. */
export class TopicDeletedError extends FailedPreconditionError {
  constructor(topic: string, deletedAtMs: number, action: string) {
    super(`cannot ${action}: topic "${topic}" was deleted at ${new Date(deletedAtMs).toISOString()}`);
  }
}

/**
 * A publish to a topic that requires signatures, unsigned or not signed by one of its trusted
 * keys (core/signing.ts says why): nothing is written. `reason` is the metrics' label.
 */
export class SignatureRejectedError extends FailedPreconditionError {
  readonly field: string;
  readonly rule: string;
  readonly reason: 'missing' | 'untrusted-key' | 'bad-signature';
  constructor(problem: { readonly reason: 'missing' | 'untrusted-key' | 'bad-signature'; readonly field: string; readonly rule: string }) {
    super(`${problem.field} ${problem.rule}`);
    this.field = problem.field;
    this.rule = problem.rule;
    this.reason = problem.reason;
  }
}

export class UnavailableError extends ImprintError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/**
 * The caller is over a limit (on a consume-role server: its application's concurrency share).
 * `retryAfterMs` is the server's hint, when it gave one: wait at least this long before retrying.
 */
export class ResourceExhaustedError extends ImprintError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { retryAfterMs?: number | undefined; cause?: unknown } = {}) {
    super('RESOURCE_EXHAUSTED', message, 'cause' in options ? { cause: options.cause } : undefined);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The caller presented no credentials, or ones that do not verify; `reason` says which (expired,
 * wrong audience, unknown issuer, untrusted CA, ...) in words, `kind` in one word a metric can
 * count by (server/auth AUTH_FAILURE_REASONS: "expired", "wrong_audience", ...; "other" when not given).
 */
export class UnauthenticatedError extends ImprintError {
  readonly reason: string;
  readonly kind: string;
  constructor(reason: string, options?: { cause?: unknown; kind?: string }) {
    super('UNAUTHENTICATED', `unauthenticated: ${reason}`, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.reason = reason;
    this.kind = options?.kind ?? 'other';
  }
}

/**
 * The caller is who it says, but may not do this: names the principal, the action and the
 * topic (empty for actions on no one topic). Nothing was changed.
 */
export class PermissionDeniedError extends ImprintError {
  readonly principal: string;
  readonly action: string;
  readonly topic: string;
  constructor(principal: string, action: string, topic: string, why?: string) {
    super('PERMISSION_DENIED', `permission denied: ${JSON.stringify(principal)} may not ${action}${topic ? ` on topic "${topic}"` : ''}${why ? ` (${why})` : ''}`);
    this.principal = principal;
    this.action = action;
    this.topic = topic;
  }
}

/** A record or payload whose digest, size or sha256 does not match. */
export class DataIntegrityError extends ImprintError {
  constructor(message: string) {
    super('DATA_INTEGRITY', message);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  return JSON.stringify(v) ?? String(v);
}
