import { UnavailableError } from '../common/errors/app-error.js';

/**
 * No refresh is attempted for now, by design: the integration's client is
 * rejected by the provider (`integration_client_rejected`), or this
 * connection's last refresh failed in a way that retrying at once would
 * repeat (`refresh_failing`). Retryable after `retryAfterSeconds`; never a
 * reason to mark the connection `needs_reauth`.
 */
export class RefreshHeldError extends UnavailableError {
  constructor(
    code: 'integration_client_rejected' | 'refresh_failing',
    message: string,
    retryAfterSeconds: number,
  ) {
    super(code, message, { retryAfterSeconds: Math.max(1, retryAfterSeconds) });
  }
}
