import { SandboxAuthorizationServer, type SandboxAccount } from './authorization-server.js';
import { SandboxCrmApi } from './crm-api.js';

export const SANDBOX_CLIENT_ID = 'token-broker-sandbox';
export const SANDBOX_SCOPES = [
  'openid',
  'offline_access',
  'email',
  'profile',
  'contacts.read',
  'companies.read',
];
export const SANDBOX_ACCOUNTS: SandboxAccount[] = [
  { id: 'acct-ada', email: 'ada@example.test', name: 'Ada Lovelace' },
  { id: 'acct-grace', email: 'grace@example.test', name: 'Grace Hopper' },
];

export interface Sandbox {
  auth: SandboxAuthorizationServer;
  crm: SandboxCrmApi;
  clientSecret: string;
  stop(): Promise<void>;
}

/** The authorization server and the CRM API, on loopback, ready for one broker. */
export async function startSandbox(options: {
  redirectUris: string[];
  clientSecret: string;
  accessTokenTtlSeconds?: number;
  authPort?: number;
  crmPort?: number;
  interactive?: boolean;
  /** Where to listen (default 127.0.0.1) and the host name in the issuer (default 127.0.0.1). */
  host?: string;
  publicHost?: string;
}): Promise<Sandbox> {
  const auth = await SandboxAuthorizationServer.start(
    {
      clientId: SANDBOX_CLIENT_ID,
      clientSecret: options.clientSecret,
      redirectUris: options.redirectUris,
      accounts: SANDBOX_ACCOUNTS,
      scopes: SANDBOX_SCOPES,
      accessTokenTtlSeconds: options.accessTokenTtlSeconds,
      interactive: options.interactive,
    },
    options.authPort,
    { host: options.host, publicHost: options.publicHost },
  );
  // Only the broker calls the CRM, so it stays on loopback.
  const crm = await SandboxCrmApi.start((token) => auth.findAccessToken(token), options.crmPort);
  return {
    auth,
    crm,
    clientSecret: options.clientSecret,
    stop: async () => {
      await Promise.all([auth.stop(), crm.stop()]);
    },
  };
}
