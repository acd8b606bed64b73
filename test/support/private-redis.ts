import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './demo-process.js';

/**
 * A redis-server of the test's own, on a free port, to reconfigure or stop
 * (never the shared one on 6379).
 */
export async function startPrivateRedis(): Promise<{
  url: string;
  client: Redis;
  stop(): Promise<void>;
}> {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await client.ping().then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error('the private redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const exited = new Promise<void>((resolve) => server.on('exit', () => resolve()));
  return {
    url: `redis://127.0.0.1:${port}`,
    client,
    async stop() {
      client.disconnect();
      server.kill('SIGKILL');
      await exited;
    },
  };
}
