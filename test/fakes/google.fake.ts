import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { type FakeGrant, FakeGrants } from './fake-grants.js';
import { type FakeReply, type FakeRequest, FakeServer } from './fake-server.js';

/**
 * Google as its public documentation describes it, on loopback: OpenID
 * Connect discovery, the web server flow (offline access, consent, PKCE),
 * RS256 ID tokens, refresh answers without a refresh token, revocation that
 * ends the whole grant, and the People API's connections with page tokens
 * and sync tokens (changes since, deletions as `metadata.deleted`, expiry).
 *
 * Sources (every fixture below cites one):
 * [ws]     https://developers.google.com/identity/protocols/oauth2/web-server
 * [oidc]   https://developers.google.com/identity/openid-connect/openid-connect (discovery, ID token)
 * [o2]     https://developers.google.com/identity/protocols/oauth2 (refresh token limits)
 * [dev]    https://developers.google.com/youtube/v3/live/guides/auth/devices (error table; scope URL forms)
 * [grant]  observed: {"error":"invalid_grant","error_description":"Token has been expired or revoked."}
 *          github.com/apache/opendal/issues/3901
 * [pcl]    https://developers.google.com/people/api/rest/v1/people.connections/list
 * [sync]   observed expired-sync-token answer (400, reason EXPIRED_SYNC_TOKEN):
 *          github.com/freed-project/freed/issues/1976; reason documented in [pcl]
 * [401]    observed: github.com/googleapis/google-api-php-client/issues/1391
 */

interface Person {
  resourceName: string;
  version: number;
  deleted: boolean;
  given: string;
  family: string;
  email: string;
  updateTime: string;
}

interface Account {
  sub: string;
  email: string;
  name: string;
  people: Map<string, Person>;
}

const ACCESS_LIFETIME = 3599;
/** [dev] "openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email" */
const SCOPE_URL: Record<string, string> = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};

