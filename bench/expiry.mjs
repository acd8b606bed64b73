// `npm run bench` mass expiry: BENCH_EXPIRY_CONNECTIONS (10,000) connections
// whose access tokens all expire within the same minute (90 to 150 s after
// seeding), kept alive by nothing but a real worker process (`node
// dist/main.js`, ROLE=worker): its refresh sweep finds them, its queue
// workers refresh them at a fake token endpoint (bench/fake-provider.mjs),
// at most REFRESH_INTEGRATION_CONCURRENCY at once. Baseline, same run: the
// fake endpoint's own throughput at that concurrency.
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startFakeProvider } from './fake-provider.mjs';

const EXPIRY_FROM_S = 90;
const EXPIRY_SPAN_S = 60;
/** What the fake hands out, and what the seeded tokens were: one-hour tokens. */
const LIFETIME_S = 3_600;
/**
 * The operator's knobs. Five minutes' lead (the default is ten): the whole
 * minute of expiries is due at the first tick, the burst this scenario is
 * about. A 5 s tick instead of the default 60 s, so the run does not open
 * with a minute of waiting.
 */
const KNOBS = {
  REFRESH_MARGIN_SECONDS: '300',
  SWEEP_INTERVAL_SECONDS: '5',
  REFRESH_CONCURRENCY: '32',
};

const round3 = (n) => Math.round(n * 1000) / 1000;

/** Sealed with the broker's own cipher, bound to each connection: the refresh really opens them. */
async function seedExpiring(h, url, { count, integrationKey, provider }) {
  const [{ TokenCipher }, { parseEncryptionKeys }, { CredentialSealer }] = await Promise.all([
    h.dist('crypto/token-cipher.js'),
    h.dist('config/encryption-keys.js'),
    h.dist('crypto/credential-sealer.js'),
  ]);
  const sealer = new CredentialSealer(
    await TokenCipher.create(parseEncryptionKeys(h.env.ENCRYPTION_KEYS)),
  );
  const t0 = Date.now();
  const rows = { id: [], tenant: [], account: [], expires: [], refreshed: [], sealed: [] };
  for (let i = 0; i < count; i += 1) {
    const id = randomUUID();
    const tenantId = `bench-tenant-${i % 100}`;
    const expiresAt = new Date(t0 + (EXPIRY_FROM_S + (EXPIRY_SPAN_S * i) / count) * 1000);
    const refreshToken = `rt-${randomBytes(12).toString('base64url')}`;
    const sealed = sealer.seal(
      {
        accessToken: `at-${randomBytes(12).toString('base64url')}`,
        refreshToken,
        tokenType: 'Bearer',
        expiresAt,
        scopes: ['contacts.read'],
        extras: {},
      },
      { id, tenantId },
    );
    provider.issue(id, refreshToken, expiresAt);
    rows.id.push(id);
    rows.tenant.push(tenantId);
    rows.account.push(`bench-account-${i}`);
    rows.expires.push(expiresAt);
    // One-hour tokens obtained an hour before they expire: the sweep's
    // half-lifetime rule leaves the configured lead as it is.
    rows.refreshed.push(new Date(expiresAt.getTime() - LIFETIME_S * 1000));
    rows.sealed.push(Buffer.from(sealed.ciphertext));
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('BEGIN');
    await db.query(
      `INSERT INTO connections (id, tenant_id, integration_key, provider, status, account_id,
                                scopes, expires_at, last_refreshed_at, updated_at)
       SELECT u.id, u.tenant, $6, 'oauth2', 'active', u.account, '{contacts.read}',
              u.expires, u.refreshed, now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
         AS u(id, tenant, account, expires, refreshed)`,
      [rows.id, rows.tenant, rows.account, rows.expires, rows.refreshed, integrationKey],
    );
    await db.query(
      `INSERT INTO credentials (connection_id, key_id, ciphertext, version, updated_at)
       SELECT u.id, $3, u.sealed, 1, now() FROM unnest($1::uuid[], $2::bytea[]) AS u(id, sealed)`,
      [rows.id, rows.sealed, sealer.activeKeyId],
    );
    await db.query('COMMIT');
    await db.query('ANALYZE connections; ANALYZE credentials');
  } finally {
    await db.end();
  }
  return { t0, lastExpiry: t0 + (EXPIRY_FROM_S + EXPIRY_SPAN_S) * 1000 };
}

