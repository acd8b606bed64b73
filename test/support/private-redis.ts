import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './demo-process.js';

export interface PrivateRedis {
  url: string;
  port: number;
  client: Redis;
  /** Kills the server (SIGKILL: nothing is kept, as with a Redis without persistence). */
  stop(): Promise<void>;
  /** Starts an empty server again on the same port. */
  restart(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free port, to reconfigure, stop and
 * start again (never the shared one on 6379).
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  let server: ChildProcess | undefined;
  let exited = Promise.resolve();

  const start = async (): Promise<void> => {
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const child = server;
    exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await client.ping().then(
        () => true,
        () => false,
      );
      if (up) return;
      if (Date.now() > deadline) throw new Error('the private redis-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const kill = async (): Promise<void> => {
    server?.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client,
    stop: kill,
    restart: start,
  } satisfies PrivateRedis;
}

/** Ends the server and the test's client for good. */
export async function removePrivateRedis(redis: PrivateRedis | undefined): Promise<void> {
  if (!redis) return;
  redis.client.disconnect();
  await redis.stop();
}
