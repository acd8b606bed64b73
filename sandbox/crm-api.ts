import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small CRM API for tests and the demo, readable only with a live access
 * token carrying the model's scope. Each model pages differently, as real
 * CRMs do: contacts by cursor, companies by page number, deals by RFC 8288
 * Link headers, tasks by offset. `updated_since` returns changes, deleted
 * records included as tombstones (`archived: true`). Faults and a per-request
 * delay can be programmed.
 */

export interface CrmRecord {
  id: string;
  updated_at: string;
  archived?: boolean;
  [field: string]: unknown;
}

export interface ApiFault {
  status: number;
  retryAfter?: string;
  delayMs?: number;
  /** Only requests to this model (default: any). */
  model?: Model;
}

export type TokenVerifier = (
  token: string,
) => Promise<{ accountId: string; scopes: Set<string> } | undefined>;

export const CRM_MODELS = {
  contacts: 'contacts.read',
  companies: 'companies.read',
  deals: 'contacts.read',
  tasks: 'contacts.read',
} as const;
export type Model = keyof typeof CRM_MODELS;

export class SandboxCrmApi {
  private server?: Server;
  readonly records: Record<Model, Map<string, CrmRecord>> = {
    contacts: new Map(),
    companies: new Map(),
    deals: new Map(),
    tasks: new Map(),
  };
  readonly faults: ApiFault[] = [];
  /** Every request: when, to which model, the status answered and any Retry-After. */
  readonly requests: Array<{
    at: number;
    model?: string;
    status: number;
    retryAfter?: string;
    query: string;
    method: string;
    path: string;
    /** The Authorization header as received (tests check what reached the CRM). */
    authorization?: string;
  }> = [];
  readonly counters = { requests: 0, unauthorized: 0 };
  /** Added to every data request (to make runs long enough to interrupt). */
  pageDelayMs = 0;
  /**
   * Answers 401 invalid_token to every token, live or not, as a provider
   * does for an app it revoked: what a caller's refresh can never fix.
   */
  rejectAllTokens = false;
  baseUrl = '';
  private clock = 0;

  constructor(private readonly verify: TokenVerifier) {}

