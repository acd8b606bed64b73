import { errorEnvelopeSchema } from '../common/errors/error-envelope.schema.js';
import { operation } from './openapi-builder.js';
import { examples } from './openapi-examples.js';

/**
 * `ANY /v1/proxy/{connectionId}/{path}` in the OpenAPI document: seven
 * operations alike but for the method, with the proxy's rules written out.
 */

/** On proxied answers whose first request the provider answered 401. */
const TOKEN_REFRESH_HEADERS = {
  'X-Token-Broker-Refresh': {
    description:
      "Only after a provider 401: `refreshed` (a new token was obtained, by this call or one it joined), `already-replaced` (a newer token was stored; no refresh), `cooling-down` (the refused token was obtained inside the refresh cooldown: no refresh, no retry; the 401 is the provider's)",
    enum: ['refreshed', 'already-replaced', 'cooling-down'],
  },
};

const PROXY_METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'] as const;

/** `ANY /v1/proxy/:connectionId/*`: one operation per method, all alike. */
export function proxyOperations(): Record<string, unknown> {
  return Object.fromEntries(
    PROXY_METHODS.map((method) => [
      method,
      {
        ...operation({
          operationId: `proxy${method[0]!.toUpperCase()}${method.slice(1)}`,
          tag: 'Proxy',
          summary: `${method.toUpperCase()} on the provider's API, with the connection's access token`,
          description:
            "Forwards the method, the path below the connection's API base URL (the integration's `api.baseUrl`, or the connection's own host such as Salesforce `instance_url`, host-checked), the query string and the body (streamed, up to `PROXY_MAX_BODY_BYTES`, 10 MiB by default) to the provider with `Authorization: <token type> <access token>`; the caller's Authorization, Cookie, Host, Proxy-*, X-Forwarded-* and hop-by-hop headers are not forwarded. The answer is the provider's status and body with its content, caching, Location, Retry-After and rate-limit headers (never Set-Cookie). A 401 from the provider reports the token as rejected, as `POST /v1/connections/{id}/token/rejected` does: if the stored token is already newer it is used without a refresh, else one refresh is shared by every caller and replica meeting that token (it starts the forced-refresh cooldown), and the request is sent again with the new token, for GET, HEAD, PUT, DELETE, OPTIONS or a request with `Idempotency-Key` whose body is at most 1 MiB (kept in memory to be sent twice); otherwise the 401 is passed back. A 401 to a token that was itself obtained inside the cooldown (a provider refusing every token: a revoked app, a missing scope) makes no refresh and no retry: the provider's 401 comes back with `X-Token-Broker-Refresh: cooling-down`, so callers cannot drive a refresh per call. A call under a route whose scopes the provider catalogue (or the integration's `api.proxyRoutes`) declares, and which the grant lacks, is 403 `insufficient_scope` (the message names the scopes) and nothing is sent. A 429 is passed back with its Retry-After. Every request spends the connection's rate budget (the integration's `rateLimit` and `maxConcurrency`, shared with syncs across replicas): past it the answer is 429 `rate_budget_exhausted` with Retry-After from the budget, unless the caller sends `Prefer: wait=<seconds>` (RFC 7240, at most 10 s; not forwarded) to wait for its turn. A path that would leave the base URL (dot segments, also percent-encoded, `//`, a scheme, backslashes, `%2F`/`%5C`, control characters) is 400 `proxy_path_invalid` and nothing is sent. A key with only the `proxy` action never sees a token. Every call is counted and audited (`proxy.request`: method, the path with ids replaced by `:id`, status; never a body, header or query value).",
          access: 'proxy',
          pathParams: [
            { name: 'connectionId', description: 'The connection id', uuid: true },
            {
              name: 'path',
              description:
                'The provider API path below its base URL, e.g. `v1/contacts` (slashes allowed)',
            },
          ],
          responses: {
            '200': {
              description:
                "The provider's answer, with its own status (any), body and content type",
              contentType: '*/*',
              headers: TOKEN_REFRESH_HEADERS,
            },
            '401': {
              description:
                "The provider's own 401 passed back (its body; `X-Token-Broker-Refresh` says what the broker did about it), or ours: no service key, or not an active one (`missing_service_key`, `invalid_service_key`)",
              contentType: '*/*',
              headers: TOKEN_REFRESH_HEADERS,
            },
            '403': errorResponse(
              'The key lacks the action, tenant or integration, or `insufficient_scope`: the connection was not granted a scope the route needs (nothing sent)',
            ),
            '400': errorResponse(
              '`proxy_path_invalid`, `proxy_header_invalid`, `proxy_method_not_allowed`',
            ),
            '409': errorResponse(
              'The user must reconnect (`needs_reauth`), or `proxy_not_supported`',
            ),
            '502': errorResponse(
              '`proxy_upstream_unreachable`, `provider_address_refused`, `api_host_not_allowed`',
            ),
            '429': errorResponse(
              "`rate_budget_exhausted`: the connection's rate budget is spent; see Retry-After (the provider's own 429 comes back as it came)",
            ),
            '504': errorResponse('`proxy_upstream_timeout`'),
          },
        }),
        ...(method === 'get' || method === 'head'
          ? {}
          : { requestBody: { required: false, content: { '*/*': { schema: {} } } } }),
      },
    ]),
  );
}

function errorResponse(description: string) {
  return { description, schema: errorEnvelopeSchema, example: examples.error };
}
