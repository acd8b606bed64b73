// `npm run bench` mass expiry: a fake OAuth 2.0 token endpoint (plain
// node:http) that answers refresh_token grants after BENCH_PROVIDER_MS and
// keeps the books the scenario reports. It knows the expiry of the access
// token each refresh token goes with, so every refresh records how much life
// the token it replaces had left; a refresh token is good once (rotation,
// RFC 9700 §4.14), so a second refresh of the same grant shows as reuse.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Starts the endpoint on a free loopback port. `issue()` registers a grant's
 * refresh token with the expiry of its access token; `books()` reads the counts.
 */
export async function startFakeProvider({ latencyMs, clientId, clientSecret, lifetimeSeconds }) {
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  // RFC 6749 §2.3.1: id and secret are form-encoded before base64 (openid-client encodes even `-`).
  const authenticated = (header) => {
    const [scheme, value = ''] = (header ?? '').split(' ');
    if (scheme !== 'Basic') return false;
    const [id, secret] = Buffer.from(value, 'base64').toString().split(':');
    try {
      return decodeURIComponent(id) === clientId && decodeURIComponent(secret) === clientSecret;
    } catch {
      return false;
    }
  };
  /** refresh token → { grant, expiresAt (ms), spent } */
  const grants = new Map();
  let books;
  const reset = () => {
    books = {
      refreshes: 0,
      rejected: 0,
      reused: 0,
      expiredAtRefresh: 0,
      minRemainingMs: Infinity,
      /** The refresh that left the least life: when its token expired, when it came. */
      worst: undefined,
      remainingMs: [],
      inFlight: 0,
      peakInFlight: 0,
      /** Arrival of the first refresh, answer to the last (epoch ms). */
      firstAt: undefined,
      lastAt: undefined,
      /** grant → refreshes */
      byGrant: new Map(),
    };
  };
  reset();

  const answer = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer(async (req, res) => {
    const arrivedAt = Date.now();
    books.inFlight += 1;
    books.peakInFlight = Math.max(books.peakInFlight, books.inFlight);
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      if (req.method !== 'POST' || req.url !== '/token') return answer(res, 404, {});
      if (!authenticated(req.headers.authorization))
        return answer(res, 401, { error: 'invalid_client' });
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (form.get('grant_type') !== 'refresh_token')
        return answer(res, 400, { error: 'unsupported_grant_type' });
      // The provider's own work (a database round trip or two), before it decides.
      await sleep(latencyMs);
      const now = Date.now();
      const entry = grants.get(form.get('refresh_token'));
      if (!entry || entry.spent) {
        books.rejected += 1;
        if (entry) books.reused += 1;
        return answer(res, 400, { error: 'invalid_grant' });
      }
      entry.spent = true;
      const remaining = entry.expiresAt - now;
      books.refreshes += 1;
      books.remainingMs.push(remaining);
      if (remaining < books.minRemainingMs) {
        books.minRemainingMs = remaining;
        books.worst = { expiresAt: entry.expiresAt, refreshedAt: now };
      }
      if (remaining <= 0) books.expiredAtRefresh += 1;
      books.byGrant.set(entry.grant, (books.byGrant.get(entry.grant) ?? 0) + 1);
      const refreshToken = `rt-${randomBytes(12).toString('base64url')}`;
      grants.set(refreshToken, {
        grant: entry.grant,
        expiresAt: now + lifetimeSeconds * 1000,
        spent: false,
      });
      books.firstAt = Math.min(books.firstAt ?? arrivedAt, arrivedAt);
      answer(res, 200, {
        access_token: `at-${randomBytes(12).toString('base64url')}`,
        token_type: 'Bearer',
        expires_in: lifetimeSeconds,
        refresh_token: refreshToken,
      });
      books.lastAt = Date.now();
    } finally {
      books.inFlight -= 1;
    }
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const tokenUrl = `http://127.0.0.1:${server.address().port}/token`;

  /** One refresh call straight to the endpoint (node:http, kept alive); the next refresh token. */
  const agent = new http.Agent({ keepAlive: true });
  const refreshOnce = (refreshToken) =>
    new Promise((resolve, reject) => {
      const body = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      }).toString();
      const request = http.request(
        tokenUrl,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: basic,
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () =>
            response.statusCode === 200
              ? resolve(JSON.parse(text).refresh_token)
              : reject(new Error(`baseline refresh: ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  return {
    tokenUrl,
    issue(grant, refreshToken, expiresAt) {
      grants.set(refreshToken, { grant, expiresAt: expiresAt.getTime(), spent: false });
    },
    books: () => books,
    reset,
    /**
     * The endpoint's own throughput at `concurrency`: that many loops of
     * rotating refresh calls for `seconds`, nothing else in the way. At
     * latency L its ceiling is concurrency / L.
     */
    async baseline(concurrency, seconds) {
      const end = performance.now() + seconds * 1000;
      let calls = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          let token = `rt-baseline-${i}-${randomBytes(6).toString('hex')}`;
          grants.set(token, {
            grant: `baseline-${i}`,
            expiresAt: Date.now() + 3_600_000,
            spent: false,
          });
          while (performance.now() < end) {
            token = await refreshOnce(token);
            calls += 1;
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      return { concurrency, calls, seconds: elapsed, refreshesPerSecond: calls / elapsed };
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
