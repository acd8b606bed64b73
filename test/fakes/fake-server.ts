import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP server for documentation-faithful provider fakes: routes by
 * method and path pattern, parses form and JSON bodies, and logs every
 * request (so a test can prove what reached it, and what did not).
 */
export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  text: string;
  /** The body as a form (application/x-www-form-urlencoded), when it is one. */
  form?: URLSearchParams;
  /** The body as JSON, when it is JSON. */
  json?: unknown;
  params: string[];
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  authorization?: string;
}

export class FakeServer {
  readonly requests: LoggedRequest[] = [];
  /** Answered before routing, first in first out (outages, rate limits). */
  readonly faults: Array<FakeReply & { path?: RegExp }> = [];
  baseUrl = '';
  /** Called before each request is answered (a test's hook: expire tokens at the third page…). */
  onRequest?: (request: FakeRequest) => void | Promise<void>;
  private server?: Server;
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];

  route(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  /** On 127.0.0.1, or another loopback address (a second "host" for SSRF tests). */
  async start(port = 0, host = '127.0.0.1'): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    this.server = server;
    this.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose path matches. */
  hits(path: RegExp, method?: string): LoggedRequest[] {
    return this.requests.filter((r) => path.test(r.path) && (!method || r.method === method));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const type = req.headers['content-type'] ?? '';
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      text,
      params: [],
    };
    if (type.includes('application/x-www-form-urlencoded'))
      request.form = new URLSearchParams(text);
    if (type.includes('application/json') && text) {
      try {
        request.json = JSON.parse(text);
      } catch {
        request.json = undefined;
      }
    }
    const log: LoggedRequest = {
      at: Date.now(),
      method: request.method,
      path: url.pathname,
      query: url.search,
      status: 0,
      authorization: req.headers.authorization,
    };
    this.requests.push(log);
    await this.onRequest?.(request);
    const faultIndex = this.faults.findIndex((f) => !f.path || f.path.test(url.pathname));
    let reply: FakeReply | undefined;
    if (faultIndex >= 0) [reply] = this.faults.splice(faultIndex, 1);
    if (!reply) {
      const route = this.routes.find(
        (r) => r.method === request.method && r.pattern.test(url.pathname),
      );
      if (route) {
        request.params = route.pattern.exec(url.pathname)!.slice(1);
        reply = await route.handler(request);
      } else {
        reply = { status: 404, body: { error: 'not_found' } };
      }
    }
    log.status = reply.status;
    res.statusCode = reply.status;
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    if (reply.body === undefined) {
      res.end();
      return;
    }
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json');
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }
}
