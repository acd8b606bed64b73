// `npm run bench` sync ingest: BENCH_INGEST_RECORDS (100,000) contacts served
// in pages of 100 by a CRM speaking the sandbox CRM's API (bench/fake-crm.mjs),
// synced by the real sync engine in a real worker process (`node
// dist/main.js`, ROLE=worker; the run is triggered through a ROLE=api broker's
// POST /v1/connections/:id/syncs). A run of BENCH_INGEST_SMALL (10,000) in a
// fresh worker of its own gives the memory comparison: peak RSS should not
// grow with the size of the run, since a run holds one page at a time.
// Baseline, same run and database: the same rows inserted with `pg` in
// multi-row INSERTs of 100 into a copy of the records table.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { contacts, startFakeCrm } from './fake-crm.mjs';

const PAGE = 100;
const RUN_TIMEOUT_MS = 600_000;

const round3 = (n) => Math.round(n * 1000) / 1000;
const mb = (kb) => (kb === undefined ? null : Math.round(kb / 102.4) / 10);

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** VmRSS and VmHWM (peak) of a process, in kB, from /proc (Linux). */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: undefined, hwm: undefined };
  }
}

function integrationsYaml(key, baseUrl) {
  const model = `{ path: /v1/contacts, itemsPath: data, idField: id, updatedAtField: updated_at, deletedField: archived, updatedSinceParam: updated_since, pagination: { type: cursor, cursorParam: cursor, nextCursorPath: next_cursor, limitParam: limit, limit: ${PAGE} } }`;
  return `integrations:\n  - key: ${key}\n    provider: oauth2\n    clientId: bench\n    clientSecret: bench-secret\n    authorizationUrl: https://auth.bench.invalid/authorize\n    tokenUrl: https://auth.bench.invalid/token\n    scopes: [contacts.read]\n    api:\n      baseUrl: ${baseUrl}\n      models:\n        contacts: ${model}\n`;
}

