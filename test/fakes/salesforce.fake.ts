import { randomBytes } from 'node:crypto';
import { basicCredentials, type FakeGrant, FakeGrants } from './fake-grants.js';
import { type FakeReply, type FakeRequest, FakeServer } from './fake-server.js';

/**
 * Salesforce as its public documentation describes it, on loopback: a login
 * host (web server flow with PKCE, token answers without `expires_in` but
 * with `instance_url` and the identity URL `id`, revocation) and instance
 * hosts (REST query and queryAll with `nextRecordsUrl` pages). Sessions
 * expire; refresh tokens rotate only if the app says so (off by default).
 *
 * Sources (every fixture below cites one):
 * [flow]    https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
 * [pkce]    https://developer.salesforce.com/docs/atlas.ja-jp.224.0.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm
 * [refresh] https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_refresh_token_flow.htm and
 *           https://developer.salesforce.com/docs/atlas.en-us.198.0.api_rest.meta/api_rest/intro_understanding_refresh_token_oauth.htm
 * [basic]   https://developer.salesforce.com/docs/atlas.en-us.218.0.api_rest.meta/api_rest/intro_understanding_refresh_token_oauth.htm
 * [errors]  https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm
 * [client]  observed, not in Salesforce's docs: github.com/restforce/restforce/issues/338
 * [revoke]  https://developer.salesforce.com/docs/platform/mobile-sdk/guide/oauth-revoking-tokens.html
 * [identity] https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_openid.htm
 * [query]   https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query and
 *           https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
 * [queryall] https://developer.salesforce.com/docs/platform/api-rest/guide/resources-queryall.md
 * [dates]   https://developer.salesforce.com/docs/atlas.en-us.218.0.api_rest.meta/api_rest/headers_api_usage.htm
 *           (`2013-05-20T20:49:32.000+0000`, `Sforce-Limit-Info`) and the SOQL date literal formats,
 *           https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
 * [locator] https://help.salesforce.com/apex/HTViewSolution?id=000004410 (INVALID_QUERY_LOCATOR for an
 *           invalid or expired locator; the REST error envelope `[{message, errorCode}]` as [session])
 * [session] observed, not in Salesforce's docs: github.com/jstanden/cerb/issues/836
 *           (`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
 */

export type SObject = 'Contact' | 'Account';

interface StoredRecord {
  Id: string;
  SystemModstamp: string;
  IsDeleted: boolean;
  [field: string]: unknown;
}

interface Cursor {
  records: StoredRecord[];
  columns: string[];
  object: SObject;
  offset: number;
}

/** [query] "up to 2,000 records can be returned at a time". */
const BATCH = 2_000;
const ORG_ID = '00DB0000000TfcRMAS';
const USER_ID = '005B0000005Bk90IAC';

