// `npm run bench` sync ingest: a CRM speaking the sandbox CRM's contacts API
// (sandbox/crm-api.ts: GET /v1/contacts?limit&cursor[&updated_since] →
// { data: [...], next_cursor }, ids in order, Bearer token required), built
// for volume. The sandbox filters and sorts every record on every page,
// which at 100,000 contacts would make the CRM the thing measured; here each
// contact is serialised once and a page is a slice found through an index.
import { once } from 'node:events';
import http from 'node:http';

const UPDATED_AT = Date.parse('2026-01-01T00:00:00Z');

/** `count` contacts shaped like the sandbox's, with a few more of a CRM's usual fields. */
export function contacts(count) {
  const width = Math.max(6, String(count).length);
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const id = `co_${String(n).padStart(width, '0')}`;
    return {
      id,
      name: `Contact ${n}`,
      email: `${id}@example.test`,
      phone: `+1 555 ${String(n % 10_000_000).padStart(7, '0')}`,
      company: `Company ${n % 997}`,
      title: ['CEO', 'CTO', 'Buyer', 'Engineer', 'Analyst'][n % 5],
      // A second apart: an incremental run has something to order by.
      updated_at: new Date(UPDATED_AT + i * 1000).toISOString(),
    };
  });
}

/**
 * Serves `records` (sorted by id) to callers presenting one of the access
 * tokens given to `allow(token, count)`: each token sees the first `count`.
 */
export async function startFakeCrm(records) {
  const json = records.map((r) => JSON.stringify(r));
  const position = new Map(records.map((r, i) => [r.id, i]));
  const visible = new Map();
  const counters = { requests: 0, unauthorized: 0 };

  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    counters.requests += 1;
    const url = new URL(req.url ?? '/', 'http://crm');
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const count = token === undefined ? undefined : visible.get(token);
    if (count === undefined) {
      counters.unauthorized += 1;
      return send(
        res,
        401,
        { error: 'invalid_token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    }
    if (url.pathname !== '/v1/contacts') return send(res, 404, { error: 'not_found' });
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 500);
    const after = url.searchParams.get('cursor');
    const since = url.searchParams.get('updated_since');
    let start = after ? (position.get(after) ?? -1) + 1 : 0;
    // A change feed: only records changed after `since` (ours never change, so a tail).
    if (since) while (start < count && records[start].updated_at <= since) start += 1;
    const end = Math.min(start + limit, count);
    const next = end < count ? JSON.stringify(records[end - 1].id) : 'null';
    send(res, 200, `{"data":[${json.slice(start, end).join(',')}],"next_cursor":${next}}`);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}`,
    counters,
    allow(token, count) {
      visible.set(token, Math.min(count, records.length));
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
