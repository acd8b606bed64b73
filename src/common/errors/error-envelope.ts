import type { ErrorCode } from './error-codes.js';

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; requestId: string };
}

export function errorEnvelope(code: ErrorCode, message: string, requestId: string): ErrorEnvelope {
  return { error: { code, message, requestId } };
}
