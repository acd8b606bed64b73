import { randomBytes } from 'node:crypto';
import { basicCredentials, FakeGrants, type FakeGrant } from './fake-grants.js';
import { type FakeReply, type FakeRequest, FakeServer } from './fake-server.js';

/**
 * Pipedrive as its public documentation describes it, on loopback: OAuth
 * with HTTP Basic client authentication, token answers carrying the
 * company's `api_domain`, rotating refresh tokens, RFC 7009 revocation,
 * `/api/v1/users/me`, and API v2 persons and organizations with cursor pages.
 *
 * Sources (every fixture below cites one):
 * [oauth]   https://developers.pipedrive.com/docs/api/v1/Oauth
 * [authz]   https://pipedrive.readme.io/docs/marketplace-oauth-authorization
 * [domain]  https://developers.pipedrive.com/changelog/post/new-parameter-in-oauth-oauthtoken-responses
 * [codes]   https://pipedrive.readme.io/docs/marketplace-oauth-and-api-proxy-status-codes
 * [sdk]     github.com/pipedrive/client-nodejs test/functional/oauth/access-token.test.ts (error body)
 * [revoke]  https://pipedrive.readme.io/docs/app-uninstallation
 * [me]      https://developers.pipedrive.com/docs/api/v1/openapi.yaml (GET /users/me, 200 and 401)
 * [v2]      https://developers.pipedrive.com/docs/api/v1/Persons (API v2 GET /api/v2/persons, /organizations)
 * [paging]  https://pipedrive.readme.io/docs/core-api-concepts-pagination
 * [limits]  https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting
 */

export type PipedriveList = 'persons' | 'organizations';

interface StoredItem {
  id: number;
  name: string;
  update_time: string;
  add_time: string;
  is_deleted: boolean;
  [field: string]: unknown;
}

const ACCESS_LIFETIME = 3599; // [domain] example