  /** Listens on `host` (loopback by default), port 0 = any free port. */
  static async start(verify: TokenVerifier, port = 0, host = '127.0.0.1'): Promise<SandboxCrmApi> {
    const api = new SandboxCrmApi(verify);
    const server = createServer((req, res) => {
      api.handle(req, res).catch(() => send(res, 500, { error: 'sandbox_failure' }));
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    api.server = server;
    api.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return api;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A strictly increasing change time, so `updated_since` never misses an edit. */
  private tick(): string {
    this.clock = Math.max(this.clock + 1, Date.now());
    return new Date(this.clock).toISOString();
  }

  /** Adds `count` records with predictable ids and fields. */
  seed(model: Model, count: number, at = new Date('2026-01-01T00:00:00Z')): void {
    const store = this.records[model];
    const start = store.size;
    for (let i = start; i < start + count; i += 1) {
      const id = `${model.slice(0, 2)}_${String(i + 1).padStart(6, '0')}`;
      store.set(id, {
        id,
        name: `${model} ${i + 1}`,
        email: `${id}@example.test`,
        updated_at: at.toISOString(),
      });
    }
  }

  update(model: Model, id: string, fields: Record<string, unknown>): void {
    const record = this.records[model].get(id);
    if (!record) throw new Error(`no ${model} ${id}`);
    this.records[model].set(id, { ...record, ...fields, updated_at: this.tick() });
  }

  add(model: Model, id: string, fields: Record<string, unknown> = {}): void {
    this.records[model].set(id, { id, name: id, ...fields, updated_at: this.tick() });
  }

  /** Deletes a record, leaving a tombstone for incremental readers (full listings omit it). */
  remove(model: Model, id: string): void {
    const record = this.records[model].get(id);
    if (!record) throw new Error(`no ${model} ${id}`);
    this.records[model].set(id, { id, archived: true, updated_at: this.tick() });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests += 1;
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const model = /^\/v1\/(contacts|companies|deals|tasks)$/.exec(url.pathname)?.[1] as
      Model | undefined;
    const log = {
      at: Date.now(),
      model,
      status: 0,
      query: url.search,
      method: req.method ?? '',
      path: (req.url ?? '/').split('?')[0],
      authorization: req.headers.authorization,
    } as (typeof this.requests)[number];
    this.requests.push(log);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      send(res, status, body);
    };
    const faultIndex = this.faults.findIndex((f) => !f.model || f.model === model);
    if (faultIndex >= 0) {
      const [fault] = this.faults.splice(faultIndex, 1);
      if (fault!.delayMs) await new Promise((r) => setTimeout(r, fault!.delayMs));
      log.retryAfter = fault!.retryAfter;
      reply(
        fault!.status,
        { error: 'sandbox_fault' },
        fault!.retryAfter ? { 'retry-after': fault!.retryAfter } : {},
      );
      return;
    }
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = token && !this.rejectAllTokens ? await this.verify(token) : undefined;
    if (!grant) {
      this.counters.unauthorized += 1;
      reply(
        401,
        { error: 'invalid_token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
      return;
    }
    if (url.pathname === '/v1/me') return reply(200, { id: grant.accountId });
    if (url.pathname.startsWith('/v1/echo')) return this.echo(req, res, url, log);
    if (!model) return reply(404, { error: 'not_found' });
    if (!grant.scopes.has(CRM_MODELS[model])) return reply(403, { error: 'insufficient_scope' });
    if (this.pageDelayMs) await new Promise((r) => setTimeout(r, this.pageDelayMs));

    const since = url.searchParams.get('updated_since');
    const all = [...this.records[model].values()]
      // A full listing shows live records; a change feed shows tombstones too.
      .filter((r) => (since ? r.updated_at > since : !r.archived))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 500);
    switch (model) {
      case 'contacts': {
        const after = url.searchParams.get('cursor');
        const page = all.filter((r) => !after || r.id > after).slice(0, limit);
        const more = page.length === limit && all.at(-1)!.id !== page.at(-1)!.id;
        return reply(200, { data: page, next_cursor: more ? page.at(-1)!.id : null });
      }
      case 'companies': {
        const number = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
        return reply(200, { results: all.slice((number - 1) * limit, number * limit) });
      }
      case 'tasks': {
        const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
        return reply(200, { items: all.slice(offset, offset + limit) });
      }
      case 'deals': {
        const offset = Math.max(0, Number(url.searchParams.get('from') ?? 0) || 0);
        const page = all.slice(offset, offset + limit);
        const headers: Record<string, string> = {};
        if (offset + limit < all.length) {
          const next = new URL(`/v1/deals?from=${offset + limit}&limit=${limit}`, 'http://sandbox');
          if (since) next.searchParams.set('updated_since', since);
          headers.link = `<${next.pathname}${next.search}>; rel="next"`;
        }
        return reply(200, page, headers);
      }
    }
  }

  /**
   * Any method on /v1/echo…: answers with what it received (method, path,
   * query, the request's content type and body), for proxy tests, with a
   * few headers a real API sends (an ETag, rate-limit headers, a cookie).
   */
  private async echo(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: (typeof this.requests)[number],
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const answer = JSON.stringify({
      method: req.method,
      path: url.pathname,
      rawQuery: (req.url ?? '').includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '',
      contentType: req.headers['content-type'] ?? null,
      bodyBytes: body.byteLength,
      body: body.toString('utf8'),
      // Everything but the token (a real API never echoes it back).
      headers: { ...req.headers, authorization: undefined },
    });
    log.status = Number(url.searchParams.get('status') ?? 200) || 200;
    res.statusCode = log.status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('etag', '"echo-1"');
    res.setHeader('x-ratelimit-remaining', '99');
    res.setHeader('sforce-limit-info', 'api-usage=1/15000');
    res.setHeader('set-cookie', 'crm_session=secret-session; HttpOnly');
    res.setHeader('x-internal-trace', 'crm-internal');
    res.end(req.method === 'HEAD' ? undefined : answer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
