import { z } from 'zod';
import { AuditRepository } from '../audit/audit.repository.js';
import { ServiceKeysRepository } from '../auth/service-keys.repository.js';
import { ServiceKeysService } from '../auth/service-keys.service.js';
import { Secret } from '../common/secret.js';
import { ConfigError } from '../config/config-error.js';
import { resolveEnvFiles } from '../config/env-files.js';
import { SystemClock } from '../infra/clock/clock.js';
import { assertDatabaseReady } from '../infra/prisma/database-readiness.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { RevocationBroadcast } from './revocation-broadcast.js';
import { AUDIT_USAGE, parseAuditCommand, runAuditVerify } from './audit.command.js';
import { type CliIo, parseKeysCommand, runKeysCommand, USAGE, UsageError } from './keys.command.js';

const cliEnv = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  // Only to broadcast revocations; the broker's own defaults.
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().default('tb:'),
});

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

/**
 * The operator command line; returns the exit code (0 done, 1 failed, 2 bad
 * arguments). It needs only DATABASE_URL, so keys can be managed without the
 * broker's encryption keys in the shell.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [group, ...args] = argv;
  if (!group || isHelp(group) || (group === 'keys' && (!args.length || args.some(isHelp)))) {
    io.out(`${USAGE}\n\n${AUDIT_USAGE}`);
    return 0;
  }
  if (group === 'audit' && (!args.length || args.some(isHelp))) {
    io.out(AUDIT_USAGE);
    return 0;
  }
  let command;
  try {
    if (group === 'audit') command = parseAuditCommand(args);
    else if (group !== 'keys') throw new UsageError(`unknown command "${group}" (try --help)`);
    else command = parseKeysCommand(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(error.message);
    return 2;
  }
  const parsed = cliEnv.safeParse(resolveEnvFiles(env, ['DATABASE_URL', 'REDIS_URL']));
  if (!parsed.success) {
    throw new ConfigError(
      `DATABASE_URL: ${env.DATABASE_URL ? parsed.error.issues[0]!.message : 'is required'}`,
    );
  }
  const databaseUrl = new Secret(parsed.data.DATABASE_URL);
  await assertDatabaseReady(databaseUrl);
  const prisma = new PrismaService({ databaseUrl });
  try {
    if (command.kind === 'verify') return await runAuditVerify(new AuditRepository(prisma), io);
    const keys = new ServiceKeysService(
      new ServiceKeysRepository(prisma),
      new SystemClock(),
      new RevocationBroadcast(new Secret(parsed.data.REDIS_URL), parsed.data.REDIS_PREFIX),
    );
    return await runKeysCommand(command, keys, io);
  } finally {
    await prisma.$disconnect();
  }
}