export class PipedriveFake {
  readonly server = new FakeServer();
  readonly grants = new FakeGrants({
    // [domain] "53:179:6317ef33a9fb0c4d604ce0695dad44a12bad44c9"
    access: () => `53:179:${randomBytes(20).toString('hex')}`,
    refresh: () => `53:179:${randomBytes(20).toString('hex')}`,
  });
  readonly items: Record<PipedriveList, Map<number, StoredItem>> = {
    persons: new Map(),
    organizations: new Map(),
  };
  /** The company that consents next, and what its token answers name as `api_domain`. */
  company = { id: 54235233, userId: 1, apiDomain: '' };
  /** [authz] scopes are the app's, granted all or nothing; `base` is always on. */
  appScopes = ['base', 'contacts:read'];
  private nextId = 1;
  private clock = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.server
      .route('GET', /^\/oauth\/authorize$/, (r) => this.authorize(r))
      .route('POST', /^\/oauth\/token$/, (r) => this.token(r))
      .route('POST', /^\/oauth\/revoke$/, (r) => this.revoke(r))
      .route('GET', /^\/api\/v1\/users\/me$/, (r) => this.me(r))
      .route('GET', /^\/api\/v2\/(persons|organizations)$/, (r) => this.list(r));
  }

  get baseUrl(): string {
    return this.server.baseUrl;
  }

  async start(): Promise<this> {
    await this.server.start();
    this.company.apiDomain ||= this.baseUrl;
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private tick(): string {
    this.clock = Math.max(this.clock + 1000, Date.now());
    // [v2] "2021-01-01T00:00:00Z": RFC 3339, seconds.
    return `${new Date(this.clock).toISOString().slice(0, 19)}Z`;
  }

  /** `count` items updated one minute apart from `from` on. */
  seed(list: PipedriveList, count: number, from = '2026-01-01T00:00:00Z'): number[] {
    const ids: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = (this.nextId += 1);
      const at = `${new Date(Date.parse(from) + i * 60_000).toISOString().slice(0, 19)}Z`;
      ids.push(id);
      this.items[list].set(id, {
        ...sample(list, id),
        id,
        add_time: at,
        update_time: at,
        is_deleted: false,
      });
    }
    return ids;
  }

  update(list: PipedriveList, id: number, fields: Record<string, unknown>): void {
    const item = this.items[list].get(id)!;
    this.items[list].set(id, { ...item, ...fields, update_time: this.tick() });
  }

  /** Marks an item deleted ("permanently deleted after 30 days"). */
  remove(list: PipedriveList, id: number): void {
    const item = this.items[list].get(id)!;
    this.items[list].set(id, { ...item, is_deleted: true, update_time: this.tick() });
  }

  // --- OAuth -------------------------------------------------------------

  /** [authz] client_id, redirect_uri, state; scopes are the app's, not the request's. */
  private authorize(r: FakeRequest): FakeReply {
    const q = r.url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || !redirect)
      return { status: 400, body: 'invalid client' };
    const code = this.grants.issueCode(
      { account: `${this.company.id}/${this.company.userId}`, scopes: this.appScopes },
      redirect,
    );
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    return { status: 302, headers: { location: back.href } };
  }

  /**
   * [oauth] Basic client authentication (required), form body; [domain] the
   * answer; [codes] every token error is a 400, refresh tokens are single
   * use ("already exchanged"); [sdk] the error body's shape.
   */
  private token(r: FakeRequest): FakeReply {
    if (!r.form)
      return tokenError(
        'invalid_request',
        'Invalid request: content must be application/x-www-form-urlencoded',
      );
    const client = basicCredentials(r.headers.authorization);
    if (!client)
      return tokenError('invalid_client', 'Invalid client: cannot retrieve client credentials');
    if (client.id !== this.clientId || client.secret !== this.clientSecret)
      return tokenError('invalid_client', 'Invalid client: client is invalid');
    const form = r.form;
    switch (form.get('grant_type')) {
      case 'authorization_code': {
        const grant = this.grants.redeem(form.get('code') ?? '', form.get('redirect_uri'), null);
        if (!grant)
          return tokenError('invalid_grant', 'Invalid grant: authorization_code is invalid');
        return { status: 200, body: this.tokenResponse(grant) };
      }
      case 'refresh_token': {
        const used = form.get('refresh_token') ?? '';
        const grant = this.grants.grantOfRefresh(used);
        if (!grant) return tokenError('invalid_grant', 'Invalid grant: refresh_token is invalid');
        this.grants.dropRefresh(used);
        this.grants.counters.refreshes += 1;
        return { status: 200, body: this.tokenResponse(grant) };
      }
      case null:
        return tokenError('invalid_request', 'Missing parameter: grant_type');
      default:
        return tokenError(
          'unsupported_grant_type',
          'Unsupported grant type: grant_type is invalid',
        );
    }
  }

  /** [domain] verbatim field set: a new refresh token each time, `api_domain` each time. */
  private tokenResponse(grant: FakeGrant) {
    return {
      access_token: this.grants.issueAccess(grant, ACCESS_LIFETIME),
      token_type: 'Bearer',
      expires_in: ACCESS_LIFETIME,
      refresh_token: this.grants.issueRefresh(grant),
      scope: grant.scopes.join(','),
      api_domain: this.company.apiDomain,
    };
  }

  /**
   * [revoke] RFC 7009 with HTTP Basic; it is how an app is uninstalled, so
   * it ends the user's installation, every token of it. No answer body is
   * documented (RFC 7009 §2.2: 200).
   */
  private revoke(r: FakeRequest): FakeReply {
    const client = basicCredentials(r.headers.authorization);
    if (client?.id !== this.clientId || client.secret !== this.clientSecret)
      return tokenError('invalid_client', 'Invalid client: client is invalid');
    this.grants.revokeAccount(r.form?.get('token') ?? '');
    return { status: 200 };
  }

  // --- API ---------------------------------------------------------------

  /** [me] 401 example: {"success": false, "error": "unauthorized access", "errorCode": 401}. */
  private authorized(r: FakeRequest): FakeGrant | FakeReply {
    const token = /^Bearer (.+)$/i.exec(r.headers.authorization ?? '')?.[1];
    const verified = this.grants.verify(token);
    if (!verified || verified === 'expired')
      return {
        status: 401,
        body: { success: false, error: 'unauthorized access', errorCode: 401 },
      };
    return verified.grant;
  }

  /** [me] the user with its company. */
  private me(r: FakeRequest): FakeReply {
    const grant = this.authorized(r);
    if ('status' in grant) return grant;
    const [companyId, userId] = grant.account.split('/').map(Number);
    return {
      status: 200,
      body: {
        success: true,
        data: {
          id: userId,
          name: 'Me',
          email: 'me@pipedrive.example',
          company_id: companyId,
          company_name: 'Pipedrive',
          company_domain: 'pipedrive-12g53f',
          is_you: true,
        },
      },
      headers: rateLimitHeaders(),
    };
  }

  /**
   * [v2]/[paging] limit (default 100, at most 500), cursor, updated_since
   * ("later than or equal", RFC 3339), sort_by id|update_time|add_time,
   * sort_direction; `additional_data.next_cursor` is null at the end.
   */
  private list(r: FakeRequest): FakeReply {
    const grant = this.authorized(r);
    if ('status' in grant) return grant;
    if (!grant.scopes.includes('contacts:read'))
      return {
        status: 403,
        body: { success: false, error: 'Scope and URL mismatch', errorCode: 403 },
      };
    const q = r.url.searchParams;
    const limit = Number(q.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      return {
        status: 400,
        body: { success: false, error: 'limit must be at most 500', errorCode: 400 },
      };
    const sortBy = q.get('sort_by') ?? 'id';
    const since = q.get('updated_since');
    const key = (item: StoredItem) =>
      [sortBy === 'update_time' ? item.update_time : '', item.id] as const;
    const ordered = [...this.items[r.params[0] as PipedriveList].values()]
      // Deleted items are not listed (whether v2 lists soft-deleted ones is not documented).
      .filter(
        (item) => !item.is_deleted && (!since || Date.parse(item.update_time) >= Date.parse(since)),
      )
      .sort((a, b) => compareKeys(key(a), key(b)));
    const after = q.get('cursor')
      ? (JSON.parse(Buffer.from(q.get('cursor')!, 'base64url').toString()) as [string, number])
      : undefined;
    const rest = after ? ordered.filter((item) => compareKeys(key(item), after) > 0) : ordered;
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    const nextCursor =
      rest.length > limit && last
        ? Buffer.from(JSON.stringify(key(last))).toString('base64url')
        : null;
    return {
      status: 200,
      body: { success: true, data: page, additional_data: { next_cursor: nextCursor } },
      headers: rateLimitHeaders(),
    };
  }
}

function compareKeys(a: readonly [string, number], b: readonly [string, number]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1];
}

/** [codes] all token errors are 400; [sdk] `{"success":false,"message":…,"error":…}`. */
function tokenError(error: string, message: string): FakeReply {
  return { status: 400, body: { success: false, message, error } };
}

function sample(list: PipedriveList, id: number): { name: string; [field: string]: unknown } {
  if (list === 'organizations') {
    return {
      name: `Organization ${id}`,
      owner_id: 1,
      address: { value: `${id} Main St` },
      visible_to: 7,
    };
  }
  return {
    name: `Person ${id}`,
    first_name: 'Person',
    last_name: String(id),
    owner_id: 1,
    org_id: null,
    emails: [{ value: `p${id}@example.test`, primary: true, label: 'work' }],
    phones: [{ value: `+1555${id}`, primary: true, label: 'work' }],
    visible_to: 7,
  };
}

/** [limits] the documented per-2-second headers. */
function rateLimitHeaders(): Record<string, string> {
  return { 'x-ratelimit-limit': '80', 'x-ratelimit-remaining': '79', 'x-ratelimit-reset': '2' };
}
