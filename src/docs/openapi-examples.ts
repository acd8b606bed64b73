/** Examples shown in the OpenAPI document; a test parses each with its schema. */
const CONNECTION_ID = '3ab9edf5-77c9-4fd5-8678-72c5bfd39485';
const SESSION_ID = '82a0301c-b5b2-49a1-aaf0-51d7eae7cd1a';
const RUN_ID = '0514d615-2f1e-4c39-9a55-61a2e3c0f3de';

export const examples = {
  connectSessionCreated: {
    id: SESSION_ID,
    token: 'tbcs_WT85P2APUQfqkhqNA2hieuNb1OZqMYlUfAcp_iIiCug',
    connectUrl:
      'https://broker.example.com/v1/connect?session=tbcs_WT85P2APUQfqkhqNA2hieuNb1OZqMYlUfAcp_iIiCug',
    expiresAt: '2026-11-26T02:10:00.000Z',
  },
  connectSessionStatus: {
    id: SESSION_ID,
    integration: 'hubspot-prod',
    tenantId: 'acme',
    expiresAt: '2026-11-26T02:10:00.000Z',
    status: 'completed',
    connectionId: CONNECTION_ID,
  },
  finalizeResult: { connectionId: CONNECTION_ID, status: 'active' },
  connection: {
    id: CONNECTION_ID,
    tenantId: 'acme',
    integration: 'hubspot-prod',
    provider: 'hubspot',
    status: 'active',
    scopes: ['crm.objects.contacts.read', 'oauth'],
    account: { id: '62515', email: 'ada@acme.example', name: 'Acme Inc.' },
    endUserId: 'user-42',
    expiresAt: '2026-11-26T02:30:00.000Z',
    lastRefreshedAt: '2026-11-26T02:00:00.000Z',
    nextRefreshAt: '2026-11-26T02:20:00.000Z',
    refreshFailures: 0,
    lastRefreshError: null,
    refreshRetryAt: null,
    lastSyncAt: '2026-11-26T02:01:12.000Z',
    createdAt: '2026-11-20T09:14:03.000Z',
  },
  token: {
    accessToken: 'CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4',
    tokenType: 'Bearer',
    expiresAt: '2026-11-26T02:30:00.000Z',
    scopes: ['crm.objects.contacts.read', 'oauth'],
    extras: { hubId: '62515' },
  },
  syncsTriggered: { syncRunIds: [RUN_ID] },
  syncRun: {
    id: RUN_ID,
    model: 'contacts',
    status: 'succeeded',
    trigger: 'manual',
    full: true,
    createdAt: '2026-11-26T02:01:10.000Z',
    startedAt: '2026-11-26T02:01:10.120Z',
    finishedAt: '2026-11-26T02:01:12.000Z',
    recordsFetched: 250,
    recordsUpserted: 250,
    recordsDeleted: 0,
    pages: 3,
    executions: 1,
    attemptsMade: 0,
    error: null,
  },
  record: {
    id: '51',
    fields: { email: 'ada@acme.example', firstName: 'Ada', lastName: 'Lovelace' },
    data: { id: '51', properties: { email: 'ada@acme.example', firstname: 'Ada' } },
    providerUpdatedAt: '2026-11-25T17:02:00.000Z',
    modifiedAt: '2026-11-26T02:01:11.000Z',
    deletedAt: null,
  },
  integration: {
    key: 'hubspot-prod',
    provider: 'hubspot',
    scopes: ['crm.objects.contacts.read', 'oauth'],
    requiredScopes: ['crm.objects.contacts.read', 'oauth'],
    requireFinalize: true,
    models: ['contacts', 'companies'],
  },
  error: {
    error: {
      code: 'needs_reauth',
      message: 'The provider no longer accepts this grant: the user must reconnect',
      requestId: '633d5d5d-f456-48b5-89dd-eb47f2be0934',
    },
  },
};
