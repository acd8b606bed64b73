import { parseArgs } from 'node:util';
import { ACTIONS, type Action } from '../auth/caller.js';
import type { ServiceKeysService } from '../auth/service-keys.service.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `usage:
  keys create --name <name> [--tenant <id>]... [--integration <key>]... [--action <${ACTIONS.join('|')}>]...
  keys list
  keys revoke <id>

A key with no --tenant covers every tenant, no --integration every integration,
no --action every action. The key is printed once, alone on stdout.`;

export class UsageError extends Error {}

/** `keys …` subcommands; returns the exit code. */
export async function runKeysCommand(
  args: string[],
  keys: ServiceKeysService,
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: 'string' },
          tenant: { type: 'string', multiple: true },
          integration: { type: 'string', multiple: true },
          action: { type: 'string', multiple: true },
        },
        strict: true,
      });
      if (!values.name?.trim()) throw new UsageError('--name is required');
      const actions = (values.action ?? []).map((action) => {
        if (!(ACTIONS as readonly string[]).includes(action)) {
          throw new UsageError(`unknown --action "${action}" (use ${ACTIONS.join(', ')})`);
        }
        return action as Action;
      });
      const { id, key } = await keys.create({
        name: values.name.trim(),
        tenants: values.tenant,
        integrations: values.integration,
        actions,
      });
      io.out(key);
      io.err(
        `Created service key ${id} ("${values.name.trim()}"). Store it now: it is not shown again.`,
      );
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
      const id = rest[0];
      if (!id) throw new UsageError('keys revoke needs the key id');
      if (!(await keys.revoke(id))) {
        io.err(`No active key with id ${id}`);
        return 1;
      }
      io.err(`Revoked ${id}`);
      return 0;
    }
    default:
      throw new UsageError(USAGE);
  }
}

export { USAGE };
