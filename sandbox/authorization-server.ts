import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { consentPage } from './consent-page.js';
import { MemoryAdapter } from './memory-adapter.js';

/**
 * A real OAuth2/OIDC authorization server (the `oidc-provider` package) for
 * tests and the demo: authorization code + PKCE, refresh tokens with
 * rotation and reuse detection, revocation, introspection, and a headless
 * login-and-consent that tests steer through `consent`.
 */

export interface SandboxAccount {
  id: string;
  email: string;
  name: string;
}

export interface ConsentPolicy {
  /** Who logs in. */
  accountId: string;
  /** Deny the request (`error=access_denied`). */
  deny?: boolean;
  /** Grant only these of the requested scopes (default: all requested). */
  grantOnly?: string[];
}

export interface TokenFault {
  /** The status to answer with; 0 means: after the delay, answer normally (a slow provider). */
  status: number;
  /** OAuth error code for a JSON error body (e.g. invalid_grant). */
  error?: string;
  retryAfter?: string;
  /** Delay before answering, to simulate a slow or timing-out provider. */
  delayMs?: number;
}

export interface AuthorizationServerOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  accounts: SandboxAccount[];
  scopes: string[];
  accessTokenTtlSeconds?: number;
  /** Show a real login-and-consent page (the demo) instead of deciding headlessly (tests). */
  interactive?: boolean;
}

export class SandboxAuthorizationServer {
  readonly provider: Provider;
  private server?: Server;
  /** Who logs in and what is granted at the next consent screens. */
  consent: ConsentPolicy;
  accessTokenTtlSeconds: number;
  /**
   * While set, refresh answers list only these of the scopes granted (a
   * provider narrowing a grant on refresh: an administrator withdrew a
   * permission). Unset: as granted.
   */
  refreshScopesOnly?: string[];
  /** Faults the token endpoint answers with, first in first out, before real processing. */
  readonly tokenFaults: TokenFault[] = [];
  readonly counters = {
    authorizationCodeGrants: 0,
    refreshGrants: 0,
    revocations: 0,
    refreshTokenReuse: 0,
  };
  /** Every token endpoint request: when it arrived, its grant type, and the status answered. */
  readonly tokenRequests: Array<{
    at: number;
    grantType: string;
    status: number;
    retryAfter?: string;
  }> = [];
  private port = 0;
  private host = '127.0.0.1';
  readonly issuedSecrets = new Set<string>();
  private pendingDecision?: ConsentPolicy;

  private constructor(
    readonly issuer: string,
    private readonly options: AuthorizationServerOptions,
  ) {
    this.consent = { accountId: options.accounts[0]!.id };
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 3600;
    this.provider = new Provider(issuer, this.configuration());
    this.provider.proxy = false;
    this.instrument();
  }

