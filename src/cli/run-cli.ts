import { z } from 'zod';
import { ServiceKeysRepository } from '../auth/service-keys.repository.js';
import { ServiceKeysService } from '../auth/service-keys.service.js';
import { Secret } from '../common/secret.js';
import { ConfigError } from '../config/config-error.js';
import { SystemClock } from '../infra/clock/clock.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { type CliIo, runKeysCommand, USAGE, UsageError } from './keys.command.js';

const cliEnv = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
});

/**
 * The operator command line. It needs only DATABASE_URL, so keys can be
 * managed without the broker's encryption keys in the shell.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const [group, ...args] = argv;
  if (group !== 'keys') {
    io.err(USAGE);
    return 2;
  }
  const parsed = cliEnv.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      `DATABASE_URL: ${env.DATABASE_URL ? parsed.error.issues[0]!.message : 'is required'}`,
    );
  }
  const prisma = new PrismaService({ databaseUrl: new Secret(parsed.data.DATABASE_URL) });
  try {
    const keys = new ServiceKeysService(new ServiceKeysRepository(prisma), new SystemClock());
    return await runKeysCommand(args, keys, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err((error as Error).message);
      return 2;
    }
    throw error;
  } finally {
    await prisma.$disconnect();
  }
}
