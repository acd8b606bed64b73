import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small CRM API for tests and the demo: contacts (cursor pagination) and
 * companies (page pagination), readable only with a live access token that
 * carries the model's scope. Faults can be programmed per request.
 */

export interface CrmRecord {
  id: string;
  updated_at: string;
  [field: string]: unknown;
}

export interface ApiFault {
  status: number;
  retryAfter?: string;
  delayMs?: number;
}

export type TokenVerifier = (
  token: string,
) => Promise<{ accountId: string; scopes: Set<string> } | undefined>;

const MODELS = { contacts: 'contacts.read', companies: 'companies.read' } as const;
type Model = keyof typeof MODELS;

export class SandboxCrmApi {
  private server?: Server;
  readonly records: Record<Model, Map<string, CrmRecord>> = {
    contacts: new Map(),
    companies: new Map(),
  };
  readonly faults: ApiFault[] = [];
  readonly counters = { requests: 0, unauthorized: 0 };
  baseUrl = '';

  constructor(private readonly verify: TokenVerifier) {}

  static async start(verify: TokenVerifier, port = 0): Promise<SandboxCrmApi> {
    const api = new SandboxCrmApi(verify);
    const server = createServer((req, res) => {
      api.handle(req, res).catch(() => send(res, 500, { error: 'sandbox_failure' }));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
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

  /** Adds `count` records to a model with predictable ids and fields. */
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests += 1;
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const fault = this.faults.shift();
    if (fault) {
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.retryAfter) res.setHeader('retry-after', fault.retryAfter);
      send(res, fault.status, { error: 'sandbox_fault' });
      return;
    }
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? await this.verify(token) : undefined;
    if (!grant) {
      this.counters.unauthorized += 1;
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      send(res, 401, { error: 'invalid_token' });
      return;
    }
    if (url.pathname === '/v1/me') {
      send(res, 200, { id: grant.accountId });
      return;
    }
    const model = /^\/v1\/(contacts|companies)$/.exec(url.pathname)?.[1] as Model | undefined;
    if (!model) {
      send(res, 404, { error: 'not_found' });
      return;
    }
    if (!grant.scopes.has(MODELS[model])) {
      send(res, 403, { error: 'insufficient_scope' });
      return;
    }
    const updatedSince = url.searchParams.get('updated_since');
    const all = [...this.records[model].values()]
      .filter((r) => !updatedSince || r.updated_at > updatedSince)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 500);
    if (model === 'contacts') {
      const after = url.searchParams.get('cursor');
      const start = after ? all.findIndex((r) => r.id > after) : 0;
      const page = start < 0 ? [] : all.slice(start, start + limit);
      const last = page.at(-1);
      send(res, 200, {
        data: page,
        next_cursor: last && start + limit < all.length ? last.id : null,
      });
      return;
    }
    const pageNumber = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    send(res, 200, { results: all.slice((pageNumber - 1) * limit, pageNumber * limit) });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
