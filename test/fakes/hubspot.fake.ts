import { randomBytes, randomUUID } from 'node:crypto';
import { basicCredentials, FakeGrants } from './fake-grants.js';
import { type FakeReply, type FakeRequest, FakeServer } from './fake-server.js';

/**
 * HubSpot as its public documentation describes it, on loopback: OAuth v3
 * (form bodies with the client credentials in them), CRM v3 object lists
 * (cursor `after`, `paging.next`), CRM search (POST, filters, one sort, at
 * most 10,000 results per query), archived listings and their errors.
 *
 * Sources (every fixture below cites one):
 * [v3]     https://developers.hubspot.com/docs/api-reference/legacy/authentication/manage-oauth-tokens
 * [hubid]  https://developers.hubspot.com/changelog/additional-details-returned-when-generating-oauth-access-tokens
 * [errors] https://developers.hubspot.com/changelog/new-oauth-v3-api-endpoints-and-standardized-error-responses
 * [oauth]  https://developers.hubspot.com/docs/apps/legacy-apps/authentication/working-with-oauth
 * [quick]  https://developers.hubspot.com/docs/apps/legacy-apps/authentication/oauth-quickstart-guide
 * [list]   https://developers.hubspot.com/docs/api/crm/contacts and HubSpot's OpenAPI
 *          (github.com/HubSpot/HubSpot-public-api-spec-collection, CRM/Contacts v3)
 * [search] https://developers.hubspot.com/docs/api-reference/search/guide
 * [limits] https://developers.hubspot.com/docs/api/usage-details
 * [401]    observed bodies, not in HubSpot's docs: github.com/airbytehq/airbyte/issues/74726,
 *          github.com/HubSpot/hubspot-api-nodejs/issues/148
 * [badid]  observed, not in HubSpot's docs (BAD_CLIENT_ID body): third-party reports quoted in
 *          the research notes of this change
 */

export type HubSpotObject = 'contacts' | 'companies' | 'deals';

interface StoredObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** [search] default properties table: contacts use `lastmodifieddate`, the others `hs_lastmodifieddate`. */
export const MODIFIED: Record<HubSpotObject, string> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};
const SCOPE: Record<HubSpotObject, string> = {
  contacts: 'crm.objects.contacts.read',
  companies: 'crm.objects.companies.read',
  deals: 'crm.objects.deals.read',
};
/** [search] "limited to 10,000 total results for any given query". */
export const SEARCH_WINDOW = 10_000;
const ACCESS_LIFETIME = 1800; // [v3] "Access tokens are short-lived (30 minutes)"

