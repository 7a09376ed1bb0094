/**
 * The client half of server-side throttling. A consume-role server that finds the calling
 * application over its concurrency share answers RESOURCE_EXHAUSTED with how long to wait,
 * in the trailing metadata `x-imprint-retry-after-ms` and in the message ("retry after N ms").
 * These helpers read that hint back, wait for it before a retry, and name the calling
 * application on every request (`x-imprint-app`) so the server counts it against the right
 * share even for calls that carry no identity.
 */
import * as grpc from '@grpc/grpc-js';
import { APP_METADATA_KEY, RETRY_AFTER_METADATA_KEY } from '../proto/metadata-keys.js';

/** Hints above this are not believed (a day): a broken server must not park a client forever. */
const MAX_BELIEVED_MS = 86_400_000;

const IN_MESSAGE = /retry after (\d{1,9}) ms/;

function parseMs(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= MAX_BELIEVED_MS ? n : undefined;
}

function isMetadata(v: unknown): v is grpc.Metadata {
  return v instanceof grpc.Metadata;
}

/**
 * The server's retry hint in milliseconds, or undefined when `err` carries none. Looks at,
 * in order: a `retryAfterMs` property (an Imprint error that carries it), the trailing
 * metadata of a grpc ServiceError, "retry after N ms" in its details or message, then the
 * same on `err.cause` (an ImprintError wrapping the ServiceError).
 */
export function retryAfterMsOf(err: unknown, depth = 0): number | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  if ('retryAfterMs' in err) {
    const own = parseMs(err.retryAfterMs);
    if (own !== undefined) return own;
  }
  if ('metadata' in err && isMetadata(err.metadata)) {
    const fromTrailer = parseMs(err.metadata.get(RETRY_AFTER_METADATA_KEY)[0]);
    if (fromTrailer !== undefined) return fromTrailer;
  }
  for (const field of ['details', 'message'] as const) {
    if (field in err) {
      const text: unknown = (err as Record<string, unknown>)[field];
      const m = typeof text === 'string' ? IN_MESSAGE.exec(text) : null;
      const fromText = parseMs(m?.[1]);
      if (fromText !== undefined) return fromText;
    }
  }
  return 'cause' in err ? retryAfterMsOf(err.cause, depth + 1) : undefined;
}

export interface RetryHintOptions {
  /** Never wait longer than this. @default 30000 */
  readonly maxMs?: number;
  /** Adds up to this fraction of the hint at random, so throttled clients do not return together. @default 0.2 */
  readonly jitter?: number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** How long to wait before retrying after `err`: the hint plus jitter, capped; undefined when there is no hint. */
export function retryDelayFromHint(err: unknown, opts: RetryHintOptions = {}): number | undefined {
  const hint = retryAfterMsOf(err);
  if (hint === undefined) return undefined;
  const jitter = opts.jitter ?? 0.2;
  const random = opts.random ?? Math.random;
  return Math.min(opts.maxMs ?? 30_000, Math.round(hint * (1 + jitter * random())));
}

/**
 * Waits out the server's hint, if `err` has one (resolves at once otherwise). Meant for
 * p-retry's `onFailedAttempt`, which p-retry awaits before its own backoff, so the next
 * attempt comes no sooner than the server asked.
 */
export function waitForRetryHint(err: unknown, opts: RetryHintOptions & { readonly signal?: AbortSignal } = {}): Promise<void> {
  const ms = retryDelayFromHint(err, opts);
  if (ms === undefined || ms <= 0 || opts.signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    opts.signal?.addEventListener('abort', done, { once: true });
  });
}

/** A client interceptor that names the calling application on every request (`x-imprint-app`). */
export function appMetadataInterceptor(app: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(APP_METADATA_KEY, app);
        next(metadata, listener);
      },
    });
}
