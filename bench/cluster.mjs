// `npm run bench` scale-out: BENCH_WORKERS broker processes behind one port.
// node:cluster forks dist/main.js as workers; each one's listen() on PORT is
// shared through this primary, which hands accepted connections round-robin
// to the workers and does no other work. Sends { ready: n } over IPC once
// every worker listens; SIGTERM stops them all.
import cluster from 'node:cluster';
import path from 'node:path';

const workers = Number(process.env.BENCH_WORKERS ?? 1);
cluster.schedulingPolicy = cluster.SCHED_RR;
cluster.setupPrimary({ exec: path.resolve(import.meta.dirname, '..', 'dist', 'main.js') });
let stopping = false;
let listening = 0;
cluster.on('listening', () => {
  listening += 1;
  if (listening === workers) process.send?.({ ready: workers });
});
cluster.on('exit', (worker, code) => {
  if (stopping) {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    return;
  }
  process.stderr.write(`broker worker ${worker.process.pid} exited ${code}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  stopping = true;
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  setTimeout(() => process.exit(0), 10_000).unref();
});
for (let i = 0; i < workers; i += 1) cluster.fork();
