import { z } from 'zod';
import {
  connectSessionCreatedSchema,
  connectSessionStatusSchema,
  createConnectSessionSchema,
  finalizeConnectSessionSchema,
  finalizeResultSchema,
} from '../connect/connect.dto.js';
import { operation } from './openapi-builder.js';
import { examples } from './openapi-examples.js';

const sessionId = { name: 'id', description: 'The connect session id', uuid: true };

/** The Connect tag: connect sessions, the browser flow and its callback. */
export function connectPaths(): Record<string, unknown> {
  return {
    '/v1/connect-sessions': {
      post: operation({
        operationId: 'createConnectSession',
        tag: 'Connect',
        summary: 'Create a connect session for one end user',
        description:
          'Your backend calls this when the user presses "Connect CRM" and hands the browser `connectUrl` (or the whole answer, for the frontend snippet). Without `returnTo` the flow ends on a result page that posts the result to the opener (popup mode). `endUserId`, the logged-in user, is required unless the integration sets `requireFinalize: false` (400 `end_user_required`): finalize checks it.',
        access: 'connect',
        body: {
          schema: createConnectSessionSchema,
          required: true,
          example: {
            integration: 'hubspot-prod',
            tenantId: 'acme',
            endUserId: 'user-42',
            returnTo: 'https://app.example.com/settings/crm',
          },
        },
        responses: {
          '201': {
            description: 'Created',
            schema: connectSessionCreatedSchema,
            example: examples.connectSessionCreated,
          },
        },
      }),
    },
    '/v1/connect-sessions/{id}': {
      get: operation({
        operationId: 'getConnectSession',
        tag: 'Connect',
        summary: 'How a connect session ended',
        description:
          '`pending`, `completed` (with `connectionId`), `awaiting_finalize`, `failed` (with the fixed `error` code) or `expired`. The frontend snippet polls it with the session token when a provider cut the popup off from its opener (Cross-Origin-Opener-Policy); CORS allows the origins of ALLOWED_RETURN_URLS.',
        access: 'connect-or-session',
        pathParams: [sessionId],
        responses: {
          '200': {
            description: 'The status',
            schema: connectSessionStatusSchema,
            example: examples.connectSessionStatus,
          },
        },
      }),
    },
    '/v1/connect-sessions/{id}/finalize': {
      post: operation({
        operationId: 'finalizeConnectSession',
        tag: 'Connect',
        summary: 'Confirm the end user of a parked grant (requireFinalize, the default)',
        description:
          'Every integration requires this unless it sets `requireFinalize: false`: a connect link opened by someone else must not attach their account to the link owner. The callback parked the grant and sent the browser back with `finalize=<token>&connect_session_id=<id>` (or posted both to the opener); your backend, which knows who is logged in, confirms with one request, and the connection is stored. A different end user → 403 `end_user_mismatch` and the grant is discarded.',
        access: 'connect',
        pathParams: [sessionId],
        body: {
          schema: finalizeConnectSessionSchema,
          required: true,
          example: { finalizeToken: 'tbfz_…', endUserId: 'user-42' },
        },
        responses: {
          '200': {
            description: 'Stored',
            schema: finalizeResultSchema,
            example: examples.finalizeResult,
          },
        },
      }),
    },
    '/v1/connect': {
      get: operation({
        operationId: 'startConnectFlow',
        tag: 'Connect',
        summary: 'Browser: start the authorization flow',
        description: 'Binds the flow to this browser with a cookie and redirects to the provider.',
        access: 'public',
        query: z.object({ session: z.string().describe('The connect session token') }),
        responses: { '302': { description: 'To the provider’s authorization page' } },
      }),
    },
    '/v1/oauth/callback/{integrationKey}': {
      get: operation({
        operationId: 'oauthCallback',
        tag: 'Connect',
        summary: 'Provider redirect: end the flow',
        description:
          '303 to `returnTo` with `finalize` and `connect_session_id` (for your backend to finalize; `connection_id` when the integration sets `requireFinalize: false`), or `error` (a fixed code); without `returnTo`, a result page that posts `{type: "token-broker:connect-result", …}` to the allowed opener origins.',
        access: 'public',
        pathParams: [{ name: 'integrationKey', description: 'The integration' }],
        responses: {
          '303': { description: 'To the return URL' },
          '200': { description: 'Result page (popup mode)', contentType: 'text/html' },
        },
      }),
    },
  };
}
