import type { ErrorCode, ErrorKind } from './error-codes.js';

export type { ErrorKind } from './error-codes.js';

/** A failure with a stable snake_case code (from ERROR_CODES) that callers can branch on. */
export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super('validation', code, message);
  }
}

export class AuthenticationError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super('unauthenticated', code, message);
  }
}

export class PermissionError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super('forbidden', code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super('not_found', code, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super('conflict', code, message);
  }
}

export class GoneError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super('gone', code, message);
  }
}

/** Too many requests of one kind; `retryAfterSeconds` becomes a Retry-After header. */
export class RateLimitedError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', code, message);
  }
}

/**
 * The third-party API failed or answered something we cannot use. The
 * provider's own status and error code stay internal (logs, decisions) and
 * never reach our callers verbatim.
 */
export class ProviderError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly detail: {
      providerStatus?: number;
      providerError?: string;
      /** Transient failures (5xx, 429, timeouts) may succeed when retried. */
      transient: boolean;
      retryAfterSeconds?: number;
    },
    options?: { cause?: unknown },
  ) {
    super(detail.transient ? 'unavailable' : 'provider', code, message, options);
  }
}

/** One of our own dependencies (database, Redis) is down or failed; worth retrying. */
export class UnavailableError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super('unavailable', code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds?: number;
}

/** Seconds a caller should wait before retrying, when the error says so. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof RateLimitedError || error instanceof UnavailableError)
    return error.retryAfterSeconds;
  if (error instanceof ProviderError && error.detail.transient)
    return error.detail.retryAfterSeconds;
  return undefined;
}
