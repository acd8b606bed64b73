import { randomBytes } from 'node:crypto';
import { type FakeGrant, FakeGrants } from './fake-grants.js';
import { type FakeReply, type FakeRequest, FakeServer } from './fake-server.js';

/**
 * Zoho CRM as its public documentation describes it, on loopback, with two
 * data centres (each an accounts server and an API domain): users start at
 * the US accounts server and come back with `location` and
 * `accounts-server`; codes and refresh tokens are only known to their own
 * data centre; token errors are HTTP 200 with a bare `error`.
 *
 * Sources (every fixture below cites one):
 * [authz]   https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html
 * [dc]      https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html and
 *           https://www.zoho.com/accounts/protocol/oauth/multi-dc/client-authorization.html
 * [token]   https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html,
 *           https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token-expiry.html
 * [refresh] https://www.zoho.com/assist/api/refresh-access-token.html (no refresh_token on refresh)
 * [dead]    https://zoho.com/developer/docs/vertical-solutions/api/v2/token-validity.html (`invalid_code`);
 *           HTTP 200: observed, github.com/Weble/ZohoBooksApi/issues/84, github.com/asciisd/zoho/issues/18
 * [revoke]  https://zoho.com/accounts/protocol/oauth/revoke-refresh-token.html
 * [org]     https://www.zoho.com/crm/developer/docs/api/v7/get-org-data.html
 * [users]   https://www.zoho.com/crm/developer/docs/api/v7/get-users.html
 * [records] https://www.zoho.com/crm/developer/docs/api/v7/get-records.html
 * [deleted] https://www.zoho.com/crm/developer/docs/api/v7/get-deleted-records.html
 * [status]  https://zoho.com/crm/developer/docs/api/v8/status-codes.html (204, 304)
 * [401]     observed, github.com/solspace/craft-freeform/issues/1372 (INVALID_TOKEN body)
 */

export type ZohoModule = 'Contacts' | 'Accounts';
export type DataCentre = 'us' | 'eu';

interface StoredRecord {
  id: string;
  Modified_Time: string;
  [field: string]: unknown;
}

interface Org {
  id: string;
  userId: string;
  records: Record<ZohoModule, Map<string, StoredRecord>>;
  deleted: Array<{ id: string; module: ZohoModule; deleted_time: string }>;
}

/** [records] "use the 'page' param to fetch up to 2000 records without 'page_token'". */
const DISCRETE_LIMIT = 2_000;