export class SalesforceFake {
  /** login.salesforce.com: authorize, token, revoke. */
  readonly login = new FakeServer();
  /** Instance hosts (a refresh may name another one): REST. */
  readonly instances: FakeServer[] = [];
  readonly grants = new FakeGrants({
    // [flow] "00DB0000000TfcR!AQQAQFhoK8vTMg_rKA.esrJ2bCs…"
    access: () => `${ORG_ID.slice(0, 15)}!${randomBytes(36).toString('base64url')}`,
    refresh: () => `5Aep861${randomBytes(30).toString('base64url')}`,
  });
  readonly records: Record<SObject, Map<string, StoredRecord>> = {
    Contact: new Map(),
    Account: new Map(),
  };
  /** What token answers name as `instance_url` (the first instance host unless changed). */
  instanceUrl = '';
  /** [refresh] "enable refresh token rotation on your connected app": off unless set. */
  rotateRefreshTokens = false;
  private readonly cursors = new Map<string, Cursor>();
  private nextId = 1;
  private clock = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.login
      .route('GET', /^\/services\/oauth2\/authorize$/, (r) => this.authorize(r))
      .route('POST', /^\/services\/oauth2\/token$/, (r) => this.token(r))
      .route('POST', /^\/services\/oauth2\/revoke$/, (r) => this.revoke(r));
  }

  async start(): Promise<this> {
    await this.login.start();
    this.instanceUrl = (await this.addInstance()).baseUrl;
    return this;
  }

  /** Another instance host serving the same org (an org moved by Salesforce). */
  async addInstance(host = '127.0.0.1'): Promise<FakeServer> {
    const instance = new FakeServer()
      .route('GET', /^\/services\/data\/v[\d.]+\/(query|queryAll)$/, (r) => this.query(r))
      .route('GET', /^\/services\/data\/v[\d.]+\/query\/([\w-]+)$/, (r) => this.more(r));
    await instance.start(0, host);
    this.instances.push(instance);
    return instance;
  }

  async stop(): Promise<void> {
    await Promise.all([this.login.stop(), ...this.instances.map((i) => i.stop())]);
  }

  /** Query locators expire when idle; this forgets every one issued so far. */
  forgetLocators(): void {
    this.cursors.clear();
  }

  /** Every REST request, on any instance host. */
  restHits(path: RegExp) {
    return this.instances.flatMap((i) => i.hits(path));
  }

  private tick(): string {
    this.clock = Math.max(this.clock + 1000, Date.now());
    return stamp(new Date(this.clock));
  }

  seed(object: SObject, count: number, from = '2026-01-01T00:00:00Z'): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = `${object === 'Contact' ? '003' : '001'}B0000${String((this.nextId += 1)).padStart(10, '0')}`;
      ids.push(id);
      this.records[object].set(id, {
        ...sample(object, id),
        Id: id,
        SystemModstamp: stamp(new Date(Date.parse(from) + i * 60_000)),
        IsDeleted: false,
      });
    }
    return ids;
  }

  update(object: SObject, id: string, fields: Record<string, unknown>): void {
    const record = this.records[object].get(id)!;
    this.records[object].set(id, { ...record, ...fields, SystemModstamp: this.tick() });
  }

  /** To the recycle bin: queryAll still shows it, with IsDeleted true. */
  remove(object: SObject, id: string): void {
    this.update(object, id, { IsDeleted: true });
  }

  // --- OAuth (login host) ------------------------------------------------

  /** [flow] response_type=code, client_id, redirect_uri; state, scope; [pkce] code_challenge. */
  private authorize(r: FakeRequest): FakeReply {
    const q = r.url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('response_type') !== 'code' || q.get('client_id') !== this.clientId || !redirect)
      return { status: 400, body: 'error=invalid_request' };
    const code = this.grants.issueCode(
      {
        account: `${ORG_ID}/${USER_ID}`,
        scopes: (q.get('scope') ?? '').split(' ').filter(Boolean),
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
   * [flow]/[basic] client credentials in the body or HTTP Basic; [pkce]
   * code_verifier; [flow]/[refresh] the answers (no expires_in; a refresh
   * answer has no refresh_token unless rotation is on); [errors] bodies.
   */
  private token(r: FakeRequest): FakeReply {
    const form = r.form;
    if (!form) return oauthError('invalid_request', 'grant type is missing');
    const basic = basicCredentials(r.headers.authorization);
    const id = basic?.id ?? form.get('client_id');
    const secret = basic?.secret ?? form.get('client_secret');
    if (id !== this.clientId) return oauthError('invalid_client_id', 'client identifier invalid');
    if (secret !== this.clientSecret)
      return oauthError('invalid_client', 'invalid client credentials');
    switch (form.get('grant_type')) {
      case 'authorization_code': {
        const grant = this.grants.redeem(
          form.get('code') ?? '',
          form.get('redirect_uri'),
          form.get('code_verifier'),
        );
        if (!grant) return oauthError('invalid_grant', 'expired authorization code');
        // [flow] `refresh_token` scope "Allows a refresh token to be returned"; `full` alone does not.
        const offline = grant.scopes.some((s) => s === 'refresh_token' || s === 'offline_access');
        return { status: 200, body: this.tokenResponse(grant, offline) };
      }
      case 'refresh_token': {
        const used = form.get('refresh_token') ?? '';
        const grant = this.grants.grantOfRefresh(used);
        if (!grant) return oauthError('invalid_grant', 'expired access/refresh token');
        this.grants.counters.refreshes += 1;
        if (this.rotateRefreshTokens) this.grants.dropRefresh(used);
        return { status: 200, body: this.tokenResponse(grant, this.rotateRefreshTokens) };
      }
      default:
        return oauthError('unsupported_grant_type', 'grant type not supported');
    }
  }

  /** [flow] verbatim field set. */
  private tokenResponse(grant: FakeGrant, withRefreshToken: boolean) {
    const scope = grant.scopes.map((s) => (s === 'offline_access' ? 'refresh_token' : s)).join(' ');
    return {
      access_token: this.grants.issueAccess(grant, 7200),
      ...(withRefreshToken ? { refresh_token: this.grants.issueRefresh(grant) } : {}),
      signature: randomBytes(32).toString('base64'),
      scope,
      instance_url: this.instanceUrl,
      id: `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`,
      token_type: 'Bearer',
      issued_at: String(Date.now()),
    };
  }

  /** [revoke] POST token=…: 200, or 400 with `invalid_token`. */
  private revoke(r: FakeRequest): FakeReply {
    return this.grants.revoke(r.form?.get('token') ?? '')
      ? { status: 200 }
      : { status: 400, body: { error: 'invalid_token' } };
  }

  // --- REST (instance hosts) -----------------------------------------------

  /** [session] the 401 of an expired or unknown session. */
  private session(r: FakeRequest): FakeReply | undefined {
    const token = /^Bearer (.+)$/i.exec(r.headers.authorization ?? '')?.[1];
    const verified = this.grants.verify(token);
    if (verified && verified !== 'expired') return undefined;
    return {
      status: 401,
      body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
      headers: { 'www-authenticate': 'Token' },
    };
  }

  /** [query]/[queryall] the first batch of a SOQL query; queryAll also sees deleted records. */
  private query(r: FakeRequest): FakeReply {
    const refused = this.session(r);
    if (refused) return refused;
    const parsed = parseSoql(r.url.searchParams.get('q') ?? '');
    if ('error' in parsed) return malformed(parsed.error);
    const all = r.params[0] === 'queryAll';
    const records = [...this.records[parsed.object].values()]
      .filter((rec) => (all || !rec.IsDeleted) && parsed.where.every((test) => test(rec)))
      .sort(parsed.order);
    return this.batch({ records, columns: parsed.columns, object: parsed.object, offset: 0 }, r);
  }

  /** [query] "GET … on that URL and no parameters" for the next batch. */
  private more(r: FakeRequest): FakeReply {
    const refused = this.session(r);
    if (refused) return refused;
    const cursor = this.cursors.get(r.params[0]!);
    if (!cursor)
      return {
        status: 400,
        body: [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }],
      };
    return this.batch(cursor, r);
  }

  /** [query] totalSize, done, nextRecordsUrl (absent when done), records with attributes. */
  private batch(cursor: Cursor, r: FakeRequest): FakeReply {
    const page = cursor.records.slice(cursor.offset, cursor.offset + BATCH);
    const end = cursor.offset + page.length;
    const done = end >= cursor.records.length;
    const version = /\/(v[\d.]+)\//.exec(r.url.pathname)![1];
    const body: Record<string, unknown> = {
      totalSize: cursor.records.length,
      done,
      records: page.map((rec) => view(rec, cursor, version!)),
    };
    if (!done) {
      const locator = `01gD${randomBytes(8).toString('hex')}-${end}`;
      this.cursors.set(locator, { ...cursor, offset: end });
      body.nextRecordsUrl = `/services/data/${version}/query/${locator}`;
    }
    return { status: 200, body, headers: { 'Sforce-Limit-Info': 'api-usage=18/5000' } };
  }
}

