import { parseArgs } from 'node:util';
import { ACTIONS, type Action } from '../auth/caller.js';
import type { ServiceKeysService } from '../auth/service-keys.service.js';
import { isUuid } from '../common/uuid.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const USAGE = `usage: npm run cli -- keys <command>

  keys create --name <name> [--tenant <id>]... [--integration <key>]... [--action <${ACTIONS.join('|')}>]...
  keys list
  keys revoke <id>

A key with no --tenant covers every tenant, no --integration every integration,
no --action every action. The key is printed once, alone on stdout.
Reads DATABASE_URL, and REDIS_URL and REDIS_PREFIX to tell the replicas
of a revocation at once (from .env when present).`;

export class UsageError extends Error {}

export type KeysCommand =
  | {
      kind: 'create';
      name: string;
      tenants: string[] | undefined;
      integrations: string[] | undefined;
      actions: Action[];
    }
  | { kind: 'list' }
  | { kind: 'revoke'; id: string };

/** Checks the arguments before anything connects: a typo costs one line, not a database error. */
export function parseKeysCommand(args: string[]): KeysCommand {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values } = asUsage(sub, () =>
        parseArgs({
          args: rest,
          options: {
            name: { type: 'string' },
            tenant: { type: 'string', multiple: true },
            integration: { type: 'string', multiple: true },
            action: { type: 'string', multiple: true },
          },
          strict: true,
        }),
      );
      const name = values.name?.trim();
      if (!name) throw new UsageError('keys create: --name is required');
      const actions = (values.action ?? []).map((action) => {
        if (!(ACTIONS as readonly string[]).includes(action)) {
          throw new UsageError(
            `keys create: unknown --action "${action}" (use ${ACTIONS.join(', ')})`,
          );
        }
        return action as Action;
      });
      return {
        kind: 'create',
        name,
        tenants: values.tenant,
        integrations: values.integration,
        actions,
      };
    }
    case 'list':
      asUsage(sub, () => parseArgs({ args: rest, strict: true }));
      return { kind: 'list' };
    case 'revoke': {
      const { positionals } = asUsage(sub, () =>
        parseArgs({ args: rest, strict: true, allowPositionals: true }),
      );
      const [id, extra] = positionals;
      if (!id) throw new UsageError('keys revoke: give the key id (see keys list)');
      if (extra !== undefined) throw new UsageError(`keys revoke: unexpected "${extra}"`);
      if (!isUuid(id)) {
        throw new UsageError(`keys revoke: "${id}" is not a key id (a UUID, see keys list)`);
      }
      return { kind: 'revoke', id };
    }
    default:
      throw new UsageError(`keys: unknown command "${sub ?? ''}" (use create, list or revoke)`);
  }
}

function asUsage<T>(sub: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // node:util's messages name the option; its advice after the first sentence is about code, not the CLI.
    throw new UsageError(`keys ${sub}: ${(error as Error).message.split('. ')[0]!}`);
  }
}

/** Runs a parsed `keys …` command; returns the exit code. */
export async function runKeysCommand(
  command: KeysCommand,
  keys: ServiceKeysService,
  io: CliIo,
): Promise<number> {
  switch (command.kind) {
    case 'create': {
      const { id, key } = await keys.create({
        name: command.name,
        tenants: command.tenants,
        integrations: command.integrations,
        actions: command.actions,
      });
      io.out(key);
      io.err(`Created service key ${id} ("${command.name}"). Store it now: it is not shown again.`);
      return 0;
    }
    case 'list': {
      for (const key of await keys.list()) {
        io.out(
          `${key.id}\t${key.keyPrefix}…\t${key.revoked ? 'revoked' : 'active'}\t${key.createdAt.toISOString()}\t${key.name}`,
        );
      }
      return 0;
    }
    case 'revoke': {
      const { revoked, broadcast } = await keys.revoke(command.id);
      if (!revoked) {
        io.err(`No active key with id ${command.id}`);
        return 1;
      }
      io.err(
        broadcast
          ? `Revoked ${command.id}; every replica stops accepting it within a second`
          : `Revoked ${command.id}; Redis could not be told, so replicas stop accepting it within 30 s (their cache)`,
      );
      return 0;
    }
  }
}