export class HubSpotFake {
  readonly server = new FakeServer();
  readonly grants = new FakeGrants({
    access: () => `CIrToaiiMhIH${randomBytes(24).toString('base64url')}`,
    refresh: () => `na1-${randomUUID()}`,
  });
  readonly objects: Record<HubSpotObject, Map<string, StoredObject>> = {
    contacts: new Map(),
    companies: new Map(),
    deals: new Map(),
  };
  /** Who consents next: the portal (hub id) and the scopes granted. */
  consent = { hubId: 62515, grantOnly: undefined as string[] | undefined };
  private nextId = 1000;
  private clock = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.server
      .route('GET', /^\/oauth\/authorize$/, (r) => this.authorize(r))
      .route('POST', /^\/oauth\/v3\/token$/, (r) => this.token(r))
      .route('POST', /^\/oauth\/v3\/token\/revoke$/, (r) => this.revoke(r))
      .route('GET', /^\/crm\/v3\/objects\/(contacts|companies|deals)$/, (r) => this.list(r))
      .route('POST', /^\/crm\/v3\/objects\/(contacts|companies|deals)\/search$/, (r) =>
        this.search(r),
      );
  }

  get baseUrl(): string {
    return this.server.baseUrl;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** A strictly increasing modification time (ms), so a change is never missed by `GTE`. */
  private tick(): string {
    this.clock = Math.max(this.clock + 1, Date.now());
    return new Date(this.clock).toISOString();
  }

  /** `count` objects modified from `from` on, one every `stepMs` (distinct times, as in a real portal). */
  seed(
    type: HubSpotObject,
    count: number,
    from = '2026-01-01T00:00:00.000Z',
    stepMs = 60_000,
  ): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const at = new Date(Date.parse(from) + i * stepMs).toISOString();
      const id = String((this.nextId += 1));
      ids.push(id);
      this.objects[type].set(id, {
        id,
        properties: { ...sample(type, id), createdate: at, [MODIFIED[type]]: at, hs_object_id: id },
        createdAt: at,
        updatedAt: at,
        archived: false,
      });
    }
    return ids;
  }

  update(type: HubSpotObject, id: string, properties: Record<string, string>): void {
    const object = this.objects[type].get(id)!;
    const at = this.tick();
    object.properties = { ...object.properties, ...properties, [MODIFIED[type]]: at };
    object.updatedAt = at;
  }

  archive(type: HubSpotObject, id: string): void {
    const object = this.objects[type].get(id)!;
    const at = this.tick();
    object.archived = true;
    object.archivedAt = at;
    object.updatedAt = at;
  }

  // --- OAuth -------------------------------------------------------------

  /** [quick] client_id, scope (space-separated), redirect_uri, state; [oauth] `?code=…`. */
  private authorize(r: FakeRequest): FakeReply {
    const q = r.url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || !redirect)
      return { status: 400, body: 'bad request' };
    const requested = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const code = this.grants.issueCode(
      {
        account: String(this.consent.hubId),
        scopes: this.consent.grantOnly ?? requested,
      },
      redirect,
      q.get('code_challenge') ?? undefined,
    );
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    return { status: 302, headers: { location: back.href } };
  }

  /**
   * [v3] form body with client_id and client_secret in it ("parameters are
   * included in the request body"); [hubid] the answer carries hub_id and a
   * scopes array; [errors] RFC 6749 errors with HubSpot's legacy status/message.
   */
  private token(r: FakeRequest): FakeReply {
    const form = r.form;
    if (!form) return { status: 415, body: hubspotError('VALIDATION_ERROR', 'form body required') };
    const id = form.get('client_id');
    if (!id) {
      // [v3] "Each of the v3 endpoints require that parameters are included in
      // the request body": a client that authenticates with HTTP Basic sends no
      // client_id there. HubSpot documents no Basic support; the body of this
      // refusal is the observed one [badid].
      const basic = basicCredentials(r.headers.authorization);
      return {
        status: 400,
        body: {
          status: 'BAD_CLIENT_ID',
          message: 'missing or unknown client id',
          error: 'invalid_request',
          error_description: basic ? 'missing or unknown client id' : 'missing client id',
        },
      };
    }
    if (id !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return {
        status: 400,
        body: rfcError('invalid_client', 'BAD_CLIENT_SECRET', 'invalid client credentials'),
      };
    }
    if (form.get('grant_type') === 'authorization_code') {
      const grant = this.grants.redeem(
        form.get('code') ?? '',
        form.get('redirect_uri'),
        form.get('code_verifier'),
      );
      if (!grant)
        return {
          status: 400,
          body: rfcError('invalid_grant', 'BAD_AUTH_CODE', 'missing or unknown auth code'),
        };
      return { status: 200, body: this.tokenResponse(grant, this.grants.issueRefresh(grant)) };
    }
    if (form.get('grant_type') === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      const grant = this.grants.grantOfRefresh(refreshToken);
      if (!grant) {
        // [v3]/[errors] verbatim.
        return {
          status: 400,
          body: rfcError(
            'invalid_grant',
            'BAD_REFRESH_TOKEN',
            'refresh token is invalid, expired or revoked',
          ),
        };
      }
      this.grants.counters.refreshes += 1;
      // HubSpot documents no refresh token rotation: the refresh token is the
      // app's "long-term authentication credential" [v3]; it is returned again.
      return { status: 200, body: this.tokenResponse(grant, refreshToken) };
    }
    return {
      status: 400,
      body: rfcError('unsupported_grant_type', 'BAD_GRANT_TYPE', 'unsupported grant type'),
    };
  }

  /** [v3] authorization_code response, verbatim shape. */
  private tokenResponse(grant: { account: string; scopes: string[] }, refreshToken: string) {
    return {
      token_type: 'bearer',
      refresh_token: refreshToken,
      access_token: this.grants.issueAccess(grant as never, ACCESS_LIFETIME),
      hub_id: Number(grant.account),
      scopes: grant.scopes,
      expires_in: ACCESS_LIFETIME,
    };
  }

  /**
   * [v3] POST /oauth/v3/token/revoke with client_id, client_secret, token and
   * token_type_hint in the body. HubSpot documents no success status; RFC 7009 §2.2 says 200.
   */
  private revoke(r: FakeRequest): FakeReply {
    const form = r.form;
    if (form?.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
      return {
        status: 400,
        body: rfcError('invalid_client', 'BAD_CLIENT_SECRET', 'invalid client credentials'),
      };
    this.grants.revoke(form.get('token') ?? '');
    return { status: 200 };
  }

  // --- CRM ---------------------------------------------------------------

  private authorized(r: FakeRequest, type: HubSpotObject): FakeReply | undefined {
    const token = /^Bearer (.+)$/i.exec(r.headers.authorization ?? '')?.[1];
    const verified = this.grants.verify(token);
    if (verified === 'expired') {
      // [401] verbatim shape, observed.
      return {
        status: 401,
        body: {
          status: 'error',
          message: 'The OAuth token used to make this call expired 0 second(s) ago.',
          correlationId: randomUUID(),
          category: 'EXPIRED_AUTHENTICATION',
          context: { 'expire time': [new Date().toISOString()] },
        },
      };
    }
    if (!verified) {
      return {
        status: 401,
        body: {
          status: 'error',
          message: 'Authentication credentials not found.',
          correlationId: randomUUID(),
          category: 'INVALID_AUTHENTICATION',
        },
      };
    }
    if (!verified.grant.scopes.includes(SCOPE[type]))
      return { status: 403, body: hubspotError('MISSING_SCOPES', 'missing scopes') };
    return undefined;
  }

  /**
   * [list] limit (default 10, "up to 100"), after (the id of the next record),
   * properties (comma-separated), archived (default false); `paging` is
   * absent on the last page.
   */
  private list(r: FakeRequest): FakeReply {
    const type = r.params[0] as HubSpotObject;
    const refused = this.authorized(r, type);
    if (refused) return refused;
    const q = r.url.searchParams;
    const limit = Math.min(Number(q.get('limit') ?? 10) || 10, 100);
    const archived = q.get('archived') === 'true';
    const after = q.get('after');
    const all = [...this.objects[type].values()]
      .filter((o) => o.archived === archived)
      .sort((a, b) => Number(a.id) - Number(b.id));
    const start = after ? all.findIndex((o) => Number(o.id) >= Number(after)) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const next = start < 0 ? undefined : all[start + limit];
    const properties = (q.get('properties') ?? '').split(',').filter(Boolean);
    const body: Record<string, unknown> = { results: page.map((o) => view(o, properties)) };
    if (next) {
      body.paging = {
        next: { after: next.id, link: `${this.baseUrl}${r.url.pathname}?after=${next.id}` },
      };
    }
    return { status: 200, body, headers: rateLimitHeaders() };
  }

  /**
   * [search] filterGroups (AND within, OR across), one sort, limit up to 200,
   * `after` an integer offset; "Archived CRM objects won't appear"; paging past
   * 10,000 results is a 400; search answers carry no rate-limit headers.
   */
  private search(r: FakeRequest): FakeReply {
    const type = r.params[0] as HubSpotObject;
    const refused = this.authorized(r, type);
    if (refused) return refused;
    const body = (r.json ?? {}) as SearchBody;
    const limit = Math.min(body.limit ?? 10, 200);
    const after = Number(body.after ?? 0);
    if (!Number.isInteger(after))
      return { status: 400, body: hubspotError('VALIDATION_ERROR', 'after must be an integer') };
    if (after >= SEARCH_WINDOW) {
      return {
        status: 400,
        body: hubspotError('VALIDATION_ERROR', 'Cannot page beyond 10000 results'),
      };
    }
    const sort = body.sorts?.[0];
    const matches = [...this.objects[type].values()]
      .filter((o) => !o.archived && matchesGroups(o, body.filterGroups))
      .sort((a, b) => compare(a, b, sort));
    const page = matches.slice(after, after + limit);
    const result: Record<string, unknown> = {
      total: matches.length,
      results: page.map((o) => view(o, body.properties ?? [])),
    };
    if (after + limit < matches.length) result.paging = { next: { after: String(after + limit) } };
    return { status: 200, body: result };
  }
}

interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: string;
}
interface SearchBody {
  filterGroups?: Array<{ filters: SearchFilter[] }>;
  sorts?: Array<{ propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }>;
  properties?: string[];
  limit?: number;
  after?: string;
}

function matchesGroups(o: StoredObject, groups: SearchBody['filterGroups']): boolean {
  if (!groups?.length) return true;
  return groups.some((group) => group.filters.every((filter) => matches(o, filter)));
}

/** Date properties compare as instants; [search] values are epoch milliseconds. */
function matches(o: StoredObject, filter: SearchFilter): boolean {
  const actual = Date.parse(o.properties[filter.propertyName] ?? '');
  const wanted = /^\d+$/.test(filter.value ?? '')
    ? Number(filter.value)
    : Date.parse(filter.value ?? '');
  switch (filter.operator) {
    case 'GT':
      return actual > wanted;
    case 'GTE':
      return actual >= wanted;
    case 'LT':
      return actual < wanted;
    case 'LTE':
      return actual <= wanted;
    case 'EQ':
      return actual === wanted;
    default:
      return false;
  }
}

type SearchSort = NonNullable<SearchBody['sorts']>[number];

function compare(a: StoredObject, b: StoredObject, sort: SearchSort | undefined): number {
  // [search] without a sort: "in order of object creation (oldest first)".
  if (!sort) return Number(a.id) - Number(b.id);
  const left = Date.parse(a.properties[sort.propertyName] ?? '') || 0;
  const right = Date.parse(b.properties[sort.propertyName] ?? '') || 0;
  const order = left - right || Number(a.id) - Number(b.id);
  return sort.direction === 'DESCENDING' ? -order : order;
}

