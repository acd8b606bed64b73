import { createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { type FakeGrant, FakeGrants } from './fake-grants.js';
import { type FakeReply, type FakeRequest, FakeServer } from './fake-server.js';

/**
 * Microsoft as its public documentation describes it, on loopback: the
 * identity platform v2.0 (tenants in the path, PKCE, ID tokens issued per
 * tenant, refresh tokens that replace themselves, no revocation), Graph
 * contacts by delta (`@odata.nextLink`, `@odata.deltaLink`, `@removed`), and
 * a Dataverse (Dynamics 365) organisation with OData paging.
 *
 * Sources (every fixture below cites one):
 * [code]     https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
 * [graph]    https://learn.microsoft.com/en-us/graph/auth-v2-user (short scope names, ext_expires_in)
 * [claims]   https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference
 * [refresh]  https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens
 * [errors]   https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes; statuses
 *            observed: github.com/Azure/azure-cli/issues/14244 (400 invalid_grant),
 *            github.com/dotnet/AspNetCore.Docs/issues/22325 (401 invalid_client)
 * [delta]    https://learn.microsoft.com/en-us/graph/api/contact-delta and
 *            https://learn.microsoft.com/en-us/graph/delta-query-overview (@removed, 410)
 * [g401]     observed: github.com/besscroft/diyfile/issues/1 (InvalidAuthenticationToken)
 * [dv]       https://learn.microsoft.com/en-us/power-apps/developer/data-platform/webapi/query/page-results,
 *            https://learn.microsoft.com/en-us/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
 */

export interface MicrosoftUser {
  tid: string;
  oid: string;
  name: string;
  username: string;
}

interface Contact {
  id: string;
  version: number;
  deleted: boolean;
  displayName: string;
  email: string;
  lastModifiedDateTime: string;
}

interface Row {
  id: string;
  modifiedon: string;
  [column: string]: unknown;
}

export class MicrosoftFake {
  readonly login = new FakeServer();
  readonly graph = new FakeServer();
  readonly dynamics = new FakeServer();
  readonly grants = new FakeGrants({
    access: () => `eyJ0eXAiOiJKV1Qi.${randomBytes(32).toString('base64url')}`,
    refresh: () => `0.AXYA${randomBytes(40).toString('base64url')}`,
  });
  /** Refresh tokens already replaced: [refresh] "replace themselves … Securely delete the old one". */
  readonly replaced = new Set<string>();
  readonly users = new Map<string, MicrosoftUser>();
  readonly contacts = new Map<string, Contact>();
  readonly dataverse: Record<'contacts' | 'accounts', Map<string, Row>> = {
    contacts: new Map(),
    accounts: new Map(),
  };
  consentAs = '';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly codeTenants = new Map<string, string>();
  private version = 0;
  private deltaEpoch = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.login
      .route('GET', /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/, (r) => this.authorize(r))
      .route('POST', /^\/([^/]+)\/oauth2\/v2\.0\/token$/, (r) => this.token(r));
    this.graph.route('GET', /^\/v1\.0\/me\/contacts\/delta$/, (r) => this.delta(r));
    this.dynamics.route('GET', /^\/api\/data\/v9\.2\/(contacts|accounts)$/, (r) => this.table(r));
  }

  async start(): Promise<this> {
    await this.login.start();
    await this.graph.start();
    await this.dynamics.start();
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([this.login.stop(), this.graph.stop(), this.dynamics.stop()]);
  }

  addUser(user: MicrosoftUser): void {
    this.users.set(user.oid, user);
    this.consentAs ||= user.oid;
  }

  seedContacts(count: number): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = `AAMkAGI2TH${randomBytes(6).toString('hex')}=`;
      ids.push(id);
      this.contacts.set(id, {
        id,
        version: (this.version += 1),
        deleted: false,
        displayName: `Contact ${i}`,
        email: `contact${i}@example.test`,
        lastModifiedDateTime:
          new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().slice(0, 19) + 'Z',
      });
    }
    return ids;
  }

  updateContact(id: string, fields: Partial<Contact>): void {
    Object.assign(this.contacts.get(id)!, fields, {
      version: (this.version += 1),
      lastModifiedDateTime: new Date().toISOString().slice(0, 19) + 'Z',
    });
  }

  /** Delta tokens expire (Outlook: "depend on cache size"): every one handed out so far. */
  expireDeltaTokens(): void {
    this.deltaEpoch += 1;
  }

  seedRows(table: 'contacts' | 'accounts', count: number): void {
    for (let i = 0; i < count; i += 1) {
      const id = randomUUID();
      const modifiedon =
        new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().slice(0, 19) + 'Z';
      this.dataverse[table].set(
        id,
        table === 'contacts'
          ? {
              id,
              fullname: `Yvonne ${i}`,
              firstname: 'Yvonne',
              lastname: String(i),
              emailaddress1: `y${i}@example.test`,
              telephone1: null,
              modifiedon,
            }
          : {
              id,
              name: `Account ${i}`,
              websiteurl: `a${i}.example.test`,
              telephone1: null,
              address1_city: 'Redmond',
              modifiedon,
            },
      );
    }
  }

  updateRow(table: 'contacts' | 'accounts', id: string, fields: Record<string, unknown>): void {
    Object.assign(this.dataverse[table].get(id)!, fields, {
      modifiedon: new Date().toISOString().slice(0, 19) + 'Z',
    });
  }

  // --- identity platform ---------------------------------------------------

  /** [code] client_id, response_type=code, redirect_uri, scope, response_mode, state, code_challenge. */
  private authorize(r: FakeRequest): FakeReply {
    const q = r.url.searchParams;
    const redirect = q.get('redirect_uri');
    const user = this.users.get(this.consentAs)!;
    const tenant = r.params[0]!;
    if (q.get('client_id') !== this.clientId || q.get('response_type') !== 'code' || !redirect)
      return { status: 400, body: 'AADSTS900144' };
    // A tenant-specific authority signs in that tenant's users only.
    if (!['common', 'organizations'].includes(tenant) && tenant !== user.tid)
      return redirectError(redirect, q.get('state'), 'access_denied');
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const code = this.grants.issueCode(
      { account: user.oid, scopes },
      redirect,
      q.get('code_challenge') ?? undefined,
    );
    this.codeTenants.set(code, user.tid);
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    back.searchParams.set('session_state', randomUUID());
    return { status: 302, headers: { location: back.href } };
  }

  /**
   * [code] form body, client_secret in it (Basic also supported), PKCE
   * verifier; answers with short Graph scope names and ext_expires_in
   * ([graph]), a refresh token with offline_access, an ID token with
   * openid; [refresh] a new refresh token on every refresh; [errors].
   */
  private token(r: FakeRequest): FakeReply {
    const form = r.form;
    if (!form) return aadError(400, 'invalid_request', 900144);
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
      return aadError(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    if (form.get('grant_type') === 'authorization_code') {
      const grant = this.grants.redeem(
        form.get('code') ?? '',
        form.get('redirect_uri'),
        form.get('code_verifier'),
      );
      if (!grant)
        return aadError(
          400,
          'invalid_grant',
          54005,
          'OAuth2 Authorization code was already redeemed.',
        );
      return { status: 200, body: this.answer(grant) };
    }
    if (form.get('grant_type') === 'refresh_token') {
      const used = form.get('refresh_token') ?? '';
      if (this.replaced.has(used)) this.grants.counters.staleRefreshTokens += 1;
      const grant = this.grants.grantOfRefresh(used);
      if (!grant)
        return aadError(
          400,
          'invalid_grant',
          700082,
          'The refresh token has expired due to inactivity.',
        );
      this.grants.counters.refreshes += 1;
      // "doesn't revoke old refresh tokens when used": the old one still works, but is replaced.
      this.replaced.add(used);
      return { status: 200, body: this.answer(grant) };
    }
    return aadError(400, 'unsupported_grant_type', 70003);
  }

  private answer(grant: FakeGrant) {
    // A `<resource>/.default` request is granted as the permissions consented for it
    // (for a Dataverse organisation: user_impersonation).
    const granted = grant.scopes
      .filter((s) => s !== 'offline_access' && s !== 'openid')
      .map((s) => s.replace(/\/\.default$/, '/user_impersonation'));
    const answer: Record<string, unknown> = {
      token_type: 'Bearer',
      // [graph] "Mail.Read User.Read": short names, no offline_access.
      scope: granted.map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//i, '')).join(' '),
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: this.grants.issueAccess(grant, 3599),
    };
    if (grant.scopes.includes('offline_access'))
      answer.refresh_token = this.grants.issueRefresh(grant);
    if (grant.scopes.includes('openid'))
      answer.id_token = this.idToken(grant.account, grant.scopes.includes('profile'));
    return answer;
  }

  /**
   * [claims] iss per tenant (v2.0), aud, tid, sub (pairwise); oid, name and
   * preferred_username only with `profile` ("the profile scope is required to receive this claim").
   */
  private idToken(oid: string, profile: boolean): string {
    const user = this.users.get(oid)!;
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid: 'fake' };
    const payload = {
      aud: this.clientId,
      iss: `${this.login.baseUrl}/${user.tid}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      ...(profile ? { name: user.name, oid: user.oid, preferred_username: user.username } : {}),
      sub: `pairwise-${user.oid.slice(0, 8)}`,
      tid: user.tid,
      ver: '2.0',
    };
    const body = `${b64(header)}.${b64(payload)}`;
    return `${body}.${createSign('RSA-SHA256').update(body).sign(this.keys.privateKey).toString('base64url')}`;
  }

  // --- Graph ---------------------------------------------------------------

  private graphUser(r: FakeRequest): FakeGrant | FakeReply {
    const token = /^Bearer (.+)$/i.exec(r.headers.authorization ?? '')?.[1];
    const verified = this.grants.verify(token);
    if (!verified || verified === 'expired') {
      return {
        status: 401,
        body: {
          error: {
            code: 'InvalidAuthenticationToken',
            message: 'Access token has expired or is not yet valid.',
            innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': randomUUID() },
          },
        },
      };
    }
    return verified.grant;
  }

  /**
   * [delta] first round: everything, `@odata.nextLink` ($skiptoken) pages
   * and a final `@odata.deltaLink` ($deltatoken); with the delta token, only
   * changes, deletions as `@removed`; an expired token is 410 Gone.
   */
  private delta(r: FakeRequest): FakeReply {
    const grant = this.graphUser(r);
    if ('status' in grant) return grant;
    if (!grant.scopes.some((s) => /contacts\.read/i.test(s)))
      return {
        status: 403,
        body: { error: { code: 'ErrorAccessDenied', message: 'Access is denied.' } },
      };
    const q = r.url.searchParams;
    const size = Number(
      /odata\.maxpagesize=(\d+)/.exec(String(r.headers.prefer ?? ''))?.[1] ?? 100,
    );
    let since = -1;
    const delta = q.get('$deltatoken');
    if (delta) {
      const [epoch, version] = delta.split('.').map(Number);
      if (epoch !== this.deltaEpoch)
        return {
          status: 410,
          body: { error: { code: 'syncStateNotFound', message: 'The sync state is not found.' } },
        };
      since = version!;
    }
    const skip = q.get('$skiptoken');
    if (skip) since = Number(skip.split('.')[0]);
    const offset = skip ? Number(skip.split('.')[1]) : 0;
    const changed = [...this.contacts.values()]
      .filter((c) => (since < 0 ? !c.deleted : c.version > since))
      .sort((a, b) => a.version - b.version);
    const page = changed.slice(offset, offset + size);
    const base = `${this.graph.baseUrl}/v1.0/me/contacts/delta`;
    const select = q.get('$select');
    const body: Record<string, unknown> = {
      '@odata.context': `${this.graph.baseUrl}/v1.0/$metadata#Collection(contact)`,
      value: page.map((c) => view(c, select)),
    };
    if (offset + size < changed.length)
      body['@odata.nextLink'] = `${base}?$skiptoken=${since}.${offset + size}`;
    else body['@odata.deltaLink'] = `${base}?$deltatoken=${this.deltaEpoch}.${this.version}`;
    return { status: 200, body };
  }

  // --- Dataverse -------------------------------------------------------------

  /**
   * [dv] OData headers, `Prefer: odata.maxpagesize` (at most 5,000),
   * `@odata.nextLink` with a paging cookie, `$select`, `$filter` on
   * `modifiedon`, `$orderby`.
   */
  private table(r: FakeRequest): FakeReply {
    const grant = this.graphUser(r);
    if ('status' in grant) return grant;
    if (r.headers['odata-version'] !== '4.0' || r.headers['odata-maxversion'] !== '4.0')
      return {
        status: 400,
        body: { error: { code: '0x80060888', message: 'OData-Version headers are required.' } },
      };
    const table = r.params[0] as 'contacts' | 'accounts';
    const q = r.url.searchParams;
    const size = Number(
      /odata\.maxpagesize=(\d+)/.exec(String(r.headers.prefer ?? ''))?.[1] ?? 5000,
    );
    if (size > 5000)
      return {
        status: 400,
        body: { error: { code: '0x80060888', message: 'page size over 5000' } },
      };
    const filter = /^modifiedon gt (\S+)$/.exec(q.get('$filter') ?? '');
    const rows = [...this.dataverse[table].values()]
      .filter((row) => !filter || Date.parse(row.modifiedon) > Date.parse(filter[1]!))
      .sort(
        (a, b) =>
          (q.get('$orderby') ? a.modifiedon.localeCompare(b.modifiedon) : 0) ||
          a.id.localeCompare(b.id),
      );
    const page = Number(/pagenumber="(\d+)"/.exec(q.get('$skiptoken') ?? '')?.[1] ?? 1);
    const slice = rows.slice((page - 1) * size, page * size);
    const key = table === 'contacts' ? 'contactid' : 'accountid';
    const select = (q.get('$select') ?? '').split(',').filter(Boolean);
    const body: Record<string, unknown> = {
      '@odata.context': `${this.dynamics.baseUrl}/api/data/v9.2/$metadata#${table}(${select.join(',')})`,
      value: slice.map((row) => ({
        '@odata.etag': `W/"${Date.parse(row.modifiedon)}"`,
        ...Object.fromEntries(select.map((c) => [c, row[c] ?? null])),
        [key]: row.id,
      })),
    };
    if (page * size < rows.length) {
      const next = new URL(r.url.pathname, this.dynamics.baseUrl);
      for (const [name, value] of q) if (name !== '$skiptoken') next.searchParams.set(name, value);
      next.searchParams.set('$skiptoken', `<cookie pagenumber="${page + 1}" istracking="False" />`);
      body['@odata.nextLink'] = next.href;
    }
    return {
      status: 200,
      body,
      headers: { 'OData-Version': '4.0', 'Preference-Applied': `odata.maxpagesize=${size}` },
    };
  }
}

function view(c: Contact, select: string | null) {
  if (c.deleted) return { id: c.id, '@removed': { reason: 'deleted' } };
  const all: Record<string, unknown> = {
    displayName: c.displayName,
    givenName: c.displayName.split(' ')[0],
    surname: c.displayName.split(' ')[1] ?? null,
    emailAddresses: [{ name: c.displayName, address: c.email }],
    businessPhones: [],
    mobilePhone: null,
    companyName: null,
    lastModifiedDateTime: c.lastModifiedDateTime,
  };
  const wanted = select ? select.split(',') : Object.keys(all);
  return { id: c.id, ...Object.fromEntries(wanted.map((k) => [k, all[k] ?? null])) };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** [errors] the AADSTS error shape. */
function aadError(status: number, error: string, code: number, text = 'Error.'): FakeReply {
  const trace = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${trace}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: trace,
    },
  };
}

function redirectError(redirect: string, state: string | null, error: string): FakeReply {
  const back = new URL(redirect);
  back.searchParams.set('error', error);
  if (state) back.searchParams.set('state', state);
  return { status: 302, headers: { location: back.href } };
}
