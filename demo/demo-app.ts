import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEMO } from './demo-setup.js';

const PUBLIC_DIR = path.join(import.meta.dirname, 'public');
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface DemoAppOptions {
  port: number;
  host: string;
  /** Where this backend calls the broker. */
  brokerUrl: string;
  /** Where browsers reach the broker (the snippet is imported from there). */
  brokerPublicUrl: string;
  serviceKey: string;
  /** Ends every grant at the sandbox CRM, as its user would in their account settings. */
  revokeAtCrm: () => Promise<void>;
}

interface BrokerCall {
  at: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/**
 * The demo app: a page (plain HTML and JS, no build) and the small backend
 * every adopter writes. The backend holds the service key and calls the
 * broker; the browser only ever sees connect sessions and what the backend
 * chooses to show. Every broker call is listed on the page.
 */
export async function startDemoApp(options: DemoAppOptions): Promise<{
  url: string;
  stop(): Promise<void>;
}> {
  const calls: BrokerCall[] = [];
  const broker = async (method: string, pathname: string, body?: unknown) => {
    const started = Date.now();
    const response = await fetch(`${options.brokerUrl}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${options.serviceKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    calls.unshift({
      at: new Date().toISOString(),
      method,
      // The path as the broker saw it; there is never a secret in it.
      path: pathname,
      status: response.status,
      ms: Date.now() - started,
    });
    calls.length = Math.min(calls.length, 40);
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 502, { error: { code: 'demo_backend_failed', message: String(error) } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const file = STATIC[url.pathname];
    if (req.method === 'GET' && file) {
      res.setHeader('content-type', TYPES[path.extname(file)]!);
      res.setHeader('cache-control', 'no-store');
      res.end(await readFile(path.join(PUBLIC_DIR, file)));
      return;
    }
    const route = `${req.method} ${url.pathname.replace(/\/[0-9a-f-]{36}(?=\/|$)/, '/:id')}`;
    const id = /\/([0-9a-f-]{36})(?=\/|$)/.exec(url.pathname)?.[1] ?? '';
    const relay = (answer: { status: number; body: unknown }) =>
      send(res, answer.status, answer.body);
    switch (route) {
      case 'GET /api/config':
        return send(res, 200, {
          brokerPublicUrl: options.brokerPublicUrl,
          integration: DEMO.integration,
          tenantId: DEMO.tenantId,
          endUserId: DEMO.endUserId,
        });
      case 'POST /api/connect-sessions': {
        const { mode, returnTo } = (await readJson(req)) as { mode?: string; returnTo?: string };
        // Popup: no returnTo, the broker's result page posts the result back.
        return relay(
          await broker('POST', '/v1/connect-sessions', {
            integration: DEMO.integration,
            tenantId: DEMO.tenantId,
            endUserId: DEMO.endUserId,
            ...(mode === 'redirect' && returnTo ? { returnTo } : {}),
          }),
        );
      }
      case 'POST /api/connect-sessions/:id/finalize': {
        // The page forwards what the broker handed back (`finalize=…&connect_session_id=…` on
        // the redirect, or the popup's message). This backend knows who is logged in: that is
        // what finalize proves, so a link completed in someone else's browser attaches nothing.
        const { finalizeToken } = (await readJson(req)) as { finalizeToken?: string };
        return relay(
          await broker('POST', `/v1/connect-sessions/${id}/finalize`, {
            finalizeToken,
            endUserId: DEMO.endUserId,
          }),
        );
      }
      case 'GET /api/connection': {
        const list = await broker(
          'GET',
          `/v1/connections?tenantId=${DEMO.tenantId}&integration=${DEMO.integration}&limit=10`,
        );
        const connections = (list.body as { data?: Array<{ status: string }> } | null)?.data ?? [];
        const current = connections.find((c) => c.status !== 'revoked') ?? null;
        return send(res, list.status === 200 ? 200 : list.status, { connection: current });
      }
      case 'POST /api/connection/:id/syncs':
        return relay(await broker('POST', `/v1/connections/${id}/syncs`, { model: 'contacts' }));
      case 'GET /api/connection/:id/syncs':
        return relay(await broker('GET', `/v1/connections/${id}/syncs?limit=5`));
      case 'GET /api/connection/:id/contacts':
        return relay(await broker('GET', `/v1/connections/${id}/records/contacts?limit=100`));
      case 'POST /api/connection/:id/refresh':
        return relay(await broker('POST', `/v1/connections/${id}/refresh`));
      case 'DELETE /api/connection/:id':
        return relay(await broker('DELETE', `/v1/connections/${id}`));
      case 'POST /api/connection/:id/revoke-at-crm': {
        await options.revokeAtCrm();
        // The broker learns at its next refresh; ask for one now rather than wait for the sweep.
        return relay(await broker('POST', `/v1/connections/${id}/refresh`));
      }
      case 'GET /api/calls':
        return send(res, 200, { calls });
      default:
        return send(res, 404, { error: { code: 'not_found', message: 'No such demo route' } });
    }
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(status === 204 || body === null ? '' : JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 16_384) throw new Error('request body too large');
  }
  return text ? JSON.parse(text) : {};
}