/** One full run of one connection in a fresh worker process: its rate and the worker's memory. */
async function syncOnce(h, scratch, { apiUrl, auth, connectionId, size }) {
  const worker = await h.startWorker(scratch.env);
  const db = new pg.Client({ connectionString: scratch.url });
  await db.connect();
  try {
    const idle = memoryOf(worker.pid);
    const response = await fetch(`${apiUrl}/v1/connections/${connectionId}/syncs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'contacts', full: true }),
    });
    const body = await response.json();
    if (response.status !== 202) throw new Error(`sync trigger: ${response.status}`);
    const [runId] = body.syncRunIds;
    const giveUpAt = Date.now() + RUN_TIMEOUT_MS;
    const t0 = Date.now();
    // [ms since the trigger, worker RSS MB, pages committed], every 100 ms.
    const trace = [];
    let run;
    for (;;) {
      trace.push([Date.now() - t0, mb(memoryOf(worker.pid).rss)]);
      if (worker.exitCode !== null) throw new Error('the sync worker exited');
      ({
        rows: [run],
      } = await db.query(
        `SELECT status, records_fetched, records_upserted, pages, error_code,
                extract(epoch FROM finished_at - started_at)::float8 AS seconds
         FROM sync_runs WHERE id = $1`,
        [runId],
      ));
      trace.at(-1).push(run.pages);
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) break;
      if (Date.now() > giveUpAt) throw new Error(`sync run still ${run.status}`);
      await sleep(100);
    }
    const peak = memoryOf(worker.pid).hwm;
    const {
      rows: [{ stored }],
    } = await db.query(
      `SELECT count(*)::int AS stored FROM records WHERE connection_id = $1 AND model = 'contacts'`,
      [connectionId],
    );
    return {
      records: size,
      status: run.status,
      errorCode: run.error_code,
      fetched: run.records_fetched,
      upserted: run.records_upserted,
      stored,
      pages: run.pages,
      seconds: round3(run.seconds),
      recordsPerSecond: Math.round(run.records_fetched / run.seconds),
      idleRssMb: mb(idle.rss),
      peakRssMb: mb(peak),
      ...pace(trace, run.pages),
      trace: trace.filter((_, i) => i % 10 === 0),
    };
  } finally {
    await db.end();
    await h.stop(worker);
  }
}

/**
 * Pages/s over the second and the last tenth of a run (the first carries the
 * warm-up): a per-page cost that grows with what the run has already written
 * shows as a drop.
 */
function pace(trace, pages) {
  const tenth = Math.max(1, Math.floor(pages / 10));
  const at = (n) => trace.find(([, , p]) => p >= n)?.[0];
  const rate = (from, to) => {
    const [a, b] = [at(from), at(to)];
    return a !== undefined && b > a ? Math.round(((to - from) / (b - a)) * 1000) : null;
  };
  return {
    pagesPerSecondEarly: rate(tenth, 2 * tenth),
    pagesPerSecondLate: rate(pages - tenth, pages),
  };
}

/** The same rows as the sync writes, hashed beforehand: what is timed is PostgreSQL's work. */
function baselineRows(records, contentHash) {
  return records.map((r) => [r.id, JSON.stringify(r), contentHash(r), r.updated_at]);
}

/** Multi-row INSERTs of PAGE rows, one after another, on one connection. */
async function insertBaseline(db, rows) {
  const connectionId = randomUUID();
  const runId = randomUUID();
  const started = performance.now();
  for (let i = 0; i < rows.length; i += PAGE) {
    const batch = rows.slice(i, i + PAGE);
    const params = [connectionId, 'contacts', runId];
    const values = batch.map((row) => {
      const at = params.length;
      params.push(...row);
      return `($1::uuid, $2, $${at + 1}, $${at + 2}::jsonb, $${at + 3}, $${at + 4}::timestamptz, clock_timestamp(), $3::uuid)`;
    });
    await db.query(
      `INSERT INTO bench_records (connection_id, model, external_id, data, content_hash,
                                  provider_updated_at, modified_at, last_seen_run_id)
       VALUES ${values.join(', ')}`,
      params,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds: round3(seconds), recordsPerSecond: Math.round(rows.length / seconds) };
}

export async function ingestScenario(h) {
  const big = Number(process.env.BENCH_INGEST_RECORDS ?? (h.smoke ? 5_000 : 100_000));
  const small = Number(process.env.BENCH_INGEST_SMALL ?? (h.smoke ? 1_000 : 10_000));
  const all = contacts(Math.max(big, small));
  const crm = await startFakeCrm(all);
  const scratch = await h.scratch('ingest');
  let api;
  let db;
  try {
    const integrationKey = 'bench-crm';
    await writeFile(scratch.integrationsFile, integrationsYaml(integrationKey, crm.baseUrl));
    // A connection per run, its token good for a day: no refresh in the way.
    const plan = [];
    for (let r = 0; r < h.rounds; r += 1)
      for (const size of [small, big])
        plan.push({ round: r, size, accessToken: `at-${randomBytes(12).toString('base64url')}` });
    const { ids, key } = await h.seed(
      scratch.env,
      plan.map((p) => ({
        integrationKey,
        provider: 'oauth2',
        tokens: {
          accessToken: p.accessToken,
          refreshToken: `rt-${randomUUID()}`,
          expiresAt: new Date(Date.now() + 86_400_000),
        },
      })),
      { withKey: true, url: scratch.url },
    );
    plan.forEach((p, i) => {
      p.connectionId = ids[i];
      crm.allow(p.accessToken, p.size);
    });
    const at = h.port + 5;
    api = await h.startBroker(scratch.env, at, { ROLE: 'api' });
    const auth = { authorization: `Bearer ${key}` };

    db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    await db.query('CREATE TABLE bench_records (LIKE records INCLUDING ALL)');
    const { contentHash } = await h.dist('sync/canonical-json.js');
    const rows = baselineRows(all.slice(0, big), contentHash);

    const runs = { small: [], big: [], baseline: [] };
    for (let r = 0; r < h.rounds; r += 1) {
      for (const p of plan.filter((x) => x.round === r)) {
        const result = await syncOnce(h, scratch, {
          apiUrl: `http://127.0.0.1:${at}`,
          auth,
          connectionId: p.connectionId,
          size: p.size,
        });
        (p.size === big ? runs.big : runs.small).push(result);
      }
      runs.baseline.push(await insertBaseline(db, rows));
      // Each round starts from empty tables, as the first did.
      await db.query('TRUNCATE records, bench_records');
      console.error(`ingest scenario: round ${r + 1}/${h.rounds} done`);
    }
    const summary = (list) => ({
      records: list[0].records,
      recordsPerSecond: Math.round(median(list.map((x) => x.recordsPerSecond))),
      seconds: round3(median(list.map((x) => x.seconds))),
      pages: list[0].pages,
      idleRssMb: median(list.map((x) => x.idleRssMb)),
      peakRssMb: median(list.map((x) => x.peakRssMb)),
      pagesPerSecondEarly: median(list.map((x) => x.pagesPerSecondEarly)),
      pagesPerSecondLate: median(list.map((x) => x.pagesPerSecondLate)),
      ok: list.every((x) => x.status === 'succeeded' && x.stored === x.records),
      rounds: list.map((x) => x.recordsPerSecond),
    });
    const bigRun = summary(runs.big);
    const smallRun = summary(runs.small);
    const baseline = {
      records: big,
      batch: PAGE,
      recordsPerSecond: Math.round(median(runs.baseline.map((x) => x.recordsPerSecond))),
      seconds: round3(median(runs.baseline.map((x) => x.seconds))),
      rounds: runs.baseline.map((x) => x.recordsPerSecond),
    };
    return {
      page: PAGE,
      big: bigRun,
      small: smallRun,
      baseline,
      runs,
      vsPgInsert: round3(bigRun.recordsPerSecond / baseline.recordsPerSecond),
      peakRssBigVsSmall: round3(bigRun.peakRssMb / smallRun.peakRssMb),
      crmRequests: crm.counters.requests,
      crmUnauthorized: crm.counters.unauthorized,
    };
  } finally {
    await db?.end().catch(() => undefined);
    await h.stop(api);
    await crm.close();
    await scratch.cleanup();
  }
}
