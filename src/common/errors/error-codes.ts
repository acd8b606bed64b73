/**
 * The categories of failure the service distinguishes. The global exception
 * filter owns the only mapping from a kind to an HTTP status; services throw
 * these and never an HttpException.
 */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'rate_limited'
  | 'provider'
  | 'gateway_timeout'
  | 'unavailable';

/**
 * Every error code the HTTP API answers with, its kind (the exception filter
 * maps kinds to statuses) and what it means. Errors are constructed with a
 * code from here (`ErrorCode`), so a new code is a line in this file, and the
 * README and OpenAPI can list them all.
 */
export const ERROR_CODES = {
  // Requests
  invalid_request: ['validation', 'The body or query does not match the schema'],
  unknown_field: ['validation', 'The body or query has a field the route does not take'],
  invalid_cursor: ['validation', 'The pagination cursor is not one this API issued'],
  invalid_json: ['validation', 'The request body is not valid JSON'],
  bad_request: ['validation', 'The request could not be read'],
  bad_request_url: ['validation', 'The request URL or its headers cannot be parsed'],
  headers_too_large: ['validation', 'The request headers are too large (431)'],
  payload_too_large: ['validation', 'The request body is too large (413)'],
  unsupported_media_type: ['validation', 'The body is not application/json (415)'],
  route_not_found: ['not_found', 'No such route'],
  asset_not_found: ['not_found', 'No such documentation asset'],
  // Service keys and access
  missing_service_key: ['unauthenticated', 'No Authorization: Bearer <service key>'],
  invalid_service_key: ['unauthenticated', 'Not an active service key'],
  too_many_failed_attempts: [
    'rate_limited',
    'Too many invalid service keys from this address; see Retry-After',
  ],
  metrics_token_required: ['unauthenticated', 'METRICS_TOKEN is set: send it as a bearer token'],
  admin_login_required: ['unauthenticated', 'The queue dashboard needs a manage key or a session'],
  action_not_granted: ['forbidden', 'The key lacks the action the route needs'],
  tenant_not_granted: ['forbidden', 'The key is not granted this tenant'],
  integration_not_granted: ['forbidden', 'The key is not granted this integration'],
  route_not_guarded: ['forbidden', 'A route without an access rule (fails closed)'],
  // Connect
  integration_not_found: ['not_found', 'No integration with this key is configured'],
  connect_session_not_found: ['not_found', 'No such connect session (or not yours)'],
  connect_session_expired: ['gone', 'The connect session expired'],
  connect_session_used: ['conflict', 'The connect link was already used'],
  end_user_required: ['validation', 'A requireFinalize integration needs the endUserId'],
  return_url_not_allowed: ['validation', 'returnTo does not match ALLOWED_RETURN_URLS'],
  reconnect_target_mismatch: [
    'validation',
    'The connectionId to reconnect belongs to another tenant or integration',
  ],
  invalid_state: ['validation', 'The callback state is unknown, used or expired'],
  finalize_token_invalid: ['forbidden', 'The finalize token does not match'],
  end_user_mismatch: ['forbidden', 'Finalize by another end user: the grant is discarded'],
  nothing_to_finalize: ['conflict', 'The session has no parked grant (finalized meanwhile)'],
  finalize_expired: ['gone', 'The parked grant expired and was revoked'],
  // Connections and tokens
  connection_not_found: ['not_found', 'No such connection (or another tenant’s)'],
  connection_revoked: ['not_found', 'The connection was disconnected'],
  connection_pending: ['conflict', 'The connection waits for finalize'],
  connection_not_active: ['conflict', 'The connection is not active'],
  needs_reauth: ['conflict', 'The provider refused the grant: the user must reconnect'],
  integration_not_configured: ['conflict', 'The connection’s integration is no longer configured'],
  refresh_cooldown: ['rate_limited', 'A forced refresh of this connection is cooling down'],
  refresh_in_progress: ['unavailable', 'Another replica is refreshing; retry shortly'],
  refresh_failing: ['unavailable', 'Refreshes of this connection fail; it cools down'],
  integration_client_rejected: [
    'unavailable',
    'The provider refuses the integration’s client credentials',
  ],
  credentials_write_failed: ['unavailable', 'New tokens could not be stored; retry shortly'],
  credentials_unreadable: [
    'unavailable',
    'Stored credentials cannot be decrypted with the configured keys',
  ],
  // Sync
  sync_not_configured: ['conflict', 'The integration syncs no model'],
  sync_run_not_found: ['not_found', 'No such sync run for this connection'],
  sync_run_finished: ['conflict', 'The sync run already ended'],
  model_not_found: ['not_found', 'The integration has no such model'],
  // Providers
  provider_error: ['provider', 'The provider refused the request (502)'],
  provider_unavailable: ['unavailable', 'The provider is down or failing (5xx, 408)'],
  provider_rate_limited: ['unavailable', 'The provider rate-limits us; see Retry-After'],
  provider_timeout: ['unavailable', 'The provider did not answer in time'],
  provider_unreachable: ['unavailable', 'The provider could not be reached'],
  provider_response_invalid: ['provider', 'The provider answered something unusable'],
  provider_response_too_large: ['provider', 'The provider’s answer exceeds the size limit'],
  grant_rejected: ['provider', 'The provider refused the grant (invalid_grant)'],
  client_rejected: ['provider', 'The provider refused the client credentials'],
  account_lookup_failed: ['provider', 'The provider refused the account lookup'],
  api_host_not_allowed: ['provider', 'A token answer named an API host outside the provider’s'],
  provider_endpoint_not_allowed: [
    'provider',
    'OIDC discovery named an endpoint that breaks the provider URL policy (https only)',
  ],
  provider_address_refused: [
    'provider',
    'A provider host resolves to a private, link-local, loopback or other non-public address',
  ],
  // API proxy
  proxy_path_invalid: [
    'validation',
    'The proxied path would leave the API base URL (dot segments, //, a scheme, backslashes, encoded slashes, control characters)',
  ],
  proxy_header_invalid: ['validation', 'A header value cannot be forwarded (CR, LF or NUL)'],
  proxy_method_not_allowed: [
    'validation',
    'The proxy forwards GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS',
  ],
  insufficient_scope: [
    'forbidden',
    'The connection was not granted a scope the proxied route needs (the message names it): reconnect asking for it; nothing was sent',
  ],
  proxy_not_supported: ['conflict', 'The connection’s integration has no API base URL to proxy to'],
  proxy_upstream_unreachable: ['provider', 'The provider could not be reached (502)'],
  proxy_upstream_timeout: ['gateway_timeout', 'The provider did not answer in time (504)'],
  rate_budget_exhausted: [
    'rate_limited',
    'The connection’s rate budget (rateLimit, maxConcurrency) is spent; retry after Retry-After, or send Prefer: wait=<seconds>',
  ],
  // Our own dependencies
  database_unavailable: ['unavailable', 'PostgreSQL is unreachable; retry after Retry-After'],
  redis_unavailable: [
    'unavailable',
    'Redis is unreachable: connect, refresh and sync wait for it (stored tokens are still served); retry after Retry-After',
  ],
  audit_unavailable: [
    'unavailable',
    'The audit trail cannot be written (AUDIT_MODE=strict): no token leaves unaudited',
  ],
  // Anything else
  internal_error: ['unavailable', 'Unexpected; quote the request id'],
} as const satisfies Record<string, readonly [ErrorKind, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;
