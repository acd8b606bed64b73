import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEnv } from './test-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface DemoProcess {
  child: ChildProcess;
  appUrl: string;
  brokerUrl: string;
  output(): string;
  exited: Promise<number | null>;
}

/** `npm run demo` as a user runs it (node --import tsx demo/demo.ts), on free ports, with the run's Redis prefix. */
export async function startDemoProcess(
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Promise<DemoProcess> {
  const ports = {
    DEMO_APP_PORT: await freePort(),
    DEMO_BROKER_PORT: await freePort(),
    DEMO_AUTH_PORT: await freePort(),
    DEMO_CRM_PORT: await freePort(),
  };
  const { redisUrl, redisPrefix } = testEnv();
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/demo.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: `${redisPrefix}demo:`,
      DEMO_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'tb-demo-')),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      ...overrides,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${text}`)), 90_000);
    const check = () => {
      const match = /Demo ready: open (\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`demo exited (${code}):\n${text}`)));
  });
  return {
    child,
    appUrl: ready,
    brokerUrl: `http://127.0.0.1:${ports.DEMO_BROKER_PORT}`,
    output: () => text,
    exited,
  };
}