export async function expiryScenario(h) {
  const count = Number(process.env.BENCH_EXPIRY_CONNECTIONS ?? (h.smoke ? 500 : 10_000));
  const cap = Number(process.env.BENCH_EXPIRY_CAP ?? 20);
  const providerMs = Number(process.env.BENCH_PROVIDER_MS ?? 20);
  const clientSecret = `bench-${randomBytes(8).toString('hex')}`;
  const provider = await startFakeProvider({
    latencyMs: providerMs,
    clientId: 'bench',
    clientSecret,
    lifetimeSeconds: LIFETIME_S,
  });
  const scratch = await h.scratch('expiry');
  let worker;
  try {
    const started = Date.now();
    // Baseline first, with the endpoint to itself.
    const baseline = await provider.baseline(cap, Math.min(h.duration, 3));
    provider.reset();

    const integrationKey = 'bench-expiry';
    // Plain http is allowed only when every endpoint of the integration is on loopback.
    await writeFile(
      scratch.integrationsFile,
      `integrations:\n  - key: ${integrationKey}\n    provider: oauth2\n    clientId: bench\n    clientSecret: ${clientSecret}\n    authorizationUrl: ${new URL('/authorize', provider.tokenUrl).href}\n    tokenUrl: ${provider.tokenUrl}\n    scopes: [contacts.read]\n`,
    );
    const seedStart = performance.now();
    const { t0, lastExpiry } = await seedExpiring(h, scratch.url, {
      count,
      integrationKey,
      provider,
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const ticks = [];
    let warnings = 0;
    worker = await h.startWorker(
      {
        ...scratch.env,
        ...KNOBS,
        REFRESH_INTEGRATION_CONCURRENCY: String(cap),
      },
      (line) => {
        if (line.msg === 'proactive refreshes queued')
          ticks.push({ atSeconds: round3((Date.now() - t0) / 1000), queued: line.queued });
        if (line.level !== 'warn' && line.level !== 'error') return;
        warnings += 1;
        // The first few, to say why on a failed run (messages only: no stacks, no secrets).
        if (warnings <= 3) console.error(`expiry worker: ${line.msg} ${line.err?.message ?? ''}`);
      },
    );
    const workerReadySeconds = (Date.now() - t0) / 1000;

    // Until every grant is refreshed, or the last token has expired anyway.
    const books = provider.books();
    while (books.byGrant.size < count && Date.now() < lastExpiry + 5_000) {
      if (worker.exitCode !== null) throw new Error('the worker exited during mass expiry');
      await sleep(100);
    }
    const endedAt = Date.now();

    const refreshed = books.byGrant.size;
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    let stored;
    let notActive;
    try {
      // Stored: the new one-hour expiry reached PostgreSQL (the last answers
      // may still be on their way into it).
      for (let i = 0; i < 50; i += 1) {
        ({
          rows: [{ stored, not_active: notActive }],
        } = await db.query(
          `SELECT count(*) FILTER (WHERE expires_at > now() + interval '30 minutes')::int AS stored,
                  count(*) FILTER (WHERE status <> 'active')::int AS not_active
           FROM connections`,
        ));
        if (stored >= refreshed) break;
        await sleep(100);
      }
    } finally {
      await db.end();
    }
    const windowSeconds = (books.lastAt - books.firstAt) / 1000;
    const refreshesPerSecond = refreshed > 1 ? refreshed / windowSeconds : 0;
    const remaining = [...books.remainingMs].sort((a, b) => a - b);
    // Not refreshed by the end: we waited past the last expiry, so each one expired unrefreshed.
    const neverRefreshed = count - refreshed;
    return {
      connections: count,
      rounds: 1,
      providerMs,
      cap,
      knobs: { ...KNOBS, REFRESH_INTEGRATION_CONCURRENCY: String(cap) },
      expiryWindowSeconds: [EXPIRY_FROM_S, EXPIRY_FROM_S + EXPIRY_SPAN_S],
      seedSeconds: round3(seedSeconds),
      workerReadySeconds: round3(workerReadySeconds),
      sweepTicks: ticks,
      // Seconds after seeding (the clock of the expiry window).
      firstRefreshSeconds: books.firstAt && round3((books.firstAt - t0) / 1000),
      lastRefreshSeconds: books.lastAt && round3((books.lastAt - t0) / 1000),
      refreshed,
      stored,
      notActive,
      refreshedTwice: [...books.byGrant.values()].filter((n) => n > 1).length,
      rejectedAtProvider: books.rejected,
      expiredBeforeRefresh: books.expiredAtRefresh + neverRefreshed,
      minRemainingSeconds: remaining.length ? round3(remaining[0] / 1000) : null,
      // Whether the least-life refresh was an early-expiring token served late (out of order).
      worst: books.worst && {
        expiresAtSeconds: round3((books.worst.expiresAt - t0) / 1000),
        refreshedAtSeconds: round3((books.worst.refreshedAt - t0) / 1000),
      },
      medianRemainingSeconds: remaining.length
        ? round3(remaining[remaining.length >> 1] / 1000)
        : null,
      windowSeconds: round3(windowSeconds),
      refreshesPerSecond: Math.round(refreshesPerSecond),
      peakConcurrency: books.peakInFlight,
      workerWarnings: warnings,
      baseline: {
        concurrency: baseline.concurrency,
        calls: baseline.calls,
        refreshesPerSecond: Math.round(baseline.refreshesPerSecond),
      },
      vsProvider: round3(refreshesPerSecond / baseline.refreshesPerSecond),
      wallSeconds: round3((endedAt - started) / 1000),
    };
  } finally {
    await h.stop(worker);
    await provider.close();
    await scratch.cleanup();
  }
}
