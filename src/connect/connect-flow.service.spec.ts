import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../config/app-config.js';
import type { ConnectionStore } from '../connections/connection-store.js';
import { SystemClock } from '../infra/clock/clock.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { parseIntegrations } from '../integrations/load-integrations.js';
import type { AuthorizationRequest, OAuthClient } from '../oauth/oauth.client.js';
import { ProviderCatalogue } from '../providers/provider-catalogue.js';
import { ConnectFlowService } from './connect-flow.service.js';
import type { ConnectSession } from './connect-session.js';
import type { ConnectSessionsRepository } from './connect-sessions.repository.js';
import { hashSessionToken } from './connect-sessions.service.js';
import type { FlowStateStore } from './flow-state.store.js';

const [google] = parseIntegrations(
  JSON.stringify({
    integrations: [
      {
        key: 'google-contacts',
        provider: 'google',
        clientId: 'c',
        clientSecret: 's',
        scopes: ['openid', 'email', 'profile'],
      },
    ],
  }),
  { env: {}, catalogue: new ProviderCatalogue(), allowInsecureLoopbackProviders: false },
);

/** The authorization request a session starts, with fakes around the flow service. */
async function requestFor(session: Partial<ConnectSession>): Promise<AuthorizationRequest> {
  const stored: ConnectSession = {
    id: 'session-1',
    tenantId: 't',
    integrationKey: 'google-contacts',
    scopes: [],
    expiresAt: new Date(Date.now() + 60_000),
    ...session,
  };
  let sent: AuthorizationRequest | undefined;
  const sessions = {
    findByTokenHash: async (hash: string) =>
      hash === hashSessionToken('tbcs_x') ? stored : undefined,
    claim: async () => true,
  } as unknown as ConnectSessionsRepository;
  const flows = { save: async () => undefined } as unknown as FlowStateStore;
  const oauth = {
    authorizationUrl: async (_integration: unknown, request: AuthorizationRequest) => {
      sent = request;
      return new URL('https://accounts.google.com/o/oauth2/v2/auth');
    },
  } as unknown as OAuthClient;
  const config = {
    http: { publicUrl: 'https://broker.example.com' },
    connect: { flowTtlSeconds: 600 },
  } as unknown as AppConfig;
  const service = new ConnectFlowService(
    config,
    new IntegrationRegistry([google!]),
    sessions,
    flows,
    oauth,
    new SystemClock(),
    { findById: async () => ({ status: 'needs_reauth' }) } as unknown as ConnectionStore,
  );
  await service.start('tbcs_x');
  return sent!;
}

describe('incremental consent', () => {
  it("a session asking beyond the integration's scopes adds Google's include_granted_scopes", async () => {
    const request = await requestFor({
      scopes: ['https://www.googleapis.com/auth/contacts.readonly'],
    });
    expect(request.scopes).toContain('https://www.googleapis.com/auth/contacts.readonly');
    expect(request.extraParams).toEqual({ include_granted_scopes: 'true' });
  });

  it('so does a reconnect', async () => {
    const request = await requestFor({ reconnect: { connectionId: 'c1', accountId: 'a1' } });
    expect(request.extraParams).toEqual({ include_granted_scopes: 'true' });
  });

  it('a first connect for the integration’s own scopes does not', async () => {
    const request = await requestFor({ scopes: ['email'] });
    expect(request.extraParams).toEqual({});
  });
});