export class ZohoFake {
  readonly dcs: Record<DataCentre, { accounts: FakeServer; api: FakeServer; org: Org }>;
  readonly grants: Record<DataCentre, FakeGrants>;
  /** The data centre of the user who consents next. */
  consentIn: DataCentre = 'us';
  /** What the next redirect names as `accounts-server` (by default, the consenting user's). */
  accountsServerOverride?: string;
  private nextId = 5725767000000400000n;
  private clock = 0;
  private readonly pageTokens = new Map<string, { key: string; offset: number }>();

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    const dc = (orgId: string, userId: string) => ({
      accounts: new FakeServer(),
      api: new FakeServer(),
      org: {
        id: orgId,
        userId,
        records: { Contacts: new Map(), Accounts: new Map() },
        deleted: [],
      } as Org,
    });
    this.dcs = {
      us: dc('5725767000000020005', '5725767000000411001'),
      eu: dc('20071234000000020005', '20071234000000411001'),
    };
    const format = {
      access: () => `1000.${hex(16)}.${hex(16)}`,
      refresh: () => `1000.${hex(16)}.${hex(16)}`,
    };
    this.grants = { us: new FakeGrants(format), eu: new FakeGrants(format) };
    for (const name of ['us', 'eu'] as const) {
      this.dcs[name].accounts
        .route('GET', /^\/oauth\/v2\/auth$/, (r) => this.authorize(r))
        .route('POST', /^\/oauth\/v2\/token$/, (r) => this.token(name, r))
        .route('POST', /^\/oauth\/v2\/token\/revoke$/, (r) => this.revoke(name, r));
      this.dcs[name].api
        .route('GET', /^\/crm\/v8\/org$/, (r) => this.org(name, r))
        .route('GET', /^\/crm\/v8\/users$/, (r) => this.users(name, r))
        .route('GET', /^\/crm\/v8\/(Contacts|Accounts)\/deleted$/, (r) =>
          this.deletedRecords(name, r),
        )
        .route('GET', /^\/crm\/v8\/(Contacts|Accounts)$/, (r) => this.records(name, r));
    }
  }

  async start(): Promise<this> {
    for (const dc of Object.values(this.dcs)) {
      await dc.accounts.start();
      await dc.api.start();
    }
    return this;
  }

  async stop(): Promise<void> {
    for (const dc of Object.values(this.dcs))
      await Promise.all([dc.accounts.stop(), dc.api.stop()]);
  }

  /** [records] `Modified_Time` carries the user's offset, e.g. `2024-12-31T01:59:14-08:00`. */
  private tick(): string {
    this.clock = Math.max(this.clock + 1000, Date.now());
    return zoned(new Date(this.clock));
  }

  seed(dc: DataCentre, module: ZohoModule, count: number, from = '2026-01-01T00:00:00Z'): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = String((this.nextId += 1n));
      ids.push(id);
      this.dcs[dc].org.records[module].set(id, {
        ...sample(module, id),
        id,
        Modified_Time: zoned(new Date(Date.parse(from) + i * 60_000)),
      });
    }
    return ids;
  }

  update(dc: DataCentre, module: ZohoModule, id: string, fields: Record<string, unknown>): void {
    const records = this.dcs[dc].org.records[module];
    records.set(id, { ...records.get(id)!, ...fields, Modified_Time: this.tick() });
  }

  remove(dc: DataCentre, module: ZohoModule, id: string): void {
    this.dcs[dc].org.records[module].delete(id);
    this.dcs[dc].org.deleted.push({ id, module, deleted_time: this.tick() });
  }

  // --- Zoho Accounts --------------------------------------------------------

  /**
   * [authz] client_id, response_type=code, redirect_uri, scope, access_type,
   * prompt; [dc] `?code=…&location=eu&accounts-server=https://accounts.zoho.eu`.
   */
  private authorize(r: FakeRequest): FakeReply {
    const q = r.url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || q.get('response_type') !== 'code' || !redirect)
      return { status: 400, body: 'Invalid request' };
    const dc = this.consentIn;
    const offline = q.get('access_type') === 'offline';
    const code = this.grants[dc].issueCode(
      {
        account: `${this.dcs[dc].org.id}/${this.dcs[dc].org.userId}`,
        // Zoho's examples separate scopes with commas.
        scopes: (q.get('scope') ?? '')
          .split(',')
          .filter(Boolean)
          .concat(offline ? ['offline'] : []),
      },
      redirect,
    );
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    back.searchParams.set('location', dc);
    back.searchParams.set(
      'accounts-server',
      this.accountsServerOverride ?? this.dcs[dc].accounts.baseUrl,
    );
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    return { status: 302, headers: { location: back.href } };
  }

  /**
   * [token] parameters as a query string or a form body, client credentials
   * among them; [dead] failures answered HTTP 200 with a bare `error`.
   */
  private token(dc: DataCentre, r: FakeRequest): FakeReply {
    const p = new URLSearchParams([...r.url.searchParams, ...(r.form ?? [])]);
    if (p.get('client_id') !== this.clientId || p.get('client_secret') !== this.clientSecret)
      return { status: 200, body: { error: 'invalid_client' } };
    const grants = this.grants[dc];
    switch (p.get('grant_type')) {
      case 'authorization_code': {
        // A code is only known to the data centre that issued it.
        const grant = grants.redeem(p.get('code') ?? '', p.get('redirect_uri'), null);
        if (!grant) return { status: 200, body: { error: 'invalid_code' } };
        const offline = grant.scopes.includes('offline');
        return {
          status: 200,
          body: {
            access_token: grants.issueAccess(grant, 3600),
            ...(offline ? { refresh_token: grants.issueRefresh(grant) } : {}),
            api_domain: this.dcs[dc].api.baseUrl,
            token_type: 'Bearer',
            expires_in: 3600,
          },
        };
      }
      case 'refresh_token': {
        const grant = grants.grantOfRefresh(p.get('refresh_token') ?? '');
        if (!grant) return { status: 200, body: { error: 'invalid_code' } };
        grants.counters.refreshes += 1;
        // [refresh] no refresh_token in the answer.
        return {
          status: 200,
          body: {
            access_token: grants.issueAccess(grant, 3600),
            expires_in: 3600,
            api_domain: this.dcs[dc].api.baseUrl,
            token_type: 'Bearer',
          },
        };
      }
      default:
        return { status: 200, body: { error: 'unsupported_grant_type' } };
    }
  }

  /** [revoke] `token` (query or form): {"status":"success"}, or 400 for an unknown token. */
  private revoke(dc: DataCentre, r: FakeRequest): FakeReply {
    const token = r.url.searchParams.get('token') ?? r.form?.get('token') ?? '';
    return this.grants[dc].revoke(token)
      ? { status: 200, body: { status: 'success' } }
      : { status: 400, body: { status: 'failure', error: 'invalid token' } };
  }

  // --- CRM API ----------------------------------------------------------------

  /** "Authorization: Zoho-oauthtoken {access_token}"; [401] INVALID_TOKEN otherwise. */
  private authorized(dc: DataCentre, r: FakeRequest): FakeGrant | FakeReply {
    const token = /^Zoho-oauthtoken (.+)$/.exec(r.headers.authorization ?? '')?.[1];
    const verified = this.grants[dc].verify(token);
    if (!verified || verified === 'expired') {
      return {
        status: 401,
        body: {
          code: 'INVALID_TOKEN',
          details: {},
          message: 'invalid oauth token',
          status: 'error',
        },
      };
    }
    return verified.grant;
  }

  /** [org] `org` is an array of one. */
  private org(dc: DataCentre, r: FakeRequest): FakeReply {
    const grant = this.authorized(dc, r);
    if ('status' in grant) return grant;
    const org = this.dcs[dc].org;
    return {
      status: 200,
      body: {
        org: [
          { id: org.id, zgid: org.id.slice(-9), company_name: `Company ${dc}`, type: 'production' },
        ],
      },
    };
  }

  /** [users] `type=CurrentUser`. */
  private users(dc: DataCentre, r: FakeRequest): FakeReply {
    const grant = this.authorized(dc, r);
    if ('status' in grant) return grant;
    if (r.url.searchParams.get('type') !== 'CurrentUser') return badRequest('INVALID_DATA', 'type');
    return {
      status: 200,
      body: {
        users: [
          {
            id: this.dcs[dc].org.userId,
            email: `patricia+${dc}@zohotest.example`,
            full_name: 'Patricia Boyle',
            status: 'active',
          },
        ],
        info: { per_page: 200, count: 1, page: 1, more_records: false },
      },
    };
  }

  /**
   * [records] `fields` mandatory; `per_page` up to 200; `page` reaches the
   * first 2,000 records, `page_token` (from `info.next_page_token`) the
   * rest, never both; `If-Modified-Since` limits to later changes;
   * [status] 304 when nothing changed since, 204 for nothing at all.
   */
  private records(dc: DataCentre, r: FakeRequest): FakeReply {
    const grant = this.authorized(dc, r);
    if ('status' in grant) return grant;
    const q = r.url.searchParams;
    const module = r.params[0] as ZohoModule;
    if (!q.get('fields')) return badRequest('REQUIRED_PARAM_MISSING', 'fields');
    const perPage = Number(q.get('per_page') ?? 200);
    if (!(perPage >= 1 && perPage <= 200)) return badRequest('INVALID_DATA', 'per_page');
    if (q.has('page') && q.has('page_token'))
      return badRequest('AMBIGUITY_DURING_PROCESSING', 'page and page_token');
    const since = r.headers['if-modified-since'];
    const all = [...this.dcs[dc].org.records[module].values()].sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
    const matching =
      typeof since === 'string'
        ? all.filter((x) => Date.parse(x.Modified_Time) > Date.parse(since))
        : all;
    if (typeof since === 'string' && matching.length === 0) return { status: 304 };
    if (matching.length === 0) return { status: 204 };
    let offset: number;
    const token = q.get('page_token');
    if (token) {
      const stored = this.pageTokens.get(token);
      if (!stored) return badRequest('INVALID_DATA', 'page_token');
      offset = stored.offset;
    } else {
      const page = Number(q.get('page') ?? 1);
      offset = (page - 1) * perPage;
      if (offset + perPage > DISCRETE_LIMIT)
        return badRequest('DISCRETE_PAGINATION_LIMIT_EXCEEDED', 'page');
    }
    const slice = matching.slice(offset, offset + perPage);
    const more = offset + perPage < matching.length;
    const fields = q.get('fields')!.split(',');
    const next = more ? hex(8) : null;
    if (next) this.pageTokens.set(next, { key: `${dc}:${module}`, offset: offset + perPage });
    return {
      status: 200,
      body: {
        data: slice.map((x) => ({
          id: x.id,
          ...Object.fromEntries(fields.map((f) => [f, x[f] ?? null])),
        })),
        info: {
          per_page: perPage,
          count: slice.length,
          page: token ? null : Number(q.get('page') ?? 1),
          next_page_token: next,
          previous_page_token: null,
          page_token_expiry: next ? zoned(new Date(Date.now() + 86_400_000)) : null,
          sort_by: 'id',
          sort_order: 'asc',
          more_records: more,
        },
      },
    };
  }

  /** [deleted] `type=all|recycle|permanent`, pages of up to 200, `If-Modified-Since`; 204 when none. */
  private deletedRecords(dc: DataCentre, r: FakeRequest): FakeReply {
    const grant = this.authorized(dc, r);
    if ('status' in grant) return grant;
    const q = r.url.searchParams;
    if (!['all', 'recycle', 'permanent', null].includes(q.get('type')))
      return badRequest('PATTERN_NOT_MATCHED', 'type');
    const since = r.headers['if-modified-since'];
    const matching = this.dcs[dc].org.deleted.filter(
      (x) =>
        x.module === r.params[0] &&
        (typeof since !== 'string' || Date.parse(x.deleted_time) > Date.parse(since)),
    );
    const perPage = Number(q.get('per_page') ?? 200);
    const page = Number(q.get('page') ?? 1);
    const slice = matching.slice((page - 1) * perPage, page * perPage);
    if (slice.length === 0) return { status: 204 };
    return {
      status: 200,
      body: {
        data: slice.map((x) => ({
          deleted_by: null,
          id: x.id,
          display_name: null,
          type: 'recycle',
          created_by: null,
          deleted_time: x.deleted_time,
        })),
        info: {
          per_page: perPage,
          count: slice.length,
          page,
          more_records: page * perPage < matching.length,
        },
      },
    };
  }
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Zoho's times: ISO 8601 with the user's offset (here -08:00). */
function zoned(date: Date): string {
  const shifted = new Date(date.getTime() - 8 * 3_600_000);
  return `${shifted.toISOString().slice(0, 19)}-08:00`;
}

function sample(module: ZohoModule, id: string): Record<string, unknown> {
  if (module === 'Accounts')
    return {
      Account_Name: `Account ${id.slice(-4)}`,
      Website: `a${id.slice(-4)}.example.test`,
      Industry: 'Retail',
    };
  return {
    First_Name: 'Pat',
    Last_Name: `Contact ${id.slice(-5)}`,
    Email: `c${id.slice(-5)}@example.test`,
    Phone: null,
  };
}

/** The CRM error envelope {status, code, message, details}, HTTP 400. */
function badRequest(code: string, param: string): FakeReply {
  return {
    status: 400,
    body: { code, details: { param_name: param }, message: code.toLowerCase(), status: 'error' },
  };
}