/** [list] an object as the API shows it: only requested properties (plus hs_object_id). */
function view(o: StoredObject, properties: string[]) {
  const wanted = properties.length ? [...properties, 'hs_object_id'] : Object.keys(o.properties);
  return {
    id: o.id,
    properties: Object.fromEntries(wanted.map((name) => [name, o.properties[name] ?? null])),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    archived: o.archived,
    ...(o.archivedAt ? { archivedAt: o.archivedAt } : {}),
  };
}

function sample(type: HubSpotObject, id: string): Record<string, string> {
  switch (type) {
    case 'contacts':
      return { firstname: `First${id}`, lastname: `Last${id}`, email: `c${id}@example.test` };
    case 'companies':
      return { name: `Company ${id}`, domain: `company${id}.example.test` };
    case 'deals':
      return {
        dealname: `Deal ${id}`,
        amount: String(Number(id) % 997),
        dealstage: 'appointmentscheduled',
      };
  }
}

/** [errors] RFC 6749 body with HubSpot's legacy fields. */
function rfcError(error: string, status: string, message: string) {
  return { error, error_description: message, status, message };
}

/** The generic HubSpot error schema (OpenAPI `Error`). */
function hubspotError(category: string, message: string) {
  return { status: 'error', message, correlationId: randomUUID(), category };
}

/** [limits] OAuth apps: 110 requests per 10 seconds per account (older docs: 100). */
function rateLimitHeaders(): Record<string, string> {
  return {
    'X-HubSpot-RateLimit-Interval-Milliseconds': '10000',
    'X-HubSpot-RateLimit-Max': '110',
    'X-HubSpot-RateLimit-Remaining': '109',
  };
}