type Parsed =
  | {
      object: SObject;
      columns: string[];
      where: Array<(rec: StoredRecord) => boolean>;
      order: (a: StoredRecord, b: StoredRecord) => number;
    }
  | { error: string };

/**
 * The SOQL this fake understands: SELECT columns FROM Contact|Account, WHERE
 * conditions joined by AND (`SystemModstamp > <dateTime literal>`,
 * `IsDeleted = TRUE`), ORDER BY SystemModstamp|Id ASC. Date literals are only
 * the documented `YYYY-MM-DDThh:mm:ssZ` and `…±hh:mm`, unquoted.
 */
function parseSoql(soql: string): Parsed {
  const match =
    /^SELECT\s+(.+?)\s+FROM\s+(Contact|Account)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER\s+BY\s+(\w+)\s+ASC)?$/i.exec(
      soql.trim(),
    );
  if (!match) return { error: `unexpected token in: ${soql.slice(0, 60)}` };
  const columns = match[1]!.split(',').map((c) => c.trim());
  const where: Array<(rec: StoredRecord) => boolean> = [];
  for (const condition of match[3] ? match[3].split(/\s+AND\s+/i) : []) {
    const since = /^SystemModstamp\s*>\s*(\S+)$/.exec(condition);
    if (since) {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/.test(since[1]!))
        return { error: `line 1: invalid date: ${since[1]}` };
      const at = Date.parse(since[1]!);
      where.push((rec) => Date.parse(rec.SystemModstamp.replace('+0000', 'Z')) > at);
      continue;
    }
    if (/^IsDeleted\s*=\s*TRUE$/i.test(condition)) {
      where.push((rec) => rec.IsDeleted);
      continue;
    }
    return { error: `unexpected token: ${condition}` };
  }
  const by = match[4] ?? 'Id';
  return {
    object: match[2] as SObject,
    columns,
    where,
    order: (a, b) =>
      String(a[by]) < String(b[by]) ? -1 : String(a[by]) > String(b[by]) ? 1 : a.Id < b.Id ? -1 : 1,
  };
}

function view(rec: StoredRecord, cursor: Cursor, version: string) {
  const fields = Object.fromEntries(cursor.columns.map((c) => [c, rec[c] ?? null]));
  return {
    attributes: {
      type: cursor.object,
      url: `/services/data/${version}/sobjects/${cursor.object}/${rec.Id}`,
    },
    ...fields,
  };
}

/** [dates] `2013-05-20T20:49:32.000+0000`. */
function stamp(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

function sample(object: SObject, id: string): Record<string, unknown> {
  if (object === 'Account')
    return {
      Name: `Account ${id}`,
      Website: `acct${id.slice(-4)}.example.test`,
      Industry: 'Technology',
    };
  return {
    FirstName: 'Pat',
    LastName: `Contact ${id.slice(-6)}`,
    Email: `${id.slice(-6)}@example.test`,
    Title: 'Buyer',
    AccountId: null,
  };
}

/** [errors] `{"error":…,"error_description":…}`, 400. */
function oauthError(error: string, description: string): FakeReply {
  return { status: 400, body: { error, error_description: description } };
}

/** [query] "a MALFORMED_QUERY response is returned". */
function malformed(message: string): FakeReply {
  return { status: 400, body: [{ message, errorCode: 'MALFORMED_QUERY' }] };
}