  /**
   * Starts on `listen.host` (127.0.0.1 by default; port 0 = any free port).
   * The issuer is `http://<publicHost>:<port>`: browsers and the broker must
   * reach it under that one name (in Docker, `localhost` on a shared network namespace).
   */
  static async start(
    options: AuthorizationServerOptions,
    port = 0,
    listen: { host?: string; publicHost?: string } = {},
  ): Promise<SandboxAuthorizationServer> {
    const server = createServer();
    const host = listen.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const { port: actual } = server.address() as AddressInfo;
    const sandbox = new SandboxAuthorizationServer(
      `http://${listen.publicHost ?? '127.0.0.1'}:${actual}`,
      options,
    );
    sandbox.host = host;
    sandbox.server = server;
    sandbox.port = actual;
    const callback = sandbox.provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/interaction/')) {
        sandbox.interaction(req, res).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
        return;
      }
      void callback(req, res);
    });
    return sandbox;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Back up on the same port, with every grant and token it had (an outage, not a reset). */
  async restart(): Promise<void> {
    await new Promise<void>((resolve) => this.server!.listen(this.port, this.host, resolve));
  }

  /** Every access token issued so far stops working (grants and refresh tokens live on). */
  expireAccessTokens(): void {
    MemoryAdapter.clearAccessTokens();
  }

  /** Ends every grant, as an administrator (or the user, at the provider's settings page) would. */
  async revokeAllGrants(): Promise<void> {
    await MemoryAdapter.revokeAll();
  }

  /** Looks up a live access token, as a resource server would. */
  async findAccessToken(
    value: string,
  ): Promise<{ accountId: string; scopes: Set<string> } | undefined> {
    const token = await this.provider.AccessToken.find(value);
    if (!token || token.isExpired) return undefined;
    return { accountId: token.accountId, scopes: token.scopes };
  }

  private configuration(): Configuration {
    const accounts = new Map(this.options.accounts.map((a) => [a.id, a]));
    return {
      clients: [
        {
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
          redirect_uris: this.options.redirectUris,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      scopes: this.options.scopes,
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      findAccount: async (_ctx, id) => {
        const account = accounts.get(id);
        if (!account) return undefined;
        return {
          accountId: id,
          claims: async () => ({
            sub: id,
            email: account.email,
            email_verified: true,
            name: account.name,
          }),
        };
      },
      features: {
        devInteractions: { enabled: false },
        revocation: { enabled: true, allowedPolicy: async () => true },
        introspection: { enabled: true, allowedPolicy: async () => true },
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      pkce: { required: () => true },
      rotateRefreshToken: true,
      ttl: {
        AccessToken: () => this.accessTokenTtlSeconds,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 14 * 24 * 3600,
        Grant: 14 * 24 * 3600,
        Interaction: 600,
        Session: 3600,
      },
      cookies: { keys: ['sandbox-cookie-key-not-secret'] },
      adapter: MemoryAdapter,
      jwks: {
        keys: [
          {
            ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
              format: 'jwk',
            }),
            use: 'sig',
            alg: 'RS256',
          },
        ],
      },
      // ID tokens carry email and name whenever their scopes were granted.
      conformIdTokenClaims: false,
    };
  }

  private instrument(): void {
    this.provider.use(async (ctx, next) => {
      const isToken = ctx.path === '/token' && ctx.method === 'POST';
      if (isToken) {
        const record: (typeof this.tokenRequests)[number] = {
          at: Date.now(),
          grantType: 'unknown (fault)',
          status: 0,
        };
        this.tokenRequests.push(record);
        const fault = this.tokenFaults.shift();
        if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault && fault.status !== 0) {
          ctx.status = fault.status;
          if (fault.retryAfter) ctx.set('retry-after', fault.retryAfter);
          ctx.body = fault.error ? { error: fault.error } : 'sandbox fault';
          record.status = fault.status;
          record.retryAfter = fault.retryAfter;
          return;
        }
        await next();
        record.status = ctx.status;
        const params = (ctx as KoaContextWithOIDC).oidc?.params;
        record.grantType = typeof params?.grant_type === 'string' ? params.grant_type : 'unknown';
        const body = ctx.body as { scope?: unknown } | undefined;
        if (
          this.refreshScopesOnly &&
          record.grantType === 'refresh_token' &&
          ctx.status === 200 &&
          typeof body?.scope === 'string'
        ) {
          const only = this.refreshScopesOnly;
          body.scope = body.scope
            .split(' ')
            .filter((s) => only.includes(s))
            .join(' ');
        }
      } else {
        await next();
      }
      if (ctx.path === '/token' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
        const body = ctx.body as Record<string, unknown>;
        for (const field of ['access_token', 'refresh_token', 'id_token']) {
          if (typeof body[field] === 'string') this.issuedSecrets.add(body[field]);
        }
      }
    });
    this.provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
      const grantType = ctx.oidc.params?.grant_type;
      if (grantType === 'refresh_token') this.counters.refreshGrants += 1;
      if (grantType === 'authorization_code') this.counters.authorizationCodeGrants += 1;
    });
    this.provider.on('grant.revoked', () => {
      this.counters.revocations += 1;
    });
    this.provider.on(
      'grant.error',
      (_ctx: KoaContextWithOIDC, error: Error & { error_description?: string }) => {
        if (/rotated|reuse|already used|consumed/i.test(error.error_description ?? error.message)) {
          this.counters.refreshTokenReuse += 1;
        }
      },
    );
  }

  /** Login and consent: decided by `this.consent` (headless), or by a person on a form (interactive). */
  private async interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    let policy = this.consent;
    if (this.options.interactive) {
      // One form answers both prompts: the decision made at login carries over to consent.
      const carried = details.prompt.name === 'consent' ? this.pendingDecision : undefined;
      this.pendingDecision = undefined;
      if (carried) policy = carried;
      else if (req.method !== 'POST') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(consentPage(details.uid, details.params, this.options.accounts));
        return;
      } else {
        policy = await readConsentForm(req);
        // Only a login answer carries over (to the consent prompt that follows it).
        if (details.prompt.name === 'login') this.pendingDecision = policy;
      }
    }
    if (policy.deny) {
      await this.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The user said no' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (details.prompt.name === 'login') {
      await this.provider.interactionFinished(
        req,
        res,
        { login: { accountId: policy.accountId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const { Grant } = this.provider;
    const grant = details.grantId
      ? ((await Grant.find(details.grantId)) ??
        new Grant({
          accountId: details.session!.accountId,
          clientId: details.params.client_id as string,
        }))
      : new Grant({
          accountId: details.session!.accountId,
          clientId: details.params.client_id as string,
        });
    const requested = (typeof details.params.scope === 'string' ? details.params.scope : '')
      .split(' ')
      .filter(Boolean);
    const granted = policy.grantOnly
      ? requested.filter((s) => policy.grantOnly!.includes(s))
      : requested;
    grant.addOIDCScope(granted.join(' '));
    // Like a user unticking boxes: the token then carries fewer scopes than asked for.
    const refused = requested.filter((s) => !granted.includes(s));
    if (refused.length) grant.rejectOIDCScope(refused.join(' '));
    const grantId = await grant.save();
    await this.provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
}

async function readConsentForm(req: IncomingMessage): Promise<ConsentPolicy> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const form = new URLSearchParams(body);
  return {
    accountId: form.get('account') ?? '',
    deny: form.get('decision') !== 'allow',
    grantOnly: form.getAll('scope'),
  };
}
