import 'reflect-metadata';
import { ConfigError } from '../config/config-error.js';
import { DatabaseNotReadyError } from '../infra/prisma/database-readiness.js';
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : error instanceof DatabaseNotReadyError
          ? `Database not ready: ${error.message}`
          : `Failed: ${(error as Error).message.trim().split('\n').at(-1)}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  },
);
