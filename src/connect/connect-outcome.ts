/**
 * The fixed error codes a connect flow can end with. They are all the
 * return URL ever receives: provider text is never reflected.
 */
export type ConnectErrorCode =
  | 'invalid_state'
  | 'flow_cookie_mismatch'
  | 'integration_mismatch'
  | 'access_denied'
  | 'provider_error'
  | 'token_exchange_failed'
  | 'insufficient_scope'
  | 'account_lookup_failed'
  | 'account_mismatch'
  | 'connection_revoked'
  | 'api_host_not_allowed'
  | 'internal_error';

export interface ConnectOutcome {
  connectionId?: string;
  /** requireFinalize: the grant waits for POST /v1/connect-sessions/:id/finalize with this token. */
  finalize?: { sessionId: string; token: string };
  error?: ConnectErrorCode;
  /** Where to send the browser; absent means the popup result page. */
  returnTo?: string;
}
