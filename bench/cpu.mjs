// Where the CPU of a load goes, per request: the server process(es), every
// PostgreSQL process (backends, WAL writer, checkpointer), and the load
// generator (this process). On shared cores, req/s ratios hide who pays; these
// say it. Linux /proc only (utime + stime, in USER_HZ = 100 ticks a second).
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { performance } from 'node:perf_hooks';

const TICK_MS = 10;

function processMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

function postgresMs() {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('postgres'))
        total += processMs(entry);
    } catch {}
  }
  return total;
}

/** Runs `load()` (resolving to { requestsPerSecond }) and adds µs of CPU per request by process. */
export async function withCpu(serverPids, durationSeconds, load) {
  const server0 = serverPids.reduce((sum, pid) => sum + processMs(pid), 0);
  const pg0 = postgresMs();
  const self0 = process.cpuUsage();
  const result = await load();
  const self = process.cpuUsage(self0);
  const requests = Math.max(1, result.requestsPerSecond * durationSeconds);
  const perRequest = (ms) => Math.round((ms * 1000 * 10) / requests) / 10;
  return {
    ...result,
    cpuUs: {
      server: perRequest(serverPids.reduce((sum, pid) => sum + processMs(pid), 0) - server0),
      postgres: perRequest(postgresMs() - pg0),
      loadGenerator: perRequest((self.user + self.system) / 1000),
    },
  };
}

/**
 * The floor under a strict audit at one connection: one durable commit
 * (a prepared one-row INSERT, synchronous_commit as configured) on its own,
 * sequentially, p50 in ms. A token read waits for at least one.
 */
export async function durableCommitP50(databaseUrl, iterations = 1_000) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // A logged table (a TEMP one writes no WAL, so its commit costs nothing); the bench drops the database.
    await client.query('CREATE TABLE IF NOT EXISTS bench_commit_floor (n int)');
    const latencies = [];
    for (let i = 0; i < iterations; i += 1) {
      const started = performance.now();
      await client.query({
        name: 'bench_commit_floor',
        text: 'INSERT INTO bench_commit_floor VALUES ($1)',
        values: [i],
      });
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    return Math.round(latencies[latencies.length >> 1] * 1000) / 1000;
  } finally {
    await client.end();
  }
}