export class GoogleFake {
  readonly server = new FakeServer();
  readonly grants = new FakeGrants({
    access: () => `ya29.${randomBytes(32).toString('base64url')}`,
    refresh: () => `1//0g${randomBytes(30).toString('base64url')}`,
  });
  readonly accounts = new Map<string, Account>();
  /** Who consents next. */
  consentAs = '';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly kid = randomBytes(8).toString('hex');
  private readonly nonces = new Map<string, string>();
  private version = 0;
  /** Sync tokens of an earlier epoch are expired. */
  private syncEpoch = 0;
  private nextId = 1;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.server
      .route('GET', /^\/\.well-known\/openid-configuration$/, () => this.discovery())
      .route('GET', /^\/oauth2\/v3\/certs$/, () => this.jwks())
      .route('GET', /^\/o\/oauth2\/v2\/auth$/, (r) => this.authorize(r))
      .route('POST', /^\/token$/, (r) => this.token(r))
      .route('POST', /^\/revoke$/, (r) => this.revoke(r))
      .route('GET', /^\/v1\/people\/me\/connections$/, (r) => this.connections(r));
  }

  get issuer(): string {
    return this.server.baseUrl;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  addAccount(sub: string, email: string, name: string): Account {
    const account = { sub, email, name, people: new Map<string, Person>() };
    this.accounts.set(sub, account);
    this.consentAs ||= sub;
    return account;
  }

  seed(sub: string, count: number): string[] {
    const people = this.accounts.get(sub)!.people;
    const names: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const resourceName = `people/c${(this.nextId += 1)}`;
      names.push(resourceName);
      people.set(resourceName, {
        resourceName,
        version: (this.version += 1),
        deleted: false,
        given: 'Ada',
        family: `Contact ${this.nextId}`,
        email: `c${this.nextId}@example.test`,
        updateTime: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      });
    }
    return names;
  }

  update(sub: string, resourceName: string, fields: Partial<Person>): void {
    const person = this.accounts.get(sub)!.people.get(resourceName)!;
    Object.assign(person, fields, {
      version: (this.version += 1),
      updateTime: new Date().toISOString(),
    });
  }

  remove(sub: string, resourceName: string): void {
    this.update(sub, resourceName, { deleted: true });
  }

  /** [pcl] "Sync tokens expire 7 days after the full sync": every token issued so far. */
  expireSyncTokens(): void {
    this.syncEpoch += 1;
  }

  // --- OAuth / OpenID Connect ---------------------------------------------

  /** [oidc] the discovery document (its values, on this host). */
  private discovery(): FakeReply {
    const base = this.issuer;
    return {
      status: 200,
      body: {
        issuer: base,
        authorization_endpoint: `${base}/o/oauth2/v2/auth`,
        token_endpoint: `${base}/token`,
        userinfo_endpoint: `${base}/v1/userinfo`,
        revocation_endpoint: `${base}/revoke`,
        jwks_uri: `${base}/oauth2/v3/certs`,
        response_types_supported: [
          'code',
          'token',
          'id_token',
          'code token',
          'code id_token',
          'token id_token',
          'code token id_token',
          'none',
        ],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        claims_supported: [
          'aud',
          'email',
          'email_verified',
          'exp',
          'family_name',
          'given_name',
          'iat',
          'iss',
          'locale',
          'name',
          'picture',
          'sub',
        ],
        code_challenge_methods_supported: ['plain', 'S256'],
      },
    };
  }

  private jwks(): FakeReply {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    return { status: 200, body: { keys: [{ ...jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] } };
  }

  /** [ws] client_id, redirect_uri, response_type=code, scope (space-delimited), access_type, prompt, state. */
  private authorize(r: FakeRequest): FakeReply {
    const q = r.url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || q.get('response_type') !== 'code' || !redirect)
      return { status: 400, body: 'Error 400: invalid_request' };
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const offline = q.get('access_type') === 'offline';
    const code = this.grants.issueCode(
      { account: this.consentAs, scopes: offline ? [...scopes, '(offline)'] : scopes },
      redirect,
      q.get('code_challenge') ?? undefined,
    );
    if (q.get('nonce')) this.nonces.set(code, q.get('nonce')!);
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    return { status: 302, headers: { location: back.href } };
  }

  /**
   * [ws] form fields, client_secret in the body; the code answer (a refresh
   * token with access_type=offline), the refresh answer (none); [dev]/[grant]
   * errors: invalid_grant 400, invalid_client 401.
   */
  private token(r: FakeRequest): FakeReply {
    const form = r.form;
    if (!form) return { status: 400, body: { error: 'invalid_request' } };
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
      return { status: 401, body: { error: 'invalid_client', error_description: 'Unauthorized' } };
    if (form.get('grant_type') === 'authorization_code') {
      const code = form.get('code') ?? '';
      const nonce = this.nonces.get(code);
      const grant = this.grants.redeem(code, form.get('redirect_uri'), form.get('code_verifier'));
      if (!grant) return invalidGrant('Malformed auth code.');
      const offline = grant.scopes.includes('(offline)');
      return {
        status: 200,
        body: {
          ...this.tokenAnswer(grant, nonce),
          ...(offline ? { refresh_token: this.grants.issueRefresh(grant) } : {}),
        },
      };
    }
    if (form.get('grant_type') === 'refresh_token') {
      const grant = this.grants.grantOfRefresh(form.get('refresh_token') ?? '');
      if (!grant) return invalidGrant('Token has been expired or revoked.');
      this.grants.counters.refreshes += 1;
      return { status: 200, body: this.tokenAnswer(grant) };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  private tokenAnswer(grant: FakeGrant, nonce?: string) {
    const granted = grant.scopes.filter((s) => s !== '(offline)');
    const answer: Record<string, unknown> = {
      access_token: this.grants.issueAccess(grant, ACCESS_LIFETIME),
      expires_in: ACCESS_LIFETIME,
      scope: granted.map((s) => SCOPE_URL[s] ?? s).join(' '),
      token_type: 'Bearer',
    };
    if (granted.includes('openid')) answer.id_token = this.idToken(grant.account, nonce);
    return answer;
  }

  /** [oidc] an RS256 ID token: iss, azp, aud, sub, email, email_verified, name, iat, exp, nonce. */
  private idToken(sub: string, nonce?: string): string {
    const account = this.accounts.get(sub)!;
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', kid: this.kid, typ: 'JWT' };
    const payload = {
      iss: this.issuer,
      azp: this.clientId,
      aud: this.clientId,
      sub,
      email: account.email,
      email_verified: true,
      name: account.name,
      iat: now,
      exp: now + 3600,
      ...(nonce ? { nonce } : {}),
    };
    const body = `${b64(header)}.${b64(payload)}`;
    const signature = createSign('RSA-SHA256')
      .update(body)
      .sign(this.keys.privateKey)
      .toString('base64url');
    return `${body}.${signature}`;
  }

  /** [ws] token in the query or the body; 200; revoking one token ends the whole grant. */
  private revoke(r: FakeRequest): FakeReply {
    const token = r.url.searchParams.get('token') ?? r.form?.get('token') ?? '';
    return this.grants.revokeAccount(token)
      ? { status: 200 }
      : {
          status: 400,
          body: { error: 'invalid_token', error_description: 'Token expired or revoked' },
        };
  }

  // --- People API ----------------------------------------------------------

  /**
   * [pcl] personFields required; pageSize 1–1000 (default 100); pageToken
   * and syncToken need the other parameters unchanged; nextSyncToken on the
   * last page only, with requestSyncToken; with a syncToken, only changes
   * (deletions as metadata.deleted); an empty account answers `{}`.
   */
  private connections(r: FakeRequest): FakeReply {
    const token = /^Bearer (.+)$/i.exec(r.headers.authorization ?? '')?.[1];
    const verified = this.grants.verify(token);
    if (!verified || verified === 'expired') {
      return {
        status: 401,
        body: {
          error: {
            code: 401,
            message:
              'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
            status: 'UNAUTHENTICATED',
          },
        },
      };
    }
    const q = r.url.searchParams;
    if (!q.get('personFields')) return invalidArgument('personFields mask is required.');
    const size = Number(q.get('pageSize') ?? 100) || 100;
    if (size < 1 || size > 1000) return invalidArgument('pageSize must be between 1 and 1000.');
    const syncToken = q.get('syncToken');
    let since = 0;
    if (syncToken) {
      const [epoch, version] = Buffer.from(syncToken, 'base64url')
        .toString()
        .split(':')
        .map(Number);
      since = version!;
      if (epoch !== this.syncEpoch) {
        return {
          status: 400,
          body: {
            error: {
              code: 400,
              message:
                'Sync token is expired. Clear local cache and retry call without the sync token.',
              status: 'FAILED_PRECONDITION',
              details: [
                {
                  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
                  reason: 'EXPIRED_SYNC_TOKEN',
                  domain: 'people.googleapis.com',
                },
              ],
            },
          },
        };
      }
    }
    const account = this.accounts.get(verified.grant.account)!;
    const people = [...account.people.values()]
      .filter((p) => (syncToken ? p.version > since : !p.deleted))
      .sort((a, b) => a.version - b.version);
    const offset = q.get('pageToken')
      ? Number(Buffer.from(q.get('pageToken')!, 'base64url').toString())
      : 0;
    const page = people.slice(offset, offset + size);
    const body: Record<string, unknown> = {};
    if (page.length) body.connections = page.map(view);
    if (people.length) {
      body.totalPeople = people.length;
      body.totalItems = people.length;
    }
    if (offset + size < people.length) {
      body.nextPageToken = Buffer.from(String(offset + size)).toString('base64url');
    } else if (q.get('requestSyncToken') === 'true') {
      if (people.length || syncToken) {
        const token = `${this.syncEpoch}:${this.version}`;
        body.nextSyncToken = Buffer.from(token).toString('base64url');
      }
    }
    return { status: 200, body };
  }
}

function view(p: Person) {
  if (p.deleted)
    return { resourceName: p.resourceName, etag: `%E${p.version}`, metadata: { deleted: true } };
  return {
    resourceName: p.resourceName,
    etag: `%E${p.version}`,
    metadata: {
      sources: [
        {
          type: 'CONTACT',
          id: p.resourceName.slice(8),
          etag: `#${p.version}`,
          updateTime: p.updateTime,
        },
      ],
      objectType: 'PERSON',
    },
    names: [{ displayName: `${p.given} ${p.family}`, givenName: p.given, familyName: p.family }],
    emailAddresses: [{ value: p.email, type: 'work' }],
  };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function invalidGrant(description: string): FakeReply {
  return { status: 400, body: { error: 'invalid_grant', error_description: description } };
}

function invalidArgument(message: string): FakeReply {
  return { status: 400, body: { error: { code: 400, message, status: 'INVALID_ARGUMENT' } } };
}
