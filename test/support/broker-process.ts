import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogCapture } from './log-capture.js';
import { testEnv } from './test-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface BrokerProcess {
  child: ChildProcess;
  logs: LogCapture;
  exited: Promise<number | null>;
}

/**
 * The broker as a real process (`src/main.ts` through the test TypeScript
 * loader), so a test can SIGKILL or SIGTERM it like an orchestrator would.
 */
export function spawnBrokerProcess(
  setup: { integrationsYaml: string; env: Record<string, string> },
  overrides: Record<string, string> = {},
): BrokerProcess {
  const { databaseUrl, redisUrl, encryptionKeys } = testEnv();
  const file = path.join(tmpdir(), `tb-integrations-${randomBytes(4).toString('hex')}.yaml`);
  writeFileSync(file, setup.integrationsYaml);
  const child = spawn(
    process.execPath,
    ['--import', './test/support/ts-loader/register.mjs', 'src/main.ts'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        ENCRYPTION_KEYS: encryptionKeys,
        ALLOW_INSECURE_LOOPBACK_PROVIDERS: 'true',
        SWEEP_INTERVAL_SECONDS: '0',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: '0',
        ...setup.env,
        INTEGRATIONS_FILE: file,
        ...overrides,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs = new LogCapture();
  child.stdout.pipe(logs, { end: false });
  child.stderr.on('data', (chunk: Buffer) => logs.write(chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, logs, exited };
}

/** Waits until the process logged a line matching `pattern`. */
export async function waitForLog(
  process: BrokerProcess,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!process.logs.lines.some((line) => pattern.test(line))) {
    if (Date.now() > deadline)
      throw new Error(`no log line matching ${pattern}:\n${process.logs.text().slice(-2000)}`);
    if (process.child.exitCode !== null)
      throw new Error(
        `process exited (${process.child.exitCode}):\n${process.logs.text().slice(-2000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
